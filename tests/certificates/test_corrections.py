"""Changing a completed course's register when the trainee already holds that day's completion (imported)."""
import sqlalchemy as sa

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus, Completion, NonCompletion
from mhfa.auth.models import Role
from mhfa.certificates import services
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
