"""One forecast run for ``flask mhfa forecast`` and ``scripts/forecast.py``: read, forecast, write, store."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click

from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.forecast import areas as area_forecast
from mhfa.forecast import series as monthly
from mhfa.forecast.report import write_outputs
from mhfa.forecast.runs import store_run
from mhfa.forecast.services import (
    MIN_PATHS,
    Options,
    forecast_from_database,
    make_forecast,
    programme_from_settings,
)
from mhfa.timeutil import london_today


def run_forecast(*, out: str | Path, input_path: str | None = None, as_of: str | None = None, seed: int = 2017,
                 paths: int = MIN_PATHS, target_people: int | None = None, target_start: date | None = None,
                 target_end: date | None = None, what_ifs: tuple[tuple[int, str], ...] = (),
                 store: bool | None = None, options: Options | None = None,
                 echo: Callable[[str], None] = print):
    """Run the forecast in the current app context; returns (forecast, run or None, seconds)."""

    began = time.perf_counter()
    through = monthly.parse_month(as_of) if as_of else monthly.last_complete_month(london_today())
    if input_path:
        series = monthly.from_csv(input_path, through=through if as_of else None)
        region = area_forecast.region_from_reference()
    else:
        series = monthly.from_database(through)
        region = area_forecast.region_from_database()
    programme = programme_from_settings(region=region, target_people=target_people, start=target_start,
                                        end=target_end)
    base = options or Options()
    options = Options(**{**base.__dict__, "seed": seed, "paths": paths, "what_ifs": tuple(what_ifs)})
    forecast = make_forecast(series, programme, options)
    write_outputs(forecast, out)
    run = None
    if store if store is not None else not input_path:
        run = store_run(forecast)
        db.session.commit()
    seconds = time.perf_counter() - began
    summary = forecast.summary
    echo(f"Data to {summary['as_of']}: {summary['reached_so_far']:,} people reached "
         f"(target {programme.target_people:,} by {programme.end:%d %b %Y})")
    echo(f"Model: {summary['model']['label']} ({summary['model']['reason']})")
    echo(f"Probability of the target by the deadline: {summary['probability_of_target']:.1%}")
    deadline = summary["at_deadline"]
    echo(f"Projected at the deadline: {deadline['median']:,} (80% {deadline['lower_80']:,}-{deadline['upper_80']:,}, "
         f"95% {deadline['lower_95']:,}-{deadline['upper_95']:,})")
    coverage = summary["coverage"]
    if coverage["coverage_80"] is not None:
        echo(f"Backtest coverage of the calibrated intervals: 80% interval {coverage['coverage_80']:.0%}, "
             f"95% interval {coverage['coverage_95']:.0%} of {coverage['pairs']:,} outcomes (the model's own: "
             f"{coverage['raw_coverage_80']:.0%} and {coverage['raw_coverage_95']:.0%})")
    echo(f"Target reached: {summary['month_target_reached']['text']}")
    if summary["rate_needed_per_month"]:
        echo(f"Needed from now: {summary['rate_needed_per_month']:,} a month "
             f"(last 12 months: {summary['recent_rate_per_month']:,} a month)")
    for scenario in summary["what_if"]:
        echo(f"What if {scenario['extra_per_month']:,} more a month from {scenario['from_month']}: "
             f"{scenario['probability_of_target']:.1%}, target reached {scenario['month_target_reached']['text']}")
    echo(f"Wrote {Path(out) / 'forecast.csv'}, summary.json and forecast.png"
         + (f"; stored as forecast run {run.id}" if run else "") + f" ({seconds:.1f} s)")
    return forecast, run, seconds


def store_demo_forecast(today: date) -> list[str]:
    """The forecast a fresh install starts with (``flask mhfa demo-data`` ends with it): stored, committed,
    and what it said and how long it took, as lines to print."""
    began = time.perf_counter()
    forecast = forecast_from_database(as_of=monthly.last_complete_month(today))
    run = store_run(forecast)
    db.session.commit()
    summary = forecast.summary
    coverage = summary["coverage"]
    held = ("" if coverage["coverage_80"] is None else
            f"; in the backtest its 80% interval held {coverage['coverage_80']:.0%} and its 95% interval "
            f"{coverage['coverage_95']:.0%}")
    return [f"Forecast stored (run {run.id}): {summary['probability_of_target']:.0%} chance of "
            f"{forecast.programme.target_people:,} people by {forecast.programme.end:%d %b %Y}, model "
            f"{summary['model']['name']}{held} ({time.perf_counter() - began:.1f} s)"]


def _what_if(value: str) -> tuple[int, str]:
    extra, _, month = value.partition("@")
    try:
        return int(extra), month
    except ValueError:
        raise DomainError(f"--what-if must look like 1000@2027-01 (got {value!r})", field="what_if") from None


@click.command("forecast")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for the three files.")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="CSV of month,council_area,new_people instead of the database (not stored).")
@click.option("--as-of", default=None, help="Last month of data to use, YYYY-MM (default: last complete month).")
@click.option("--seed", default=2017, show_default=True, type=int, help="Same seed, same answer.")
@click.option("--paths", default=MIN_PATHS, show_default=True, type=click.IntRange(100, 200_000),
              help="Simulated future paths.")
@click.option("--target-people", type=int, default=None,
              help="Instead of the programme settings' target (this run only).")
@click.option("--target-start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Instead of the programme settings' start date.")
@click.option("--target-end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Instead of the programme settings' end date (the deadline).")
@click.option("--what-if", "what_ifs", multiple=True, metavar="N@YYYY-MM",
              help="N more people a month from month YYYY-MM; repeatable.")
@click.option("--store/--no-store", default=None, help="Keep the run in the database (default: yes, not with --input).")
def forecast_command(out, input_path, as_of, seed, paths, target_people, target_start, target_end, what_ifs, store):
    """Forecast reach: probability of the target by the deadline, fan chart, areas (writes OUT/...)."""
    try:
        run_forecast(
            out=out, input_path=input_path, as_of=as_of, seed=seed, paths=paths, target_people=target_people,
            target_start=target_start.date() if target_start else None,
            target_end=target_end.date() if target_end else None,
            what_ifs=tuple(_what_if(value) for value in what_ifs), store=store, echo=click.echo,
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
