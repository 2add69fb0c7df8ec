"""Administrators manage accounts and roles; every change is audited."""
import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories


@pytest.fixture()
def admin(app_ctx):
    user = factories.user(Role.ADMIN, first_name="Ada")
    db.session.commit()
    return user


def test_admin_finds_users_by_name_and_role(client, auth, admin):
    factories.user(Role.INSTRUCTOR, first_name="Imogen", last_name="Teach")
    factories.user(Role.TRAINEE, first_name="Tom", last_name="Learner")
    db.session.commit()
    auth.login(admin)
    html = client.get("/admin/users?q=imogen").get_data(as_text=True)
    assert "Imogen Teach" in html and "Tom Learner" not in html
    html = client.get("/admin/users?role=trainee").get_data(as_text=True)
    assert "Tom Learner" in html and "Imogen Teach" not in html


def test_admin_grants_and_removes_roles_with_an_audit_entry(client, auth, post_form, admin):
    person = factories.user(Role.TRAINEE, first_name="Rita")
    db.session.commit()
    auth.login(admin)
    url = f"/admin/users/{person.id}"
    refused = post_form(url, {"roles": ["instructor", "coordinator"], "active": "y"})
    assert refused.status_code == 422 and "licence number" in refused.get_data(as_text=True)  # asked, same step
    db.session.refresh(person)
    assert person.roles == {Role.TRAINEE}
    response = post_form(url, {"roles": ["instructor", "coordinator"], "active": "y", "licence_number": "LIC-77",
                               "licence_expires_on": "2030-01-31"})
    assert response.status_code == 302
    db.session.refresh(person)
    assert person.roles == {Role.INSTRUCTOR, Role.COORDINATOR}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.roles_changed"))
    assert event.actor_user_id == admin.id and event.entity_id == person.id
    assert event.details["added"] == ["coordinator", "instructor"] and event.details["removed"] == ["trainee"]


def test_admin_cannot_remove_their_own_admin_role(client, auth, post_form, admin):
    auth.login(admin)
    response = post_form(f"/admin/users/{admin.id}", {"roles": ["trainee"], "active": "y"})
    assert response.status_code == 422  # refused input (it answered 200 before the view used mhfa.flow)
    assert "You cannot remove your own administrator role" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.roles == {Role.ADMIN}
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "user.roles_changed")) == 0


def test_deactivated_user_can_no_longer_sign_in(client, auth, post_form, admin):
    person = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(admin)
    post_form(f"/admin/users/{person.id}", {"roles": ["trainee"]})
    db.session.refresh(person)
    assert not person.active
    auth.logout()
    from tests.conftest import csrf_token

    response = client.post("/login", data={
        "email": person.email, "password": factories.PASSWORD, "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 401


def test_unknown_user_is_a_404(client, auth, admin):
    auth.login(admin)
    assert client.get("/admin/users/999999").status_code == 404


def test_user_list_takes_a_fixed_number_of_queries(client, auth, admin, count_queries):
    auth.login(admin)
    with count_queries() as few:
        client.get("/admin/users")
    for i in range(12):
        factories.user(Role.TRAINEE, first_name=f"Many{i}")
    db.session.commit()
    with count_queries() as many:
        assert "Many11" in client.get("/admin/users").get_data(as_text=True)
    assert len(many) == len(few)
