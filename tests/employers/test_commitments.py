"""The Workplace Wellbeing Commitment: recording, checking and changing an award, the public list, the board's
summary (page, downloads, API) and the reminder 90 days before an award expires."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from mhfa import reminders
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.auth.services import issue_api_token
from mhfa.employers import commitments, coverage, summary
from mhfa.employers.awards import CommitmentLevel
from mhfa.employers.commitments import CommitmentDetails
from mhfa.employers.models import EmployerStatus, Sector
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.timeutil import london_today, utcnow
from tests import factories


def award(level=CommitmentLevel.BRONZE, awarded_on=None, **fields) -> CommitmentDetails:
    return CommitmentDetails(level=level, awarded_on=awarded_on or date(2025, 3, 31), **fields)


@pytest.fixture()
def coordinator_user(app_ctx):
    return factories.user(Role.COORDINATOR)


# --- the service ----------------------------------------------------------------------------------------

def test_a_coordinator_records_a_verified_award_valid_three_years_and_audited(app_ctx, coordinator_user):
    employer = factories.employer("Canal Trust", headcount=400)
    made = commitments.record_commitment(employer, award(reference=" TAW  12/3 "), coordinator_user, verify=True)
    assert made.level is CommitmentLevel.BRONZE and made.awarded_on == date(2025, 3, 31)
    assert made.expires_on == date(2028, 3, 30)  # three whole years
    assert made.reference == "TAW 12/3" and made.is_verified and made.verified_by_user_id == coordinator_user.id
    assert employer.wellbeing_commitment_signatory is True  # an award at any level means a signatory
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "employer.commitment_recorded"))
    assert event.actor_user_id == coordinator_user.id and event.details["before"] is None
    assert event.details["after"]["level"] == "bronze"


def test_changing_the_level_is_audited_with_before_and_after(app_ctx, coordinator_user):
    employer = factories.employer()
    commitments.record_commitment(employer, award(), coordinator_user, verify=True)
    commitments.record_commitment(employer, award(CommitmentLevel.GOLD, expires_on=date(2027, 12, 31)),
                                  coordinator_user, verify=True)
    assert employer.commitment.level is CommitmentLevel.GOLD and employer.commitment.expires_on == date(2027, 12, 31)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "employer.commitment_recorded")
                                .order_by(AuditEvent.id)).all()
    assert [e.details["after"]["level"] for e in events] == ["bronze", "gold"]
    assert events[1].details["before"]["level"] == "bronze"
    with pytest.raises(Conflict, match="Nothing has changed"):
        commitments.record_commitment(employer, award(CommitmentLevel.GOLD, expires_on=date(2027, 12, 31)),
                                      coordinator_user, verify=True)


def test_a_contacts_award_waits_for_the_check_and_their_change_needs_it_again(app_ctx, coordinator_user):
    employer = factories.employer()
    contact = factories.contact(employer)
    recorded = commitments.record_commitment(employer, award(), contact, verify=False)
    assert not recorded.is_verified
    assert commitments.standing(employer, date(2025, 6, 1)).state == "unverified"
    commitments.verify_commitment(employer, coordinator_user)
    assert recorded.is_verified and commitments.standing(employer, date(2025, 6, 1)).state == "current"
    with pytest.raises(Conflict, match="verified already"):
        commitments.verify_commitment(employer, coordinator_user)
    commitments.record_commitment(employer, award(CommitmentLevel.SILVER), contact, verify=False)
    assert not employer.commitment.is_verified
    assert "employer.commitment_verified" in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_verifying_nothing_is_refused(app_ctx, coordinator_user):
    with pytest.raises(NotFound):
        commitments.verify_commitment(factories.employer(), coordinator_user)


@pytest.mark.parametrize("details, field, message", [
    (CommitmentDetails(level=None, awarded_on=date(2025, 1, 1)), "level", "Choose the award level"),
    (CommitmentDetails(level=CommitmentLevel.GOLD, awarded_on=None), "awarded_on", "Enter the date"),
    (award(awarded_on=date(1999, 12, 31)), "awarded_on", "on or after"),
    (award(awarded_on=date.today() + timedelta(days=2)), "awarded_on", "today or earlier"),
    (award(expires_on=date(2025, 3, 31)), "expires_on", "after the award date"),
    (award(expires_on=date(2040, 1, 1)), "expires_on", "at most 5 years"),
    (award(reference="x" * 61), "reference", "60 characters"),
    (award(reference="<script>"), "reference", "letters, numbers"),
])
def test_a_bad_award_is_refused_on_its_field_and_changes_nothing(app_ctx, coordinator_user, details, field, message):
    employer = factories.employer()
    with pytest.raises(DomainError, match=message) as refused:
        commitments.record_commitment(employer, details, coordinator_user, verify=True)
    assert refused.value.field == field
    assert employer.commitment is None and not employer.wellbeing_commitment_signatory


def test_the_signatory_flag_cannot_be_cleared_while_an_award_is_recorded(app_ctx, coordinator_user):
    from mhfa.employers import organisations

    employer = factories.employer(headcount=400)
    commitments.record_commitment(employer, award(), coordinator_user, verify=True)
    organisations.update_organisation(employer, organisations.OrganisationDetails(
        name=employer.name, sector=employer.sector, size_band=employer.size_band, headcount=400,
        council_area_id=employer.council_area_id, wellbeing_commitment_signatory=False), by=coordinator_user)
    assert employer.wellbeing_commitment_signatory is True


def test_the_public_list_holds_verified_current_opted_in_awards_highest_first(app_ctx, coordinator_user):
    today = london_today()
    recent = today - timedelta(days=30)

    def committed(name, level, *, verify=True, listed=True, awarded_on=recent, status=EmployerStatus.APPROVED):
        employer = factories.employer(name, status=status)
        commitments.record_commitment(employer, award(level, awarded_on=awarded_on), coordinator_user, verify=verify)
        if listed:
            commitments.set_listing(employer, True, coordinator_user)
        return employer

    committed("Zeta Bronze", CommitmentLevel.BRONZE)
    committed("Alpha Bronze", CommitmentLevel.BRONZE)
    committed("Gold Works", CommitmentLevel.GOLD)
    committed("Unchecked", CommitmentLevel.GOLD, verify=False)
    committed("Private", CommitmentLevel.SILVER, listed=False)
    committed("Lapsed", CommitmentLevel.SILVER, awarded_on=today - timedelta(days=4 * 365))
    committed("Pending Org", CommitmentLevel.SILVER, status=EmployerStatus.PENDING)
    assert [c.employer.name for c in commitments.public_list()] == ["Gold Works", "Alpha Bronze", "Zeta Bronze"]


def test_listing_needs_an_award_and_a_change(app_ctx, coordinator_user):
    employer = factories.employer()
    with pytest.raises(DomainError, match="Record the organisation's award"):
        commitments.set_listing(employer, True, coordinator_user)
    commitments.record_commitment(employer, award(), coordinator_user, verify=True)
    commitments.set_listing(employer, True, coordinator_user)
    with pytest.raises(Conflict):
        commitments.set_listing(employer, True, coordinator_user)
    commitments.set_listing(employer, False, coordinator_user)
    assert employer.commitment.listed_publicly is False


# --- the board's summary -----------------------------------------------------------------------------------

def _trained(employer, count: int, *, expired: int = 0):
    for n in range(count):
        person = factories.person(f"Staff{n}", employer.name.split()[0], email=None)
        issued = london_today() - timedelta(days=(4 * 365 if n < expired else 30))
        factories.arranged_certificate(employer, person, issued_on=issued)


def test_the_summary_counts_staff_trained_first_aiders_and_the_5_percent_ask_by_level_and_sector(
        app_ctx, coordinator_user):
    gold = factories.employer("Gold Ltd", headcount=40, sector=Sector.PRIVATE)  # ask: 2 people
    commitments.record_commitment(gold, award(CommitmentLevel.GOLD, awarded_on=london_today()), coordinator_user,
                                  verify=True)
    _trained(gold, 3, expired=1)
    bronze = factories.employer("Bronze Council", headcount=200, sector=Sector.PUBLIC)  # ask: 10
    commitments.record_commitment(bronze, award(awarded_on=london_today()), coordinator_user, verify=True)
    _trained(bronze, 4)
    unchecked = factories.employer("Unchecked Ltd", headcount=None, sector=Sector.PRIVATE)
    commitments.record_commitment(unchecked, award(CommitmentLevel.SILVER, awarded_on=london_today()),
                                  factories.contact(unchecked), verify=False)
    factories.employer("Not Approved", status=EmployerStatus.PENDING)
    db.session.flush()

    found = summary.summary()
    rows = {r.name: r for r in found.rows}
    assert set(rows) == {"Gold Ltd", "Bronze Council", "Unchecked Ltd"}
    assert (rows["Gold Ltd"].staff_trained, rows["Gold Ltd"].first_aiders, rows["Gold Ltd"].meets_ask) == (3, 2, True)
    assert (rows["Bronze Council"].first_aiders, rows["Bronze Council"].meets_ask) == (4, False)
    assert rows["Unchecked Ltd"].level is None and rows["Unchecked Ltd"].meets_ask is None
    # The same figure the contact sees on their own page.
    assert rows["Gold Ltd"].first_aiders == coverage.coverage(gold).certified
    levels = {g.key: g for g in found.by_level}
    assert list(levels) == ["gold", "silver", "bronze", "foundation", "none"]
    assert (levels["gold"].employers, levels["gold"].meeting_ask, levels["gold"].share_meeting_ask) == (1, 1, 1.0)
    assert (levels["bronze"].first_aiders, levels["bronze"].share_meeting_ask) == (4, 0.0)
    assert levels["none"].employers == 1 and levels["none"].share_meeting_ask is None
    sectors = {g.key: g for g in found.by_sector}
    assert sectors["private"].employers == 2 and sectors["private"].staff_trained == 3
    assert found.total.employers == 3 and found.total.meeting_ask == 1 and found.total.with_headcount == 2


def test_the_summary_downloads_are_csv_and_excel(client, auth, app_ctx, coordinator_user):
    employer = factories.employer("=HYPERLINK(1)", headcount=20)
    commitments.record_commitment(employer, award(CommitmentLevel.SILVER, awarded_on=london_today()),
                                  coordinator_user, verify=True)
    board = factories.user(Role.BOARD)
    db.session.commit()
    auth.login(board)
    page = client.get("/reach/employers")
    assert page.status_code == 200 and "By award level" in page.get_data(as_text=True)
    response = client.get("/reach/employers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[1] == summary.EMPLOYER_HEADER
    assert lines[2][:3] == ["'=HYPERLINK(1)", "Public sector", "Silver"]  # never a formula
    assert lines[lines.index(["By award level"]) + 1] == summary.GROUP_HEADER
    totals = [line for line in lines if line[:1] == ["All employers"]]
    assert totals and totals[0][-1] == "0.0%"  # one employer with a headcount, none meeting the ask
    workbook = client.get("/reach/employers.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data))["By level"]
    share = [row for row in sheet.iter_rows() if row[0].value == "All employers"][0][-1]
    assert share.data_type == "n" and share.value == 0 and share.number_format == "0.0%"  # a number, as a percentage
    assert client.get("/reach/employers.pdf").status_code == 404


def test_the_summary_api_matches_its_openapi_schema_and_is_for_board_and_coordinators(client, app_ctx,
                                                                                      coordinator_user):
    import jsonschema

    employer = factories.employer(headcount=20)
    commitments.record_commitment(employer, award(CommitmentLevel.FOUNDATION, awarded_on=london_today()),
                                  coordinator_user, verify=True)
    tokens = {}
    for role in (Role.BOARD, Role.TRAINEE):
        tokens[role] = {"Authorization": f"Bearer {issue_api_token(factories.user(role))}"}
    db.session.commit()
    response = client.get("/api/v1/employers/summary", headers=tokens[Role.BOARD])
    assert response.status_code == 200
    body = response.get_json()
    assert {g["key"]: g["employers"] for g in body["by_level"]}["foundation"] == 1
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/employers/summary" in document["paths"]
    jsonschema.validate(body, {**document["components"]["schemas"]["EmployersSummary"],
                               "components": document["components"]})
    assert client.get("/api/v1/employers/summary").status_code == 401
    assert client.get("/api/v1/employers/summary", headers=tokens[Role.TRAINEE]).status_code == 403


# --- reminders ------------------------------------------------------------------------------------------

def test_contacts_are_reminded_once_90_days_before_the_award_expires_and_again_after_renewal(
        app_ctx, smtp, coordinator_user):
    employer = factories.employer("Canal Trust")
    contact = factories.contact(employer)
    today = london_today()
    commitments.record_commitment(employer, award(awarded_on=today - timedelta(days=400),
                                                  expires_on=today + timedelta(days=91)), coordinator_user,
                                  verify=True)
    db.session.commit()
    assert reminders.send_due_reminders()["commitment"] == 0  # 91 days: not yet
    later = utcnow() + timedelta(days=1)
    assert reminders.send_due_reminders(later)["commitment"] == 1
    db.session.commit()
    assert reminders.send_due_reminders(later)["commitment"] == 0  # once
    db.session.commit()
    from tests.outbox import deliver_outbox
    deliver_outbox()
    assert any("Bronze wellbeing award expires" in s for s in smtp.subjects(contact.email))
    # Renewed with a new expiry that is also close: reminded about the new date.
    commitments.record_commitment(employer, award(CommitmentLevel.SILVER, awarded_on=today - timedelta(days=400),
                                                  expires_on=today + timedelta(days=60)), coordinator_user,
                                  verify=True)
    db.session.commit()
    assert reminders.send_due_reminders(later)["commitment"] == 1


# --- the pages -----------------------------------------------------------------------------------------

def test_a_coordinator_records_an_award_and_the_contact_sees_it_with_coverage(client, auth, app_ctx,
                                                                             post_form):
    employer = factories.employer("Canal Trust", headcount=100)
    contact = factories.contact(employer)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    url = f"/manage/employers/{employer.id}/commitment"
    assert "Record an award" in client.get(url).get_data(as_text=True)
    refused = post_form(url, {"level": "platinum", "awarded_on": "2025-02-30"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Choose the award level" in text and "real date" in text
    today = london_today()
    saved = post_form(url, {"level": "silver", "awarded_on": today.isoformat(), "reference": "TAW-77"})
    assert saved.status_code == 302
    assert employer.commitment.level is CommitmentLevel.SILVER and employer.commitment.is_verified
    assert post_form(f"{url}/listing", {"listed": "yes"}, page=url).status_code == 302
    auth.logout()
    auth.login(contact)
    home = client.get("/employer").get_data(as_text=True)
    assert "Silver" in home and commitments.default_expiry(today).strftime("%-d %B %Y") in home
    assert "5 people" in home  # 5% of 100
    page = client.get("/employer/commitment").get_data(as_text=True)
    assert "TAW-77" in page and "Target (5% of headcount)" in page and "Listed" in page and "Staff trained" in page
    assert re.search(r'<input checked[^>]*value="yes"|value="yes"[^>]*checked', page), "answered as listed now"
    public = client.get("/committed-employers").get_data(as_text=True)
    assert "Canal Trust" in public and "Silver" in public


def test_a_contact_records_their_award_and_a_coordinator_verifies_it(client, auth, app_ctx, post_form):
    employer = factories.employer("Canal Trust", headcount=100)
    contact = factories.contact(employer)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(contact)
    saved = post_form("/employer/commitment", {"level": "gold", "awarded_on": london_today().isoformat()})
    assert saved.status_code == 302
    assert "Waiting for the programme team" in client.get("/employer/commitment").get_data(as_text=True)
    assert post_form("/employer/commitment/listing", {"listed": "yes"}, page="/employer/commitment").status_code == 302
    assert "Canal Trust" not in client.get("/committed-employers").get_data(as_text=True)  # not checked yet
    auth.logout()
    auth.login(coordinator)
    url = f"/manage/employers/{employer.id}/commitment"
    assert post_form(f"{url}/verify", {}, page=url).status_code == 302
    assert employer.commitment.is_verified
    assert "Canal Trust" in client.get("/committed-employers").get_data(as_text=True)


def test_a_contact_sees_only_their_own_award_and_cannot_verify(client, auth, app_ctx, post_form):
    mine, theirs = factories.employer("Mine Ltd"), factories.employer("Theirs Ltd")
    contact = factories.contact(mine)
    db.session.commit()
    auth.login(contact)
    assert client.get(f"/manage/employers/{theirs.id}/commitment").status_code == 403
    assert post_form(f"/manage/employers/{theirs.id}/commitment/verify", {},
                     page="/employer/commitment").status_code == 403
    assert client.get("/reach/employers").status_code == 403


def test_a_renewal_with_a_new_award_date_moves_a_default_expiry_but_keeps_a_chosen_one(client, auth, app_ctx,
                                                                                       post_form):
    employer = factories.employer("Canal Trust", headcount=100)
    coordinator = factories.user(Role.COORDINATOR)
    commitments.record_commitment(employer, award(awarded_on=date(2024, 1, 10)), coordinator, verify=True)
    db.session.commit()
    auth.login(coordinator)
    url = f"/manage/employers/{employer.id}/commitment"
    form = client.get(url).get_data(as_text=True)
    assert 'name="expires_on"' in form and "2027-01-09" not in form  # the default expiry is not typed in
    assert post_form(url, {"level": "bronze", "awarded_on": "2025-06-01"}).status_code == 302
    assert employer.commitment.expires_on == date(2028, 5, 31)
    assert post_form(url, {"level": "bronze", "awarded_on": "2025-06-01", "expires_on": "2027-12-31"}).status_code \
        == 302
    assert "2027-12-31" in client.get(url).get_data(as_text=True)  # a chosen expiry is shown to keep


def test_the_summary_runs_the_same_few_queries_however_many_organisations(app_ctx, count_queries,
                                                                          coordinator_user):
    def queries() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            summary.summary()
        return len(statements)

    for _ in range(3):
        employer = factories.employer(headcount=50)
        commitments.record_commitment(employer, award(awarded_on=london_today()), coordinator_user, verify=True)
        _trained(employer, 2)
    few = queries()
    for _ in range(6):
        employer = factories.employer(headcount=50)
        commitments.record_commitment(employer, award(CommitmentLevel.GOLD, awarded_on=london_today()),
                                      coordinator_user, verify=True)
        _trained(employer, 1)
    assert queries() == few <= 4
