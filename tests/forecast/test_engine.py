"""The forecast itself, on series whose shape is known: honest intervals, plain answers, same seed same answer."""
import numpy as np
import pytest

from mhfa.errors import DomainError
from mhfa.forecast.areas import reconcile
from mhfa.forecast.services import Options, make_forecast
from mhfa.forecast.whatif import what_if
from tests.forecast.helpers import QUICK, programme, series_of, trend_and_noise


@pytest.mark.parametrize("seed", range(3))
def test_calibrated_intervals_hold_their_share_of_past_outcomes_on_a_known_trend_with_noise(seed):
    """The chosen model's calibrated 80% and 95% intervals, counted on calibrated paths in the backtest."""
    summary = make_forecast(series_of(trend_and_noise(96, seed)), programme(500_000), QUICK).summary
    coverage = summary["coverage"]
    assert 0.70 <= coverage["coverage_80"] <= 0.90
    assert 0.88 <= coverage["coverage_95"] <= 0.99
    assert coverage["pairs"] > 100
    chosen = next(s for s in summary["backtest"]["candidates"] if s["name"] == summary["model"]["name"])
    assert coverage["raw_coverage_80"] == chosen["coverage_80"]   # the model's own, before calibration


def test_a_programme_far_behind_has_almost_no_chance():
    forecast = make_forecast(series_of(trend_and_noise(100, 1)), programme(500_000), QUICK)
    assert forecast.summary["probability_of_target"] < 0.01
    assert forecast.summary["rate_needed_per_month"] > 5 * forecast.summary["recent_rate_per_month"]
    reached = forecast.summary["month_target_reached"]["median"]
    assert reached is None or reached > forecast.summary["target"]["deadline_month"]


def test_a_programme_past_the_target_is_certain_and_says_when_it_got_there():
    flow = trend_and_noise(100, 2)
    target = int(flow[:90].sum())
    forecast = make_forecast(series_of(flow), programme(target), QUICK)
    summary = forecast.summary
    assert summary["probability_of_target"] == 1.0
    assert summary["rate_needed_per_month"] == 0
    assert summary["month_target_reached"]["text"].startswith("already reached in")


def test_a_steady_course_toward_the_target_is_uncertain():
    """Half the time the path lands above the median: a target at the expected reach gives a middling chance."""
    flow = trend_and_noise(100, 3, slope=0.0, level=3000, noise=600)   # 100 months to 2025-05, deadline 2027-01
    expected = flow.sum() + 20 * 3000
    forecast = make_forecast(series_of(flow), programme(int(expected)), QUICK)
    assert 0.1 < forecast.summary["probability_of_target"] < 0.9
    assert forecast.summary["at_deadline"]["lower_80"] < expected < forecast.summary["at_deadline"]["upper_80"]


def test_the_same_seed_gives_the_same_answer_and_another_seed_another():
    series = series_of(trend_and_noise(60, 4))
    first = make_forecast(series, programme(200_000), QUICK).summary
    again = make_forecast(series, programme(200_000), QUICK).summary
    other = make_forecast(series, programme(200_000), Options(**{**QUICK.__dict__, "seed": 99})).summary
    assert first == again
    assert first["bands"] != other["bands"]


def test_the_chosen_model_scores_no_worse_than_seasonal_naive():
    summary = make_forecast(series_of(trend_and_noise(96, 5)), programme(500_000), QUICK).summary
    scores = {s["name"]: s for s in summary["backtest"]["candidates"]}
    assert scores[summary["model"]["name"]]["weighted_error"] <= scores["seasonal_naive"]["weighted_error"]
    assert scores[summary["model"]["name"]]["weighted_error"] <= scores["drift"]["weighted_error"]
    assert set(scores) == {"seasonal_naive", "drift", "ets_damped", "ets_damped_seasonal", "ets_trend_recent"}
    for score in scores.values():
        assert 0 <= score["coverage_80"] <= score["coverage_95"] <= 1


@pytest.mark.parametrize(("months", "model", "words"), [
    (18, "ets_damped", "only 18 months of history"),
    (30, "ets_damped", "only 30 months"),
    (6, "drift", "too few months"),
    (1, "drift", "too few months"),
])
def test_short_series_say_which_model_and_why(months, model, words):
    forecast = make_forecast(series_of(trend_and_noise(months, 6), start="2024-01"), programme(500_000), QUICK)
    summary = forecast.summary
    assert summary["model"]["name"] == model
    assert words in summary["model"]["reason"]
    assert summary["backtest"]["candidates"] == []
    assert "may be too narrow" in summary["interval_calibration"]["method"]
    assert 0 <= summary["probability_of_target"] <= 1
    assert len(summary["bands"]) >= 24


def test_nobody_reached_is_a_clear_refusal_not_a_crash():
    with pytest.raises(DomainError, match="Nobody has been reached"):
        make_forecast(series_of([0, 0, 0]), programme(1000), QUICK)


