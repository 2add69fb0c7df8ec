"""The latest forecast in the API and on the method page: board and coordinators only."""
from datetime import date

import pytest

from mhfa.auth import services as auth_services
from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.forecast.models import ForecastRun
from tests import factories


def _run(**summary):
    run = ForecastRun(
        data_through=date(2026, 10, 31), target_people=500_000, target_date=date(2027, 1, 31),
        method="ets_damped_seasonal", projected_at_target_date=412_345, lower_80=400_000, upper_80=425_000,
        probability_of_target=0.03,
        summary={
            "bands": [{"month": "2026-11", "median": 410_000, "lower_80": 405_000, "upper_80": 415_000,
                       "lower_95": 402_000, "upper_95": 418_000}],
            "seed": 2017, "paths": 5000, "reached_so_far": 405_000, "probability_of_target": 0.03,
            "at_deadline": {"median": 412_345, "lower_80": 400_000, "upper_80": 425_000, "lower_95": 395_000,
                            "upper_95": 430_000},
            "month_target_reached": {"text": "2028-06 (80% interval 2027-11 to 2029-02)"},
            "rate_needed_per_month": 31_667, "recent_rate_per_month": 4_100,
            "model": {"name": "ets_damped_seasonal", "label": "ETS: additive error, damped additive trend, "
                      "additive monthly seasonality", "reason": "lowest backtest MASE (3.10) of 4 candidates"},
            "backtest": {"horizons": "1-24", "candidates": [
                {"name": "ets_damped_seasonal", "label": "ETS seasonal", "mase": 3.1, "coverage_80": 0.81,
                 "coverage_95": 0.94, "pairs": 1692, "failed": None},
                {"name": "seasonal_naive", "label": "Seasonal naive", "mase": 9.2, "coverage_80": 0.5,
                 "coverage_95": 0.7, "pairs": 1692, "failed": None}]},
            "areas": [{"area": "Birmingham", "at_deadline": {"median": 160_000}, "pro_rata_target": 196_078,
                       "projected_share_of_target": 0.816}],
            "region_population_basis": "population aged 16 and over",
            **summary,
        },
    )
    db.session.add(run)
    db.session.commit()
    return run


def _token(role):
    user = factories.user(role)
    token = auth_services.issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role", [Role.BOARD, Role.COORDINATOR])
def test_board_and_coordinator_tokens_get_the_latest_run_with_its_bands(client, role):
    _run()
    newer = _run(seed=7)
    response = client.get("/api/v1/forecast/latest", headers=_token(role))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == newer.id and body["summary"]["seed"] == 7
    assert body["probability_of_target"] == 0.03 and body["projected_at_target_date"] == 412_345
    assert body["summary"]["bands"][0] == {"month": "2026-11", "median": 410_000, "lower_80": 405_000,
                                           "upper_80": 415_000, "lower_95": 402_000, "upper_95": 418_000}


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.EMPLOYER, Role.INSTRUCTOR, Role.ADMIN])
def test_other_roles_tokens_are_refused(client, role):
    _run()
    response = client.get("/api/v1/forecast/latest", headers=_token(role))
    assert response.status_code == 403
    assert "board and coordinators" in response.get_json()["error"]


def test_no_token_no_forecast_and_no_run_yet_is_a_clear_404(client):
    assert client.get("/api/v1/forecast/latest").status_code == 401
    response = client.get("/api/v1/forecast/latest", headers=_token(Role.BOARD))
    assert response.status_code == 404
    assert "No forecast has been run yet" in response.get_json()["error"]


def test_the_openapi_document_describes_the_forecast(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/forecast/latest" in document["paths"]
    assert "ForecastBand" in document["components"]["schemas"]


def test_the_method_page_explains_the_latest_run_in_plain_words(client, auth):
    _run()
    auth.login(factories.user(Role.BOARD))
    page = client.get("/forecast/method").get_data(as_text=True)
    assert "How this forecast is made" in page
    assert "3% chance" in page
    assert "lowest backtest MASE (3.10)" in page
    assert "81% of 1,692 past checks" in page
    assert "8 in 10 end inside the 80% range" in page
    assert "Birmingham" in page and "81.6%" in page


def test_the_page_before_any_run_offers_the_run_button_not_a_command(client, auth):
    auth.login(factories.user(Role.COORDINATOR))
    page = client.get("/forecast/method").get_data(as_text=True)
    assert "No forecast has been made yet" in page
    assert "Run the forecast now" in page and 'action="/forecast/run"' in page
    assert "flask" not in page


def test_trainees_cannot_see_the_method_page(client, auth):
    auth.login(factories.user(Role.TRAINEE))
    assert client.get("/forecast/method").status_code == 403


def test_a_what_if_on_a_run_without_its_history_asks_for_a_new_run(client, auth):
    _run()
    auth.login(factories.user(Role.COORDINATOR))
    response = client.get("/forecast/method?extra_per_month=1000&from_month=2027-01")
    assert response.status_code == 422
    assert "run the forecast again" in response.get_data(as_text=True)


def test_the_latest_forecast_matches_its_openapi_schema_and_names_its_target(client):
    import jsonschema

    run = _run(coverage={"coverage_80": 0.8, "coverage_95": 0.95, "raw_coverage_80": 0.6,
                         "raw_coverage_95": 0.7, "pairs": 900})
    run.target_start = date(2017, 1, 31)
    db.session.commit()
    body = client.get("/api/v1/forecast/latest", headers=_token(Role.BOARD)).get_json()
    document = client.get("/api/v1/openapi.json").get_json()      # the document the app serves
    jsonschema.validate(body, {**document["components"]["schemas"]["ForecastRun"],
                               "components": document["components"]})
    assert body["target"] == {"people": 500_000, "start": "2017-01-31", "deadline": "2027-01-31"}
    assert body["summary"]["coverage"]["coverage_80"] == 0.8


@pytest.mark.parametrize(("probability", "key", "colour", "words"), [
    (0.0, "unlikely", "red", "Unlikely"), (0.03, "unlikely", "red", "Unlikely"), (0.49, "unlikely", "red", "Unlikely"),
    (0.5, "uncertain", "yellow", "Uncertain"), (0.79, "uncertain", "yellow", "Uncertain"),
    (0.8, "likely", "green", "Likely"), (1.0, "likely", "green", "Likely"),
])
def test_the_chance_is_coloured_by_what_it_means_never_green_when_low(client, auth, probability, key, colour, words):
    from mhfa.forecast.services import chance_status

    assert chance_status(probability) == {"key": key, "colour": colour, "label": words}
    _run(probability_of_target=probability)
    auth.login(factories.user(Role.BOARD))
    page = client.get("/forecast/method").get_data(as_text=True)
    assert f"forecast-chance--{key}" in page and f"govuk-tag--{colour}\">{words}</strong>" in page
    assert "govuk-panel--confirmation" not in page
    if probability < 0.5:
        assert "govuk-tag--green" not in page and "forecast-chance--likely" not in page
