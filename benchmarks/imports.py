"""The historical import of a 100,000-row CSV file at programme scale: rows per second.

Every row is checked, people matched by email or name and birth date, completions written and the
kept reach figures updated, in one transaction, then rolled back, so the reused demo database keeps
its figures (the commit itself is not timed). The baseline is a COPY of the same number of rows into
a temporary table: the floor of any write of that size.
"""
from __future__ import annotations

import io
import time
import uuid

import psycopg

from benchmarks.harness import Context, Figure, libpq_url
from benchmarks.reach import import_file

NAME = "imports"
ROWS = 100_000
TARGET = 30_000


def run(ctx: Context) -> list[Figure]:
    from mhfa.extensions import db
    from mhfa.reach.importing import import_completions

    path = ctx.instance / f"bench-import-{uuid.uuid4().hex[:6]}.csv"
    import_file(path, ROWS, ctx.seed)
    data = path.read_bytes()
    app = ctx.app()
    with app.app_context():
        began = time.perf_counter()
        summary = import_completions(data)
        db.session.flush()
        seconds = time.perf_counter() - began
        db.session.rollback()
        db.engine.dispose()
    with psycopg.connect(libpq_url(ctx.database_url)) as conn:
        conn.execute("CREATE TEMP TABLE bench_copy (line text)")
        began = time.perf_counter()
        with conn.cursor().copy("COPY bench_copy (line) FROM STDIN") as copy:
            copy.write(io.BytesIO(data.replace(b"\\", b"\\\\")).getvalue().replace(b"\r\n", b"\n"))
        copy_seconds = time.perf_counter() - began
        conn.rollback()
    path.unlink()
    rate = summary.rows / seconds
    return [Figure(f"historical import, {summary.rows:,} rows", f"{rate:,.0f} rows/s ({seconds:.1f} s)",
                   f"COPY of the same lines {summary.rows / copy_seconds:,.0f} rows/s", f"≥ {TARGET:,} rows/s",
                   rate >= TARGET, [f"people added {summary.people_added:,}, completions added "
                                    f"{summary.completions_added:,}; timed to the end of the transaction's work, "
                                    "then rolled back so the reused database is unchanged"])]
