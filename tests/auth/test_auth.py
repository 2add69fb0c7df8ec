"""Signing in and out, and personal API tokens."""
import pytest
import sqlalchemy as sa

from mhfa.auth import services
from mhfa.auth.models import Role, User
from mhfa.extensions import db
from tests import factories
from tests.conftest import csrf_token, posted_again


@pytest.fixture()
def trainee(app_ctx):
    user = factories.user(Role.TRAINEE, first_name="Maya")
    db.session.commit()
    return user


def test_sign_in_takes_the_user_home_and_shows_their_name(client, trainee):
    response = client.post("/login", data={
        "email": trainee.email.upper(), "password": factories.PASSWORD, "csrf_token": csrf_token(client, "/login")
    })
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Welcome, Maya" in client.get("/").get_data(as_text=True)


def test_wrong_password_says_so_without_saying_which_part_was_wrong(client, trainee):
    response = client.post("/login", data={
        "email": trainee.email, "password": "not-it", "csrf_token": csrf_token(client, "/login")
    })
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "The email address or password is not right" in html
    assert trainee.email in html  # what the user typed is kept
    unknown = client.post("/login", data={
        "email": "nobody@example.org", "password": "not-it", "csrf_token": csrf_token(client, "/login")
    })
    assert "The email address or password is not right" in unknown.get_data(as_text=True)


def test_empty_form_names_each_missing_field(client):
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login")})
    html = response.get_data(as_text=True)
    assert "Enter your email address" in html and "Enter your password" in html


def test_login_without_csrf_token_is_refused(client, trainee):
    response = client.post("/login", data={"email": trainee.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Welcome" not in client.get("/").get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(client, trainee):
    trainee.active = False
    db.session.commit()
    response = client.post("/login", data={
        "email": trainee.email, "password": factories.PASSWORD, "csrf_token": csrf_token(client, "/login")
    })
    assert response.status_code == 401


def test_next_parameter_only_redirects_within_the_site(client, trainee):
    token = csrf_token(client, "/login")
    data = {"email": trainee.email, "password": factories.PASSWORD, "csrf_token": token}
    response = client.post("/login?next=//evil.example.com/", data=data)
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    data["csrf_token"] = csrf_token(client, "/login")
    response = client.post("/login?next=/healthz", data=data)
    assert response.headers["Location"] == "/healthz"


def test_sign_out_needs_a_post_with_csrf(client, auth, trainee):
    auth.login(trainee)
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={})
    assert "Welcome" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "Welcome" not in client.get("/").get_data(as_text=True)


def test_passwords_are_stored_hashed(trainee):
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == trainee.id))
    assert factories.PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_api_token_is_shown_once_and_stored_only_as_a_hash(trainee):
    token = services.issue_api_token(trainee)
    db.session.commit()
    assert token not in (trainee.api_token_hash or "")
    assert services.user_for_api_token(token) == trainee
    assert services.user_for_api_token(token + "x") is None
    replacement = services.issue_api_token(trainee)
    assert services.user_for_api_token(token) is None
    assert services.user_for_api_token(replacement) == trainee


def test_create_user_command_prints_password_and_token(runner):
    result = runner.invoke(args=[
        "mhfa", "create-user", "--email", "Coord@Example.org", "--role", "coordinator", "--role", "trainee",
        "--name", "Chris Ordinator", "--date-of-birth", "1980-02-29", "--api-token",
    ])
    assert result.exit_code == 0, result.output
    user = services.user_by_email("coord@example.org")
    assert user.roles == {Role.COORDINATOR, Role.TRAINEE}
    assert user.person.full_name == "Chris Ordinator"
    assert str(user.person.date_of_birth) == "1980-02-29"
    password = next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("Password"))
    token = next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("API token"))
    assert user.check_password(password)
    assert services.user_for_api_token(token) == user


def test_create_user_command_refuses_a_duplicate_email(runner):
    args = ["mhfa", "create-user", "--email", "dup@example.org", "--role", "trainee"]
    assert runner.invoke(args=args).exit_code == 0
    second = runner.invoke(args=args)
    assert second.exit_code != 0
    assert "already exists" in second.output


def test_repeated_sign_in_attempts_are_slowed_down(throttled):
    app = throttled(MHFA_LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    client = app.test_client()
    answers = posted_again(app, client, "/login", {"email": "x@example.org", "password": "wrong"}, 4)
    assert [r.status_code for r in answers] == [401, 401, 401, 429]
    assert "Too many attempts" in answers[-1].get_data(as_text=True)
    assert client.get("/login").status_code == 200  # reading the page is never limited


@pytest.mark.parametrize("target", [
    "/%09/evil.example/x", "/%0a/evil.example/x", "/%5Cevil.example", "//evil.example", "https://evil.example/",
    "/\t/evil.example", "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1",
])
def test_sign_in_never_redirects_off_the_site(client, trainee, target):
    data = {"email": trainee.email, "password": factories.PASSWORD, "csrf_token": csrf_token(client, "/login")}
    response = client.post(f"/login?next={target}", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_changing_the_password_signs_out_every_other_session(app_ctx, trainee, post_form):
    from tests.conftest import Auth

    elsewhere = app_ctx.test_client()
    here = app_ctx.test_client()
    Auth(elsewhere).login(trainee)
    Auth(here).login(trainee)
    response = here.post("/account/password", data={
        "current_password": factories.PASSWORD, "password": "a new and long passphrase 42",
        "password_confirm": "a new and long passphrase 42", "csrf_token": csrf_token(here, "/account/password"),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert here.get("/account").status_code == 200  # the session that changed it goes on
    moved = elsewhere.get("/account")
    assert moved.status_code == 302 and "/login" in moved.headers["Location"]


def test_a_deactivated_account_is_signed_out_at_once(client, auth, trainee):
    auth.login(trainee)
    assert client.get("/account").status_code == 200
    trainee.active = False
    db.session.commit()
    assert client.get("/account").status_code == 302
