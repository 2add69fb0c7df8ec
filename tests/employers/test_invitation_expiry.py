"""A contact invitation works for MHFA_INVITATION_DAYS (14) days from when it was sent; an expired link
says so, accepts nothing, and can be sent again (by the invitee from the link, a contact or the team)."""
import re
from datetime import timedelta

import pytest

from mhfa.auth.models import Role
from mhfa.employers import organisations
from mhfa.employers.models import EmployerContact
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.flow import http_status
from mhfa.timeutil import utcnow
from tests import factories

INVITED = "sam@acme.example"


def _token(smtp) -> str:
    return re.search(r"/employers/invitations/(\S+)", smtp.text(smtp.to(INVITED)[-1])).group(1)


def _invite(smtp, *, days_ago: int = 0):
    acme = factories.employer("Acme")
    inviter = factories.contact(acme)
    organisations.invite_contact(acme, INVITED, by=inviter)
    invitation = db.session.query(EmployerContact).filter_by(email=INVITED).one()
    invitation.created_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return acme, inviter, _token(smtp)


def test_the_email_names_the_last_day_and_the_link_works_until_then(app, smtp):
    acme, _, token = _invite(smtp, days_ago=13)
    assert "The link works until" in smtp.text(smtp.to(INVITED)[-1])
    invited = factories.user(Role.TRAINEE, email=INVITED)
    assert organisations.accept_invitation(token, invited).is_confirmed
    assert app.config["MHFA_INVITATION_DAYS"] == 14


def test_an_expired_invitation_is_refused_with_a_clear_message_and_changes_nothing(smtp):
    acme, _, token = _invite(smtp, days_ago=15)
    invited = factories.user(Role.TRAINEE, email=INVITED)
    with pytest.raises(DomainError, match="This invitation expired on") as refused:
        organisations.accept_invitation(token, invited)
    assert http_status(refused.value) == 410
    db.session.rollback()
    assert organisations.organisation_of(invited) is None and not invited.has_role(Role.EMPLOYER)


def test_the_invitee_asks_for_a_new_link_from_the_expired_page_and_accepts_it(client, auth, post_form, smtp):
    acme, _, old_token = _invite(smtp, days_ago=20)
    invited = factories.user(Role.TRAINEE, email=INVITED)
    db.session.commit()
    auth.login(invited)
    page = f"/employers/invitations/{old_token}"
    expired = client.get(page)
    html = expired.get_data(as_text=True)
    assert expired.status_code == 410 and "This invitation expired on" in html and "Email me a new link" in html
    assert "Accept the invitation" not in html
    assert post_form(page, {}).status_code == 410  # accepting an expired link does nothing
    assert organisations.organisation_of(invited) is None

    sent = len(smtp.to(INVITED))
    assert post_form(f"{page}/renew", {}, page=page).status_code == 302
    assert len(smtp.to(INVITED)) == sent + 1
    new_token = _token(smtp)
    assert new_token != old_token
    assert client.get(page).status_code == 404  # the old link no longer works
    fresh = f"/employers/invitations/{new_token}"
    assert client.get(fresh).status_code == 200
    assert post_form(fresh, {}).status_code == 302
    assert organisations.organisation_of(invited) == acme
    assert db.session.query(EmployerContact).filter_by(email=INVITED).count() == 1


def test_a_link_that_has_not_expired_is_not_renewed_from_the_link(client, auth, post_form, smtp):
    _invite(smtp, days_ago=1)
    token = _token(smtp)
    auth.login(factories.user(Role.TRAINEE, email=INVITED))
    db.session.commit()
    page = f"/employers/invitations/{token}"
    assert post_form(f"{page}/renew", {}, page=page).status_code == 302
    assert len(smtp.to(INVITED)) == 1  # nothing sent: the link still works
    assert client.get(f"/employers/invitations/{token}").status_code == 200


