"""The candidate models of the monthly flow of newly reached people, each able to simulate futures.

- ``ets_damped`` and ``ets_damped_seasonal``: statsmodels' ``ETSModel`` with additive error and a
  damped additive trend, without and with additive monthly seasonality (no multiplicative forms:
  months with nobody reached, as in the 2020 lockdown, would break them).
- ``ets_trend_recent``: ETS with additive error and an additive (undamped) trend fitted on the last
  three years only, so a monthly rate that has been rising or falling steadily is carried on along
  that change rather than averaged with the years before it.
- ``drift``: the straight line through the cumulative total (each future month draws the average
  monthly flow so far, with the flow's own spread).
- ``seasonal_naive``: each month as the same month a year before, plus a random step as large as
  the past year-on-year changes (a seasonal random walk), so its intervals widen every year.

A fitted candidate simulates ``repetitions`` paths of the future monthly flow, shape
``(repetitions, horizon)``; negative months are clipped to zero by the caller.
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field

import numpy as np

PERIOD = 12


class FitError(Exception):
    """The candidate cannot be fitted to this series (too short, or the optimiser failed)."""


@dataclass
class Fitted:
    """A candidate fitted to the first ``len(y)`` months of a series."""

    candidate: Candidate
    y: np.ndarray
    params: dict = field(default_factory=dict)
    result: object = None  # the statsmodels results, for ETS

    def simulate(self, horizon: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        return self.candidate.simulate(self, horizon, repetitions, rng)

    def extend(self, y: np.ndarray) -> Fitted:
        """The same parameters run through a longer history (no re-estimation): cheap backtest origins."""
        return self.candidate.extend(self, y)


class Candidate:
    name = ""
    label = ""
    min_months = 2

    def fit(self, y: np.ndarray, start: Fitted | None = None) -> Fitted:
        raise NotImplementedError

    def extend(self, fitted: Fitted, y: np.ndarray) -> Fitted:
        return self.fit(y)

    def simulate(self, fitted: Fitted, horizon: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        return self.label


# statsmodels 0.14 names the generator ``random_state``; 0.15 renamed it ``rng``.
_ETS_RNG_KEYWORD: str | None = None


def _ets_rng_keyword() -> str:
    global _ETS_RNG_KEYWORD
    if _ETS_RNG_KEYWORD is None:
        from statsmodels.tsa.exponential_smoothing.ets import ETSResults

        names = inspect.signature(ETSResults.simulate).parameters
        _ETS_RNG_KEYWORD = "rng" if "rng" in names else "random_state"
    return _ETS_RNG_KEYWORD


def _simulate_ets(fitted: Fitted, horizon: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
    """statsmodels' simulation of future months from the end of the fitted history: ``(repetitions, horizon)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = fitted.result.simulate(horizon, anchor="end", repetitions=repetitions, **{_ets_rng_keyword(): rng})
    return np.asarray(paths, dtype=float).reshape(horizon, repetitions).T


