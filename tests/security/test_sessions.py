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


def test_a_copied_cookie_stops_working_when_its_session_signs_out(app_ctx, client, auth):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    thief = app_ctx.test_client()
    _copy_cookie(client, thief)
    assert _signed_in(thief)
    auth.logout()
    assert not _signed_in(thief)
    assert not _signed_in(client)
    [row] = db.session.scalars(sa.select(UserSession)).all()
    assert row.ended_reason == "signed out"


def test_sign_out_everywhere_ends_every_device(app_ctx, client, auth, post_form):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    other = app_ctx.test_client()
    Auth(other).login(user)
    auth.login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "signed in on 2 devices" in page
    response = post_form("/account/sign-out-everywhere", {}, page="/account")
    assert response.status_code == 302
    assert not _signed_in(other) and not _signed_in(client)


def test_deactivating_then_reactivating_does_not_revive_old_sessions(app_ctx, client, auth):
    from mhfa.admin.services import update_account

    admin = factories.user(Role.ADMIN)
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
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
    user = factories.user(role)
    db.session.commit()
    auth.login(user)
    assert _signed_in(client)
    idle = timedelta(minutes=app_ctx.config["MHFA_STAFF_IDLE_MINUTES"] + 1)
    db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    assert _signed_in(client) is not ends


def test_changing_the_password_ends_the_other_sessions_only(app_ctx, client, auth, post_form):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    other = app_ctx.test_client()
    Auth(other).login(user)
    auth.login(user)
    response = post_form("/account/password", {"current_password": factories.PASSWORD,
                                               "password": "a brand new passphrase", "password_confirm":
                                               "a brand new passphrase"})
    assert response.status_code == 302
    assert _signed_in(client) and not _signed_in(other)


def test_a_session_forged_without_a_server_row_is_refused(app_ctx, client, auth):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    db.session.execute(sa.delete(UserSession))
    db.session.commit()
    assert not _signed_in(client)
    assert csrf_token(client, "/login")
