"""Hostile input on the outcomes pages: a clear answer, never a 500, and nothing changed."""
import pytest
import sqlalchemy as sa

from mhfa.extensions import db
from mhfa.outcomes.models import OutcomeAnswer
from tests.outcomes.helpers import GOOD, completed_course, invites_of


def _answers():
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutcomeAnswer))


@pytest.mark.parametrize("change", [
    {"comment": "nul \x00 byte"},
    {"comment": "\x1b[31m"},
    {"confidence_before": "99999999999999999999"},
    {"confidence_before": "1e3"},
    {"confidence_before": "٣"},  # an Arabic-Indic digit
    {"rating": "-0"},
    {"rating": "<script>"},
    {"signposting_now": " "},
])
def test_hostile_answers_are_refused_with_a_message(client, post_form, change):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    response = post_form(f"/evaluation/{invitation.token}", dict(GOOD, **change))
    html = response.get_data(as_text=True)
    # The app's input guard refuses a NUL byte before any view (400, saying so); the form refuses the rest.
    assert (response.status_code, "There is a problem" in html) in ((422, True), (400, False))
    said = ("NUL character", "not allowed", "whole number", "options given", "Answer the question")
    assert any(words in html for words in said)
    assert _answers() == 0


@pytest.mark.parametrize("token", ["%00" * 30, "x" * 5000, "..%2F..%2Fetc%2Fpasswd", "' OR 1=1 --" * 4])
def test_hostile_tokens_are_not_found(client, token):
    assert client.get(f"/evaluation/{token}").status_code in (404, 400)
    assert client.get(f"/answered/evaluation/{token}").status_code in (404, 400)


def test_an_unknown_kind_on_the_thank_you_page_is_not_found(client):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    assert client.get(f"/answered/nonsense/{invitation.token}").status_code == 404
