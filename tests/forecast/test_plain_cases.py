"""Plain cases get plain answers, and the intervals are calibrated: each on SQLite and PostgreSQL.

Each synthetic series is forecast, the run stored in the database, and the board's figures read back
through ``GET /api/v1/forecast/latest`` (what the board and any client see).
"""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from mhfa.auth import services as auth_services
from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.forecast.runs import store_run
from mhfa.forecast.services import make_forecast
from tests import factories
from tests.forecast.helpers import (
    QUICK,
    accelerating,
    deadline_after,
    decelerating,
    programme,
    series_of,
    steady,
    trend_and_noise,
)


def _far_behind():
    series = series_of(trend_and_noise(100, 1))                 # about 2,500 a month lately
    return series, programme(500_000)


def _already_past():
    flow = trend_and_noise(100, 2)
    return series_of(flow), programme(int(flow[:90].sum()))


def _nearly_there_at_a_steady_rate():
    flow = steady(0)                                             # about 3,000 a month, every month
    series = series_of(flow)
    return series, programme(int(flow.sum() + 7_200), end=deadline_after(series, 3))   # 2,400 a month needed


def _accelerating_and_would_pass_at_its_recent_rate():
    flow = accelerating(0)                                       # ~3,750 a month on average, ~11,000 lately
    series = series_of(flow)
    return series, programme(int(flow.sum() + 22_000), end=deadline_after(series, 3))  # 22,000 short, 3 months


def _decelerating_and_would_fall_short_at_its_recent_rate():
    flow = decelerating(0)                                       # ~2,300 a month lately, still falling
    series = series_of(flow)
    return series, programme(int(flow.sum() + 10_000), end=deadline_after(series, 3))  # 3,334 a month needed


CASES = {
    "far behind": (_far_behind, lambda p: p < 0.05),
    "already past the target": (_already_past, lambda p: p > 0.99),
    "nearly there at a steady rate": (_nearly_there_at_a_steady_rate, lambda p: p > 0.90),
    "accelerating, passes at its recent rate": (_accelerating_and_would_pass_at_its_recent_rate, lambda p: p > 0.90),
    "decelerating, falls short at its recent rate": (_decelerating_and_would_fall_short_at_its_recent_rate,
                                                     lambda p: p < 0.10),
}


def _latest_from_the_api(client) -> dict:
    user = factories.user(Role.BOARD)
    token = auth_services.issue_api_token(user)
    db.session.commit()
    response = client.get("/api/v1/forecast/latest", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize("case", list(CASES))
def test_plain_cases_get_plain_answers_with_calibrated_intervals(client, case):
    make, plain = CASES[case]
    series, target = make()
    forecast = make_forecast(series, target, QUICK)
    store_run(forecast)
    db.session.commit()
    body = _latest_from_the_api(client)
    probability = body["probability_of_target"]
    assert plain(probability), f"{case}: {probability:.1%} with {forecast.summary['model']['name']}"
    assert body["target"] == {"people": target.target_people, "start": target.start.isoformat(),
                              "deadline": target.end.isoformat()}
    coverage = body["summary"]["coverage"]
    for nominal in (0.80, 0.95):
        assert _calibrated(coverage[f"coverage_{round(nominal * 100)}"], nominal, coverage["pairs"]), coverage


def _calibrated(share: float, nominal: float, pairs: int) -> bool:
    """A backtest's coverage is within what ``pairs`` checks of a calibrated interval give 99% of the time: the
    nominal share ± 2.58 binomial standard errors (for 104 pairs: 80% → 0.70 to 0.90, 95% → 0.895 to 1)."""
    margin = 2.58 * math.sqrt(nominal * (1 - nominal) / pairs)
    return nominal - margin <= share <= nominal + margin


def test_a_rising_rate_is_followed_where_the_old_choice_averaged_it_away():
    """On the accelerating series the chosen model projects at least the recent rate to the deadline."""
    flow = accelerating(0)
    series = series_of(flow)
    summary = make_forecast(series, programme(int(flow.sum() + 22_000), end=deadline_after(series, 3)),
                            QUICK).summary
    projected = summary["at_deadline"]["median"] - summary["reached_so_far"]
    assert projected >= 3 * flow[-3:].mean() * 0.95
    assert "around and just past the deadline" in summary["model"]["reason"]
    assert summary["backtest"]["focus_horizons"] == "1-9"


def test_a_forecast_on_an_input_csv_is_calibrated_too(runner, tmp_path):
    flow = accelerating(3)
    months = pd.period_range("2017-02", periods=len(flow), freq="M")
    source = tmp_path / "monthly.csv"
    rows = (f"{m.strftime('%Y-%m')},Coventry,{int(v)}\n" for m, v in zip(months, flow, strict=True))
    source.write_text("month,council_area,new_people\n" + "".join(rows))
    result = runner.invoke(args=["mhfa", "forecast", "--out", str(tmp_path / "out"), "--input", str(source),
                                 "--paths", "1000", "--target-people", str(int(flow.sum() + 20_000)),
                                 "--target-start", "2017-01-31", "--target-end", "2025-04-30"])
    assert result.exit_code == 0, result.output
    assert "Backtest coverage of the calibrated intervals" in result.output
    coverage = json.loads((tmp_path / "out" / "summary.json").read_text())["coverage"]
    assert 0.70 <= coverage["coverage_80"] <= 0.90 and 0.88 <= coverage["coverage_95"] <= 0.99
