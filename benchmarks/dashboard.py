"""The board's reach dashboard at programme scale, beside the bare COUNT(DISTINCT …) of the same figures.

At least 300 dashboard pages with mixed filters (basis, dates, course types, awareness, area) through
the Flask test client as a board member, each read from the kept figures; in the same run the bare
``COUNT(DISTINCT person) … GROUP BY`` over the raw rows for the area table and the monthly series of
the same filters. Then the dashboard under gunicorn, and the resident memory of one worker after it.
"""
from __future__ import annotations

import http.cookiejar
import random
import time
import urllib.parse
import urllib.request
from urllib.parse import urlencode

import sqlalchemy as sa

from benchmarks.harness import (
    Context,
    Figure,
    bench_user,
    csrf_token,
    gunicorn,
    p50_p95,
    resident_mb,
    signed_in_client,
    worker_pids,
)
from benchmarks.reach import random_filters

NAME = "reach"
REQUESTS = 300
BARE_RUNS = 10
BARE_RUNS_BEYOND_A_MILLION = 3  # a bare count takes over a minute at 5,000,000 people
PROGRESS_REQUESTS = 200
TYPES = ["ADULT_2DAY", "ADULT_CHAMPION", "AWARE", "YOUTH_2DAY"]
BENCH_BOARD = "bench-board@bench.example.org"


def _board_user(ctx: Context):
    from mhfa.auth.models import Role
    from mhfa.extensions import db

    app = ctx.app()
    password = bench_user(app, BENCH_BOARD, Role.BOARD)
    with app.app_context():
        areas = list(db.session.scalars(sa.text("SELECT gss_code FROM council_area")))
        db.engine.dispose()
    return app, areas, password


def _in_process(app, areas: list[str], password: str, rng: random.Random, bare_runs: int) -> dict:
    from werkzeug.datastructures import MultiDict

    from mhfa.extensions import db
    from mhfa.reach.dashboard import areas_in_order, course_types
    from mhfa.reach.forms import parse_filters
    from tests.reach.bare import bare_counts

    mixes = [random_filters(rng, areas, TYPES) for _ in range(REQUESTS)]
    # Requests outside an app context of the benchmark's own (each request has its own, as in production).
    client = signed_in_client(app, BENCH_BOARD, password)
    opened = client.get("/reach")
    assert opened.status_code == 200, f"the board could not open the dashboard ({opened.status_code})"
    for query in mixes[:10]:
        client.get("/reach?" + urlencode(query, doseq=True))
    pages = []
    for query in mixes:
        began = time.perf_counter()
        response = client.get("/reach?" + urlencode(query, doseq=True))
        pages.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (query, response.status_code)
    bare = []
    with app.app_context():
        _no_statement_timeout(db)
        choices = areas_in_order(), course_types()
        for query in mixes[:bare_runs]:
            filters = parse_filters(MultiDict(query), *choices).filters
            began = time.perf_counter()
            bare_counts("area", filters)
            bare_counts("month", filters)
            bare.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
        db.engine.dispose()
    return {"pages": pages, "bare": bare, "mixes": mixes}


def _no_statement_timeout(db) -> None:
    """The bare baselines are not requests: lift the app's statement timeout for their transaction (a bare count
    over the history takes longer than a page may, over a minute at 5,000,000 people)."""
    db.session.execute(sa.text("SET LOCAL statement_timeout = 0"))


def _public_progress(app) -> dict:
    """The open progress page as an anonymous visitor, beside the bare count of its area table."""
    from mhfa.extensions import db
    from mhfa.reach.counts import Filters
    from tests.reach.bare import bare_counts

    client = app.test_client()
    for _ in range(10):
        client.get("/progress")
    pages = []
    for _ in range(PROGRESS_REQUESTS):
        began = time.perf_counter()
        response = client.get("/progress")
        pages.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    bare = []
    with app.app_context():
        _no_statement_timeout(db)
        for _ in range(3):
            began = time.perf_counter()
            bare_counts("area", Filters())
            bare.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
        db.engine.dispose()
    return {"pages": pages, "bare": bare}


def _worker_memory(ctx: Context, mixes: list[dict], password: str) -> tuple[float, float, int]:
    """Dashboard pages through gunicorn (one worker), then that worker's resident memory: (before, after, n)."""
    with gunicorn(ctx, workers=1) as (base, master):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/login", timeout=60).read().decode()
        body = urllib.parse.urlencode({"email": BENCH_BOARD, "password": password,
                                       "csrf_token": csrf_token(page)}).encode()
        opener.open(base + "/login", data=body, timeout=60).read()
        worker = worker_pids(master)[0]
        before = resident_mb(worker)
        for query in mixes[:100]:
            opener.open(base + "/reach?" + urlencode(query, doseq=True), timeout=60).read()
        return before, resident_mb(worker), min(100, len(mixes))


def run(ctx: Context) -> list[Figure]:
    rng = random.Random(ctx.seed)
    app, areas, password = _board_user(ctx)
    bare_runs = BARE_RUNS if ctx.people <= 1_000_000 else BARE_RUNS_BEYOND_A_MILLION
    measured = _in_process(app, areas, password, rng, bare_runs)
    page50, page95 = p50_p95(measured["pages"])
    bare50, bare95 = p50_p95(measured["bare"])
    before, after, served = _worker_memory(ctx, measured["mixes"], password)
    progress = _public_progress(app)
    open50, open95 = p50_p95(progress["pages"])
    openbare50, _ = p50_p95(progress["bare"])
    return [
        Figure("reach dashboard p50 / p95", f"{page50:.1f} / {page95:.1f} ms",
               f"bare COUNT(DISTINCT) area + month {bare50:,.0f} / {bare95:,.0f} ms",
               "p95 < 50 ms and ≥ 4× faster than bare", page95 < 50 and bare50 >= 4 * page95,
               [f"{len(measured['pages'])} pages, mixed filters; bare aggregate over {len(measured['bare'])} of them"]),
        Figure("worker resident memory after the dashboard", f"{after:,.0f} MB",
               f"{before:,.0f} MB before serving it", "", None, [f"gunicorn, 1 worker, {served} dashboard pages"]),
        Figure("public progress page p50 / p95", f"{open50:.1f} / {open95:.1f} ms",
               f"bare COUNT(DISTINCT) by area {openbare50:,.0f} ms", "p95 < 20 ms", open95 < 20,
               [f"{len(progress['pages'])} pages as an anonymous visitor, each rendered in full (no cached copy); "
                f"bare count of its area table {len(progress['bare'])} times"]),
    ]
