"""Rolling-origin backtest on the cumulative total: which candidate answers the question best, and how
wide its intervals must be to be honest.

From an origin of ``first_origin`` months (an expanding window: each origin keeps all the months
before it), each candidate forecasts the next 1 to ``horizon`` months of cumulative reach by
simulating its paths, and is compared with what happened. Every (origin, horizon) pair gives:

- a **scaled error**: the absolute error of the median forecast of the cumulative total, divided by
  the in-sample one-step error of the seasonal naive forecast up to that origin (the average size of
  a year-on-year change in the monthly flow). Averaged evenly it is the MASE shown beside each
  candidate.
- the model's own quantiles, from which the **raw coverage** of its 80% and 95% intervals is counted
  and the calibration (below) is fitted.

**Choosing** follows the question the board asks: will the target be met by the deadline. So the
choice is the lowest *weighted* scaled error, each pair weighted by how much its horizon matters
(full weight from two months before the deadline's horizon to six months after it, a quarter
elsewhere) times how recent its origin is (the weight halves every ``RECENCY_HALF_LIFE`` months back
from the latest origin).

**Calibration** scales the chosen model's simulated spread so that its intervals hold the share of
past outcomes they claim. Per horizon, a path's distance from the month's median, in units of the
raw 80% interval's half-width on its side, is mapped through ``g(d) = k80·d`` inside the 80% interval
and ``k80 + k95·(d − 1)`` beyond it: ``k80`` is the 80th percentile of the past outcomes' distances
(so 80% of them fall inside), ``k95`` the factor that then brings 95% of them inside the 95%
interval. The map is monotone, so every path keeps its rank and the bands are read off the
calibrated paths themselves. The summary reports the coverage the calibrated intervals achieve on
the backtest's own pairs (counted on the calibrated paths, not assumed), beside the raw coverage,
and a held-out check the calibration cannot flatter: calibrated only on outcomes known two years
before the latest origin, counted on the origins since.

Maximum-likelihood fits are re-estimated every ``refit_every`` origins (using only the months before
that origin); in between, the last estimates run through the longer history, so no origin ever sees
its future.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mhfa.forecast.candidates import PERIOD, Candidate, FitError

QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
REPORTED_HORIZONS = (1, 3, 6, 12, 24)
RECENCY_HALF_LIFE = 24        # months
BEFORE_DEADLINE, AFTER_DEADLINE = 2, 6
OTHER_HORIZON_WEIGHT = 0.25
MIN_HORIZON, MAX_HORIZON = 12, 36
#: Fewer (origin, horizon) outcomes than this and the backtest is not used at all (too few to choose or calibrate).
MIN_BACKTEST_PAIRS = 40
#: Calibration: pairs pooled over neighbouring horizons until there are this many.
MIN_CALIBRATION_PAIRS = 20
#: The 95% interval's extra width beyond the 80% one is never shrunk below this share of the model's own.
MIN_TAIL_FACTOR = 0.5
#: The held-out check: the last this many months of origins, calibrated only on what was known before them.
HOLD_OUT_MONTHS = 24
#: Calibration weighs recent origins' errors more: the weight halves every this many months back (None: evenly).
CALIBRATION_HALF_LIFE: float | None = 24


def horizon_for(months_to_deadline: int, longest: int | None = None) -> int:
    """How many months ahead to backtest: past the deadline by six months, within 12 to 36."""
    if longest:
        return longest
    return int(min(max(months_to_deadline + AFTER_DEADLINE, MIN_HORIZON), MAX_HORIZON))


def horizon_weights(horizon: int, months_to_deadline: int) -> np.ndarray:
    """Weight of horizons 1..``horizon``: full around and just past the deadline, a quarter elsewhere."""
    h = np.arange(1, horizon + 1)
    focus = (h >= months_to_deadline - BEFORE_DEADLINE) & (h <= months_to_deadline + AFTER_DEADLINE)
    if months_to_deadline <= 0 or not focus.any():
        return np.ones(horizon)
    return np.where(focus, 1.0, OTHER_HORIZON_WEIGHT)


@dataclass
class Pairs:
    """Every (origin, horizon) pair of one candidate's backtest, as flat arrays."""

    origin: np.ndarray
    h: np.ndarray
    actual: np.ndarray
    quantiles: np.ndarray     # (pairs, 5): QUANTILES of the raw simulated cumulative
    scaled_error: np.ndarray

    def inside(self, quantiles: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = self.quantiles if quantiles is None else quantiles
        inside_80 = (self.actual >= q[:, 1]) & (self.actual <= q[:, 3])
        inside_95 = (self.actual >= q[:, 0]) & (self.actual <= q[:, 4])
        return inside_80, inside_95


@dataclass
class Score:
    name: str
    label: str
    mase: float | None = None
    weighted_error: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None
    origins: int = 0
    pairs: int = 0
    mase_by_horizon: dict[str, float] = field(default_factory=dict)
    failed: str | None = None
    detail: Pairs | None = field(default=None, repr=False)
    raw_paths: list = field(default_factory=list, repr=False)   # per origin: (origin, raw cumulative paths)

    def as_dict(self) -> dict:
        out = {"name": self.name, "label": self.label, "mase": self.mase, "weighted_error": self.weighted_error,
               "coverage_80": self.coverage_80, "coverage_95": self.coverage_95, "origins": self.origins,
               "pairs": self.pairs, "mase_by_horizon": self.mase_by_horizon, "failed": self.failed}
        return {key: (round(value, 4) if isinstance(value, float) else value) for key, value in out.items()}


# --- calibration ---------------------------------------------------------------------------------

@dataclass
class Calibration:
    """Per horizon (index 0 = one month ahead): the factors of the monotone spread map (module docstring)."""

    k80: np.ndarray
    k95: np.ndarray
    coverage_80: float | None = None     # achieved on the backtest pairs, counted on calibrated paths
    coverage_95: float | None = None
    pairs: int = 0

    def resized(self, steps: int) -> Calibration:
        """Factors for ``steps`` months: horizons past the backtest keep the last backtested factors."""
        def grow(values):
            values = np.asarray(values, dtype=float)
            if len(values) >= steps:
                return values[:steps]
            return np.concatenate([values, np.full(steps - len(values), values[-1] if len(values) else 1.0)])
        return Calibration(grow(self.k80), grow(self.k95), self.coverage_80, self.coverage_95, self.pairs)

    def as_dict(self) -> dict:
        return {"k80": [round(float(k), 4) for k in self.k80], "k95": [round(float(k), 4) for k in self.k95]}

    @classmethod
    def from_dict(cls, stored: dict) -> Calibration | None:
        if not stored or "k80" not in stored:
            return None
        return cls(np.asarray(stored["k80"], dtype=float), np.asarray(stored["k95"], dtype=float))


def _distances(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Each outcome's distance from the median in raw 80% half-widths, and the raw 95% edge's, on its side."""
    low95, low80, median, high80, high95 = pairs.quantiles.T
    above = pairs.actual >= median
    half = np.where(above, high80 - median, median - low80)
    edge = np.where(above, high95 - median, median - low95)
    gap = np.abs(pairs.actual - median)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(half > 0, gap / half, np.where(gap > 0, np.inf, 0.0))
        d95 = np.where(half > 0, edge / half, 1.0)
    return d, np.maximum(d95, 1.0)


def _quantile(values: np.ndarray, q: float, weights: np.ndarray | None) -> float:
    """The ``q`` quantile of ``values`` (inverted CDF), each value counting by its weight when given."""
    if weights is None:
        return float(np.quantile(values, q, method="inverted_cdf"))
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q * cumulative[-1])])


def _factors(d: np.ndarray, d95: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    k80 = _quantile(d, 0.8, weights)
    k80 = k80 if np.isfinite(k80) and k80 > 0 else 1.0
    outside = d > k80
    need = np.zeros_like(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        need[outside] = np.where(d95[outside] > 1.0, (d[outside] - k80) / (d95[outside] - 1.0), np.inf)
    k95 = _quantile(need, 0.95, weights)
    if not np.isfinite(k95):
        k95 = float(np.max(need[np.isfinite(need)], initial=k80))
    return k80, max(k95, MIN_TAIL_FACTOR * k80)


def fit_calibration(pairs: Pairs, horizon: int, *, half_life: float | None = CALIBRATION_HALF_LIFE) -> Calibration:
    """The spread factors per horizon 1..``horizon`` from the backtest pairs (pooled with neighbours when few).

    With ``half_life``, recent origins count more (the weight halves every ``half_life`` months back).
    """
    d, d95 = _distances(pairs)
    recency = None if half_life is None else 0.5 ** ((pairs.origin.max() - pairs.origin) / half_life)
    k80, k95 = np.ones(horizon), np.ones(horizon)
    for h in range(1, horizon + 1):
        width = 0
        chosen = pairs.h == h
        while chosen.sum() < MIN_CALIBRATION_PAIRS and width < horizon:
            width += 1
            chosen = np.abs(pairs.h - h) <= width
        if chosen.sum() == 0:
            k80[h - 1], k95[h - 1] = (k80[h - 2], k95[h - 2]) if h > 1 else (1.0, 1.0)
            continue
        k80[h - 1], k95[h - 1] = _factors(d[chosen], d95[chosen], None if recency is None else recency[chosen])
    return Calibration(k80, k95)


def stretch(paths: np.ndarray, calibration: Calibration | None, *, floor: float) -> np.ndarray:
    """Cumulative paths ``(repetitions, months)`` with their spread mapped by ``calibration`` month by month.

    Never below ``floor`` (the reach so far) and never going down (nobody is un-reached).
    """
    if calibration is None:
        return paths
    factors = calibration.resized(paths.shape[1])
    k80, k95 = factors.k80, factors.k95
    low, median, high = np.quantile(paths, (0.1, 0.5, 0.9), axis=0)
    above = paths >= median
    half = np.where(above, high - median, median - low)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(half > 0, np.abs(paths - median) / half, 0.0)
    mapped = np.where(d <= 1.0, k80 * d, k80 + k95 * (d - 1.0))
    stretched = median + np.where(above, 1.0, -1.0) * mapped * half
    stretched = np.maximum(stretched, floor)
    return np.maximum.accumulate(stretched, axis=1)


def calibrated_coverage(score: Score, calibration: Calibration, cumulative: np.ndarray, *,
                        after: int | None = None) -> tuple[float | None, float | None]:
    """Coverage of the calibrated 80% and 95% intervals on the backtest, counted on calibrated paths
    (only origins after ``after`` when given)."""
    inside_80 = inside_95 = total = 0
    for origin, raw in score.raw_paths:
        if after is not None and origin <= after:
            continue
        steps = raw.shape[1]
        paths = stretch(raw, calibration.resized(steps), floor=cumulative[origin - 1])
        low95, low80, _, high80, high95 = np.quantile(paths, QUANTILES, axis=0)
        actual = cumulative[origin:origin + steps]
        inside_80 += int(np.sum((actual >= low80) & (actual <= high80)))
        inside_95 += int(np.sum((actual >= low95) & (actual <= high95)))
        total += steps
    return (inside_80 / total, inside_95 / total) if total else (None, None)


def held_out_coverage(score: Score, horizon: int, cumulative: np.ndarray, *,
                      hold_out: int = HOLD_OUT_MONTHS) -> dict:
    """A check the calibration cannot flatter: calibrated only on outcomes known ``hold_out`` months
    before the latest origin, counted on the origins after that. Empty when too little came before."""
    pairs = score.detail
    if pairs is None or not len(pairs.origin):
        return {}
    cutoff = int(pairs.origin.max()) - hold_out
    known = pairs.origin + pairs.h <= cutoff
    later = int(np.sum(pairs.origin > cutoff))
    if known.sum() < MIN_CALIBRATION_PAIRS or not later:
        return {}
    earlier = Pairs(pairs.origin[known], pairs.h[known], pairs.actual[known], pairs.quantiles[known],
                    pairs.scaled_error[known])
    coverage_80, coverage_95 = calibrated_coverage(score, fit_calibration(earlier, horizon), cumulative,
                                                   after=cutoff)
    return {"coverage_80": round(coverage_80, 4), "coverage_95": round(coverage_95, 4), "pairs": later,
            "months": hold_out}


# --- the backtest --------------------------------------------------------------------------------

def seasonal_naive_scale(y: np.ndarray) -> float:
    """Mean absolute year-on-year change of the monthly flow (the MASE denominator); never zero."""
    if len(y) > PERIOD:
        scale = float(np.mean(np.abs(y[PERIOD:] - y[:-PERIOD])))
    else:
        scale = float(np.mean(np.abs(np.diff(y)))) if len(y) > 1 else 0.0
    return scale if scale > 0 else max(float(np.mean(np.abs(y))), 1.0)


def origins_for(n: int, first_origin: int, origin_step: int) -> list[int]:
    """Every ``origin_step``-th origin, counted back from the latest (so the most recent is always in)."""
    step = max(origin_step, 1)
    return sorted(range(n - 1, first_origin - 1, -step)) if n > first_origin else []


def backtest(y: np.ndarray, candidates: list[Candidate], *, rng: np.random.Generator, first_origin: int = 36,
             horizon: int = 24, repetitions: int = 500, refit_every: int = 12, origin_step: int = 1,
             months_to_deadline: int | None = None, progress=None) -> dict[str, Score]:
    """Score each candidate; empty when the series is too short for a single origin.

    ``progress(done, total)`` is called after each candidate.
    """
    y = np.asarray(y, dtype=float)
    origins = origins_for(len(y), first_origin, origin_step)
    if not origins:
        return {}
    generators = rng.spawn(len(candidates))
    weights_h = horizon_weights(horizon, horizon if months_to_deadline is None else months_to_deadline)
    scores = {}
    for i, candidate in enumerate(candidates):
        scores[candidate.name] = _score(candidate, y, origins, generators[i], horizon, repetitions, refit_every,
                                        weights_h)
        if progress is not None:
            progress(i + 1, len(candidates))
    return scores


def _score(candidate: Candidate, y: np.ndarray, origins: list[int], rng: np.random.Generator, horizon: int,
           repetitions: int, refit_every: int, weights_h: np.ndarray) -> Score:
    score = Score(candidate.name, candidate.label)
    cumulative = np.cumsum(y)
    rows: list[tuple] = []
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
        score.raw_paths.append((origin, raw))
        quantiles = np.quantile(raw, QUANTILES, axis=0).T           # (steps, 5)
        actual = cumulative[origin:origin + steps]
        scale = seasonal_naive_scale(history)
        for h in range(steps):
            rows.append((origin, h + 1, actual[h], quantiles[h], abs(actual[h] - quantiles[h, 2]) / scale))
    pairs = Pairs(
        origin=np.array([r[0] for r in rows]), h=np.array([r[1] for r in rows]),
        actual=np.array([r[2] for r in rows], dtype=float), quantiles=np.array([r[3] for r in rows]),
        scaled_error=np.array([r[4] for r in rows], dtype=float),
    )
    latest = max(origins)
    weights = weights_h[pairs.h - 1] * 0.5 ** ((latest - pairs.origin) / RECENCY_HALF_LIFE)
    inside_80, inside_95 = pairs.inside()
    score.detail = pairs
    score.origins, score.pairs = len(origins), len(rows)
    score.mase = float(np.mean(pairs.scaled_error))
    score.weighted_error = float(np.sum(weights * pairs.scaled_error) / np.sum(weights))
    score.coverage_80 = float(np.mean(inside_80))
    score.coverage_95 = float(np.mean(inside_95))
    for h in REPORTED_HORIZONS:
        at_h = pairs.scaled_error[pairs.h == h]
        if len(at_h):
            score.mase_by_horizon[str(h)] = round(float(np.mean(at_h)), 4)
    return score


def choose(scores: dict[str, Score], order: list[str]) -> str | None:
    """The candidate with the lowest weighted error (the simpler one on a tie); None without scores."""
    scored = [name for name in order if name in scores and scores[name].weighted_error is not None]
    if not scored:
        return None
    return min(scored, key=lambda name: (round(scores[name].weighted_error, 6), order.index(name)))
