"""The forecast run: series in, model chosen by backtest, paths simulated, figures read off, run stored.

``make_forecast`` is pure (a ``Series`` and the programme's settings in, a ``Forecast`` out); the
CLI, ``scripts/forecast.py`` and the tests all call it. ``store_run`` keeps the result as a
``ForecastRun`` (flush only: the caller commits).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa import dates
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.forecast import areas as area_forecast
from mhfa.forecast import backtest as bt
from mhfa.forecast.candidates import Candidate, FitError, Fitted, all_candidates, by_name
from mhfa.forecast.models import ForecastRun
from mhfa.forecast.series import Series
from mhfa.forecast.simulate import Outlook, bands, calibrated, month_text, read_off, simulate_outlook
from mhfa.forecast.whatif import what_if

MIN_PATHS = 5000


@dataclass(frozen=True)
class Programme:
    """The target: how many people, from when, by when, and the region's areas for pro-rata shares."""

    target_people: int
    start: date
    end: date
    region: area_forecast.Region

    @property
    def deadline(self) -> pd.Period:
        return pd.Period(self.end, freq="M")

    def required(self, month: pd.Period) -> int:
        """The straight line from nobody at the start to the target at the end, at the end of ``month``."""
        span = (self.end - self.start).days
        done = (min(month.end_time.date(), self.end) - self.start).days
        return int(round(self.target_people * min(max(done / span, 0.0), 1.0))) if span > 0 else self.target_people


@dataclass(frozen=True)
class Options:
    seed: int = 2017
    paths: int = MIN_PATHS
    first_origin: int = 36
    backtest_horizon: int = 24
    backtest_paths: int = 500
    refit_every: int = 12
    origin_step: int = 1
    horizon_years: int = 10
    what_ifs: tuple[tuple[int, str], ...] = ()


@dataclass
class Forecast:
    series: Series
    programme: Programme
    options: Options
    fitted: Fitted
    outlook: Outlook
    history: pd.Series                    # cumulative reach by month
    summary: dict
    rows: list[dict] = field(default_factory=list)  # forecast.csv

    @property
    def bands(self) -> list[dict]:
        return self.summary["bands"]


def settings_from_config(config, *, region: area_forecast.Region | None = None, target_people: int | None = None,
                         start: date | None = None, end: date | None = None) -> Programme:
    programme = Programme(
        target_people=target_people or config["MHFA_TARGET_PEOPLE"],
        start=start or config["MHFA_TARGET_START"],
        end=end or config["MHFA_TARGET_END"],
        region=region if region is not None else area_forecast.Region({}, "no region given"),
    )
    dates.PROGRAMME.check(programme.start, "The target's start date", field="target_start")
    dates.PROGRAMME.check(programme.end, "The target's end date", field="target_end")
    if programme.end <= programme.start:
        raise DomainError("The target's end date must be after its start date", field="target_end")
    if programme.target_people <= 0:
        raise DomainError("The target must be a positive number of people", field="target_people")
    return programme


