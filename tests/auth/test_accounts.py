"""Registering, confirming the email address, claiming a known record, passwords and the account page."""
import re

import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth import services
from mhfa.auth.models import Role, User
from mhfa.bookings import services as bookings
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person, PersonSource
from tests import factories
from tests.conftest import csrf_token

GOOD_PASSWORD = "lantern-orchard-pebble"


def _register(post_form, email="new.trainee@example.org", password=GOOD_PASSWORD, **fields):
    data = {"first_name": "Nia", "last_name": "Okafor", "email": email, "password": password,
            "password_confirm": password, **fields}
    return post_form("/register", data)


def _link(message, path: str) -> str:
    match = re.search(r"http://reach\.test(" + re.escape(path) + r"[^\s]+)", message.get_body(("plain",)).get_content())
    assert match, f"no {path} link in the email"
    return match.group(1)


# --- password policy --------------------------------------------------------------------------

@pytest.mark.parametrize("password, problem", [
    ("short1!", "Password must be 10 characters or more"),
    ("password123", "too common"),
    ("Manchester1!", "too common"),
    ("qwertyuiop", "too common"),
    ("aaaaaaaaaaaa", "too common"),
    ("x" * 300, "256 characters or fewer"),
])
def test_password_policy_refuses_short_and_common_passwords(app_ctx, password, problem):
    assert problem in services.password_problem(password)


def test_password_policy_accepts_a_long_uncommon_password(app_ctx):
    assert services.password_problem(GOOD_PASSWORD) is None
    assert services.password_problem("nia.okafor@example.org", "nia.okafor@example.org") == (
        "Your password must not be your email address")


def test_the_common_password_list_is_vendored_with_its_source():
    from pathlib import Path

    data = Path(services.COMMON_PASSWORDS).parent
    assert len(services._common_passwords()) >= 10_000
    assert "MIT" in (data / "SOURCES.md").read_text()


# --- registration and confirmation ------------------------------------------------------------

def test_register_then_confirm_by_the_emailed_link(client, post_form, auth, smtp):
    response = _register(post_form)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = services.user_by_email("new.trainee@example.org")
    assert user.email_confirmed_at is None and user.roles == {Role.TRAINEE}
    assert user.person.full_name == "Nia Okafor" and user.person.source is PersonSource.REGISTRATION
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:")) and GOOD_PASSWORD not in user.password_hash
    [message] = smtp.to("new.trainee@example.org")
    assert message["Subject"] == "Confirm your email address for MHFA Reach"
    link = _link(message, "/confirm-email/")

    auth.login(user, GOOD_PASSWORD)  # an unconfirmed account can sign in, but not book
    with pytest.raises(DomainError, match="confirm your email address"):
        bookings.book_for_user(user, factories.course())
    db.session.rollback()

    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    db.session.expire_all()
    assert services.user_by_email("new.trainee@example.org").email_confirmed_at is not None
    assert client.get(link).status_code == 302  # using the link again does no harm


