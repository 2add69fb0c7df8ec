"""The forecast run: series in, model chosen by backtest, paths simulated, figures read off, run stored.

``make_forecast`` is pure (a ``Series`` and the programme's settings in, a ``Forecast`` out); the
CLI, ``scripts/forecast.py`` and the tests all call it. ``mhfa.forecast.runs.store_run`` keeps the result as a
``ForecastRun`` (flush only: the caller commits).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa import dates
from mhfa.areas.models import CouncilArea
from mhfa.courses.models import CourseType
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.forecast import areas as area_forecast
from mhfa.forecast import backtest as bt
from mhfa.forecast import series as monthly
from mhfa.forecast.candidates import Candidate, FitError, Fitted, all_candidates, by_name
from mhfa.forecast.series import Series
from mhfa.forecast.simulate import Outlook, bands, calibrated, month_text, read_off, simulate_outlook
from mhfa.forecast.whatif import what_if
from mhfa.reach.settings import current_settings
from mhfa.timeutil import london_today

MIN_PATHS = 5000
Progress = Callable[[int, str], None]


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
    backtest_horizon: int | None = None   # None: from the months to the deadline (backtest.horizon_for)
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


#: What a probability of the target means on the page: its words and colour (a low chance is never green).
CHANCE_STATUSES = ((0.8, "likely", "green", "Likely"), (0.5, "uncertain", "yellow", "Uncertain"),
                   (0.0, "unlikely", "red", "Unlikely"))


def chance_status(probability: float | None) -> dict:
    """``{"key", "colour", "label"}`` for a probability: likely (80% or more, green), uncertain (50% to
    under 80%, yellow), unlikely (under 50%, red)."""
    value = probability or 0.0
    for floor, key, colour, label in CHANCE_STATUSES:
        if value >= floor:
            return {"key": key, "colour": colour, "label": label}
    raise AssertionError("unreachable")


def programme_from_settings(*, region: area_forecast.Region | None = None, target_people: int | None = None,
                           start: date | None = None, end: date | None = None) -> Programme:
    """The programme's target, start and deadline from its settings in the database (``reach.settings``).

    ``target_people``, ``start`` and ``end`` override them for one run (the command line's
    ``--target-*``); nothing is read from the environment.
    """
    if target_people and start and end:
        settings = None     # all three given: a run on a CSV needs no database
    else:
        try:
            settings = current_settings()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as error:
            db.session.rollback()
            raise DomainError("The database has no programme settings yet (run 'flask --app wsgi db upgrade'), "
                              "or give the target, start and end dates for this run", field="target_people") from error
    return check_programme(Programme(
        target_people=target_people or settings.target_people,
        start=start or settings.start_on,
        end=end or settings.end_on,
        region=region if region is not None else area_forecast.Region({}, "no region given"),
    ))


def check_programme(programme: Programme) -> Programme:
    dates.PROGRAMME.check(programme.start, "The target's start date", field="target_start")
    dates.PROGRAMME.check(programme.end, "The target's end date", field="target_end")
    if programme.end <= programme.start:
        raise DomainError("The target's end date must be after its start date", field="target_end")
    if programme.target_people <= 0:
        raise DomainError("The target must be a positive number of people", field="target_people")
    return programme


def settings_fingerprint() -> dict:
    """What a forecast from the database depends on in the programme's settings, as plain values."""
    settings = current_settings()
    region = sorted(db.session.scalars(sa.select(CouncilArea.gss_code).where(CouncilArea.in_target_region)))
    counting = sorted(db.session.scalars(sa.select(CourseType.code).where(CourseType.counts_toward_target)))
    return {"target_people": settings.target_people, "start": settings.start_on.isoformat(),
            "end": settings.end_on.isoformat(), "region": region, "counting": counting}


_SETTING_NAMES = {"target_people": "the target", "start": "the start date", "end": "the deadline",
                  "region": "the target region", "counting": "the course types that count"}


def settings_changed_since(run) -> list[str]:
    """What has changed in the programme's settings since ``run`` was made (empty: it is up to date).

    A run from a CSV (``--input``) is compared on the target and dates only.
    """
    now = settings_fingerprint()
    used = dict(run.settings or {})
    used.setdefault("target_people", run.target_people)
    used.setdefault("end", run.target_date.isoformat())
    if run.target_start is not None:
        used.setdefault("start", run.target_start.isoformat())
    return [label for key, label in _SETTING_NAMES.items() if key in used and used[key] != now[key]]


