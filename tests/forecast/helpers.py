"""Simulated monthly series with a known shape, and quick options for tests."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from mhfa.forecast.areas import Region
from mhfa.forecast.series import from_frame
from mhfa.forecast.services import Options, Programme

# Fewer paths and origins than a real run: the figures are the same kind, the suite stays quick.
QUICK = Options(paths=1000, backtest_paths=200, origin_step=6)
REGION = Region({"Birmingham": 1_000_000, "Coventry": 300_000, "Solihull": 200_000}, "test populations")


def series_of(flow, start: str = "2017-02", shares=(("Birmingham", 0.6), ("Coventry", 0.4))):
    months = pd.period_range(start, periods=len(flow), freq="M")
    rows = []
    for month, people in zip(months, flow, strict=True):
        given = 0
        for i, (area, share) in enumerate(shares):
            count = int(people) - given if i == len(shares) - 1 else int(round(people * share))
            given += count
            rows.append((month, area, count))
    return from_frame(pd.DataFrame(rows, columns=["month", "council_area", "new_people"]), "test")


def trend_and_noise(n: int, seed: int, level=500.0, slope=20.0, noise=150.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.clip(level + slope * t + rng.normal(0, noise, n), 0, None).round()


def programme(target: int, start=date(2017, 1, 31), end=date(2027, 1, 31)) -> Programme:
    return Programme(target, start, end, REGION)


def accelerating(seed: int = 0) -> np.ndarray:
    """Six flat years near 2,600 a month, then a steady two-year rise to about 11,500 a month (96 months)."""
    rng = np.random.default_rng(seed)
    flat = 2600 + rng.normal(0, 300, 72)
    rise = np.linspace(2600, 11500, 24) + rng.normal(0, 400, 24)
    return np.clip(np.concatenate([flat, rise]), 0, None).round()


def decelerating(seed: int = 0) -> np.ndarray:
    """Six flat years near 8,000 a month, then a steady two-year fall to about 2,000 a month (96 months)."""
    rng = np.random.default_rng(seed)
    flat = 8000 + rng.normal(0, 400, 72)
    fall = np.linspace(8000, 2000, 24) + rng.normal(0, 300, 24)
    return np.clip(np.concatenate([flat, fall]), 0, None).round()


def steady(seed: int = 0, n: int = 96, level: float = 3000.0, noise: float = 300.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(level + rng.normal(0, noise, n), 0, None).round()


def deadline_after(series, months: int) -> date:
    """The last day of the month ``months`` after the series' last month."""
    return (series.last_month + months).end_time.date()
