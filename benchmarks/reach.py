"""Benchmark of reach at programme scale on PostgreSQL: dashboard from kept figures vs the bare count, and import.

    .venv/bin/python benchmarks/reach.py [--people 500000] [--import-rows 100000] [--requests 200]
        [--server postgresql://postgres@127.0.0.1:5432/test]

Creates a scratch database, migrates it, builds the demo history (``flask mhfa demo-data --people N``,
which also builds the kept figures), then:

1. asks for the dashboard (``GET /reach``, signed in as the demo board member) with a random mix of
   filters (basis, awareness, course types, months, area) and prints p50/p95, and the JSON API;
2. times the bare ``COUNT(DISTINCT …) GROUP BY`` over completions for the same figures (the area
   table and the monthly series) and prints p50/p95;
3. imports a file of ``--import-rows`` new completions (``import-completions``) and prints rows/s,
   then imports it again (adds nothing) and prints rows/s.

The issue's bars: dashboard under 50 ms at p95 at 500,000 people; at least 10,000 rows/s for a
100,000-row import. The scratch database is dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(share * (len(ordered) - 1))), len(ordered) - 1)]


def random_filters(rng: random.Random, areas: list[str], types: list[str]) -> dict:
    query: dict = {"basis": rng.choice(["home", "home", "work", "delivery"])}
    if rng.random() < 0.4:
        query["awareness"] = "exclude"
    if rng.random() < 0.3:
        query["type"] = rng.sample(types, rng.randint(1, 2))
    if rng.random() < 0.4:
        start = rng.randint(2017, 2025)
        query["from"] = f"{start}-{rng.randint(1, 12):02d}"
        query["to"] = f"{rng.randint(start + 1, 2026)}-{rng.randint(1, 12):02d}"
    if rng.random() < 0.3:
        query["area"] = rng.choice(areas)
    return query


def import_file(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    start = date(2017, 3, 1)
    areas = ["Birmingham", "Coventry", "Dudley", "Sandwell", "Solihull", "Walsall", "Wolverhampton", ""]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("first_name,last_name,email,course_type,completed_on,council_area,date_of_birth\r\n")
        for n in range(rows):
            day = start + timedelta(days=rng.randint(0, 2500))
            handle.write(f"Hist{n},Person{n % 997},hist.{seed}.{n}@import.example.org,"
                         f"{rng.choice(['ADULT_2DAY', 'ADULT_CHAMPION', 'AWARE'])},{day.isoformat()},"
                         f"{rng.choice(areas)},19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}\r\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--bare-runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--server", default=os.environ.get("TEST_DATABASE_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    server = sa.engine.make_url(re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", args.server))
    name = f"mhfa_bench_reach_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    flask = str(Path(sys.executable).parent / "flask")
    try:
        subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        began = time.perf_counter()
        subprocess.run([flask, "mhfa", "demo-data", "--people", str(args.people), "--seed", str(args.seed)],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        print(f"demo-data --people {args.people:,} (with kept reach figures): {time.perf_counter() - began:.1f} s")
        return measure(url, args)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(url: str, args) -> int:
    os.environ["DATABASE_URL"] = url
    from werkzeug.datastructures import MultiDict

    from mhfa import create_app
    from mhfa.auth.models import Role
    from mhfa.auth.services import issue_api_token
    from mhfa.extensions import db
    from mhfa.reach.dashboard import areas_in_order, course_types
    from mhfa.reach.forms import parse_filters
    from mhfa.reach.importing import import_completions
    from tests.reach.bare import bare_counts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    rng = random.Random(args.seed)
    with app.app_context():
        from mhfa.auth.models import User

        board = next(u for u in db.session.scalars(sa.select(User)) if u.has_role(Role.BOARD))
        token = issue_api_token(board)
        db.session.commit()
        areas = list(db.session.scalars(sa.text("SELECT gss_code FROM council_area")))
        types = ["ADULT_2DAY", "ADULT_CHAMPION", "AWARE", "YOUTH_2DAY"]
        client = app.test_client()
        from mhfa.demo.services import DEMO_PASSWORD

        client.post("/login", data={"email": board.email, "password": DEMO_PASSWORD})
        assert client.get("/reach").status_code == 200, "board could not open the dashboard"
        mixes = [random_filters(rng, areas, types) for _ in range(args.requests)]
        if os.environ.get("REACH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for query in mixes[:20]:
                client.get("/reach?" + urlencode(query, doseq=True))
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        page, api = [], []
        for query in mixes:
            began = time.perf_counter()
            response = client.get("/reach?" + urlencode(query, doseq=True))
            page.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (query, response.status_code)
            began = time.perf_counter()
            response = client.get("/api/v1/reach?" + urlencode({**query, "group_by": rng.choice(
                ["council_area", "month", "course_type", "sector"])}, doseq=True),
                headers={"Authorization": f"Bearer {token}"})
            api.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        bare_area, bare_month = [], []
        choices = areas_in_order(), course_types()
        for query in mixes[:args.bare_runs]:
            filters = parse_filters(MultiDict(query), *choices).filters
            began = time.perf_counter()
            bare_counts("area", filters)
            bare_area.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            bare_counts("month", filters)
            bare_month.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
        print(f"GET /reach (whole dashboard, {len(page)} mixed filters): p50 {statistics.median(page):.1f} ms, "
              f"p95 {percentile(page, 0.95):.1f} ms (bar: p95 < 50 ms)")
        print(f"GET /api/v1/reach ({len(api)} mixed): p50 {statistics.median(api):.1f} ms, "
              f"p95 {percentile(api, 0.95):.1f} ms")
        print(f"bare COUNT(DISTINCT) GROUP BY area ({len(bare_area)} runs): p50 {statistics.median(bare_area):.1f} ms, "
              f"p95 {percentile(bare_area, 0.95):.1f} ms")
        print(f"bare COUNT(DISTINCT) GROUP BY month ({len(bare_month)} runs): p50 "
              f"{statistics.median(bare_month):.1f} ms, p95 {percentile(bare_month, 0.95):.1f} ms")

        if args.import_rows:
            path = Path(app.instance_path) / f"bench-import-{uuid.uuid4().hex[:6]}.csv"
            import_file(path, args.import_rows, args.seed)
            data = path.read_bytes()
            for label in ("import", "re-import (adds nothing)"):
                began = time.perf_counter()
                summary = import_completions(data)
                db.session.commit()
                seconds = time.perf_counter() - began
                print(f"{label} of {summary.rows:,} rows: {seconds:.1f} s, {summary.rows / seconds:,.0f} rows/s "
                      f"(people added {summary.people_added:,}, completions added {summary.completions_added:,}; "
                      f"bar: 10,000 rows/s)")
            path.unlink()
        from mhfa.reach.keeping import rebuild

        began = time.perf_counter()
        differences = rebuild()
        db.session.rollback()
        print(f"rebuild --check: {len(differences)} differences, {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
