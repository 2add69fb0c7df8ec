"""Registers: who may mark them, when, and what a refused mark leaves behind (nothing)."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa.attendance import services, teaching
from mhfa.attendance.models import AttendanceMark, AttendanceStatus
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import CourseStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.flow import http_status
from tests import factories

PRESENT, ABSENT = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT


def _marks():
    return db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark))


def test_an_instructor_marks_a_started_session_and_each_change_is_audited(app_ctx):
    course, teacher, (a, b) = factories.taught_course()
    first = course.sessions[0]
    assert services.mark_register(first, {a.id: PRESENT, b.id: ABSENT}, teacher) == 2
    assert services.mark_register(first, {a.id: PRESENT, b.id: PRESENT}, teacher) == 1  # only b changed
    rows = {r.booking.id: r.status for r in services.register(first)}
    assert rows == {a.id: PRESENT, b.id: PRESENT}
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "attendance.marked")
                                .order_by(AuditEvent.id)).all()
    assert [(e.details["booking_id"], e.details["before"], e.details["after"]) for e in events] == [
        (a.id, None, "present"), (b.id, None, "absent"), (b.id, "absent", "present")]
    assert all(e.actor_user_id == teacher.id and e.occurred_at for e in events)


def test_mark_all_present(app_ctx):
    course, teacher, bookings = factories.taught_course(trainees=3)
    assert services.mark_all_present(course.sessions[1], teacher) == 3
    assert {r.status for r in services.register(course.sessions[1])} == {PRESENT}


def test_each_session_s_register_state_counts_its_confirmed_trainees_marked(app_ctx):
    course, teacher, (a, b, c) = factories.taught_course(trainees=3)
    first, second = course.sessions
    services.mark_all_present(first, teacher)
    services.mark_register(second, {a.id: PRESENT}, teacher)
    states = services.register_states(course)
    assert (states[first.id].marked, states[first.id].trainees, states[first.id].taken) == (3, 3, True)
    assert (states[second.id].marked, states[second.id].taken, states[second.id].started) == (1, False, True)
    c.status = BookingStatus.CANCELLED  # a cancelled trainee's mark no longer counts, nor do they
    db.session.flush()
    assert (services.register_states(course)[first.id].marked, services.register_states(course)[first.id].trainees) \
        == (2, 2)
    empty, _, _ = factories.taught_course(trainees=0)
    assert not any(state.taken for state in services.register_states(empty).values())


@pytest.mark.parametrize("case", ["future", "cancelled", "not_booked", "waitlisted", "other_course", "empty"])
def test_refused_marks_change_nothing(app_ctx, case):
    course, teacher, (a, b) = factories.taught_course()
    session, statuses = course.sessions[0], {a.id: PRESENT}
    if case == "future":
        course, teacher, (a, b) = factories.taught_course(days_ago=-7)
        session, statuses = course.sessions[0], {a.id: PRESENT}
        expected = "has not started yet"
    elif case == "cancelled":
        course.status = CourseStatus.CANCELLED
        expected = "cancelled"
    elif case == "not_booked":
        statuses = {a.id: PRESENT, 999999: PRESENT}
        expected = "does not have a confirmed place"
    elif case == "waitlisted":
        waiting = factories.booking_on(course, status=BookingStatus.WAITLISTED)
        statuses = {a.id: PRESENT, waiting.id: PRESENT}
        expected = "does not have a confirmed place"
    elif case == "other_course":
        other, _, (elsewhere, _) = factories.taught_course()
        statuses = {a.id: PRESENT, elsewhere.id: PRESENT}
        expected = "does not have a confirmed place"
    else:
        statuses = {}
        expected = "at least one"
    db.session.commit()
    with pytest.raises(DomainError, match=expected):
        services.mark_register(session, statuses, teacher)
    db.session.rollback()
    assert _marks() == 0


def test_only_the_courses_instructors_and_coordinators_may_mark(app_ctx):
    course, teacher, (a, _) = factories.taught_course()
    other_instructor = factories.user(Role.INSTRUCTOR)
    factories.instructor(other_instructor.person)
    coordinator = factories.user(Role.COORDINATOR)
    trainee = factories.user(Role.TRAINEE)
    assert services.can_take_register(course, teacher)
    assert services.can_take_register(course, coordinator)
    for outsider in (other_instructor, trainee):
        assert not services.can_take_register(course, outsider)
        with pytest.raises(DomainError) as refused:
            services.mark_register(course.sessions[0], {a.id: PRESENT}, outsider)
        assert http_status(refused.value) == 403
    assert services.mark_register(course.sessions[0], {a.id: PRESENT}, coordinator) == 1


def test_my_teaching_lists_upcoming_and_past_courses(app_ctx):
    past, teacher, _ = factories.taught_course(days_ago=30)
    upcoming = factories.course(instructors=[past.instructors[0]])
    factories.course(instructors=[past.instructors[0]], status=CourseStatus.DRAFT)  # not shown
    factories.taught_course()  # someone else's
    mine = teaching.teaching(teacher)
    assert mine.upcoming == [upcoming] and mine.to_do == [(past, "registers")]
    assert mine.past == []  # listed once: under what is left to do
    past.status = CourseStatus.COMPLETED
    db.session.flush()
    mine = teaching.teaching(teacher)
    assert mine.past == [past] and mine.to_do == []


def test_completion_preview_names_who_will_not_complete_and_the_sessions_missed(app_ctx):
    course, teacher, (a, b) = factories.taught_course()
    first, second = course.sessions
    services.mark_register(first, {a.id: PRESENT, b.id: PRESENT}, teacher)
    preview = services.completion_preview(course)
    assert not preview.ready and preview.unmarked == [(second, [a, b])]
    services.mark_register(second, {a.id: PRESENT, b.id: ABSENT}, teacher)
    preview = services.completion_preview(course)
    assert preview.ready and preview.completing == [a] and preview.not_completing == [(b, [second])]


def test_completed_on_is_the_london_date_of_the_last_session(app_ctx):
    course, _, _ = factories.taught_course()
    assert services.completed_on(course) == date.today() - timedelta(days=2)
    assert isinstance(course.sessions[-1].ends_at, datetime)
