"""The public course finder, the course page and its .ics at programme scale, beside bare SQL.

At least 300 finder requests with a mix of filters through the Flask test client, each checked to
show exactly the rows that a bare SQL query of the same filters returns, and timed beside that
query; then course pages and calendar files of courses spread over the programme.
"""
from __future__ import annotations

import random
import re
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from urllib.parse import urlencode

import psycopg
import sqlalchemy as sa
from psycopg import sql

from mhfa.timeutil import LONDON

NAME = "finder"
PER_PAGE = 20


def london(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time as naive UTC, the way UTCDateTime stores it."""
    return datetime.combine(day, clock(hour, minute), tzinfo=LONDON).astimezone(UTC).replace(tzinfo=None)


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
       (SELECT count(*) FROM booking b WHERE b.course_id = c.id AND {taken}) AS confirmed,
       (SELECT count(*) FROM booking b WHERE b.course_id = c.id AND b.status = 'waitlisted'
          AND b.offer_expires_at IS NULL) AS waiting
FROM course c
JOIN course_type ct ON ct.id = c.course_type_id
LEFT JOIN council_area ca ON ca.id = c.council_area_id
LEFT JOIN venue v ON v.id = c.venue_id
WHERE {where}
ORDER BY c.starts_at {direction}, c.id {direction}
LIMIT %(limit)s OFFSET %(offset)s
"""


#: A seat is taken by a confirmed place or held for a waiting-list offer (as the finder counts it).
TAKEN = "(b.status = 'confirmed' OR (b.status = 'waitlisted' AND b.offer_expires_at IS NOT NULL))"


def bare_query(args: dict, area_ids: dict[str, int], type_ids: dict[str, int], *,
               counted: bool = False) -> tuple[sql.SQL, dict]:
    """The same rows as a finder page, written by hand: free places from the course's kept seats taken, as
    hand-written SQL on this schema would read them, or (``counted``) from a bare count of its bookings."""
    now = datetime.now(UTC).replace(tzinfo=None)
    where = ["c.status = 'published'", "c.starts_at > %(now)s", "c.employer_id IS NULL"]
    params: dict = {"now": now, "limit": PER_PAGE, "offset": (int(args.get("page", 1)) - 1) * PER_PAGE}
    if "area" in args:
        where.append("(c.council_area_id = %(area)s OR c.delivery_mode = 'online')")  # online: open to all
        params["area"] = area_ids[args["area"]]
    if "type" in args:
        where.append("c.course_type_id = %(type)s")
        params["type"] = type_ids[args["type"]]
    if "mode" in args:
        where.append("c.delivery_mode = %(mode)s")
        params["mode"] = args["mode"]
    if "free_places" in args:
        where.append(f"c.capacity > (SELECT count(*) FROM booking b WHERE b.course_id = c.id AND {TAKEN})" if counted
                     else "c.capacity > c.seats_taken")
    if "from_date" in args:
        where.append("c.starts_at >= %(from)s")
        params["from"] = london(date.fromisoformat(args["from_date"]), 0)
    if "to_date" in args:
        where.append("c.starts_at < %(to)s")
        params["to"] = london(date.fromisoformat(args["to_date"]) + timedelta(days=1), 0)
    query = BARE_SQL.format(where=" AND ".join(where), direction="DESC" if args.get("sort") == "-date" else "ASC",
                            taken=TAKEN)
    return sql.SQL(query), params  # noqa: S608 (built from fixed fragments; values are parameters)


def measure(app, conn, requests: int, seed: int, echo) -> dict:
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
        if "free_places" in args:  # the kept seats taken give the rows a bare count of the bookings gives
            counted = conn.execute(*bare_query(args, area_ids, type_ids, counted=True)).fetchall()
            assert shown == [row[0] for row in counted], f"kept and counted seats disagree for {url}"
        rows_checked += len(rows)

    return {"page_ms": page_ms, "sql_ms": sql_ms, "queries": queries, "rows_checked": rows_checked,
            "requests": len(mix)}


def _course_pages(app, conn, count: int) -> dict:
    """p50/p95 of course pages and their calendar files, over public courses spread over the years."""
    ids = [row[0] for row in conn.execute(
        "SELECT id FROM course WHERE status IN ('published', 'completed') AND employer_id IS NULL "
        "ORDER BY md5(id::text) LIMIT %s", (count,))]
    client = app.test_client()
    for course_id in ids[:10]:
        client.get(f"/courses/{course_id}")
        client.get(f"/courses/{course_id}.ics")
    pages, calendars = [], []
    for course_id in ids:
        for url, into in ((f"/courses/{course_id}", pages), (f"/courses/{course_id}.ics", calendars)):
            began = time.perf_counter()
            response = client.get(url)
            into.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return {"page_ms": pages, "ics_ms": calendars, "courses": len(ids)}


def run(ctx) -> list:
    from benchmarks.harness import Figure, libpq_url, ms_p50_p95, p50_p95

    app = ctx.app()
    with psycopg.connect(libpq_url(ctx.database_url)) as conn:
        finder = measure(app, conn, 300, ctx.seed, ctx.echo)
        pages = _course_pages(app, conn, 200)
    page50, page95 = p50_p95(finder["page_ms"])
    sql50, sql95 = p50_p95(finder["sql_ms"])
    note = (f"{finder['requests']} requests, mixed filters; {finder['rows_checked']:,} rows checked equal to the bare "
            f"SQL (free places: also to a bare count of the bookings); {min(finder['queries'])}-"
            f"{max(finder['queries'])} queries a page")
    return [
        Figure("finder page p50 / p95", f"{page50:.1f} / {page95:.1f} ms", f"bare SQL {sql50:.1f} / {sql95:.1f} ms",
               "p95 < 20 ms and ≤ 8× bare SQL", page95 < 20 and page95 <= 8 * sql95, [note]),
        Figure("course page p50 / p95", ms_p50_p95(pages["page_ms"]), "", "", None,
               [f"{pages['courses']} courses"]),
        Figure("course .ics p50 / p95", ms_p50_p95(pages["ics_ms"])),
    ]


