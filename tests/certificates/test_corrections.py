"""Changing a completed course's register when the trainee already holds that day's completion (imported)."""
import sqlalchemy as sa

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus, Completion, NonCompletion
from mhfa.auth.models import Role
from mhfa.certificates import services, verification
from mhfa.extensions import db
from tests import factories


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_correction_for_a_trainee_with_an_imported_completion_that_day_is_not_a_500(client, auth, post_form):
    course, teacher, (a,) = factories.taught_course(trainees=1)
    first, last = course.sessions
    attendance.mark_register(first, {a.id: AttendanceStatus.PRESENT}, teacher)
    attendance.mark_register(last, {a.id: AttendanceStatus.ABSENT}, teacher)
    db.session.add(Completion(person_id=a.person_id, course_type_id=course.course_type_id,
                              completed_on=attendance.completed_on(course)))
    coordinator = factories.user(Role.COORDINATOR)
    services.complete_course_and_issue(course, teacher)
    db.session.commit()
    assert _count(NonCompletion) == 1
    auth.login(coordinator)
    url = f"/teaching/sessions/{last.id}/correct"
    response = post_form(url, {"booking_id": str(a.id), "status": "present", "reason": "Register missed her"})
    assert response.status_code == 302
    assert _count(NonCompletion) == 0 and _count(Completion) == 1


def _refresh(trainee, days_ago=2):
    course, teacher, _ = factories.taught_course("REFRESHER", trainees=0, days_ago=days_ago)
    factories.booking_on(course, trainee)
    factories.mark_everyone(course)
    [refresher] = services.complete_course_and_issue(course, teacher).certificates
    return refresher


def test_revoking_a_refresher_takes_back_the_renewal_it_gave(client):
    from datetime import date, timedelta

    trainee = factories.person("Rita", "Refresh")
    original = factories.certificate(trainee, issued_on=date.today() - timedelta(days=1000))
    own_expiry = original.expires_on
    refresher = _refresh(trainee)
    assert original.expires_on == refresher.expires_on > own_expiry
    coordinator = factories.user(Role.COORDINATOR)
    services.revoke(refresher, "Refresher issued in error", coordinator)
    assert original.expires_on == own_expiry
    assert verification.status_of(original) == verification.VALID  # its own expiry is still to come
    db.session.commit()
    html = client.get(f"/verify/{original.verification_token}").get_data(as_text=True)
    assert own_expiry.strftime("%-d %B %Y") in html and ", since revoked" in html


def test_revoking_one_of_two_refreshers_keeps_the_other_renewal(app_ctx):
    from datetime import date, timedelta

    trainee = factories.person("Rhea", "Refresh")
    original = factories.certificate(trainee, issued_on=date.today() - timedelta(days=1000))
    own_expiry = original.expires_on
    first = _refresh(trainee, days_ago=20)
    first.expires_on = own_expiry + timedelta(days=30)  # an earlier, shorter renewal
    original.expires_on = first.expires_on
    second = _refresh(trainee)
    coordinator = factories.user(Role.COORDINATOR)
    services.revoke(first, "Issued in error", coordinator)
    assert original.expires_on == second.expires_on
    services.revoke(second, "Issued in error too", coordinator)
    assert original.expires_on == own_expiry
