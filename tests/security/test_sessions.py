"""Sessions are revocable: sign-out ends a session wherever its cookie was copied."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role, UserSession
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories
from tests.conftest import Auth, csrf_token


def _copy_cookie(source, target):
    target.set_cookie("session", source.get_cookie("session").value)


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def _on_two_devices(app_ctx, auth):
    """A trainee signed in on another device, then on ``auth``'s; the other device's client."""
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    other = app_ctx.test_client()
    Auth(other).login(user)
    auth.login(user)
    return other


def test_a_copied_cookie_stops_working_when_its_session_signs_out(app_ctx, client, auth):
    auth.new(Role.TRAINEE)
    thief = app_ctx.test_client()
    _copy_cookie(client, thief)
    assert _signed_in(thief)
    auth.logout()
    assert not _signed_in(thief)
    assert not _signed_in(client)
    [row] = db.session.scalars(sa.select(UserSession)).all()
    assert row.ended_reason == "signed out"


def test_sign_out_everywhere_ends_every_device(app_ctx, client, auth, post_form):
    other = _on_two_devices(app_ctx, auth)
    page = client.get("/account").get_data(as_text=True)
    assert "signed in on 2 devices" in page
    response = post_form("/account/sign-out-everywhere", {}, page="/account")
    assert response.status_code == 302
    assert not _signed_in(other) and not _signed_in(client)


def test_deactivating_then_reactivating_does_not_revive_old_sessions(app_ctx, client, auth):
    from mhfa.admin.services import update_account

    admin = factories.user(Role.ADMIN)
    user = auth.new(Role.TRAINEE)
    update_account(user, {Role.TRAINEE}, False, admin)
    db.session.commit()
    update_account(user, {Role.TRAINEE}, True, admin)
    db.session.commit()
    assert not _signed_in(client)
    auth.login(user)  # signing in again works
    assert _signed_in(client)


@pytest.mark.parametrize("role, ends", [(Role.COORDINATOR, True), (Role.ADMIN, True), (Role.INSTRUCTOR, True),
                                        (Role.BOARD, True), (Role.TRAINEE, False)])
def test_staff_sessions_end_after_the_idle_timeout(app_ctx, client, auth, role, ends):
    auth.new(role)
    assert _signed_in(client)
    idle = timedelta(minutes=app_ctx.config["MHFA_STAFF_IDLE_MINUTES"] + 1)
    db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    assert _signed_in(client) is not ends


def test_changing_the_password_ends_the_other_sessions_only(app_ctx, client, auth, post_form):
    other = _on_two_devices(app_ctx, auth)
    response = post_form("/account/password", {"current_password": factories.PASSWORD,
                                               "password": "a brand new passphrase", "password_confirm":
                                               "a brand new passphrase"})
    assert response.status_code == 302
    assert _signed_in(client) and not _signed_in(other)


def test_a_session_forged_without_a_server_row_is_refused(app_ctx, client, auth):
    auth.new(Role.TRAINEE)
    db.session.execute(sa.delete(UserSession))
    db.session.commit()
    assert not _signed_in(client)
    assert csrf_token(client, "/login")


def _age_sessions(**ages) -> None:
    db.session.execute(sa.update(UserSession).values(**{column: utcnow() - age for column, age in ages.items()}))
    db.session.commit()


def test_an_employer_session_idle_for_400_days_no_longer_downloads_the_staff_file(app_ctx, client, auth):
    contact = factories.contact(factories.employer())
    db.session.commit()
    auth.login(contact)
    assert client.get("/employer/staff.csv").status_code == 200
    _age_sessions(last_seen_at=timedelta(days=400), created_at=timedelta(days=400))
    response = client.get("/employer/staff.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(UserSession.ended_reason)) == "idle timeout"


@pytest.mark.parametrize("role, idle, longest", [
    (Role.COORDINATOR, "MHFA_STAFF_IDLE_MINUTES", "MHFA_STAFF_MAX_HOURS"),
    (Role.ADMIN, "MHFA_STAFF_IDLE_MINUTES", "MHFA_STAFF_MAX_HOURS"),
    (Role.INSTRUCTOR, "MHFA_STAFF_IDLE_MINUTES", "MHFA_STAFF_MAX_HOURS"),
    (Role.BOARD, "MHFA_STAFF_IDLE_MINUTES", "MHFA_STAFF_MAX_HOURS"),
    (Role.EMPLOYER, "MHFA_EMPLOYER_IDLE_MINUTES", "MHFA_EMPLOYER_MAX_HOURS"),
    (Role.TRAINEE, "MHFA_TRAINEE_IDLE_MINUTES", "MHFA_TRAINEE_MAX_HOURS"),
])
def test_every_session_has_an_idle_and_an_absolute_limit(app_ctx, client, auth, role, idle, longest):
    user = factories.contact(factories.employer()) if role is Role.EMPLOYER else factories.user(role)
    db.session.commit()
    auth.login(user)
    minutes, hours = app_ctx.config[idle], app_ctx.config[longest]
    _age_sessions(last_seen_at=timedelta(minutes=minutes - 1))
    assert _signed_in(client)  # just inside the idle limit
    _age_sessions(last_seen_at=timedelta(minutes=minutes + 1))
    assert not _signed_in(client)
    auth.login(user)
    _age_sessions(created_at=timedelta(hours=hours, minutes=1), last_seen_at=timedelta(seconds=5))
    assert not _signed_in(client)  # busy all along, but signed in too long
    assert db.session.scalars(sa.select(UserSession.ended_reason).order_by(UserSession.id)).all() == \
        ["idle timeout", "time limit"]


def test_the_defaults_suit_each_role(app_ctx):
    config = app_ctx.config
    assert (config["MHFA_STAFF_IDLE_MINUTES"], config["MHFA_STAFF_MAX_HOURS"]) == (30, 12)
    assert (config["MHFA_EMPLOYER_IDLE_MINUTES"], config["MHFA_EMPLOYER_MAX_HOURS"]) == (60, 12)
    assert (config["MHFA_TRAINEE_IDLE_MINUTES"], config["MHFA_TRAINEE_MAX_HOURS"]) == (2 * 24 * 60, 30 * 24)


def test_a_trainee_who_is_also_staff_is_held_to_the_staff_limits(app_ctx, client, auth):
    user = factories.user(Role.TRAINEE, Role.INSTRUCTOR)
    db.session.commit()
    auth.login(user)
    _age_sessions(last_seen_at=timedelta(minutes=app_ctx.config["MHFA_STAFF_IDLE_MINUTES"] + 1))
    assert not _signed_in(client)


def test_a_password_reset_revokes_the_api_token_and_the_email_says_so(app_ctx, client, post_form):
    from mhfa.auth.services import issue_api_token, password_reset_token
    from mhfa.notify.models import OutboxMessage

    user = factories.user(Role.TRAINEE)
    token = issue_api_token(user)
    link = f"/reset-password/{password_reset_token(user)}"
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200
    response = post_form(link, {"password": "a brand new passphrase", "password_confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert client.get("/api/v1/bookings", headers=headers).status_code == 401
    mail = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.subject == "Your MHFA Reach password has been changed")).one()
    assert b"Your personal API token has been revoked too" in mail.raw
