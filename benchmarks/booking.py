"""Booking under load: the booking API under gunicorn beside a trivial endpoint and a minimal SQL booking.

Fifty clients (threads on loopback, each its own person with a personal API token) book the same
chain of future public courses, each client starting at a different point of the chain, so bookings
spread over courses whose sessions never overlap (a person may hold all of them). In the same run,
on the same courses and people:

- ``/healthz`` under the same gunicorn and clients: one database round trip, the floor of a request;
- a minimal booking written directly in SQL (lock the course row, count its confirmed bookings,
  insert), from the same number of threads with their own connections.

The bookings the benchmark makes are deleted afterwards, so the demo database can be reused. It also
counts the SQL statements of one booking in process (the figure a test keeps from rising).
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta

import psycopg
import sqlalchemy as sa

from benchmarks.harness import Context, Figure, gunicorn, libpq_url, p50_p95

NAME = "booking"
CLIENTS = 50
WORKERS = 4
CHAIN = 24  # courses per client: 1,200 bookings in all
SECONDS = 90  # a bound on each phase, whatever happens


def _bench_people(ctx: Context) -> list[tuple[int, str]]:
    """Fifty trainee accounts of the benchmark's own, each with a fresh API token: (person id, token)."""
    from mhfa.auth import services as accounts
    from mhfa.auth.models import Role
    from mhfa.extensions import db

    app = ctx.app()
    people = []
    with app.app_context():
        for n in range(CLIENTS):
            email = f"bench-client-{n}@bench.invalid"
            user = accounts.user_by_email(email)
            if user is None:
                user, _ = accounts.create_user(email, [Role.TRAINEE], first_name="Bench", last_name=f"Client{n}",
                                               date_of_birth=date(1980, 1, 1))
            token = accounts.issue_api_token(user)
            db.session.flush()
            people.append((user.person_id, token))
        db.session.commit()
        db.engine.dispose()
    return people


def _chain(conn: psycopg.Connection) -> list[int]:
    """Future public courses open to adults with no prerequisite, none overlapping another."""
    soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=7)
    rows = conn.execute(
        """
        SELECT c.id, c.starts_at, c.ends_at FROM course c JOIN course_type ct ON ct.id = c.course_type_id
        WHERE c.status = 'published' AND c.employer_id IS NULL AND c.starts_at > %s
          AND (c.booking_deadline IS NULL OR c.booking_deadline > %s)
          AND ct.min_age <= 18
          AND NOT EXISTS (SELECT 1 FROM course_type_prerequisite p WHERE p.course_type_id = ct.id)
        ORDER BY c.ends_at
        """,
        (soon, soon),
    ).fetchall()
    chain, last_end = [], None
    for course_id, starts, ends in rows:
        if last_end is None or starts >= last_end:
            chain.append(course_id)
            last_end = ends
        if len(chain) == CHAIN:
            break
    return chain


def _clear(app, person_ids: list[int]) -> None:
    """Delete the benchmark's bookings through the app's session, so the kept funnel their places moved moves
    back in the same transaction and the reused database stays exact (`flask mhfa rebuild-reach --check`)."""
    from mhfa.bookings.models import Booking
    from mhfa.extensions import db

    with app.app_context():
        db.session.execute(sa.delete(Booking).where(Booking.person_id.in_(person_ids)))
        db.session.commit()
        db.engine.dispose()