def test_a_contact_and_the_programme_team_send_an_expired_invitation_again(client, auth, post_form, smtp):
    acme, inviter, old_token = _invite(smtp, days_ago=30)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(inviter)
    contacts = client.get("/employer/contacts").get_data(as_text=True)
    assert "the invitation expired on" in contacts
    invitation = db.session.query(EmployerContact).filter_by(email=INVITED).one()
    assert post_form(f"/employer/contacts/{invitation.id}/resend", {}, page="/employer/contacts").status_code == 302
    assert "invited, not accepted yet (the link works until" in client.get("/employer/contacts").get_data(as_text=True)
    assert _token(smtp) != old_token
    auth.logout()

    # Inviting the address again once it has expired sends it again too, rather than refusing.
    db.session.query(EmployerContact).filter_by(email=INVITED).one().created_at = utcnow() - timedelta(days=15)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/employers/{acme.id}"
    assert "invitation expired on" in client.get(page).get_data(as_text=True)
    invitation = db.session.query(EmployerContact).filter_by(email=INVITED).one()
    assert post_form(f"/manage/employer-contacts/{invitation.id}/resend", {}, page=page).status_code == 302
    assert len(smtp.to(INVITED)) == 3
    db.session.query(EmployerContact).filter_by(email=INVITED).one().created_at = utcnow() - timedelta(days=15)
    db.session.commit()
    organisations.invite_contact(acme, INVITED, by=coordinator)
    db.session.commit()
    assert len(smtp.to(INVITED)) == 4 and db.session.query(EmployerContact).filter_by(email=INVITED).count() == 1


def test_another_organisations_invitation_cannot_be_resent_by_a_contact(client, auth, post_form, smtp):
    _invite(smtp, days_ago=30)
    beta = factories.employer("Beta")
    outsider = factories.contact(beta)
    db.session.commit()
    auth.login(outsider)
    invitation = db.session.query(EmployerContact).filter_by(email=INVITED).one()
    assert post_form(f"/employer/contacts/{invitation.id}/resend", {}, page="/employer/contacts").status_code == 404
    assert len(smtp.to(INVITED)) == 1


def test_an_invitation_just_sent_cannot_be_sent_again_at_once(client, auth, post_form, smtp):
    acme, inviter, token = _invite(smtp)
    auth.login(inviter)
    invitation = db.session.query(EmployerContact).filter_by(email=INVITED).one()
    post_form(f"/employer/contacts/{invitation.id}/resend", {}, page="/employer/contacts")
    page = client.get("/employer/contacts").get_data(as_text=True)
    assert f"An invitation was emailed to {INVITED} at" in page and "it can be sent again from" in page
    assert len(smtp.to(INVITED)) == 1 and _token(smtp) == token, "nothing was sent and the first link still works"

    invitation.created_at = utcnow() - organisations.RESEND_AFTER
    db.session.commit()
    post_form(f"/employer/contacts/{invitation.id}/resend", {}, page="/employer/contacts")
    assert len(smtp.to(INVITED)) == 2


def test_the_team_adds_someone_whose_invitation_expired_at_once_once_they_have_an_account(smtp):
    acme, _, old_token = _invite(smtp, days_ago=30)
    factories.user(Role.TRAINEE, email=INVITED)
    coordinator = factories.user(Role.COORDINATOR)
    contact = organisations.add_contact(acme, INVITED, by=coordinator)
    db.session.commit()
    assert contact.is_confirmed and db.session.query(EmployerContact).filter_by(email=INVITED).count() == 1
    with pytest.raises(DomainError):
        organisations.invitation(old_token)


def test_a_replaced_invitation_link_says_to_use_the_latest_email(client, smtp):
    acme, inviter, old_token = _invite(smtp, days_ago=1)
    invitation = db.session.query(EmployerContact).filter_by(email=INVITED).one()
    organisations.renew_invitation(invitation, by=inviter)
    db.session.commit()
    response = client.get(f"/employers/invitations/{old_token}")
    assert response.status_code == 404
    assert "use the link in the latest invitation email" in response.get_data(as_text=True)
