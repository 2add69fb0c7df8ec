"""Simulated futures of cumulative reach, and what the board reads off them.

Each path is a possible future of the monthly flow from the chosen model (negative months clipped
to zero: nobody is un-reached), added to the cumulative reach so far. Every figure is a count over
the paths: the probability of the target by the deadline is the share of paths at or above it at
the end of the deadline's month; intervals are the paths' 10th-90th (80%) and 2.5th-97.5th (95%)
percentiles.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from mhfa.forecast.backtest import Calibration, stretch
from mhfa.forecast.candidates import Fitted
from mhfa.reach.counted import DAYS_PER_MONTH


def month_text(month: pd.Period | None) -> str | None:
    return None if month is None else month.strftime("%Y-%m")


@dataclass
class Outlook:
    """``repetitions`` paths of the months after ``as_of``: monthly flow and cumulative reach."""

    as_of: pd.Period
    reached: int
    flow: np.ndarray          # (repetitions, horizon), clipped at zero
    cumulative: np.ndarray    # (repetitions, horizon): reached + running sum of flow

    @property
    def horizon(self) -> int:
        return self.flow.shape[1]

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.as_of + 1, periods=self.horizon, freq="M")

    def shifted(self, extra_per_month: float, from_month: pd.Period) -> Outlook:
        """Every path with ``extra_per_month`` more people each month from ``from_month`` on."""
        start = max((from_month - self.as_of).n - 1, 0)
        extra = np.zeros(self.horizon)
        extra[start:] = extra_per_month
        flow = self.flow + extra
        return Outlook(self.as_of, self.reached, flow, self.reached + np.cumsum(flow, axis=1))


def calibrated(outlook: Outlook, calibration: Calibration | None) -> Outlook:
    """The outlook with its spread scaled by the backtest's calibration (see backtest.stretch)."""
    if calibration is None:
        return outlook
    cumulative = stretch(outlook.cumulative, calibration, floor=outlook.reached)
    flow = np.diff(cumulative, axis=1, prepend=outlook.reached)
    return Outlook(outlook.as_of, outlook.reached, flow, cumulative)


def simulate_outlook(fitted: Fitted, *, as_of: pd.Period, reached: int, horizon: int, repetitions: int,
                     rng: np.random.Generator) -> Outlook:
    flow = np.clip(fitted.simulate(horizon, repetitions, rng), 0, None)
    return Outlook(as_of, reached, flow, reached + np.cumsum(flow, axis=1))


def _interval(values: np.ndarray) -> dict:
    low95, low80, median, high80, high95 = np.quantile(values, (0.025, 0.1, 0.5, 0.9, 0.975))
    return {"median": int(round(median)), "lower_80": int(round(low80)), "upper_80": int(round(high80)),
            "lower_95": int(round(low95)), "upper_95": int(round(high95))}


def bands(outlook: Outlook, months: int) -> list[dict]:
    """Median and 80%/95% bands of cumulative reach for the first ``months`` simulated months."""
    months = min(months, outlook.horizon)
    quantiles = np.quantile(outlook.cumulative[:, :months], (0.5, 0.1, 0.9, 0.025, 0.975), axis=0)
    rows = []
    for i, month in enumerate(outlook.months[:months]):
        median, low80, high80, low95, high95 = (int(round(q[i])) for q in quantiles)
        rows.append({"month": month_text(month), "median": median, "lower_80": low80, "upper_80": high80,
                     "lower_95": low95, "upper_95": high95})
    return rows


def _rate_needed(still: int, as_of: pd.Period, end: date) -> int | None:
    """People a month still to reach from the end of ``as_of`` to ``end``, the months measured in days."""
    days = (end - as_of.end_time.date()).days
    return int(round(still / (days / DAYS_PER_MONTH))) if days > 0 else None


def first_month_reached(history: pd.Series, target: int) -> pd.Period | None:
    """The month cumulative reach (indexed by month) first got to ``target``, if it has."""
    reached = history[history >= target]
    return reached.index[0] if len(reached) else None


def read_off(outlook: Outlook, *, target: int, deadline: pd.Period, history: pd.Series,
             end: date | None = None) -> dict:
    """The headline figures: probability, reach at the deadline, month the target is reached, rate needed.

    ``history`` is cumulative reach by month up to ``as_of``; ``end``: the deadline's day (its month's last day
    when not given). The rate needed is the reach still to come over the months left measured in days from the
    end of the last month of data, as the board's headline measures it (``mhfa.reach.counted``).
    """
    years = outlook.horizon // 12
    already = first_month_reached(history, target)
    months_left = (deadline - outlook.as_of).n
    if months_left <= 0:
        at_deadline = int(history[history.index <= deadline].iloc[-1]) if (history.index <= deadline).any() else 0
        at_deadline_figures = {key: at_deadline for key in ("median", "lower_80", "upper_80", "lower_95", "upper_95")}
        probability = 1.0 if at_deadline >= target else 0.0
    else:
        column = min(months_left, outlook.horizon) - 1
        values = outlook.cumulative[:, column]
        at_deadline_figures = _interval(values)
        probability = 1.0 if already is not None else float(np.mean(values >= target))

    figures = {
        "reached_so_far": outlook.reached,
        "probability_of_target": round(probability, 4),
        "at_deadline": at_deadline_figures,
        "months_to_deadline": max(months_left, 0),
        "rate_needed_per_month": _rate_needed(target - outlook.reached, outlook.as_of, end or deadline.end_time.date())
        if already is None and months_left > 0 else None,
        "recent_rate_per_month": int(round(float(history.diff().iloc[-12:].mean()))) if len(history) > 1
        else int(history.iloc[-1]) if len(history) else 0,
    }
    if already is not None:
        text = month_text(already)
        figures["month_target_reached"] = {
            "median": text, "lower_80": text, "upper_80": text, "lower_95": text, "upper_95": text,
            "text": f"already reached in {already.strftime('%B %Y')}",
        }
        figures["rate_needed_per_month"] = 0
    else:
        figures["month_target_reached"] = _month_reached(outlook, target, years)
    return figures


def _month_reached(outlook: Outlook, target: int, years: int) -> dict:
    hit = outlook.cumulative >= target
    index = np.where(hit.any(axis=1), hit.argmax(axis=1), np.inf)
    months = outlook.months

    def label(q: float) -> str | None:
        value = np.quantile(index, q, method="inverted_cdf")
        return None if not np.isfinite(value) else month_text(months[int(value)])

    median = label(0.5)
    figures = {"median": median, "lower_80": label(0.1), "upper_80": label(0.9),
               "lower_95": label(0.025), "upper_95": label(0.975),
               "share_of_paths_within_horizon": round(float(np.mean(np.isfinite(index))), 4)}
    if median is None:
        figures["text"] = f"not within {years} years (by {month_text(months[-1])}) on most paths"
    else:
        upper = figures["upper_80"] or f"after {month_text(months[-1])}"
        figures["text"] = f"{median} (80% interval {figures['lower_80']} to {upper})"
    return figures