def _drive(work: list[list], call) -> tuple[float, list[float], int]:
    """Run each client's list of calls on its own thread; (seconds, latencies in ms, failures)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(items):
        mine, bad = [], 0
        for item in items:
            if time.monotonic() > deadline:
                break
            began = time.perf_counter()
            try:
                ok = call(item)
            except Exception:  # noqa: BLE001 (a failed call is counted and reported, never hidden)
                ok = False
            mine.append((time.perf_counter() - began) * 1000)
            bad += not ok
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=client, args=(items,)) for items in work]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, failures[0]


def _post_booking(base: str):
    def call(item) -> bool:
        course_id, token = item
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base}/api/v1/courses/{course_id}/bookings", data=b"{}", method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
                return response.status in (201, 202)
        except urllib.error.HTTPError:
            return False

    return call


def _get(base: str):
    def call(_item) -> bool:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=60) as response:  # noqa: S310 (loopback)
                return response.status == 200
        except urllib.error.HTTPError:
            return False

    return call


def _sql_booking(url: str):
    local = threading.local()

    def call(item) -> bool:
        course_id, person_id = item
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url)
        conn = local.conn
        with conn.transaction():
            capacity = conn.execute("SELECT capacity FROM course WHERE id = %s FOR NO KEY UPDATE",
                                    (course_id,)).fetchone()[0]
            confirmed = conn.execute("SELECT count(*) FROM booking WHERE course_id = %s AND status = 'confirmed'",
                                     (course_id,)).fetchone()[0]
            status = "confirmed" if confirmed < capacity else "waitlisted"
            conn.execute(
                "INSERT INTO booking (course_id, person_id, status, source, created_at, confirmed_at, waitlisted_at) "
                "VALUES (%s, %s, %s, 'self', now() AT TIME ZONE 'utc', "
                "CASE WHEN %s = 'confirmed' THEN now() AT TIME ZONE 'utc' END, "
                "CASE WHEN %s = 'waitlisted' THEN now() AT TIME ZONE 'utc' END)",
                (course_id, person_id, status, status, status),
            )
        return True

    return call


def statements_per_booking(ctx: Context, person_id: int, token: str, course_id: int) -> int:
    """SQL statements run by one booking through the API, in process."""
    from mhfa.extensions import db

    app = ctx.app()
    statements: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        client = app.test_client()
        response = client.post(f"/api/v1/courses/{course_id}/bookings", json={},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (201, 202), response.get_data(as_text=True)
        db.engine.dispose()
    return len(statements)


def run(ctx: Context) -> list[Figure]:
    people = _bench_people(ctx)
    person_ids = [p for p, _ in people]
    url = libpq_url(ctx.database_url)
    app = ctx.app()
    _clear(app, person_ids)
    with psycopg.connect(url) as conn:
        chain = _chain(conn)
    if len(chain) < 8:
        raise RuntimeError(f"only {len(chain)} non-overlapping future courses to book; the demo is too small")

    def rotated(n):
        start = (n * len(chain)) // CLIENTS
        return chain[start:] + chain[:start]

    with gunicorn(ctx, workers=WORKERS) as (base, _pid):
        _drive([[None] * 10 for _ in range(CLIENTS)], _get(base))  # warm up every worker
        api_work = [[(course, token) for course in rotated(n)] for n, (_p, token) in enumerate(people)]
        api_seconds, api_ms, api_failed = _drive(api_work, _post_booking(base))
        health_work = [[None] * len(chain) for _ in range(CLIENTS)]
        health_seconds, health_ms, health_failed = _drive(health_work, _get(base))
    with psycopg.connect(url) as conn:
        booked = conn.execute("SELECT count(*) FROM booking WHERE person_id = ANY(%s)", (person_ids,)).fetchone()[0]
        overbooked = conn.execute(
            "SELECT count(*) FROM course c WHERE c.id = ANY(%s) AND c.capacity < "
            "(SELECT count(*) FROM booking b WHERE b.course_id = c.id AND b.status = 'confirmed')", (chain,)
        ).fetchone()[0]
    _clear(app, person_ids)
    sql_work = [[(course, person) for course in rotated(n)] for n, (person, _t) in enumerate(people)]
    sql_seconds, sql_ms, sql_failed = _drive(sql_work, _sql_booking(url))
    _clear(app, person_ids)
    statements = statements_per_booking(ctx, people[0][0], people[0][1], chain[0])
    _clear(app, person_ids)

    api_rate = (len(api_ms) - api_failed) / api_seconds
    sql_rate = (len(sql_ms) - sql_failed) / sql_seconds
    health_rate = (len(health_ms) - health_failed) / health_seconds
    api_p50, api_p95 = p50_p95(api_ms)
    _, sql_p95 = p50_p95(sql_ms)
    _, health_p95 = p50_p95(health_ms)
    notes = [f"{len(api_ms):,} API bookings by {CLIENTS} clients over {len(chain)} courses, gunicorn {WORKERS} "
             f"workers; {api_failed} refused or failed; {booked:,} bookings stored; {overbooked} courses over "
             f"capacity; minimal SQL booking: {len(sql_ms) - sql_failed:,} bookings, {sql_failed} failed"]
    return [
        Figure("booking API throughput", f"{api_rate:,.0f} bookings/s", f"minimal SQL booking {sql_rate:,.0f}/s",
               "≥ 0.25× minimal SQL", api_rate >= 0.25 * sql_rate, notes),
        Figure("booking API p95 / p50", f"{api_p95:.0f} ms / {api_p50:.0f} ms", f"minimal SQL p95 {sql_p95:.0f} ms"),
        Figure("trivial endpoint (/healthz)", f"{health_rate:,.0f} requests/s (p95 {health_p95:.0f} ms)",
               "", "", None, [f"{health_failed} failed"]),
        Figure("SQL statements per booking", str(statements), "minimal SQL booking 3", "≤ 10", statements <= 10),
        Figure("bookings over capacity", str(overbooked), "", "0", overbooked == 0 and api_failed == 0),
    ]


def describe(figures: list[Figure]) -> str:
    return json.dumps([f.__dict__ for f in figures], default=str)