class ETS(Candidate):
    """ETS(A,Ad,N) or ETS(A,Ad,A) fitted by maximum likelihood."""

    def __init__(self, seasonal: bool):
        self.seasonal = seasonal
        self.name = "ets_damped_seasonal" if seasonal else "ets_damped"
        self.label = ("ETS: additive error, damped additive trend, additive monthly seasonality" if seasonal
                      else "ETS: additive error, damped additive trend, no seasonality")
        self.min_months = 2 * PERIOD + 2 if seasonal else 10

    def _model(self, y: np.ndarray, initialization: str):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        return ETSModel(
            y, error="add", trend="add", damped_trend=True,
            seasonal="add" if self.seasonal else None, seasonal_periods=PERIOD if self.seasonal else None,
            initialization_method=initialization,
        )

    def fit(self, y: np.ndarray, start: Fitted | None = None) -> Fitted:
        if len(y) < self.min_months:
            raise FitError(f"needs at least {self.min_months} months")
        if np.ptp(y) == 0:
            raise FitError("every month is the same: nothing to smooth")
        last_error = None
        # "heuristic" starts from the first years' averages and is fast; "estimated" is the fallback.
        for initialization in ("heuristic", "estimated"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = self._model(y, initialization)
                    result = model.fit(disp=False, maxiter=400)
            except (ValueError, np.linalg.LinAlgError) as error:
                last_error = error
                continue
            if np.all(np.isfinite(result.params)) and np.isfinite(result.mse):
                params = {name: float(value) for name, value in zip(result.param_names, result.params, strict=True)}
                params["initialization"] = initialization
                params["residual_sd"] = float(np.sqrt(result.mse))
                return Fitted(self, y, params, result)
        raise FitError(f"statsmodels could not fit it ({last_error or 'no finite estimate'})")

    def extend(self, fitted: Fitted, y: np.ndarray) -> Fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Same start, so the same estimated initial states (or the heuristic's, from the first years).
            model = self._model(y, fitted.params["initialization"])
            values = [fitted.params[name] for name in model.param_names]
            result = model.smooth(np.asarray(values))
        params = dict(fitted.params)
        params["residual_sd"] = float(np.sqrt(result.mse))
        return Fitted(self, y, params, result)

    def simulate(self, fitted: Fitted, horizon: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        return _simulate_ets(fitted, horizon, repetitions, rng)


RECENT_MONTHS = 36


class RecentTrend(Candidate):
    """ETS(A,A,N) on the last three years: follows a change of trend that older years would drown out."""

    name = "ets_trend_recent"
    label = "ETS: additive error and trend, fitted on the last three years (follows a change of trend)"
    min_months = 24

    @staticmethod
    def _model(window: np.ndarray):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        # The heuristic start (from the window's own first months) keeps the estimates to the two
        # smoothing weights, so a later, longer history can reuse them (``extend``).
        return ETSModel(window, error="add", trend="add", damped_trend=False, initialization_method="heuristic")

    def fit(self, y: np.ndarray, start: Fitted | None = None) -> Fitted:
        if len(y) < self.min_months:
            raise FitError(f"needs at least {self.min_months} months")
        window = np.asarray(y[-RECENT_MONTHS:], dtype=float)
        if np.ptp(window) == 0:
            raise FitError("every recent month is the same: no trend to follow")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = self._model(window).fit(disp=False, maxiter=400)
        except (ValueError, np.linalg.LinAlgError) as error:
            raise FitError(f"statsmodels could not fit it ({error})") from error
        if not (np.all(np.isfinite(result.params)) and np.isfinite(result.mse)):
            raise FitError("statsmodels found no finite estimate")
        params = {name: float(value) for name, value in zip(result.param_names, result.params, strict=True)}
        params.update(window_months=len(window), residual_sd=float(np.sqrt(result.mse)))
        return Fitted(self, y, params, result)

    def extend(self, fitted: Fitted, y: np.ndarray) -> Fitted:
        window = np.asarray(y[-RECENT_MONTHS:], dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = self._model(window)
            result = model.smooth(np.asarray([fitted.params[name] for name in model.param_names]))
        params = dict(fitted.params)
        params.update(window_months=len(window), residual_sd=float(np.sqrt(result.mse)))
        return Fitted(self, y, params, result)

    def simulate(self, fitted: Fitted, horizon: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        return _simulate_ets(fitted, horizon, repetitions, rng)


class Drift(Candidate):
    """Random walk with drift on the cumulative total: future months vary around the average flow."""

    name = "drift"
    label = "Drift: the straight line through the cumulative total so far"
    min_months = 1

    def fit(self, y: np.ndarray, start: Fitted | None = None) -> Fitted:
        if len(y) < 1:
            raise FitError("needs at least one month")
        mean = float(np.mean(y))
        # With one or two months there is no spread to learn from: assume counts vary like Poisson.
        sd = float(np.std(y, ddof=1)) if len(y) > 2 else float(np.sqrt(max(mean, 1.0)))
        return Fitted(self, y, {"monthly_mean": mean, "monthly_sd": sd})

    def simulate(self, fitted: Fitted, horizon: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        p = fitted.params
        return p["monthly_mean"] + p["monthly_sd"] * rng.standard_normal((repetitions, horizon))


class SeasonalNaive(Candidate):
    """Each month as the same month last year, with year-on-year noise accumulating each year."""

    name = "seasonal_naive"
    label = "Seasonal naive: each month as the same month a year before"
    min_months = PERIOD + 1

    def fit(self, y: np.ndarray, start: Fitted | None = None) -> Fitted:
        if len(y) < self.min_months:
            raise FitError(f"needs at least {self.min_months} months")
        changes = y[PERIOD:] - y[:-PERIOD]
        sd = float(np.sqrt(np.mean(changes**2)))
        return Fitted(self, y, {"year_on_year_sd": sd})

    def simulate(self, fitted: Fitted, horizon: int, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        last_year = fitted.y[-PERIOD:]
        sd = fitted.params["year_on_year_sd"]
        steps = sd * rng.standard_normal((repetitions, horizon))
        paths = np.empty((repetitions, horizon))
        for h in range(horizon):
            before = paths[:, h - PERIOD] if h >= PERIOD else last_year[h]
            paths[:, h] = before + steps[:, h]
        return paths


def all_candidates() -> list[Candidate]:
    """In order of preference when backtest scores tie: simplest first."""
    return [SeasonalNaive(), Drift(), ETS(seasonal=False), ETS(seasonal=True), RecentTrend()]


def by_name(name: str) -> Candidate:
    return {candidate.name: candidate for candidate in all_candidates()}[name]
