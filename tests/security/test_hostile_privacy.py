"""Hostile input to the routes added for privacy and abuse: a clear 4xx (never a 500), and nothing changes."""
from __future__ import annotations

import io
import json

import pytest

from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories
from tests.conftest import csrf_token


def _badge_answer(client, data: bytes):
    return client.post("/verify/badge", data={"badge": (io.BytesIO(data), "badge.json"),
                                              "csrf_token": csrf_token(client, "/verify")},
                       content_type="multipart/form-data")


def _deep(depth: int) -> bytes:
    return ('{"proof": {}, "a": ' + '{"a": ' * depth + "1" + "}" * depth + "}").encode()


@pytest.mark.parametrize("data", [
    _deep(30), _deep(900), b'{"proof": {"verificationMethod": "\\u0000"}}', b'{"proof": "x"}',
    b'{"@context": ["https://evil.example/context.jsonld"], "proof": {}}',
    json.dumps({"@context": {"@import": "https://evil.example/c"}, "proof": {"type": "DataIntegrityProof"}}).encode(),
    b"\x00" * 100, b'{"proof": {"verificationMethod": null}, "@context": 7}', b"1e999999", b'"\\ud800"',
])
def test_hostile_badge_files_are_answered_with_a_4xx(client, data):
    response = _badge_answer(client, data)
    assert response.status_code == 422, response.status_code
    assert "Sorry, there is a problem" not in response.get_data(as_text=True)


def test_a_badge_naming_a_remote_context_is_refused_without_fetching_it(client, auth, monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("a context was fetched")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    holder = factories.user(Role.TRAINEE)
    cert = factories.certificate(holder.person)
    db.session.commit()
    auth.login(holder)
    badge = client.get(f"/certificates/{cert.id}/badge.json").get_json(force=True)
    auth.logout()
    badge["@context"] = [*badge["@context"], "https://evil.example/context.jsonld"]
    response = _badge_answer(client, json.dumps(badge).encode())
    assert response.status_code == 422
    assert "which is not one of the credential" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["%00", "x" * 500, "..%2F..%2Fetc", "%ED%A0%80", "not-a-code", "' OR 1=1 --"])
@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_answering_an_offer_with_a_hostile_code_is_a_4xx_and_changes_nothing(client, auth, code, answer):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    response = client.post(f"/places/{code}/{answer}", data={"csrf_token": csrf_token(client, "/account/place-offers")})
    assert 400 <= response.status_code < 500, response.status_code


def test_the_offers_page_and_answers_need_a_signed_in_person(client):
    assert client.get("/account/place-offers").status_code == 302
    assert client.post("/places/anything/accept").status_code in (302, 400)
