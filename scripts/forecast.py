#!/usr/bin/env python3
"""Forecast the programme's reach: python scripts/forecast.py [--database-url URL | --input monthly.csv] ...

The same code as ``flask --app wsgi mhfa forecast``: writes DIR/forecast.csv, DIR/summary.json and
DIR/forecast.png, and (from a database) stores the run for the dashboard and the API.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--database-url", help="Read the reach from this database (default: DATABASE_URL).")
    source.add_argument("--input", help="CSV of month,council_area,new_people (the run is not stored).")
    parser.add_argument("--as-of", help="Last month of data to use, YYYY-MM (default: the last complete month).")
    parser.add_argument("--out", default="forecast-out", help="Output directory (default: forecast-out).")
    parser.add_argument("--seed", type=int, default=2017, help="Same seed, same answer (default 2017).")
    parser.add_argument("--paths", type=int, default=5000, help="Simulated future paths (default 5000).")
    parser.add_argument("--target-people", type=int, help="Target (default: the programme settings').")
    parser.add_argument("--target-start", type=date.fromisoformat,
                        help="YYYY-MM-DD (default: the programme settings').")
    parser.add_argument("--target-end", type=date.fromisoformat,
                        help="Deadline (default: the programme settings' end date).")
    parser.add_argument("--what-if", action="append", default=[], metavar="N@YYYY-MM",
                        help="N more people a month from month YYYY-MM; repeatable.")
    parser.add_argument("--no-store", action="store_true", help="Do not keep the run in the database.")
    args = parser.parse_args(argv)

    from mhfa import create_app
    from mhfa.config import database_url
    from mhfa.errors import DomainError
    from mhfa.forecast.commands import _what_if, run_forecast

    config = {}
    if args.database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url(args.database_url, "instance")
    app = create_app(config)
    with app.app_context():
        try:
            run_forecast(
                out=args.out, input_path=args.input, as_of=args.as_of, seed=args.seed, paths=args.paths,
                target_people=args.target_people, target_start=args.target_start, target_end=args.target_end,
                what_ifs=tuple(_what_if(value) for value in args.what_if),
                store=False if args.no_store else None,
            )
        except DomainError as error:
            print(f"error: {error.message}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
