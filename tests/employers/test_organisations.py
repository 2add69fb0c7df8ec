"""Organisations and contacts: registration, approval, contacts added or invited, and who speaks for whom."""
import re

import pytest

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.employers import organisations
from mhfa.employers.models import Employer, EmployerContact, EmployerStatus, Sector, SizeBand
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories


def details(**overrides):
    values = dict(name="Canal Trust", sector=Sector.VOLUNTARY, size_band=SizeBand.MEDIUM, headcount=120,
                  council_area_id=factories.area("Dudley").id, wellbeing_commitment_signatory=True,
                  billing_address="1 Canal Street\nDudley DY1 1AA")
    values.update(overrides)
    return organisations.OrganisationDetails(**values)


def test_a_registration_waits_for_approval_and_approval_makes_the_registrant_a_contact(smtp):
    user = factories.user(Role.TRAINEE)
    employer = organisations.register_organisation(user, details())
    db.session.commit()
    assert employer.status is EmployerStatus.PENDING and not user.has_role(Role.EMPLOYER)
    assert organisations.organisation_of(user) is None  # not approved yet

    coordinator = factories.user(Role.COORDINATOR)
    organisations.approve_organisation(employer, by=coordinator)
    db.session.commit()
    assert user.has_role(Role.EMPLOYER) and organisations.organisation_of(user) == employer
    assert smtp.subjects(user.email) == ["Canal Trust is approved on MHFA Reach"]
    actions = set(db.session.scalars(db.select(AuditEvent.action)))
    assert {"employer.registered", "employer.approved", "user.role_granted"} <= actions


@pytest.mark.parametrize("overrides, field, message", [
    (dict(name="  "), "name", "Enter the organisation's name"),
    (dict(sector=None), "sector", "Choose the organisation's sector"),
    (dict(headcount=None), "headcount", "Enter the number of staff"),
    (dict(headcount=5000), "headcount", "is not medium"),
    (dict(council_area_id=None), "council_area", "Choose the council area"),
])
def test_registration_refuses_bad_details_on_their_field(app_ctx, overrides, field, message):
    user = factories.user(Role.TRAINEE)
    with pytest.raises(DomainError) as refused:
        organisations.register_organisation(user, details(**overrides))
    assert refused.value.field == field and message in refused.value.message


def test_a_name_already_registered_is_refused_whatever_its_case(app_ctx):
    factories.employer("Canal Trust")
    with pytest.raises(DomainError, match="already registered"):
        organisations.register_organisation(factories.user(), details(name="canal trust"))


def test_the_employer_on_a_profile_never_makes_anyone_a_contact(app_ctx):
    acme = factories.employer("Acme")
    person = factories.person(employer=acme)
    user = factories.user(Role.EMPLOYER, person_=person)  # the role, and the employer on their profile
    db.session.query(EmployerContact).delete()
    assert organisations.organisation_of(user) is None


def test_an_invited_colleague_confirms_with_the_link_signed_in_with_that_address(smtp):
    acme = factories.employer("Acme")
    inviter = factories.contact(acme)
    invited = factories.user(Role.TRAINEE, email="sam@acme.example")
    organisations.invite_contact(acme, "Sam@Acme.example", by=inviter)
    db.session.commit()
    [message] = smtp.to("sam@acme.example")
    token = re.search(r"/employers/invitations/(\S+)", smtp.text(message)).group(1)
    assert len(token) >= 40

    someone_else = factories.user(Role.TRAINEE)
    with pytest.raises(DomainError, match="sign in with that address"):
        organisations.accept_invitation(token, someone_else)
    contact = organisations.accept_invitation(token, invited)
    db.session.commit()
    assert contact.is_confirmed and invited.has_role(Role.EMPLOYER)
    assert organisations.organisation_of(invited) == acme
    with pytest.raises(DomainError):  # the link works once
        organisations.accept_invitation(token, invited)


def test_the_programme_team_adds_a_contact_with_an_account_at_once_and_one_contact_speaks_for_one_organisation(smtp):
    acme, other = factories.employer("Acme"), factories.employer("Other")
    coordinator = factories.user(Role.COORDINATOR)
    colleague = factories.user(Role.TRAINEE)
    contact = organisations.add_contact(acme, colleague.email, by=coordinator)
    assert contact.is_confirmed and colleague.has_role(Role.EMPLOYER)
    with pytest.raises(DomainError, match="already a contact"):
        organisations.add_contact(acme, colleague.email, by=coordinator)
    with pytest.raises(DomainError, match="already speaks for Acme"):
        organisations.add_contact(other, colleague.email, by=coordinator)
    invitation = organisations.add_contact(acme, "new@acme.example", by=coordinator)
    assert not invitation.is_confirmed and invitation.token_digest


def test_registration_and_approval_through_the_pages(client, auth, post_form, smtp):
    user = factories.user(Role.TRAINEE)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(user)
    form = {"name": "Canal Trust", "sector": "voluntary", "size_band": "medium", "headcount": "120",
            "council_area": str(factories.area("Dudley").id), "billing_address": "1 Canal Street"}
    refused = post_form("/employers/register", {**form, "headcount": "abc"})
    assert refused.status_code == 422 and db.session.query(Employer).count() == 0
    assert post_form("/employers/register", form).status_code == 302
    assert "waiting for the programme team" in client.get("/employers/register").get_data(as_text=True)
    auth.logout()
    auth.login(coordinator)
    home = client.get("/").get_data(as_text=True)
    assert "1</span> <a class=\"govuk-link\" href=\"/manage/employers\">employer waiting for approval" in home
    employer = db.session.query(Employer).one()
    page = f"/manage/employers/{employer.id}"
    assert post_form(f"{page}/approve", {}, page=page).status_code == 302
    db.session.expire_all()
    assert employer.status is EmployerStatus.APPROVED
