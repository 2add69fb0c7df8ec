"""Benchmark of the public course finder at programme scale, on PostgreSQL.

Creates a scratch database (it must not exist yet), migrates it, loads the reference data and bulk
loads ten years of courses (40,000 by default, a few thousand of them still to come) with their
sessions, instructors and realistic bookings and waiting lists (COPY). Then it asks for finder pages
through the Flask test client with a mix of filters, and in the same run times a bare SQL query that
returns the same rows, and prints p50/p95 of both. The scratch database is dropped at the end.

    .venv/bin/python benchmarks/finder.py --database-url postgresql://postgres@127.0.0.1:5432/mhfa_bench

The issue's bar: a finder page in under 50 ms at the 95th percentile.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import sqlalchemy as sa
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mhfa.timeutil import LONDON  # noqa: E402

TYPE_MIX = {"ADULT_2DAY": 45, "ADULT_CHAMPION": 15, "AWARE": 20, "YOUTH_2DAY": 10, "YOUTH_CHAMPION": 5,
            "REFRESHER": 5}
ONLINE_FROM = date(2020, 5, 29)  # MHFA England's online delivery began then
FIRST_DAY = date(2017, 2, 1)
PER_PAGE = 20


def psycopg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def conninfo(url: sa.engine.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(share * (len(ordered) - 1))), len(ordered) - 1)]


# --- the data ------------------------------------------------------------------------------------

def london(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time as naive UTC, the way UTCDateTime stores it."""
    return datetime.combine(day, clock(hour, minute), tzinfo=LONDON).astimezone(UTC).replace(tzinfo=None)