def test_register_keeps_the_input_and_names_each_problem(post_form):
    response = _register(post_form, email="not-an-email", password="password1", first_name="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert 'href="#first_name"' in html and "Enter your first name" in html
    assert 'href="#email"' in html and "Enter an email address in the right format" in html
    assert 'href="#password"' in html and "Password must be 10 characters or more" in html
    assert 'value="not-an-email"' in html and 'value="Okafor"' in html
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_register_refuses_mismatched_and_common_passwords(post_form):
    html = _register(post_form, password="password123", password_confirm="other").get_data(as_text=True)
    assert "too common" in html and "The passwords do not match" in html


def test_registering_a_known_address_reveals_nothing_and_emails_the_owner(post_form, smtp):
    owner = factories.user(Role.TRAINEE, email="taken@example.org")
    db.session.commit()
    response = _register(post_form, email="Taken@Example.org")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    [message] = smtp.to("taken@example.org")
    assert message["Subject"] == "You already have an MHFA Reach account"
    assert "/reset-password/" in message.get_body(("plain",)).get_content()
    assert owner.check_password(factories.PASSWORD)


def test_a_person_from_an_import_is_claimed_only_after_the_email_is_confirmed(client, post_form, smtp):
    known = factories.person("Imran", "Imported", email="Imran@Example.org", source=PersonSource.IMPORT)
    factories.certificate(known)
    db.session.commit()
    _register(post_form, email="imran@example.org")
    user = services.user_by_email("imran@example.org")
    assert user.person is None  # not theirs until they prove they read that inbox
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 1  # no second record for the same address
    client.get(_link(smtp.to("imran@example.org")[0], "/confirm-email/"))
    db.session.expire_all()
    user = services.user_by_email("imran@example.org")
    assert user.person_id == known.id and user.person.full_name == "Imran Imported"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.claimed"))
    assert event.entity_id == known.id and event.details["source"] == "import"


def test_an_employer_created_person_is_claimed_the_same_way(app_ctx):
    known = factories.person("Ella", "Employee", email="ella@example.org", source=PersonSource.EMPLOYER)
    user = services.register("ella@example.org", GOOD_PASSWORD, first_name="E", last_name="E")
    assert user.person is None
    services.confirm_email(services.email_confirmation_token(user))
    assert user.person is known


def test_confirmation_links_are_signed_and_expire(client, app_ctx, monkeypatch):
    user = services.register("late@example.org", GOOD_PASSWORD, first_name="Lee", last_name="Late")
    db.session.commit()
    token = services.email_confirmation_token(user)
    tampered = client.get(f"/confirm-email/{token[:-2]}xx")
    assert tampered.status_code == 400 and "This link is not valid" in tampered.get_data(as_text=True)
    with app_ctx.test_request_context():
        other_key = services.URLSafeTimedSerializer("another-key", salt=services.CONFIRM_SALT)
        forged = other_key.dumps({"u": user.id, "e": user.email})
    assert client.get(f"/confirm-email/{forged}").status_code == 400
    reset_salt = services._serializer(services.RESET_SALT).dumps({"u": user.id, "e": user.email})
    assert client.get(f"/confirm-email/{reset_salt}").status_code == 400  # another purpose's token
    monkeypatch.setattr(services, "CONFIRM_MAX_AGE", -1)
    expired = client.get(f"/confirm-email/{token}")
    assert expired.status_code == 400 and "This link has expired" in expired.get_data(as_text=True)
    db.session.expire_all()
    assert services.user_by_email("late@example.org").email_confirmed_at is None


def test_resending_the_confirmation_never_says_whether_an_account_exists(post_form, smtp):
    services.register("waiting@example.org", GOOD_PASSWORD, first_name="W", last_name="W")
    db.session.commit()
    smtp.clear()
    known = post_form("/resend-confirmation", {"email": "waiting@example.org"})
    unknown = post_form("/resend-confirmation", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert (known.get_data(as_text=True).replace("waiting@example.org", "X")
            == unknown.get_data(as_text=True).replace("nobody@example.org", "X"))
    assert smtp.subjects() == ["Confirm your email address for MHFA Reach"]


# --- forgotten password ---------------------------------------------------------------------------

def test_forgot_password_answers_the_same_for_unknown_addresses(post_form, smtp):
    factories.user(Role.TRAINEE, email="known@example.org")
    db.session.commit()
    known = post_form("/forgot-password", {"email": "known@example.org"})
    unknown = post_form("/forgot-password", {"email": "unknown@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert (known.get_data(as_text=True).replace("known@example.org", "X")
            == unknown.get_data(as_text=True).replace("unknown@example.org", "X"))
    assert [m["To"] for m in smtp.messages] == ["known@example.org"]


def test_reset_password_by_link_works_once(client, post_form, smtp):
    user = factories.user(Role.TRAINEE, email="forgetful@example.org")
    db.session.commit()
    post_form("/forgot-password", {"email": "forgetful@example.org"})
    link = _link(smtp.to("forgetful@example.org")[0], "/reset-password/")
    weak = post_form(link, {"password": "password", "password_confirm": "password"})
    assert weak.status_code == 422 and "Password must be 10 characters or more" in weak.get_data(as_text=True)
    response = post_form(link, {"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    db.session.expire_all()
    assert services.authenticate("forgetful@example.org", GOOD_PASSWORD) is not None
    assert services.authenticate("forgetful@example.org", factories.PASSWORD) is None
    reused = client.get(link)
    assert reused.status_code == 400 and "already been used" in reused.get_data(as_text=True)
    assert "Your MHFA Reach password has been changed" in smtp.subjects("forgetful@example.org")
    assert db.session.get(User, user.id).email_confirmed_at is not None


def test_reset_links_expire_and_resetting_confirms_the_address(client, app_ctx, monkeypatch):
    user = services.register("reset.me@example.org", GOOD_PASSWORD, first_name="R", last_name="M")
    db.session.commit()
    token = services.password_reset_token(user)
    services.reset_password(token, "a-brand-new-passphrase")
    db.session.commit()
    assert user.email_confirmed_at is not None and user.person is not None
    monkeypatch.setattr(services, "RESET_MAX_AGE", -1)
    expired = client.get(f"/reset-password/{services.password_reset_token(user)}")
    assert expired.status_code == 400 and "This link has expired" in expired.get_data(as_text=True)


# --- account page -------------------------------------------------------------------------------------

def test_account_page_issues_an_api_token_once_and_can_revoke_it(client, auth):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "You have no API token" in page and user.email in page
    response = client.post("/account", data={"csrf_token": csrf_token(client, "/account"), "issue": "1"})
    token = re.search(r'id="new-api-token"[^>]*>([^<]+)<', response.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in client.get("/account").get_data(as_text=True)  # shown once only
    client.post("/account", data={"csrf_token": csrf_token(client, "/account"), "revoke": "1"})
    assert client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_change_password_needs_the_current_one(client, auth, post_form):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    wrong = post_form("/account/password", {"current_password": "nope", "password": GOOD_PASSWORD,
                                            "password_confirm": GOOD_PASSWORD})
    assert wrong.status_code == 422
    assert "Your current password is not right" in wrong.get_data(as_text=True)
    ok = post_form("/account/password", {"current_password": factories.PASSWORD, "password": GOOD_PASSWORD,
                                         "password_confirm": GOOD_PASSWORD})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(GOOD_PASSWORD)
