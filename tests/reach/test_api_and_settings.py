"""GET /api/v1/reach (board and coordinator tokens) and the programme settings page."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.auth.services import issue_api_token
from mhfa.extensions import db
from mhfa.reach import dashboard
from mhfa.reach.counts import Filters, kept_counts
from mhfa.reach.settings import current_settings
from tests import factories


@pytest.fixture()
def people(app_ctx):
    for name in ("Birmingham", "Birmingham", "Coventry"):
        db.session.add(Completion(person=factories.person(home_council_area=factories.area(name)),
                                  course_type=factories.course_type("AWARE"), completed_on=date(2024, 2, 1)))
    db.session.commit()


def token_for(role):
    user = factories.user(role)
    token = issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("group_by", ["council_area", "month", "course_type", "sector", "funding_stream"])
def test_reach_api_groups_and_matches_its_openapi_schema(client, people, group_by):
    import jsonschema

    response = client.get(f"/api/v1/reach?group_by={group_by}", headers=token_for(Role.BOARD))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3
    document = client.get("/api/v1/openapi.json").get_json()  # the document the app serves
    schema = {**document["components"]["schemas"]["Reach"], "components": document["components"]}
    jsonschema.validate(body, schema)


def test_reach_api_filters_and_refuses_bad_input(client, people):
    headers = token_for(Role.COORDINATOR)
    body = client.get("/api/v1/reach?awareness=exclude", headers=headers).get_json()
    assert body["total"] == 0
    body = client.get("/api/v1/reach?basis=home&from=2024-02&to=2024-02&type=AWARE", headers=headers).get_json()
    assert {r["label"]: r["people"] for r in body["rows"]} == {"Birmingham": 2, "Coventry": 1}
    for query in ("group_by=person", "basis=moon", "from=2024-99", "type=X" * 50):
        response = client.get(f"/api/v1/reach?{query}", headers=headers)
        assert response.status_code == 400 and "error" in response.get_json()


def test_reach_api_is_for_board_and_coordinators_only(client, people):
    assert client.get("/api/v1/reach").status_code == 401
    assert client.get("/api/v1/reach", headers=token_for(Role.TRAINEE)).status_code == 403
    assert "/reach" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_settings_default_to_the_configuration(app_ctx):
    settings = current_settings()
    assert (settings.target_people, settings.start_on) == (500000, date(2017, 1, 31))


def test_coordinator_changes_the_settings_audited_and_reach_follows(client, auth, post_form, people):
    user = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(user)
    page = client.get("/reach/settings").get_data(as_text=True)
    assert "Target number of people" in page
    region = [str(factories.area("Birmingham").id)]
    types = {t: str(factories.course_type(t).id) for t in ("ADULT_2DAY", "AWARE")}
    response = post_form("/reach/settings", {"target_people": "1000", "start_on": "2020-01-01",
                                             "end_on": "2030-01-01", "region": region,
                                             "counting": [types["ADULT_2DAY"]], "awareness": [types["AWARE"]]})
    assert response.status_code == 302
    assert current_settings().target_people == 1000
    assert sum(kept_counts("area", Filters()).values()) == 0  # AWARE no longer counts: figures moved
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "programme.settings_changed")) == 1
    headline = dashboard.headline(Filters())
    assert headline.target == 1000


def test_bad_settings_are_refused_on_their_field(client, auth, post_form, app_ctx):
    user = factories.user(Role.ADMIN)
    db.session.commit()
    auth.login(user)
    response = post_form("/reach/settings", {"target_people": "0", "start_on": "2020-01-01",
                                             "end_on": "2019-01-01", "region": ["99999"]})
    assert response.status_code == 422
    response = post_form("/reach/settings", {"target_people": "10", "start_on": "2020-01-01",
                                             "end_on": "2019-01-01", "region": [str(factories.area().id)]})
    assert response.status_code == 422 and "End date must be after the start date" in response.get_data(as_text=True)