def _choose(y: np.ndarray, options: Options, rng: np.random.Generator) -> tuple[Fitted, str, dict[str, bt.Score]]:
    """Fit the candidate with the best backtest (or, too short for one, the one the history supports)."""
    candidates = all_candidates()
    order = [c.name for c in candidates]
    n = len(y)
    scores = bt.backtest(
        y, [c for c in candidates if c.min_months <= options.first_origin], rng=rng,
        first_origin=options.first_origin, horizon=options.backtest_horizon, repetitions=options.backtest_paths,
        refit_every=options.refit_every, origin_step=options.origin_step,
    )
    ranked = sorted((s for s in scores.values() if s.mase is not None), key=lambda s: (s.mase, order.index(s.name)))
    if ranked:
        for position, score in enumerate(ranked):
            try:
                fitted = by_name(score.name).fit(y)
            except FitError:
                continue
            reason = (f"lowest backtest MASE ({score.mase:.2f}) of {len(ranked)} candidates over "
                      f"{score.origins} origins from month {options.first_origin}, horizons 1-"
                      f"{options.backtest_horizon}")
            if position:
                reason += f"; the better-scoring {ranked[0].name} could not be fitted to the whole history"
            return fitted, reason, scores
    why = (f"only {n} months of history: a rolling-origin backtest needs more than {options.first_origin}"
           if n <= options.first_origin else "no candidate could be scored by the backtest")
    fallbacks: list[tuple[Candidate, str]] = [
        (by_name("ets_damped"), "so the damped-trend ETS without seasonality was used (seasonality needs "
                                "several years to estimate)"),
        (by_name("drift"), "so the straight line through the cumulative total was used (too few months for "
                           "a damped-trend model)"),
    ]
    for candidate, what in fallbacks:
        if n < candidate.min_months:
            continue
        try:
            return candidate.fit(y), f"{why}, {what}", scores
        except FitError as error:
            why = f"{why}; {candidate.name} could not be fitted ({error})"
    return by_name("drift").fit(y), f"{why}, so the straight line through the cumulative total was used", scores


def make_forecast(series: Series, programme: Programme, options: Options = Options()) -> Forecast:
    """The whole forecast from a monthly series: backtest, choice, simulation, areas, what-ifs."""
    if series.last_month is None or series.reached == 0:
        raise DomainError("Nobody has been reached in the data yet, so there is nothing to forecast from",
                          field="input")
    if options.paths < 1:
        raise DomainError("The number of simulated paths must be positive", field="paths")
    y = series.total
    as_of = series.last_month
    backtest_seed, outlook_seed, area_seed = np.random.SeedSequence(options.seed).spawn(3)
    fitted, reason, scores = _choose(y, options, np.random.default_rng(backtest_seed))

    months_to_deadline = (programme.deadline - as_of).n
    horizon = max(12 * options.horizon_years, months_to_deadline, 1)
    outlook = simulate_outlook(fitted, as_of=as_of, reached=series.reached, horizon=horizon,
                               repetitions=options.paths, rng=np.random.default_rng(outlook_seed))
    chosen_score = scores.get(fitted.candidate.name)
    factors = None
    if chosen_score is not None and chosen_score.calibration is not None:
        factors = chosen_score.calibration.factors(horizon)
        outlook = calibrated(outlook, factors)
    history = pd.Series(np.cumsum(y).astype(int), index=series.months)
    figures = read_off(outlook, target=programme.target_people, deadline=programme.deadline, history=history)

    shown = min(horizon, max(months_to_deadline, 24))
    total_bands = bands(outlook, shown)
    area_paths = area_forecast.reconcile(outlook, series, np.random.default_rng(area_seed))
    deadline_column = min(months_to_deadline, horizon) - 1 if months_to_deadline > 0 else None
    area_figures = area_forecast.area_summaries(area_paths, series, programme.region,
                                                target=programme.target_people, deadline_column=deadline_column)
    rows = [{"month": band["month"], "area": "Total", **{k: v for k, v in band.items() if k != "month"}}
            for band in total_bands]
    rows += area_forecast.area_rows(area_paths, outlook.months[:shown])

    summary = {
        "as_of": month_text(as_of),
        "source": series.source,
        "seed": options.seed,
        "paths": options.paths,
        "target": {"people": programme.target_people, "start": programme.start.isoformat(),
                   "deadline": programme.end.isoformat(), "deadline_month": month_text(programme.deadline)},
        **figures,
        "required_now": programme.required(as_of),
        "model": {"name": fitted.candidate.name, "label": fitted.candidate.label, "reason": reason,
                  "months_of_history": len(y), "parameters": _rounded(fitted.params)},
        "backtest": {
            "first_origin": options.first_origin, "horizons": f"1-{options.backtest_horizon}",
            "paths_per_origin": options.backtest_paths, "refit_every": options.refit_every,
            "origin_step": options.origin_step,
            "candidates": [score.as_dict() for score in scores.values()],
        },
        "interval_calibration": (
            {"method": "model intervals widened per horizon to the 80th percentile of backtest errors over "
                       "the raw 80% half-width (never narrowed)",
             "stretch_at_horizon": {str(h): round(float(factors[h - 1]), 3) for h in bt.REPORTED_HORIZONS
                                    if h <= len(factors)},
             "factors": [round(float(k), 4) for k in factors]}
            if factors is not None else
            {"method": "none: no backtest, so the intervals are the model's own and may be too narrow"}),
        "areas": area_figures,
        "area_method": "top-down: each simulated total path split by Dirichlet shares of the last 12 months",
        "region_population_basis": programme.region.basis,
        "horizon_years": options.horizon_years,
        "bands": total_bands,
        "history": {"first_month": month_text(series.months[0]), "new_people": [int(v) for v in y]},
        "what_if": [
            what_if(outlook, extra_per_month=extra, from_month=month, target=programme.target_people,
                    deadline=programme.deadline, history=history)
            for extra, month in options.what_ifs
        ],
    }
    return Forecast(series, programme, options, fitted, outlook, history, summary, rows)


