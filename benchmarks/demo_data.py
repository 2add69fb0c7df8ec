"""The demo-data build at programme scale: wall time and peak memory of ``flask mhfa demo-data``.

Measured when ``scripts/bench.py`` builds the demo database (in a child process, as a user runs it);
a reused database reports the figures recorded when it was built. The baseline is PostgreSQL's own
bulk load of the same rows (``COPY`` of every table, out and back into an empty copy of the schema).
"""
from __future__ import annotations

import time

import psycopg

from benchmarks.harness import Context, Figure, libpq_url

NAME = "demo_data"
BUDGET_SECONDS = 120  # per 500,000 people: 20 minutes at 5,000,000
BUDGET_MB = 1024  # up to 500,000 people; 2 GB beyond (the build streams, so its memory does not follow the people)


def budget(people: int) -> tuple[int, int]:
    """The build's time (s) and peak memory (MB) targets at this many people."""
    return max(BUDGET_SECONDS, round(BUDGET_SECONDS * people / 500_000)), BUDGET_MB if people <= 500_000 else 2048
TABLES = ["person", "course", "course_session", "booking", "attendance_mark", "completion", "certificate"]


def _copy_baseline(ctx: Context) -> tuple[float, int]:
    """Seconds to COPY the biggest tables out and back into temporary copies: the floor of any build."""
    rows = 0
    with psycopg.connect(libpq_url(ctx.database_url)) as conn:
        began = time.perf_counter()
        for name in TABLES:
            conn.execute(f"CREATE TEMP TABLE bench_{name} (LIKE {name})")
            buffer = bytearray()
            with conn.cursor().copy(f"COPY {name} TO STDOUT") as out:
                for chunk in out:
                    buffer += chunk
            with conn.cursor().copy(f"COPY bench_{name} FROM STDIN") as into:
                into.write(bytes(buffer))
            rows += conn.execute(f"SELECT count(*) FROM bench_{name}").fetchone()[0]  # noqa: S608 (fixed names)
        seconds = time.perf_counter() - began
        conn.rollback()
    return seconds, rows


def run(ctx: Context) -> list[Figure]:
    build = ctx.build
    copy_seconds, rows = _copy_baseline(ctx)
    when = "reused database, figures from its build" if build.get("reused") else "built in this run"
    seconds, megabytes = budget(ctx.people)
    return [
        Figure(
            f"demo-data build, {ctx.people:,} people", f"{build['seconds']:.0f} s, peak {build['peak_mb']:,.0f} MB",
            f"COPY of its {rows:,} main rows {copy_seconds:.0f} s", f"< {seconds:,} s and < {megabytes:,} MB",
            build["seconds"] < seconds and build["peak_mb"] < megabytes, [f"{when}; {build['counts']}"],
        )
    ]
