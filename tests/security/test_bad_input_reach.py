"""Bad input to the board's figures, open data, releases and board pack: a clear 4xx, never a 500, nothing written."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.auth.services import issue_api_token
from mhfa.extensions import db
from mhfa.reach.models import ReachRelease
from tests import factories

HUGE = "99999999999999999999"


@pytest.mark.parametrize("url", [
    "/progress/data/..%2F..%2Fetc%2Fpasswd", "/progress/data/headline.xlsx", "/progress/data/%00.csv",
    "/progress/releases/%00/", "/progress/releases/9999-99/", f"/progress/releases/{HUGE}/headline.csv",
    "/progress/releases/2026-11-r" + "9" * 50 + "/", "/progress/releases/2026-11/%2e%2e%2fsecret",
    "/progress/counted?x=%00", "/progress/data/outcomes.csv%00", "/progress/data/outcomes.CSV",
    "/progress/data/outcomes.csv?area=%00&from=" + HUGE, "/progress/releases/2026-11/outcomes.csv",
])
def test_anonymous_bad_open_data_and_release_addresses_are_4xx(client, url):
    response = client.get(url)
    assert response.status_code in {200, 400, 404}, url
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReachRelease)) == 0


@pytest.mark.parametrize("query", ["include_outside=yes", "include_outside=" + "t" * 100, "include_outside=%00",
                                   "include_outside=true&area=E99999999"])
def test_a_bad_include_outside_is_a_clear_400(client, auth, query):
    user = factories.user(Role.BOARD)
    token = issue_api_token(user)
    db.session.commit()
    assert client.get("/api/v1/reach?" + query, headers={"Authorization": f"Bearer {token}"}).status_code == 400
    auth.login(user)
    for url in ("/reach?", "/reach/download/areas.csv?"):
        response = client.get(url + query)
        assert response.status_code == 400, url
    assert client.get(f"/reach/board-pack/{HUGE}.pdf").status_code == 404
    assert client.get("/reach/board-pack/%00.pdf").status_code in {400, 404}