def _rounded(params: dict) -> dict:
    return {key: round(value, 6) if isinstance(value, float) else value for key, value in params.items()}


def what_if_for_run(run, *, extra_per_month: int, from_month: str) -> dict:
    """A what-if on a stored run: its model refitted to its own history, the same seed, so the same paths.

    Quick enough for a web request (no database query, no backtest).
    """
    summary = run.summary or {}
    stored = summary.get("history")
    if not stored or not stored.get("new_people"):
        raise DomainError("This forecast run is too old for a what-if: run the forecast again", field="from_month")
    y = np.asarray(stored["new_people"], dtype=float)
    months = pd.period_range(stored["first_month"], periods=len(y), freq="M")
    try:
        fitted = by_name(summary["model"]["name"]).fit(y)
    except (FitError, KeyError):
        fitted = by_name("drift").fit(y)
    _, outlook_seed, _ = np.random.SeedSequence(summary["seed"]).spawn(3)
    deadline = pd.Period(run.target_date, freq="M")
    horizon = max(12 * summary.get("horizon_years", 10), (deadline - months[-1]).n, 1)
    outlook = simulate_outlook(fitted, as_of=months[-1], reached=int(y.sum()), horizon=horizon,
                               repetitions=summary.get("paths", MIN_PATHS),
                               rng=np.random.default_rng(outlook_seed))
    factors = summary.get("interval_calibration", {}).get("factors")
    if factors:
        outlook = calibrated(outlook, np.resize(np.asarray(factors, dtype=float), horizon))
    history = pd.Series(np.cumsum(y).astype(int), index=months)
    return what_if(outlook, extra_per_month=extra_per_month, from_month=from_month, target=run.target_people,
                   deadline=deadline, history=history)


# --- stored runs ----------------------------------------------------------------------------------

def store_run(forecast: Forecast):
    """Keep the forecast as a ``ForecastRun`` (the dashboard, the API and the method page read the latest)."""

    summary = forecast.summary
    run = ForecastRun(
        data_through=forecast.series.last_month.end_time.date(),
        target_people=forecast.programme.target_people,
        target_date=forecast.programme.end,
        method=summary["model"]["name"],
        projected_at_target_date=summary["at_deadline"]["median"],
        lower_80=summary["at_deadline"]["lower_80"],
        upper_80=summary["at_deadline"]["upper_80"],
        probability_of_target=summary["probability_of_target"],
        parameters={"seed": forecast.options.seed, "paths": forecast.options.paths,
                    "model": summary["model"]["parameters"]},
        summary=summary,
    )
    db.session.add(run)
    db.session.flush()
    return run


def latest_run():

    return db.session.scalar(sa.select(ForecastRun).order_by(ForecastRun.created_at.desc(), ForecastRun.id.desc())
                             .limit(1))
