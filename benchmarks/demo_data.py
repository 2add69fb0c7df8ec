"""Benchmark: build the demo history at programme scale on PostgreSQL; report time and peak memory.

    .venv/bin/python benchmarks/demo_data.py [--people 500000] [--server postgresql://postgres@127.0.0.1:5432/test]

Creates a scratch database on the server, migrates it, runs ``flask mhfa demo-data`` in a child
process, prints wall-clock time and the child's peak resident memory against the budget
(3 minutes, 2 GB), and drops the scratch database.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 180
BUDGET_MB = 2048


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--server", default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    server = sa.engine.make_url(args.server.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"mhfa_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    env = {**os.environ, "DATABASE_URL": server.set(database=name).render_as_string(hide_password=False),
           "FLASK_APP": "wsgi"}
    flask = str(Path(sys.executable).parent / "flask")
    try:
        subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        began = time.perf_counter()
        result = subprocess.run(
            [flask, "mhfa", "demo-data", "--people", str(args.people), "--seed", str(args.seed)],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - began
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode != 0:
            print(result.stdout, result.stderr, sep="\n")
            return result.returncode
        print(next(line for line in result.stdout.splitlines() if line.startswith("Demo history")))
        print(f"demo-data --people {args.people:,} on PostgreSQL: {elapsed:.1f} s (budget {BUDGET_SECONDS} s), "
              f"peak memory {peak_mb:,.0f} MB (budget {BUDGET_MB:,} MB)")
        return 0 if elapsed < BUDGET_SECONDS and peak_mb < BUDGET_MB else 1
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
