"""Every benchmark figure at programme scale, each beside a baseline measured in the same run.

    .venv/bin/python scripts/bench.py [--people 500000] [--seed 2017] [--database-url URL] [--only NAME ...]

Builds the demo history of ``--people`` people on the PostgreSQL server named by ``--database-url``
(default ``TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/test``) in a database of its
own, ``mhfa_bench_p<people>_s<seed>``, or reuses the one an earlier run built with the same size
and seed. Then it runs the benchmarks, prints the table and writes it to ``docs/benchmarks.md``
with the machine it ran on, keeping the hand-written part of that file (from the ``HAND_WRITTEN``
line on). Exit status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import Context, Figure, ensure_demo_database, machine, table  # noqa: E402

# In the order they run; each names a module in benchmarks/ with NAME and run(ctx).
MODULES = {"demo_data": "demo_data", "finder": "finder", "reach": "dashboard", "imports": "imports",
           "certificates": "certificates", "employers": "employers",
           "forecast": "forecast_run", "booking": "booking", "outcomes": "outcomes"}


def _available() -> list[str]:
    return list(MODULES)


def _postgres_version(ctx: Context) -> str:
    import sqlalchemy as sa

    engine = ctx.engine()
    with engine.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar()
    engine.dispose()
    return version


#: The line from which ``docs/benchmarks.md`` is written by hand; a new run keeps it and what follows.
HAND_WRITTEN = "<!-- Written by hand from here on: scripts/bench.py keeps this part when it rewrites the table. -->"


def hand_written_part(path: Path) -> list[str]:
    """The hand-written end of an earlier ``docs/benchmarks.md`` (from the marker line on), or nothing."""
    if not path.exists():
        return []
    text = path.read_text()
    start = text.find(HAND_WRITTEN)
    return text[start:].rstrip("\n").split("\n") + [""] if start >= 0 else []


def write_markdown(ctx: Context, figures: list[Figure], names: list[str], path: Path) -> None:
    info = machine()
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python scripts/bench.py --people {ctx.people}` "
        f"(seed {ctx.seed}; benchmarks: {', '.join(names)}).",
        "",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['memory']} memory, Python {info['python']}, "
        f"PostgreSQL {_postgres_version(ctx)}. Every baseline was measured in the same run on the same data.",
        "",
        *table(figures),
        "",
    ]
    notes = [(f.name, note) for f in figures for note in f.notes]
    if notes:
        lines += ["Notes:", ""] + [f"- {name}: {note}" for name, note in notes] + [""]
    lines += hand_written_part(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--database-url",
                        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                        help="a PostgreSQL server (its database name is replaced by the benchmark's own)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"some of: {', '.join(_available())}")
    parser.add_argument("--rebuild", action="store_true", help="build the demo database again even if it exists")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"), help="where to write the table")
    options = parser.parse_args(argv)
    names = options.only or _available()
    unknown = sorted(set(names) - set(_available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(_available())}")

    with tempfile.TemporaryDirectory(prefix="mhfa-bench-") as instance:
        ctx = Context(server_url=options.database_url, people=options.people, seed=options.seed,
                      instance=Path(instance))
        ensure_demo_database(ctx, rebuild=options.rebuild)
        figures: list[Figure] = []
        for name in names:
            print(f"-- {name}", flush=True)
            module = importlib.import_module(f"benchmarks.{MODULES[name]}")
            figures.extend(module.run(ctx))
        print()
        print("\n".join(table(figures)))
        for figure in figures:
            for note in figure.notes:
                print(f"  {figure.name}: {note}")
        write_markdown(ctx, figures, names, Path(options.out))
        print(f"\nWritten to {options.out}")
    return 1 if any(f.met is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