def test_areas_add_up_to_the_total_path_by_path_even_with_long_runs_of_zeros():
    flow = trend_and_noise(60, 7)
    series = series_of(flow, shares=(("Birmingham", 0.7), ("Coventry", 0.3), ("Solihull", 0.0)))
    forecast = make_forecast(series, programme(200_000), QUICK)
    paths = reconcile(forecast.outlook, series, np.random.default_rng(3))
    total = sum(paths.values())
    assert np.allclose(total, forecast.outlook.cumulative)
    areas = {area["area"]: area for area in forecast.summary["areas"]}
    assert areas["Solihull"]["reached_so_far"] == 0
    assert areas["Solihull"]["at_deadline"]["median"] < areas["Coventry"]["at_deadline"]["median"]
    assert areas["Birmingham"]["pro_rata_target"] == round(200_000 * 1_000_000 / 1_500_000)
    assert areas["Birmingham"]["projected_share_of_target"] == pytest.approx(
        areas["Birmingham"]["at_deadline"]["median"] / areas["Birmingham"]["pro_rata_target"], abs=1e-4)
    rows = [row for row in forecast.rows if row["month"] == forecast.bands[0]["month"]]
    assert {row["area"] for row in rows} == {"Total", "Birmingham", "Coventry", "Solihull"}


def test_what_if_more_people_a_month_raises_the_chance_and_brings_the_date_forward():
    flow = trend_and_noise(100, 3, slope=0.0, level=3000, noise=600)
    forecast = make_forecast(series_of(flow), programme(int(flow.sum() + 20 * 3000)), QUICK)
    kwargs = dict(target=forecast.programme.target_people, deadline=forecast.programme.deadline,
                  history=forecast.history)
    boosted = what_if(forecast.outlook, extra_per_month=1000, from_month="2025-07", **kwargs)
    assert boosted["probability_of_target"] > forecast.summary["probability_of_target"]
    assert boosted["probability_change"] > 0
    assert boosted["month_target_reached"]["median"] <= forecast.summary["month_target_reached"]["median"]
    with pytest.raises(DomainError, match="must start after the last month of data"):
        what_if(forecast.outlook, extra_per_month=1000, from_month="2020-01", **kwargs)


def test_the_rate_needed_measures_the_months_left_in_days_as_the_board_headline_does():
    """284 people still to reach from the end of November 2026 to 31 January 2027: 62 days, 2.04 months of
    30.4375 days, so 139 a month (as the board's headline and board pack say), not 142 over two month ends."""
    from datetime import date

    flow = trend_and_noise(118, 3)                      # 2017-02 to 2026-11
    summary = make_forecast(series_of(flow), programme(int(flow.sum()) + 284, end=date(2027, 1, 31)), QUICK).summary
    assert summary["rate_needed_per_month"] == 139


def test_a_deadline_already_passed_reports_what_happened():
    from datetime import date

    flow = trend_and_noise(60, 8)                       # 2017-02 to 2022-01
    missed = make_forecast(series_of(flow), programme(10**7, end=date(2020, 1, 31)), QUICK).summary
    assert missed["probability_of_target"] == 0.0
    assert missed["months_to_deadline"] == 0 and missed["rate_needed_per_month"] is None
    assert missed["at_deadline"]["median"] == int(flow[:36].sum())
    made = make_forecast(series_of(flow), programme(int(flow[:30].sum()), end=date(2020, 1, 31)), QUICK).summary
    assert made["probability_of_target"] == 1.0


def test_the_summary_carries_a_held_out_coverage_check_the_calibration_cannot_flatter():
    """Calibrated only on outcomes known two years before the latest origin, counted on the origins since."""
    summary = make_forecast(series_of(trend_and_noise(96, 0)), programme(500_000), QUICK).summary
    held_out = summary["coverage"]["held_out"]
    assert held_out["months"] == 24 and held_out["pairs"] > 0
    assert 0 <= held_out["coverage_80"] <= held_out["coverage_95"] <= 1
    assert summary["interval_calibration"]["weighting"] in (
        "recent origins weighted (half the weight every 24 months back)", "every origin evenly")


@pytest.mark.parametrize("months", [38, 40])
def test_a_backtest_with_a_handful_of_outcomes_is_not_used_to_choose_or_calibrate(months):
    summary = make_forecast(series_of(trend_and_noise(months, 0), start="2019-01"), programme(500_000),
                            QUICK).summary
    assert summary["model"]["name"] == "ets_damped"
    assert "outcomes to check against and needs at least 40" in summary["model"]["reason"]
    assert summary["backtest"]["candidates"] == [] and summary["coverage"]["coverage_80"] is None
    assert "may be too narrow" in summary["interval_calibration"]["method"]


@pytest.mark.parametrize("months", [48, 60])
def test_a_short_backtest_still_calibrates_into_range(months):
    options = Options(**{**QUICK.__dict__, "origin_step": 1})
    coverage = make_forecast(series_of(trend_and_noise(months, 1), start="2019-01"), programme(500_000),
                             options).summary["coverage"]
    assert 0.70 <= coverage["coverage_80"] <= 0.90 and 0.88 <= coverage["coverage_95"] <= 0.99, coverage
