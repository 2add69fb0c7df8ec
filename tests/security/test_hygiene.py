"""Personal pages are not cached; one email address is one account however it is typed."""
from __future__ import annotations

import unicodedata

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role, User
from mhfa.auth.services import normalise_email
from mhfa.extensions import db
from tests import factories


def test_personal_pages_are_never_cached(client, auth):
    assert "no-store" not in client.get("/courses").headers.get("Cache-Control", "")
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    for url in ("/account", "/profile", "/my-courses", "/courses"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_api_answers_to_a_token_holder_are_never_cached(client):
    from mhfa.auth.services import issue_api_token

    token = issue_api_token(factories.user(Role.TRAINEE))
    db.session.commit()
    response = client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"})
    assert response.headers["Cache-Control"] == "no-store"


def test_addresses_are_normalised_to_nfc_lower_case():
    decomposed = unicodedata.normalize("NFD", "  José@Example.ORG ")
    assert normalise_email(decomposed) == unicodedata.normalize("NFC", "josé@example.org")


def test_one_address_typed_two_ways_cannot_make_two_accounts(client, post_form):
    base = "renée.smith@example.org"
    for typed in (unicodedata.normalize("NFC", base), unicodedata.normalize("NFD", base).upper()):
        post_form("/register", {"first_name": "Renée", "last_name": "Smith", "email": typed,
                                "password": "three random words", "password_confirm": "three random words"})
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "x" * 250 + "@example.org", "two@@example.org"])
def test_create_user_accepts_only_what_the_web_form_accepts(runner, email):
    result = runner.invoke(args=["mhfa", "create-user", "--email", email, "--role", "trainee"])
    assert result.exit_code != 0 and "email address" in result.output.lower()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_user_refuses_a_weak_password_and_normalises_the_address(runner):
    weak = runner.invoke(args=["mhfa", "create-user", "--email", "a@example.org", "--role", "trainee",
                               "--password", "password"])
    assert weak.exit_code != 0
    made = runner.invoke(args=["mhfa", "create-user", "--email", " Ops.Lead@Example.ORG", "--role", "admin"])
    assert made.exit_code == 0, made.output
    assert db.session.scalar(sa.select(User.email)) == "ops.lead@example.org"


def test_calendar_feed_tokens_are_stored_hashed_and_the_address_is_shown_once(client, auth, post_form):
    import hashlib
    import re

    from mhfa.courses.models import CalendarFeed

    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    post_form("/calendar/my-courses/reset", {}, page="/calendar/my-courses")
    first = client.get("/calendar/my-courses").get_data(as_text=True)
    token = re.search(r"/calendar/([A-Za-z0-9_-]{43})\.ics", first).group(1)
    stored = db.session.scalar(sa.select(CalendarFeed.token_hash))
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    assert client.get(f"/calendar/{stored}.ics").status_code == 404  # the digest opens nothing
    again = client.get("/calendar/my-courses").get_data(as_text=True)
    assert token not in again and "cannot show it again" in again


def test_an_address_typed_composed_or_decomposed_reaches_one_person_through_every_entry_point(app_ctx):
    """Registration, the completions import and the staff file all keep one form: nobody is counted twice."""
    from mhfa.auth.services import register
    from mhfa.employers import vouchers
    from mhfa.people.models import Person
    from mhfa.reach.counts import Filters, kept_counts
    from mhfa.reach.importing import import_completions

    composed = unicodedata.normalize("NFC", "zoë.núñez@example.org")
    decomposed = unicodedata.normalize("NFD", "Zoë.Núñez@Example.org")
    assert composed != decomposed.lower()
    register(composed, "three random words", first_name="Zoë", last_name="Núñez")
    import_completions(("first_name,last_name,email,course_type,completed_on,council_area,date_of_birth,employer\n"
                        f"Zoë,Núñez,{decomposed},ADULT_2DAY,2021-05-01,Birmingham,,\n").encode())
    acme = factories.employer("Acme")
    order = factories.order(acme, places=2, by=factories.contact(acme))
    vouchers.allocate_csv(acme, order, f"first_name,last_name,email\nZoë,Núñez,{decomposed}\n".encode(),
                          by=factories.user(Role.COORDINATOR))
    db.session.flush()
    assert db.session.scalars(sa.select(Person.email)).all().count(composed) == 1
    assert db.session.scalar(sa.select(sa.func.count(Person.id)).where(Person.last_name == "Núñez")) == 1
    assert sum(kept_counts("area", Filters()).values()) == 1
