"""Every benchmark figure at one scale, each beside a baseline measured in the same run; scales side by side.

    .venv/bin/python scripts/bench.py [--people 500000] [--seed 2017] [--database-url URL] [--only NAME ...]
                                      [--reuse | --rebuild] [--results DIR] [--out FILE]
    .venv/bin/python scripts/bench.py --compare

Builds the demo history of ``--people`` people on the PostgreSQL server named by ``--database-url``
(default ``TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/test``) in a database of its
own, ``mhfa_bench_p<people>_s<seed>``, or reuses the one an earlier run built with the same size
and seed (``--reuse``, the default; ``--rebuild`` builds it again). Then it runs the benchmarks and
prints their table. The figures of each scale are kept, machine-written, in ``docs/benchmarks/``
(``people-<people>.json``; a run with ``--only`` replaces only its own figures there), and
``docs/benchmarks.md`` is rewritten with every scale measured so far side by side, each figure beside
its baseline, keeping the hand-written part of that file (from the ``HAND_WRITTEN`` line on).
``--compare`` only rewrites that table from the kept figures. Exit status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
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


RESULTS = ROOT / "docs" / "benchmarks"


def results_path(directory: Path, people: int) -> Path:
    return Path(directory) / f"people-{people}.json"


def scale_result(ctx: Context, figures: list[Figure], names: list[str]) -> dict:
    """One run's figures at one scale, as kept in ``docs/benchmarks/people-<people>.json``."""
    info = machine()
    now = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return {
        "people": ctx.people,
        "seed": ctx.seed,
        "measured_at": now,
        "benchmarks": names,
        "machine": f"{info['cores']} cores ({info['cpu']}), {info['memory']} memory, Python {info['python']}, "
                   f"PostgreSQL {_postgres_version(ctx)}",
        "figures": [{"name": f.name, "value": f.value, "baseline": f.baseline, "target": f.target,
                     "verdict": f.verdict, "notes": list(f.notes), "measured_at": now} for f in figures],
    }


def save_result(path: Path, result: dict) -> dict:
    """Keep ``result`` for its scale: its figures replace those of the same name, the others stay."""
    path = Path(path)
    kept = json.loads(path.read_text()) if path.exists() else {}
    fresh = {f["name"]: f for f in result["figures"]}
    figures = [fresh.pop(f["name"], f) for f in kept.get("figures", [])] + list(fresh.values())
    earlier = kept.get("benchmarks", [])
    benchmarks = [*earlier, *(n for n in result["benchmarks"] if n not in earlier)]
    merged = {**result, "benchmarks": benchmarks, "figures": figures}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n")
    return merged


def load_results(directory: Path) -> list[dict]:
    """Every kept scale, smallest first."""
    found = [json.loads(p.read_text()) for p in sorted(Path(directory).glob("people-*.json"))]
    return sorted(found, key=lambda r: r["people"])


def row_label(name: str) -> str:
    """A figure's name without the scale it was measured at, so the scales line up on one row."""
    return re.sub(r",? (?:at )?[\d,]+ people", "", name)


def side_by_side(results: list[dict]) -> list[str]:
    """The figures of every scale in one table: per scale the measured figure, its baseline, its target
    and verdict; a figure missing at a scale is left blank."""
    headers = ["figure"]
    for result in results:
        headers += [f"{result['people']:,} people", "baseline (same run)", "target"]
    labels: list[str] = []
    cells: dict[tuple[str, int], dict] = {}
    for result in results:
        for figure in result["figures"]:
            label = row_label(figure["name"])
            if label not in labels:
                labels.append(label)
            cells[label, result["people"]] = figure
    rows = []
    for label in labels:
        row = [label]
        for result in results:
            figure = cells.get((label, result["people"]))
            if figure is None:
                row += ["", "", ""]
                continue
            target = " — ".join(part for part in (figure["target"], figure["verdict"]) if part)
            row += [figure["value"], figure["baseline"], target]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(values):
        return "| " + " | ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    return [line(headers), "| " + " | ".join("-" * w for w in widths) + " |", *(line(r) for r in rows)]


def write_markdown(results: list[dict], path: Path) -> None:
    """``docs/benchmarks.md``: every kept scale side by side, then the hand-written part as it was."""
    path = Path(path)
    lines = ["# Benchmarks", ""]
    for result in results:
        dates = sorted({f.get("measured_at", result["measured_at"]) for f in result["figures"]})
        when = dates[0] if len(dates) <= 1 else f"{dates[0]} to {dates[-1]}"
        lines += [f"At {result['people']:,} people: measured {when} by "
                  f"`python scripts/bench.py --people {result['people']}` (seed {result['seed']}; benchmarks: "
                  f"{', '.join(result['benchmarks'])}) on {result['machine']}.", ""]
    lines += ["Every baseline was measured in the same run on the same data as the figure beside it.", ""]
    lines += [*side_by_side(results), ""]
    for result in results:
        notes = [(f["name"], note) for f in result["figures"] for note in f["notes"]]
        if notes:
            lines += [f"Notes at {result['people']:,} people:", ""]
            lines += [f"- {name}: {note}" for name, note in notes] + [""]
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
    build = parser.add_mutually_exclusive_group()
    build.add_argument("--reuse", action="store_true",
                       help="reuse the demo database an earlier run built at this size and seed (the default)")
    build.add_argument("--rebuild", action="store_true", help="build the demo database again even if it exists")
    parser.add_argument("--results", default=str(RESULTS),
                        help="where each scale's figures are kept (people-<people>.json)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"),
                        help="where to write every scale's figures side by side")
    parser.add_argument("--compare", action="store_true",
                        help="run nothing: rewrite --out from the figures kept in --results")
    options = parser.parse_args(argv)
    if options.compare:
        results = load_results(Path(options.results))
        if not results:
            parser.error(f"no figures kept in {options.results}: run a benchmark first")
        write_markdown(results, Path(options.out))
        scales = ", ".join(f"{r['people']:,}" for r in results)
        print(f"Written to {options.out}: {scales} people side by side")
        return 0
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
        kept = results_path(Path(options.results), ctx.people)
        save_result(kept, scale_result(ctx, figures, names))
        write_markdown(load_results(Path(options.results)), Path(options.out))
        print(f"\nKept in {kept}; written to {options.out}")
    return 1 if any(f.met is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
