"""Benchmark: the whole forecast run at programme scale (series query, backtests, 5,000 paths, areas, files, store).

    .venv/bin/python benchmarks/forecast.py --database-url postgresql://postgres@127.0.0.1:5432/mhfa_bench
    .venv/bin/python benchmarks/forecast.py --build --people 500000   # scratch database, built then dropped

The database must hold a demo history (``flask mhfa demo-data --people 500000`` takes about 90 s);
``--build`` makes one in a scratch database on ``--server``. Prints the time of each stage and the
total against the issue's bar: under 10 seconds, backtests included.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUDGET_SECONDS = 10.0


def _build(server_url: str, people: int) -> str:
    server = sa.engine.make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"mhfa_forecast_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    flask = str(Path(sys.executable).parent / "flask")
    for command in (["db", "upgrade"], ["mhfa", "load-reference"], ["mhfa", "demo-data", "--people", str(people)]):
        subprocess.run([flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return url


def _drop(url: str) -> None:
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--build", action="store_true", help="Build a demo history in a scratch database first.")
    parser.add_argument("--people", type=int, default=500_000)
    parser.add_argument("--server", default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--repeat", type=int, default=3, help="Runs to time (the best and the median are shown).")
    args = parser.parse_args()
    url = _build(args.server, args.people) if args.build else args.database_url
    if not url:
        parser.error("give --database-url or --build")

    from mhfa import create_app
    from mhfa.config import database_url
    from mhfa.extensions import db
    from mhfa.forecast import areas, series
    from mhfa.forecast.report import write_outputs
    from mhfa.forecast.runs import store_run
    from mhfa.forecast.services import make_forecast, programme_from_settings
    from mhfa.timeutil import london_today

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url, "instance")})
    totals = []
    try:
        with app.app_context(), tempfile.TemporaryDirectory() as out:
            for attempt in range(args.repeat):
                stages = {}
                began = last = time.perf_counter()

                def lap(name, stages=stages):
                    nonlocal last
                    now = time.perf_counter()
                    stages[name] = now - last
                    last = now

                monthly = series.from_database(series.last_complete_month(london_today()))
                programme = programme_from_settings(region=areas.region_from_database())
                lap("series query")
                forecast = make_forecast(monthly, programme)
                lap("backtest + simulation + areas")
                write_outputs(forecast, out)
                lap("csv, json, png")
                store_run(forecast)
                db.session.rollback()  # timed, not kept
                lap("store run")
                totals.append(time.perf_counter() - began)
                figures = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages.items())
                print(f"run {attempt + 1}: {totals[-1]:.2f} s ({figures})")
            summary = forecast.summary
            scores = {s["name"]: s for s in summary["backtest"]["candidates"]}
            print(f"{monthly.reached:,} people over {len(monthly.months)} months; model {summary['model']['name']}; "
                  f"origins {scores[summary['model']['name']]['origins']}; paths {summary['paths']:,}")
    finally:
        if args.build:
            _drop(url)
    best, median = min(totals), sorted(totals)[len(totals) // 2]
    verdict = "within" if median < BUDGET_SECONDS else "OVER"
    print(f"forecast run: best {best:.2f} s, median {median:.2f} s ({verdict} the {BUDGET_SECONDS:.0f} s budget)")
    return 0 if median < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
