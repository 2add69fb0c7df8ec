"""Administrators create and invite users; a role is given with the record it needs, in the same step."""
import re
import time
from datetime import date
from html import unescape

import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role, User
from mhfa.courses.models import Instructor
from mhfa.employers.models import EmployerContact
from mhfa.extensions import db
from tests import factories


def _admin():
    user = factories.user(Role.ADMIN, first_name="Ada")
    db.session.commit()
    return user


def test_an_invited_user_sets_their_password_from_the_emailed_link_once(client, auth, post_form, smtp, app_ctx):
    admin = _admin()
    auth.login(admin)
    assert "Add a user" in client.get("/admin/users").get_data(as_text=True)
    made = post_form("/admin/users/new", {"email": "New.Person@Example.org", "first_name": "Nia", "last_name": "New",
                                          "roles": ["trainee", "coordinator"], "how": "invite"})
    assert made.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
    assert user.roles == {Role.TRAINEE, Role.COORDINATOR} and user.email_confirmed_at is None
    assert smtp.subjects("new.person@example.org") == ["You are invited to MHFA Reach: set your password"]
    link = re.search(r"http://reach.test(/account/invitation/\S+)", smtp.text(smtp.to("new.person@example.org")[0]))
    url = link.group(1)
    auth.logout()
    assert "Set your password" in client.get(url).get_data(as_text=True)
    weak = post_form(url, {"password": "password", "password_confirm": "password"})
    assert weak.status_code == 422
    good = "a-long-walk-by-the-canal-7"
    assert post_form(url, {"password": good, "password_confirm": good}).status_code == 302
    db.session.refresh(user)
    assert user.check_password(good) and user.email_confirmed_at is not None
    used = client.get(url)
    assert used.status_code == 400 and "already been used" in used.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(["user.created", "user.invited", "user.invitation_accepted"]))) == 3


def test_an_invitation_expires_like_a_contact_invitation(client, app_ctx, monkeypatch):
    from mhfa.auth import services

    user = factories.user(Role.TRAINEE)
    db.session.commit()
    token = services.invite(user, None)
    db.session.commit()
    assert client.get(f"/account/invitation/{token}").status_code == 200
    monkeypatch.setitem(app_ctx.config, "MHFA_INVITATION_DAYS", 0)
    time.sleep(1.1)  # older than 0 days
    expired = client.get(f"/account/invitation/{token}")
    assert expired.status_code == 400 and "invitation has expired" in expired.get_data(as_text=True)
    assert client.get("/account/invitation/not-a-token").status_code == 400


def test_a_created_user_with_a_password_and_the_records_their_roles_need(client, auth, post_form, smtp, app_ctx):
    admin = _admin()
    acme = factories.employer("Acme")
    db.session.commit()
    auth.login(admin)
    data = {"email": "ivy@example.org", "first_name": "Ivy", "last_name": "Teach",
            "roles": ["instructor", "employer"], "how": "password", "password": "a-long-walk-by-the-canal-7"}
    refused = post_form("/admin/users/new", data)
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    for message in ("Enter the instructor's MHFA England licence number", "Enter the date the instructor's licence",
                    "Choose the organisation this employer contact speaks for"):
        assert message in html, message
    assert db.session.scalar(sa.select(User).where(User.email == "ivy@example.org")) is None
    for bad in ({"licence_expires_on": "2019-01-01"}, {"employer": "99999999999999999999"},
                {"how": "password", "password": ""}):
        assert post_form("/admin/users/new", {**data, "licence_number": "L-1", "licence_expires_on": "2030-01-01",
                                              "employer": str(acme.id), **bad}).status_code == 422, bad
    made = post_form("/admin/users/new", {**data, "licence_number": "L-1", "licence_expires_on": "2030-01-01",
                                          "employer": str(acme.id)})
    assert made.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "ivy@example.org"))
    assert user.check_password("a-long-walk-by-the-canal-7") and smtp.subjects("ivy@example.org")[:0] == []
    instructor = db.session.scalar(sa.select(Instructor).where(Instructor.person_id == user.person_id))
    assert instructor.licence_number == "L-1" and instructor.licence_expires_on == date(2030, 1, 1)
    contact = db.session.scalar(sa.select(EmployerContact).where(EmployerContact.user_id == user.id))
    assert contact.employer_id == acme.id
    auth.logout()
    auth.login(user, password="a-long-walk-by-the-canal-7")
    assert client.get("/employer").status_code == 200
    assert client.get("/teaching").status_code == 200


def test_the_edit_page_asks_for_the_organisation_when_giving_the_contact_role(client, auth, post_form, app_ctx):
    admin = _admin()
    acme = factories.employer("Acme")
    person = factories.user(Role.TRAINEE, first_name="Cara")
    db.session.commit()
    auth.login(admin)
    url = f"/admin/users/{person.id}"
    refused = post_form(url, {"roles": ["trainee", "employer"], "active": "y"})
    assert refused.status_code == 422 and "Choose the organisation" in refused.get_data(as_text=True)
    assert post_form(url, {"roles": ["trainee", "employer"], "active": "y", "employer": str(acme.id)}
                     ).status_code == 302
    db.session.refresh(person)
    assert Role.EMPLOYER in person.roles
    assert db.session.scalar(sa.select(EmployerContact.employer_id).where(EmployerContact.user_id == person.id)) \
        == acme.id