def build(conn: psycopg.Connection, courses: int, seed: int, echo) -> dict[str, int]:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    today = date.today()
    last_day = today + timedelta(days=365)
    with conn.cursor() as cur:
        areas = cur.execute("SELECT id, name, in_target_region FROM council_area ORDER BY id").fetchall()
        types = {row[1]: row for row in cur.execute(
            "SELECT id, code, sessions_in_person, sessions_online, hours, max_learners FROM course_type").fetchall()}
    region = [a[0] for a in areas if a[2]]
    elsewhere = [a[0] for a in areas if not a[2]]
    area_weights = [5 if a in region else 1 for a in region + elsewhere]
    area_ids = region + elsewhere

    people = 150_000
    echo(f"people {people:,}")
    with conn.cursor() as cur, cur.copy("COPY person (first_name, last_name, source, created_at) FROM STDIN") as copy:
        for n in range(people):
            copy.write_row((f"First{n}", f"Last{n}", "demo", now))
    first_person = conn.execute("SELECT min(id) FROM person").fetchone()[0]

    venues = []
    with conn.cursor() as cur, cur.copy(
        "COPY venue (name, address_line1, address_line2, town, postcode, council_area_id, step_free_access, "
        "access_notes, active) FROM STDIN"
    ) as copy:
        for n in range(400):
            area = rng.choices(area_ids, area_weights)[0]
            copy.write_row((f"Venue {n}", f"{n} High Street", "", "Town", "B1 2ND", area, rng.random() < 0.8,
                            "", True))
    venues = conn.execute("SELECT id, council_area_id FROM venue").fetchall()

    with conn.cursor() as cur, cur.copy(
        "COPY employer (name, sector, size_band, council_area_id, wellbeing_commitment_signatory, created_at) "
        "FROM STDIN"
    ) as copy:
        for n in range(300):
            copy.write_row((f"Employer {n}", "public", "large", rng.choice(region), False, now))
    employers = [row[0] for row in conn.execute("SELECT id FROM employer")]

    with conn.cursor() as cur, cur.copy(
        "COPY instructor (person_id, licence_number, licence_expires_on, active) FROM STDIN"
    ) as copy:
        for n in range(200):
            copy.write_row((first_person + n, f"BENCH-{n:05d}", last_day + timedelta(days=400), True))
    instructors = [row[0] for row in conn.execute("SELECT id FROM instructor")]

    echo(f"courses {courses:,} from {FIRST_DAY} to {last_day}, with sessions and bookings")
    span = (last_day - FIRST_DAY).days
    course_rows, session_rows, teaching_rows, booking_rows = [], [], [], []
    codes, weights = zip(*TYPE_MIX.items(), strict=True)
    for course_id in range(1, courses + 1):
        day = FIRST_DAY + timedelta(days=int(span * (course_id - 1) / courses))
        while day.weekday() >= 5:  # weekdays
            day += timedelta(days=1)
        _, code, in_person, online_n, hours, max_learners = types[rng.choices(codes, weights)[0]]
        online = day >= ONLINE_FROM and rng.random() < 0.3
        n_sessions = online_n if online else in_person
        session_minutes = int(hours * 60 / n_sessions)
        start_hour, start_minute = rng.choice([(9, 0), (9, 30), (10, 0)])
        sessions = []
        for i in range(n_sessions):
            session_day = day + timedelta(days=i * (2 if online else 1))
            start = london(session_day, start_hour, start_minute)
            sessions.append((start, start + timedelta(minutes=session_minutes)))
        starts_at, ends_at = sessions[0][0], sessions[-1][1]
        future = starts_at > now
        roll = rng.random()
        if future:
            status = "published" if roll < 0.85 else "draft" if roll < 0.95 else "cancelled"
        else:
            status = "completed" if roll < 0.93 else "cancelled" if roll < 0.98 else "published"
        if online:
            venue_id, area_id = None, rng.choices(area_ids, area_weights)[0]
        else:
            venue_id, area_id = rng.choice(venues)
        employer_id = rng.choice(employers) if rng.random() < 0.15 else None
        capacity = max_learners if rng.random() < 0.8 else rng.randint(8, max_learners)
        price = 0 if employer_id is None and rng.random() < 0.7 else rng.choice([7500, 12000, 30000])
        course_rows.append((
            course_id, types[code][0], status, "online" if online else "in_person", venue_id, area_id,
            "https://meet.example.org/" + str(course_id) if online else None, capacity, price, employer_id,
            starts_at, ends_at, "", 0, "Not enough bookings." if status == "cancelled" else None, now, now,
        ))
        session_rows.extend((course_id, s, e) for s, e in sessions)
        teaching_rows.extend((course_id, i) for i in rng.sample(instructors, rng.choice([1, 1, 2])))
        # Bookings: past courses mostly full; future ones fill as they come closer, some with a waiting list.
        if status == "draft":
            continue
        if future:
            days_away = (starts_at - now).days
            fill = max(0.0, min(1.0, rng.gauss(1.0 - days_away / 200, 0.25)))
        else:
            fill = max(0.3, min(1.0, rng.gauss(0.85, 0.15)))
        confirmed = int(round(capacity * fill))
        waiting = rng.randint(1, 6) if confirmed == capacity and rng.random() < 0.5 else 0
        cancelled = rng.randint(0, 2)
        chosen = rng.sample(range(people), confirmed + waiting + cancelled)
        made = starts_at - timedelta(days=30)
        for k, person in enumerate(chosen):
            state = "confirmed" if k < confirmed else "waitlisted" if k < confirmed + waiting else "cancelled"
            booking_rows.append((course_id, first_person + person, state, "self", made,
                                 made if state == "confirmed" else None, made if state == "waitlisted" else None,
                                 made if state == "cancelled" else None))

    with conn.cursor() as cur:
        with cur.copy(
            "COPY course (id, course_type_id, status, delivery_mode, venue_id, council_area_id, joining_url, "
            "capacity, price_pence, employer_id, starts_at, ends_at, notes, sequence, cancelled_reason, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            for row in course_rows:
                copy.write_row(row)
        with cur.copy("COPY course_session (course_id, starts_at, ends_at) FROM STDIN") as copy:
            for row in session_rows:
                copy.write_row(row)
        with cur.copy("COPY course_instructor (course_id, instructor_id) FROM STDIN") as copy:
            for row in teaching_rows:
                copy.write_row(row)
        with cur.copy(
            "COPY booking (course_id, person_id, status, source, created_at, confirmed_at, waitlisted_at, "
            "cancelled_at) FROM STDIN"
        ) as copy:
            for row in booking_rows:
                copy.write_row(row)
        cur.execute("SELECT setval(pg_get_serial_sequence('course', 'id'), (SELECT max(id) FROM course))")
    conn.commit()
    future_published = sum(1 for r in course_rows if r[2] == "published" and r[10] > now)
    return {"courses": len(course_rows), "published still to start": future_published,
            "sessions": len(session_rows), "bookings": len(booking_rows), "people": people}


# --- what is measured ----------------------------------------------------------------------------

def filter_mix(n: int, seed: int, areas: list[tuple[str, int]], types: list[tuple[str, int]]) -> list[dict]:
    """``n`` finder queries a public visitor might make: mostly one or two filters, sometimes more."""
    rng = random.Random(seed)
    today = date.today()
    mix = []
    for _ in range(n):
        args: dict[str, str] = {}
        if rng.random() < 0.6:
            args["area"] = rng.choice(areas)[0]
        if rng.random() < 0.35:
            args["type"] = rng.choice(types)[0]
        if rng.random() < 0.3:
            args["mode"] = rng.choice(["in_person", "online"])
        if rng.random() < 0.4:
            args["free_places"] = "y"
        if rng.random() < 0.3:
            start = today + timedelta(days=rng.randint(0, 120))
            args["from_date"] = start.isoformat()
            if rng.random() < 0.6:
                args["to_date"] = (start + timedelta(days=rng.choice([7, 30, 90]))).isoformat()
        if rng.random() < 0.1:
            args["sort"] = "-date"
        if rng.random() < 0.25:
            args["page"] = str(rng.randint(2, 5))
        mix.append(args)
    return mix


BARE_SQL = """
SELECT c.id, ct.code, ct.name, ca.name, v.name, v.town, v.step_free_access, c.starts_at, c.ends_at, c.price_pence,
       c.capacity,
       (SELECT count(*) FROM booking b WHERE b.course_id = c.id AND b.status = 'confirmed') AS confirmed,
       (SELECT count(*) FROM booking b WHERE b.course_id = c.id AND b.status = 'waitlisted') AS waiting
FROM course c
JOIN course_type ct ON ct.id = c.course_type_id
LEFT JOIN council_area ca ON ca.id = c.council_area_id
LEFT JOIN venue v ON v.id = c.venue_id
WHERE {where}
ORDER BY c.starts_at {direction}, c.id {direction}
LIMIT %(limit)s OFFSET %(offset)s
"""


def bare_query(args: dict, area_ids: dict[str, int], type_ids: dict[str, int]) -> tuple[sql.SQL, dict]:
    """The same rows as a finder page, written by hand."""
    now = datetime.now(UTC).replace(tzinfo=None)
    where = ["c.status = 'published'", "c.starts_at > %(now)s", "c.employer_id IS NULL"]
    params: dict = {"now": now, "limit": PER_PAGE, "offset": (int(args.get("page", 1)) - 1) * PER_PAGE}
    if "area" in args:
        where.append("c.council_area_id = %(area)s")
        params["area"] = area_ids[args["area"]]
    if "type" in args:
        where.append("c.course_type_id = %(type)s")
        params["type"] = type_ids[args["type"]]
    if "mode" in args:
        where.append("c.delivery_mode = %(mode)s")
        params["mode"] = args["mode"]
    if "free_places" in args:
        where.append("c.capacity > (SELECT count(*) FROM booking b WHERE b.course_id = c.id "
                     "AND b.status = 'confirmed')")
    if "from_date" in args:
        where.append("c.starts_at >= %(from)s")
        params["from"] = london(date.fromisoformat(args["from_date"]), 0)
    if "to_date" in args:
        where.append("c.starts_at < %(to)s")
        params["to"] = london(date.fromisoformat(args["to_date"]) + timedelta(days=1), 0)
    query = BARE_SQL.format(where=" AND ".join(where), direction="DESC" if args.get("sort") == "-date" else "ASC")
    return sql.SQL(query), params  # noqa: S608 (built from fixed fragments; values are parameters)


def measure(app, conn, requests: int, seed: int, echo) -> None:
    from mhfa.extensions import db

    with conn.cursor() as cur:
        areas = cur.execute("SELECT gss_code, id FROM council_area").fetchall()
        types = cur.execute("SELECT code, id FROM course_type").fetchall()
    mix = filter_mix(requests, seed, areas, types)
    area_ids, type_ids = dict(areas), dict(types)
    client = app.test_client()

    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    for args in mix[:20]:  # warm up: connections, template cache, PostgreSQL's buffers
        client.get("/courses?" + urlencode(args))
        conn.execute(*bare_query(args, area_ids, type_ids)).fetchall()

    page_ms, sql_ms, queries, rows_checked = [], [], [], 0
    for args in mix:
        url = "/courses?" + urlencode(args)
        statements.clear()
        started = time.perf_counter()
        response = client.get(url)
        page_ms.append((time.perf_counter() - started) * 1000)
        queries.append(len(statements))
        assert response.status_code == 200, (url, response.status_code)

        query, params = bare_query(args, area_ids, type_ids)
        started = time.perf_counter()
        rows = conn.execute(query, params).fetchall()
        sql_ms.append((time.perf_counter() - started) * 1000)

        shown = [int(n) for n in re.findall(r'href="/courses/(\d+)"', response.get_data(as_text=True))]
        assert shown == [row[0] for row in rows], f"page and bare query disagree for {url}"
        rows_checked += len(rows)

    echo("")
    echo(f"{len(mix)} finder requests, mixed filters; {rows_checked:,} rows checked equal between page and SQL")
    echo(f"queries per page: {min(queries)} to {max(queries)}")
    echo(f"{'':24}{'p50':>9}{'p95':>9}{'max':>9}")
    for label, values in (("finder page (Flask)", page_ms), ("bare SQL, same rows", sql_ms)):
        echo(f"{label:24}{statistics.median(values):8.1f}ms{percentile(values, 0.95):7.1f}ms{max(values):7.1f}ms")
    p95 = percentile(page_ms, 0.95)
    echo(f"finder p95 {p95:.1f} ms: {'within' if p95 < 50 else 'OVER'} the 50 ms budget")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL URL naming a scratch database that does not exist yet (created and dropped)")
    parser.add_argument("--courses", type=int, default=40_000)
    parser.add_argument("--requests", type=int, default=300, help="finder requests to time (at least 200)")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    options = parser.parse_args(argv)
    if options.requests < 200:
        parser.error("--requests must be at least 200")

    url = sa.engine.make_url(psycopg_url(options.database_url))
    name = url.database
    if not name or not url.drivername.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL with a database name")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            parser.error(f"database {name!r} exists already: name a scratch database, which the benchmark creates "
                         "and drops")
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    echo = print
    try:
        from flask_migrate import upgrade

        from mhfa import create_app
        from mhfa.areas.services import load_council_areas
        from mhfa.courses.catalogue import load_course_types
        from mhfa.extensions import db

        with tempfile.TemporaryDirectory() as instance:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
                              "INSTANCE_PATH": instance, "SECRET_KEY": "benchmark", "MAIL_SERVER": "",
                              "MHFA_BASE_URL": "http://bench.invalid"})
            started = time.perf_counter()
            with app.app_context():
                upgrade()
                load_council_areas()
                load_course_types()
                db.session.commit()
            with psycopg.connect(conninfo(url)) as conn:
                counts = build(conn, options.courses, options.seed, echo)
                conn.commit()
                conn.autocommit = True
                conn.execute("VACUUM ANALYZE")  # the steady state autovacuum keeps a live database in
                echo("built: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
                     + f" in {time.perf_counter() - started:.0f}s")
                measure(app, conn, options.requests, options.seed, echo)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        if not options.keep:
            with admin.connect() as connection:
                connection.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ), {"n": name})
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
