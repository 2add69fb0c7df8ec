"""Hostile input on the Workplace Wellbeing Commitment and instructor standing pages: a clear answer, never a
500, and nothing changed."""
import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.courses.models import InstructorDevelopment
from mhfa.employers.awards import WellbeingCommitment
from mhfa.extensions import db
from tests import factories

HOSTILE = ["\x00", "a\x00b", "\ud800", "\x1b[31m", "99999999999999999999", "-1", "1e309", "NaN", "inf",
           "9999-12-31", "0001-01-01", "31/02/2027", "' OR 1=1 --", "<script>alert(1)</script>", "٣", "a" * 5000, " "]


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _wire(value: str):
    return value.encode("utf-8", "surrogatepass") if "\ud800" in value else value


def _refused(response):
    # The input guard refuses NUL bytes and invalid UTF-8 before any view (400); the forms refuse the rest (422).
    assert response.status_code in (400, 422), response.status_code


#: Values that are fine for a field (plain text a reference may be; blank for an optional field).
ACCEPTED = {
    "reference": {"99999999999999999999", "1e309", "NaN", "inf", "9999-12-31", "0001-01-01", "31/02/2027", " "},
    "expires_on": {" "},
    "activity": {"' OR 1=1 --", "<script>alert(1)</script>", "٣", "99999999999999999999", "-1", "1e309", "NaN",
                 "inf", "9999-12-31", "0001-01-01", "31/02/2027",
                 "\ud800"},  # sent as invalid UTF-8: the form reads it as U+FFFD, which is text
}


@pytest.mark.parametrize("field", ["level", "awarded_on", "expires_on", "reference"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_award_fields_are_refused_by_the_contact_and_the_coordinator(client, auth, post_form, field, value):
    employer = factories.employer("Canal Trust")
    contact = factories.contact(employer)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    good = {"level": "gold", "awarded_on": "2025-01-01", "expires_on": "", "reference": "TAW-1"}
    accepted = value in ACCEPTED.get(field, ())
    auth.login(contact)
    response = post_form("/employer/commitment", {**good, field: _wire(value)})
    if accepted:
        assert response.status_code == 302
        assert _count(WellbeingCommitment) == 1
        return
    _refused(response)
    _refused(post_form("/employer/commitment/listing", {"listed": _wire(value)}, page="/employer/commitment"))
    auth.logout()
    auth.login(coordinator)
    url = f"/manage/employers/{employer.id}/commitment"
    _refused(post_form(url, {**good, field: _wire(value)}))
    assert _count(WellbeingCommitment) == 0


@pytest.mark.parametrize("path", ["/manage/employers/99999999999999999999/commitment",
                                  "/manage/employers/0/commitment", "/manage/employers/-1/commitment"])
def test_hostile_organisation_ids_are_not_found(client, auth, path):
    auth.login(factories.user(Role.COORDINATOR))
    assert client.get(path).status_code == 404


def test_the_summary_download_refuses_an_unknown_format(client, auth):
    auth.login(factories.user(Role.BOARD))
    for fmt in ("pdf", "CSV", "x" * 300, "%00"):
        assert client.get(f"/reach/employers.{fmt}").status_code in (400, 404)


@pytest.mark.parametrize("field", ["done_on", "activity", "hours"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_development_records_are_refused(client, auth, post_form, field, value):
    user = factories.user(Role.INSTRUCTOR)
    factories.instructor(user.person)
    db.session.commit()
    auth.login(user)
    good = {"done_on": "2026-01-10", "activity": "Webinar", "hours": "1.5"}
    response = post_form("/teaching/standing", {**good, field: _wire(value)})
    if value in ACCEPTED.get(field, ()):
        assert response.status_code == 302  # plain text: stored as typed, shown escaped
        assert _count(InstructorDevelopment) == 1
        return
    _refused(response)
    assert _count(InstructorDevelopment) == 0


@pytest.mark.parametrize("record_id", ["99999999999999999999", "0", str(2**63)])
def test_hostile_development_ids_are_not_found(client, auth, post_form, record_id):
    user = factories.user(Role.INSTRUCTOR)
    factories.instructor(user.person)
    db.session.commit()
    auth.login(user)
    response = post_form(f"/teaching/standing/development/{record_id}/remove", {}, page="/teaching/standing")
    assert response.status_code in (302, 404)
    assert "is gone" in client.get("/teaching/standing").get_data(as_text=True) or response.status_code == 404


@pytest.mark.parametrize("path", ["/manage/instructors/99999999999999999999", "/manage/instructors/0"])
def test_hostile_instructor_ids_are_not_found(client, auth, path):
    auth.login(factories.user(Role.COORDINATOR))
    assert client.get(path).status_code == 404
