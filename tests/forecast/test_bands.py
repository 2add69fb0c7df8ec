"""The fan chart's bands hold the share of simulated paths they claim, and the what-if reads the same paths."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mhfa.forecast.services import make_forecast
from mhfa.forecast.simulate import Outlook, bands
from mhfa.forecast.whatif import what_if
from tests.forecast.helpers import QUICK, accelerating, deadline_after, programme, series_of, steady


def band_problems(outlook: Outlook, rows: list[dict], *, tolerance: float = 0.02) -> list[str]:
    """Each month's 80% and 95% bands must hold 80% and 95% of that month's simulated cumulative paths."""
    problems = []
    for i, row in enumerate(rows):
        values = outlook.cumulative[:, i]
        for width, low, high in ((0.80, "lower_80", "upper_80"), (0.95, "lower_95", "upper_95")):
            inside = float(np.mean((values >= row[low] - 0.5) & (values <= row[high] + 0.5)))
            spread = np.ptp(values) > 0
            if spread and abs(inside - width) > tolerance and not (inside > width and row[low] == row[high]):
                problems.append(f"{row['month']}: the {width:.0%} band holds {inside:.1%} of the paths")
    return problems


@pytest.fixture(scope="module")
def forecast():
    flow = accelerating(1)
    series = series_of(flow)
    return make_forecast(series, programme(int(flow.sum() + 30_000), end=deadline_after(series, 4)), QUICK)


def test_each_months_bands_hold_their_share_of_the_simulated_paths(forecast):
    assert forecast.bands and band_problems(forecast.outlook, forecast.bands) == []


def test_a_band_drawn_from_the_20th_and_80th_percentiles_fails_the_check(forecast):
    paths = forecast.outlook.cumulative[:, :len(forecast.bands)]
    low20, high80 = np.quantile(paths, (0.2, 0.8), axis=0)
    sixty = [{**row, "lower_80": int(round(low20[i])), "upper_80": int(round(high80[i]))}
             for i, row in enumerate(forecast.bands)]
    problems = band_problems(forecast.outlook, sixty)
    assert len(problems) == len(sixty)
    assert all("the 80% band holds 6" in problem for problem in problems)


def test_the_deadline_months_bands_are_the_summarys(forecast):
    summary = forecast.summary
    deadline = next(row for row in forecast.bands if row["month"] == summary["target"]["deadline_month"])
    assert {key: deadline[key] for key in summary["at_deadline"]} == summary["at_deadline"]
    column = forecast.bands.index(deadline)
    assert summary["probability_of_target"] == round(
        float(np.mean(forecast.outlook.cumulative[:, column] >= summary["target"]["people"])), 4)


def test_bands_of_an_uncalibrated_outlook_hold_their_share_too():
    rng = np.random.default_rng(5)
    flow = np.clip(rng.normal(100, 30, (4000, 12)), 0, None)
    outlook = Outlook(pd.Period("2026-10", freq="M"), 1000, flow, 1000 + np.cumsum(flow, axis=1))
    assert band_problems(outlook, bands(outlook, 12)) == []


def test_a_what_if_projecting_above_the_target_never_says_no_chance():
    """The issue's page: a what-if projected 2,018 against a 2,000 target and said 0%. Same paths, shifted."""
    flow = steady(4, level=20, noise=6)                       # about 20 a month; ~1,900 so far
    series = series_of(flow)
    target = int(flow.sum() + 100)                            # 100 more needed in 3 months: out of reach
    forecast = make_forecast(series, programme(target, end=deadline_after(series, 3)), QUICK)
    assert forecast.summary["probability_of_target"] < 0.05
    kwargs = dict(target=target, deadline=forecast.programme.deadline, history=forecast.history)
    first = str(series.last_month + 1)
    for extra in (5, 10, 15, 20, 40):
        answer = what_if(forecast.outlook, extra_per_month=extra, from_month=first, **kwargs)
        if answer["at_deadline"]["median"] >= target:
            assert answer["probability_of_target"] >= 0.5, answer
        if answer["at_deadline"]["upper_95"] >= target:
            assert answer["probability_of_target"] > 0, answer
        # The same paths, each shifted by the same extra people: the chance is the share of shifted paths.
        column = [b["month"] for b in forecast.bands].index(forecast.summary["target"]["deadline_month"])
        shifted = forecast.outlook.cumulative[:, column] + extra * (column + 1)
        assert answer["probability_of_target"] == round(float(np.mean(shifted >= target)), 4)