def _choose(y: np.ndarray, options: Options, rng: np.random.Generator, *, months_to_deadline: int,
            progress: Progress) -> tuple[Fitted, str, dict[str, bt.Score], int]:
    """Fit the candidate with the best weighted backtest (or, too short for one, the one the history supports)."""
    candidates = all_candidates()
    order = [c.name for c in candidates]
    n = len(y)
    horizon = bt.horizon_for(months_to_deadline, options.backtest_horizon)
    scores = bt.backtest(
        y, [c for c in candidates if c.min_months <= options.first_origin], rng=rng,
        first_origin=options.first_origin, horizon=horizon, repetitions=options.backtest_paths,
        refit_every=options.refit_every, origin_step=options.origin_step, months_to_deadline=months_to_deadline,
        progress=lambda done, total: progress(5 + int(75 * done / total),
                                              f"Testing the models on the past ({done} of {total})"),
    )
    checked = max((score.pairs for score in scores.values()), default=0)
    too_few = bool(scores) and checked < bt.MIN_BACKTEST_PAIRS
    if too_few:
        scores = {}   # a handful of outcomes can neither choose a model nor calibrate its intervals
    ranked = sorted((s for s in scores.values() if s.weighted_error is not None),
                    key=lambda s: (round(s.weighted_error, 6), order.index(s.name)))
    if ranked:
        for position, score in enumerate(ranked):
            try:
                fitted = by_name(score.name).fit(y)
            except FitError:
                continue
            focus = (f"months {max(months_to_deadline - bt.BEFORE_DEADLINE, 1)}-"
                     f"{months_to_deadline + bt.AFTER_DEADLINE} ahead (around and just past the deadline)"
                     if months_to_deadline > 0 else "every horizon")
            reason = (f"lowest weighted backtest error ({score.weighted_error:.2f}) of {len(ranked)} candidates over "
                      f"{score.origins} origins from month {options.first_origin}, horizons 1-{horizon}, weighted "
                      f"toward {focus} and toward recent origins (half the weight every {bt.RECENCY_HALF_LIFE} "
                      f"months back)")
            if position:
                reason += f"; the better-scoring {ranked[0].name} could not be fitted to the whole history"
            return fitted, reason, scores, horizon
    if too_few:
        why = (f"only {n} months of history: the rolling-origin backtest from month {options.first_origin} has "
               f"{checked} outcomes to check against and needs at least {bt.MIN_BACKTEST_PAIRS}")
    elif n <= options.first_origin:
        why = f"only {n} months of history: a rolling-origin backtest needs more than {options.first_origin}"
    else:
        why = "no candidate could be scored by the backtest"
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
            return candidate.fit(y), f"{why}, {what}", scores, horizon
        except FitError as error:
            why = f"{why}; {candidate.name} could not be fitted ({error})"
    return (by_name("drift").fit(y), f"{why}, so the straight line through the cumulative total was used", scores,
            horizon)


def _calibrate(score: bt.Score, horizon: int, cumulative: np.ndarray) -> tuple[bt.Calibration, str]:
    """The chosen model's calibration: recent origins' errors counting most, unless that leaves the
    backtest's coverage outside 70-90% (80% interval) or 88-99% (95%); then every origin evenly."""
    for half_life, words in ((bt.CALIBRATION_HALF_LIFE, f"recent origins weighted (half the weight every "
                                                         f"{bt.CALIBRATION_HALF_LIFE} months back)"),
                             (None, "every origin evenly")):
        calibration = bt.fit_calibration(score.detail, horizon, half_life=half_life)
        calibration.coverage_80, calibration.coverage_95 = bt.calibrated_coverage(score, calibration, cumulative)
        calibration.pairs = score.pairs
        if 0.70 <= calibration.coverage_80 <= 0.90 and 0.88 <= calibration.coverage_95 <= 0.99:
            return calibration, words
    return calibration, "every origin evenly"


def _no_progress(percent: int, step: str) -> None:
    return None


