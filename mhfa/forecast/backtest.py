"""Rolling-origin backtest on the cumulative total: how far off each candidate was, and how honest its intervals.

From an origin of ``first_origin`` months (an expanding window: each origin keeps all the months
before it), each candidate forecasts the next 1 to ``horizon`` months of cumulative reach by
simulating its paths, and is compared with what happened:

- **MASE**: the absolute error of the median forecast of the cumulative total, divided by the
  in-sample one-step error of the seasonal naive forecast up to that origin (the average size of a
  year-on-year change in the monthly flow), averaged over every origin and horizon. Below 1 would
  be better than a one-month-ahead seasonal naive; what matters is the ranking.
- **coverage**: the share of (origin, horizon) pairs whose actual cumulative fell inside the 80%
  and the 95% intervals. Honest intervals cover close to 80% and 95%.

Maximum-likelihood fits are re-estimated every ``refit_every`` origins (using only the months before
that origin); in between, the last estimates run through the longer history, so no origin ever sees
its future.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from mhfa.forecast.candidates import PERIOD, Candidate, FitError

QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
REPORTED_HORIZONS = (1, 3, 6, 12, 24)


@dataclass
class Score:
    name: str
    label: str
    mase: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None
    origins: int = 0
    pairs: int = 0
    mase_by_horizon: dict[str, float] = field(default_factory=dict)
    failed: str | None = None
    stretch_by_horizon: dict[str, float] = field(default_factory=dict)
    calibration: Calibration | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        return {key: (round(value, 4) if isinstance(value, float) else value) for key, value in asdict(self).items()
                if key != "calibration"}


MIN_CALIBRATION_PAIRS = 6


class Calibration:
    """How much wider than the model's own 80% interval the errors were, horizon by horizon.

    Each backtest pair (origin, horizon) adds its error over the half-width of the model's raw 80%
    interval; the stretch for a horizon is the 80th percentile of those ratios (never below 1), so
    that 80% of past errors would have fallen inside. At a backtest origin only pairs whose outcome
    was already known count; the final forecast uses them all.
    """

    def __init__(self):
        self.pairs: list[tuple[int, np.ndarray, np.ndarray]] = []

    def add(self, origin: int, errors: np.ndarray, half_widths: np.ndarray) -> None:
        self.pairs.append((origin, errors, half_widths))

    def factors(self, steps: int, known_at: int | None = None) -> np.ndarray:
        ratios: list[list[float]] = [[] for _ in range(steps)]
        for origin, errors, half_widths in self.pairs:
            for h in range(min(steps, len(errors))):
                if known_at is not None and origin + h + 1 > known_at:
                    break
                if half_widths[h] > 0:
                    ratios[h].append(errors[h] / half_widths[h])
        out = np.ones(steps)
        previous = 1.0
        for h in range(steps):
            if len(ratios[h]) >= MIN_CALIBRATION_PAIRS:
                previous = max(previous, float(np.quantile(ratios[h], 0.8)))
            out[h] = previous
        return np.maximum(out, 1.0)


def stretch(paths: np.ndarray, factors: np.ndarray, *, floor: float) -> np.ndarray:
    """Cumulative paths pulled away from their median by ``factors`` per month.

    Never below ``floor`` (the reach so far) and never going down (nobody is un-reached).
    """
    if np.all(factors == 1.0):
        return paths
    median = np.median(paths, axis=0)
    stretched = np.maximum(median + factors[: paths.shape[1]] * (paths - median), floor)
    return np.maximum.accumulate(stretched, axis=1)


def seasonal_naive_scale(y: np.ndarray) -> float:
    """Mean absolute year-on-year change of the monthly flow (the MASE denominator); never zero."""
    if len(y) > PERIOD:
        scale = float(np.mean(np.abs(y[PERIOD:] - y[:-PERIOD])))
    else:
        scale = float(np.mean(np.abs(np.diff(y)))) if len(y) > 1 else 0.0
    return scale if scale > 0 else max(float(np.mean(np.abs(y))), 1.0)


def origins_for(n: int, first_origin: int, origin_step: int) -> list[int]:
    return list(range(first_origin, n, max(origin_step, 1)))


def backtest(y: np.ndarray, candidates: list[Candidate], *, rng: np.random.Generator, first_origin: int = 36,
             horizon: int = 24, repetitions: int = 500, refit_every: int = 12,
             origin_step: int = 1) -> dict[str, Score]:
    """Score each candidate; empty when the series is too short for a single origin."""
    y = np.asarray(y, dtype=float)
    origins = origins_for(len(y), first_origin, origin_step)
    if not origins:
        return {}
    generators = rng.spawn(len(candidates))
    return {
        candidate.name: _score(candidate, y, origins, generators[i], horizon, repetitions, refit_every)
        for i, candidate in enumerate(candidates)
    }


def _score(candidate: Candidate, y: np.ndarray, origins: list[int], rng: np.random.Generator, horizon: int,
           repetitions: int, refit_every: int) -> Score:
    score = Score(candidate.name, candidate.label)
    cumulative = np.cumsum(y)
    calibration = Calibration()
    scaled_errors: list[np.ndarray] = []
    inside_80 = inside_95 = 0
    fitted = None
    fitted_at = None
    for origin in origins:
        history = y[:origin]
        try:
            if fitted is None or origin - fitted_at >= refit_every:
                fitted, fitted_at = candidate.fit(history), origin
            else:
                fitted = fitted.extend(history)
        except FitError as error:
            score.failed = f"could not be fitted at origin {origin}: {error}"
            return score
        steps = min(horizon, len(y) - origin)
        flows = np.clip(fitted.simulate(horizon, repetitions, rng)[:, :steps], 0, None)
        raw = cumulative[origin - 1] + np.cumsum(flows, axis=1)
        # Widen by what the earlier origins' errors (already known at this origin) showed.
        paths = stretch(raw, calibration.factors(steps, known_at=origin), floor=cumulative[origin - 1])
        low95, low80, median, high80, high95 = np.quantile(paths, QUANTILES, axis=0)
        actual = cumulative[origin:origin + steps]
        raw_low, raw_median, raw_high = np.quantile(raw, (0.1, 0.5, 0.9), axis=0)
        calibration.add(origin, np.abs(actual - raw_median), (raw_high - raw_low) / 2)
        scaled_errors.append(np.abs(actual - median) / seasonal_naive_scale(history))
        inside_80 += int(np.sum((actual >= low80) & (actual <= high80)))
        inside_95 += int(np.sum((actual >= low95) & (actual <= high95)))
    pairs = sum(len(errors) for errors in scaled_errors)
    score.origins, score.pairs = len(origins), pairs
    score.calibration = calibration
    score.stretch_by_horizon = {str(h): round(float(k), 3) for h, k in
                                zip(range(1, horizon + 1), calibration.factors(horizon), strict=True)
                                if h in REPORTED_HORIZONS}
    score.mase = float(np.mean(np.concatenate(scaled_errors)))
    score.coverage_80 = inside_80 / pairs
    score.coverage_95 = inside_95 / pairs
    for h in REPORTED_HORIZONS:
        at_h = [errors[h - 1] for errors in scaled_errors if len(errors) >= h]
        if at_h:
            score.mase_by_horizon[str(h)] = round(float(np.mean(at_h)), 4)
    return score


def choose(scores: dict[str, Score], order: list[str]) -> str | None:
    """The candidate with the lowest backtest MASE (the simpler one on a tie); None without scores."""
    scored = [name for name in order if name in scores and scores[name].mase is not None]
    if not scored:
        return None
    return min(scored, key=lambda name: (round(scores[name].mase, 6), order.index(name)))
