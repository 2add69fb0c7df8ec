"""Completing a course issues certificates in the same transaction; revoke, reissue, refresher renewal."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus, Completion, NonCompletion
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.certificates import services, verification
from mhfa.certificates.models import Certificate
from mhfa.courses.models import CourseStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories

PRESENT, ABSENT = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _completed(trainees=2, absent=(), code="ADULT_2DAY", **kw):
    course, teacher, bookings = factories.taught_course(code, trainees=trainees, **kw)
    for s in course.sessions:
        attendance.mark_register(s, {b.id: ABSENT if (i in absent and s is course.sessions[-1]) else PRESENT
                                     for i, b in enumerate(bookings)}, teacher)
    done = services.complete_course_and_issue(course, teacher)
    db.session.commit()
    return course, teacher, bookings, done


def test_completing_issues_a_certificate_to_each_trainee_who_attended_every_session(app_ctx):
    course, teacher, (a, b), done = _completed(absent=(1,))
    assert course.status is CourseStatus.COMPLETED
    [cert] = done.certificates
    assert cert.person_id == a.person_id and cert.title == "Mental Health First Aider"
    assert services.normalise_number(cert.number) == cert.number and cert.number.startswith(f"MR{date.today().year}-")
    assert len(cert.verification_token) >= 32
    assert cert.issued_on == date.today()
    last_day = date.today() - timedelta(days=2)
    assert cert.completion.completed_on == last_day and cert.expires_on == last_day.replace(year=last_day.year + 3)
    assert verification.instructors_of(cert) == [teacher.person.full_name]
    assert len(verification.course_dates(cert)) == 2
    [missed] = db.session.scalars(sa.select(NonCompletion)).all()
    assert missed.person_id == b.person_id and missed.missed_session_ids == [course.sessions[-1].id]
    assert _count(Completion) == 1
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"course.completed", "certificate.issued", "attendance.marked"} <= actions


def test_completing_twice_changes_nothing(app_ctx):
    course, teacher, _, _ = _completed()
    before = (_count(Completion), _count(Certificate), _count(AuditEvent))
    again = services.complete_course_and_issue(course, teacher)
    assert again.result.already_completed and again.certificates == []
    assert (_count(Completion), _count(Certificate), _count(AuditEvent)) == before


def test_completing_with_unmarked_sessions_is_refused_and_changes_nothing(app_ctx):
    course, teacher, (a, b) = factories.taught_course()
    attendance.mark_register(course.sessions[0], {a.id: PRESENT, b.id: PRESENT}, teacher)
    db.session.commit()
    with pytest.raises(DomainError, match="Mark every register first: 2 attendance marks are missing"):
        services.complete_course_and_issue(course, teacher)
    db.session.rollback()
    assert course.status is CourseStatus.PUBLISHED and _count(Completion) == _count(Certificate) == 0


def test_marks_after_completion_need_a_coordinator_and_a_reason(app_ctx):
    course, teacher, (a, b), _ = _completed(absent=(1,))
    last = course.sessions[-1]
    with pytest.raises(DomainError, match="completed"):
        attendance.mark_register(last, {b.id: PRESENT}, teacher)
    with pytest.raises(DomainError, match="Only the programme team"):
        services.correct_mark(last, b.id, PRESENT, teacher, "came late")
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    with pytest.raises(DomainError, match="reason"):
        services.correct_mark(last, b.id, PRESENT, coordinator, "  ")
    db.session.rollback()
    # b was there after all: a completion and a certificate follow
    correction = services.correct_mark(last, b.id, PRESENT, coordinator, "Signed in late, register missed her")
    assert correction.now_completed
    assert _count(NonCompletion) == 0
    cert_b = db.session.scalar(sa.select(Certificate).where(Certificate.person_id == b.person_id))
    assert cert_b is not None and cert_b.revoked_at is None
    # a was not: the certificate is revoked, the completion row stays (one per person per course)
    services.correct_mark(last, a.id, ABSENT, coordinator, "Left at lunch on day two")
    cert_a = db.session.scalar(sa.select(Certificate).where(Certificate.person_id == a.person_id))
    assert cert_a.revoked_at is not None and "Left at lunch" in cert_a.revoked_reason
    assert _count(Completion) == 2
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "attendance.marked")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.details["reason"] == "Left at lunch on day two" and event.details["before"] == "present"


def test_revoke_and_reissue(app_ctx):
    _, _, (a,), done = _completed(trainees=1)
    [cert] = done.certificates
    coordinator = factories.user(Role.COORDINATOR)
    number, token = cert.number, cert.verification_token
    services.reissue(cert, "Aisha", "Khan-Smith", "Name misspelt", coordinator)
    assert (cert.number, cert.verification_token, cert.revision) == (number, token, 2)
    assert cert.person.full_name == "Aisha Khan-Smith" and cert.reissues[0].reason == "Name misspelt"
    with pytest.raises(DomainError):
        services.revoke(cert, "", coordinator)
    services.revoke(cert, "Issued in error", coordinator)
    assert verification.status_of(cert) == verification.REVOKED
    with pytest.raises(DomainError, match="already been revoked"):
        services.revoke(cert, "again", coordinator)
    with pytest.raises(DomainError, match="revoked certificate cannot be reissued"):
        services.reissue(cert, "A", "B", "again", coordinator)
    with pytest.raises(DomainError):
        services.revoke(cert, "trainee tries", factories.user(Role.TRAINEE))
    actions = [e.action for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_id == cert.id,
                                                                              AuditEvent.entity_type == "certificate"))]
    assert actions == ["certificate.issued", "certificate.reissued", "certificate.revoked"]


def test_a_refresher_renews_the_certificate_it_refreshes_and_keeps_the_chain(app_ctx):
    trainee = factories.person("Rita", "Refresh")
    original = factories.certificate(trainee, issued_on=date.today() - timedelta(days=1000))
    old_expiry = original.expires_on
    course, teacher, _ = factories.taught_course("REFRESHER", trainees=0, days_ago=2)
    booking = factories.booking_on(course, trainee)
    factories.mark_everyone(course)
    [refresher] = services.complete_course_and_issue(course, teacher).certificates
    assert refresher.refreshes is original and refresher.refreshed_expiry_was == old_expiry
    assert original.expires_on == refresher.expires_on > old_expiry
    check = verification.verification(original)
    assert check.refreshed_by == [refresher] and check.status == verification.VALID
    assert booking.id


def test_verification_answers(app_ctx):
    person = factories.person("Val", "Id")
    valid = factories.certificate(person)
    expired = factories.certificate(factories.person("Ex", "Pired"), issued_on=date.today() - timedelta(days=2000))
    revoked = factories.certificate(factories.person("Re", "Voked"), revoked=True)
    erased_person = factories.person("Er", "Ased")
    erased = factories.certificate(erased_person)
    erased_person.erased_at = erased.created_at
    assert [verification.status_of(c) for c in (valid, expired, revoked, erased)] == [
        "valid", "expired", "revoked", "erased"]
    assert services.holder_erased(erased_person) and not services.holder_erased(person)


@pytest.mark.parametrize("typed", ["mr2026-abcd-efgh", " MR2026 ABCD EFGH ", "MR2026ABCDEFGH"])
def test_numbers_are_read_forgivingly(typed):
    assert services.normalise_number(typed) == "MR2026-ABCD-EFGH"


def test_o_and_i_are_read_as_digits():
    assert services.normalise_number("MR2O26-0I00-L000") == "MR2026-0100-1000"


def test_a_trainee_already_holding_a_completion_that_day_is_not_completed_twice(app_ctx):
    course, teacher, (a,) = factories.taught_course(trainees=1)
    factories.mark_everyone(course)
    db.session.add(Completion(person_id=a.person_id, course_type_id=course.course_type_id,
                              completed_on=attendance.completed_on(course)))
    db.session.commit()
    preview = attendance.completion_preview(course)
    assert preview.completing == [] and [b for b, _ in preview.already_completed] == [a]
    done = services.complete_course_and_issue(course, teacher)
    db.session.commit()
    assert done.certificates == [] and _count(Completion) == 1 and course.status is CourseStatus.COMPLETED