def make_forecast(series: Series, programme: Programme, options: Options = Options(),
                  progress: Progress = _no_progress) -> Forecast:
    """The whole forecast from a monthly series: backtest, choice, calibration, simulation, areas, what-ifs.

    ``progress(percent, step)`` is told how far it has got (the page's job shows it).
    """
    if series.last_month is None or series.reached == 0:
        raise DomainError("Nobody has been reached in the data yet, so there is nothing to forecast from",
                          field="input")
    if options.paths < 1:
        raise DomainError("The number of simulated paths must be positive", field="paths")
    y = series.total
    as_of = series.last_month
    backtest_seed, outlook_seed, area_seed = np.random.SeedSequence(options.seed).spawn(3)
    months_to_deadline = (programme.deadline - as_of).n
    progress(5, "Testing the models on the past")
    fitted, reason, scores, backtest_horizon = _choose(y, options, np.random.default_rng(backtest_seed),
                                                       months_to_deadline=max(months_to_deadline, 0),
                                                       progress=progress)

    progress(82, "Simulating possible futures")
    horizon = max(12 * options.horizon_years, months_to_deadline, 1)
    outlook = simulate_outlook(fitted, as_of=as_of, reached=series.reached, horizon=horizon,
                               repetitions=options.paths, rng=np.random.default_rng(outlook_seed))
    chosen_score = scores.get(fitted.candidate.name)
    calibration = None
    weighting = None
    if chosen_score is not None and chosen_score.detail is not None:
        calibration, weighting = _calibrate(chosen_score, backtest_horizon, np.cumsum(y))
        outlook = calibrated(outlook, calibration)
    history = pd.Series(np.cumsum(y).astype(int), index=series.months)
    figures = read_off(outlook, target=programme.target_people, deadline=programme.deadline, history=history,
                       end=programme.end)

    progress(90, "Splitting the futures among council areas")
    shown = min(horizon, max(months_to_deadline, 24))
    total_bands = bands(outlook, shown)
    area_paths = area_forecast.reconcile(outlook, series, np.random.default_rng(area_seed))
    deadline_column = min(months_to_deadline, horizon) - 1 if months_to_deadline > 0 else None
    area_figures = area_forecast.area_summaries(area_paths, series, programme.region,
                                                target=programme.target_people, deadline_column=deadline_column)
    rows = [{"month": band["month"], "area": "Total", **{k: v for k, v in band.items() if k != "month"}}
            for band in total_bands]
    rows += area_forecast.area_rows(area_paths, outlook.months[:shown])

    coverage = {
        "coverage_80": None if calibration is None else round(calibration.coverage_80, 4),
        "coverage_95": None if calibration is None else round(calibration.coverage_95, 4),
        "raw_coverage_80": None if chosen_score is None else round(chosen_score.coverage_80, 4),
        "raw_coverage_95": None if chosen_score is None else round(chosen_score.coverage_95, 4),
        "pairs": 0 if chosen_score is None else chosen_score.pairs,
        "held_out": {} if calibration is None else bt.held_out_coverage(chosen_score, backtest_horizon,
                                                                         np.cumsum(y)),
    }
    summary = {
        "as_of": month_text(as_of),
        "source": series.source,
        "seed": options.seed,
        "paths": options.paths,
        "target": {"people": programme.target_people, "start": programme.start.isoformat(),
                   "deadline": programme.end.isoformat(), "deadline_month": month_text(programme.deadline)},
        **figures,
        "coverage": coverage,
        "required_now": programme.required(as_of),
        "model": {"name": fitted.candidate.name, "label": fitted.candidate.label, "reason": reason,
                  "months_of_history": len(y), "parameters": _rounded(fitted.params)},
        "backtest": {
            "first_origin": options.first_origin, "horizons": f"1-{backtest_horizon}",
            "paths_per_origin": options.backtest_paths, "refit_every": options.refit_every,
            "origin_step": options.origin_step, "recency_half_life_months": bt.RECENCY_HALF_LIFE,
            "focus_horizons": (f"{max(months_to_deadline - bt.BEFORE_DEADLINE, 1)}-"
                               f"{months_to_deadline + bt.AFTER_DEADLINE}" if months_to_deadline > 0 else None),
            "candidates": [score.as_dict() for score in scores.values()],
        },
        "interval_calibration": (
            {"method": "the chosen model's spread mapped per horizon so that 80% of past outcomes fall inside the "
                       "80% interval and 95% inside the 95% interval in the rolling-origin backtest",
             "weighting": weighting,
             "achieved_coverage_80": coverage["coverage_80"], "achieved_coverage_95": coverage["coverage_95"],
             "k80_at_horizon": {str(h): round(float(calibration.k80[h - 1]), 3) for h in bt.REPORTED_HORIZONS
                                if h <= len(calibration.k80)},
             **calibration.as_dict()}
            if calibration is not None else
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
    progress(97, "Writing the results")
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
    outlook = calibrated(outlook, bt.Calibration.from_dict(summary.get("interval_calibration", {})))
    history = pd.Series(np.cumsum(y).astype(int), index=months)
    return what_if(outlook, extra_per_month=extra_per_month, from_month=from_month, target=run.target_people,
                   deadline=deadline, history=history)


def forecast_from_database(options: Options = Options(), *, as_of: pd.Period | None = None,
                           progress: Progress = _no_progress) -> Forecast:
    """The forecast of the programme's own reach: the series to the last complete month (or ``as_of``),
    the target region's areas, and the target, start and deadline from the programme settings."""
    progress(1, "Reading the monthly figures")
    through = as_of if as_of is not None else monthly.last_complete_month(london_today())
    series = monthly.from_database(through)
    programme = programme_from_settings(region=area_forecast.region_from_database())
    return make_forecast(series, programme, options, progress)
