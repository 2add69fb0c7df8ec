"""The scheduling rules at their edges, where an off-by-a-minute rule would slip through.

An instructor cannot be in two places even for one minute, but may finish one course at one o'clock
and start the next at one; a course's sessions must add up to its course type's hours, give or take
a minute, neither fewer nor more.
"""
from datetime import date, datetime, time, timedelta

import pytest

from mhfa.courses import instructors, scheduling
from mhfa.courses.models import DeliveryMode
from mhfa.errors import DomainError
from mhfa.timeutil import london_to_utc, london_today
from tests import factories


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time (naive), as the factories take it."""
    return datetime.combine(day, time(hour, minute))


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time as the UTC moment the services take."""
    return london_to_utc(local(day, hour, minute))


@pytest.fixture()
def day():
    return london_today() + timedelta(days=20)


# --- an instructor's other courses --------------------------------------------------------------

BUSY = ((9, 0), (13, 0))  # the instructor already teaches a half-day course from 9am to 1pm


def _busy_instructor(day: date):
    instructor = factories.instructor(factories.person("Busy", "Bee"))
    busy = factories.course("AWARE", session_times=[(local(day, *BUSY[0]), local(day, *BUSY[1]))],
                            instructors=[instructor])
    return instructor, busy


@pytest.mark.parametrize(("starts", "ends"), [
    ((12, 59), (16, 59)),  # starts a minute before the other course ends
    ((5, 1), (9, 1)),  # ends a minute after the other course starts
    ((9, 1), (12, 59)),  # inside it
    ((8, 59), (13, 1)),  # around it
], ids=["starts-one-minute-early", "ends-one-minute-late", "inside", "around"])
def test_an_instructor_clash_of_one_minute_is_refused(app_ctx, day, starts, ends):
    instructor, busy = _busy_instructor(day)
    course = factories.course("AWARE", session_times=[(local(day, *starts), local(day, *ends))], instructors=[])
    with pytest.raises(DomainError) as refused:
        instructors.assign_instructor(course, instructor)
    assert refused.value.field == "instructor"
    assert f"Busy Bee is already teaching Mental Health Aware (half day) (course {busy.id}" in refused.value.message
    assert course.instructors == []


@pytest.mark.parametrize(("starts", "ends"), [
    ((13, 0), (17, 0)),  # starts as the other course ends
    ((5, 0), (9, 0)),  # ends as the other course starts
], ids=["starts-as-it-ends", "ends-as-it-starts"])
def test_back_to_back_courses_are_not_a_clash(app_ctx, day, starts, ends):
    instructor, _ = _busy_instructor(day)
    course = factories.course("AWARE", session_times=[(local(day, *starts), local(day, *ends))], instructors=[])
    instructors.assign_instructor(course, instructor)
    assert course.instructors == [instructor]


def test_a_one_minute_clash_on_a_later_session_is_refused(app_ctx, day):
    """The clash is looked for on every session of the course, not only its first."""
    instructor, busy = _busy_instructor(day)
    course = factories.course("ADULT_2DAY", session_times=[
        (local(day - timedelta(days=1), 9), local(day - timedelta(days=1), 16)),
        (local(day, 12, 59), local(day, 19, 59)),
    ], instructors=[])
    with pytest.raises(DomainError, match=f"already teaching .* \\(course {busy.id}"):
        instructors.assign_instructor(course, instructor)
    assert course.instructors == []


@pytest.mark.parametrize(("starts", "ends", "clash"), [
    ((12, 59), (16, 59), True),
    ((13, 0), (17, 0), False),
], ids=["one-minute-overlap", "back-to-back"])
def test_rescheduling_an_instructors_course_into_a_one_minute_clash_is_refused(app_ctx, day, starts, ends, clash):
    instructor, busy = _busy_instructor(day)
    earlier = day - timedelta(days=2)
    course = factories.course("AWARE", session_times=[(local(earlier, 14), local(earlier, 18))],
                              instructors=[instructor])
    new_times = [scheduling.SessionTimes(utc(day, *starts), utc(day, *ends))]
    if clash:
        with pytest.raises(scheduling.InvalidCourse) as refused:
            scheduling.reschedule_course(course, new_times)
        assert any(field == "sessions" and f"already teaching Mental Health Aware (half day) (course {busy.id}"
                   in message for field, message in refused.value.problems), refused.value.problems
    else:
        scheduling.reschedule_course(course, new_times)
        assert [s.starts_at for s in course.sessions] == [utc(day, *starts)]


# --- sessions of one course ---------------------------------------------------------------------

def _details(day: date, code: str, sessions: list[tuple[tuple[int, int], tuple[int, int]]], *, days_apart: int = 1):
    return scheduling.CourseDetails(
        course_type=factories.course_type(code), delivery_mode=DeliveryMode.IN_PERSON,
        capacity=10, venue=factories.venue(), price_pence=0,
        sessions=[scheduling.SessionTimes(utc(day + timedelta(days=i * days_apart), *start),
                                        utc(day + timedelta(days=i * days_apart), *end))
                  for i, (start, end) in enumerate(sessions)],
    )


def test_sessions_overlapping_by_one_minute_are_refused(app_ctx, day):
    with pytest.raises(scheduling.InvalidCourse) as refused:
        scheduling.create_course(_details(day, "ADULT_2DAY", [((8, 0), (15, 1)), ((15, 0), (22, 0))], days_apart=0))
    assert ("session_2_start", "Session 1 and session 2 overlap") in refused.value.problems


def test_back_to_back_sessions_on_one_day_are_allowed(app_ctx, day):
    course = scheduling.create_course(_details(day, "ADULT_2DAY", [((8, 0), (15, 0)), ((15, 0), (22, 0))],
                                             days_apart=0))
    assert [(s.starts_at, s.ends_at) for s in course.sessions] == [
        (utc(day, 8), utc(day, 15)), (utc(day, 15), utc(day, 22))]


@pytest.mark.parametrize(("code", "sessions", "total"), [
    ("ADULT_2DAY", [((9, 0), (16, 0)), ((9, 0), (17, 0))], "15 hours"),  # an hour more than the course
    ("ADULT_2DAY", [((9, 0), (16, 2)), ((9, 0), (16, 0))], "14 hours 2 minutes"),  # two minutes more
    ("AWARE", [((9, 0), (13, 30))], "4 hours 30 minutes"),
    ("ADULT_2DAY", [((9, 0), (15, 58)), ((9, 0), (16, 0))], "13 hours 58 minutes"),  # two minutes fewer
    ("AWARE", [((9, 0), (12, 0))], "3 hours"),
], ids=["hour-more", "two-minutes-more", "half-hour-more", "two-minutes-fewer", "hour-fewer"])
def test_sessions_adding_up_to_more_or_fewer_hours_than_the_course_are_refused(app_ctx, day, code, sessions, total):
    kind = factories.course_type(code)
    with pytest.raises(scheduling.InvalidCourse) as refused:
        scheduling.create_course(_details(day, code, sessions))
    needed = f"{kind.hours:g} hours"
    assert ("sessions", f"The sessions add up to {total}; {kind.name} needs {needed}") in refused.value.problems


@pytest.mark.parametrize("sessions", [
    [((9, 0), (16, 0)), ((9, 0), (16, 0))],
    [((9, 0), (16, 1)), ((9, 0), (16, 0))],  # a minute more
    [((9, 0), (15, 59)), ((9, 0), (16, 0))],  # a minute fewer
], ids=["exact", "one-minute-more", "one-minute-fewer"])
def test_sessions_within_a_minute_of_the_course_hours_are_allowed(app_ctx, day, sessions):
    course = scheduling.create_course(_details(day, "ADULT_2DAY", sessions))
    assert len(course.sessions) == 2


# --- found by mutation testing (scripts/mutation) -----------------------------------------------

def test_another_instructors_course_at_the_same_time_is_no_clash(app_ctx, day):
    _, busy = _busy_instructor(day)
    free = factories.instructor(factories.person("Free", "Agent"))
    course = factories.course("AWARE", session_times=[(local(day, *BUSY[0]), local(day, *BUSY[1]))], instructors=[])
    instructors.assign_instructor(course, free)
    assert course.instructors == [free] and busy.instructors != [free]


def test_moving_a_course_by_an_hour_does_not_clash_with_its_own_old_times(app_ctx, day):
    instructor = factories.instructor()
    course = factories.course("AWARE", session_times=[(local(day, 9), local(day, 13))], instructors=[instructor])
    scheduling.reschedule_course(course, [scheduling.SessionTimes(utc(day, 10), utc(day, 14))])
    assert [s.starts_at for s in course.sessions] == [utc(day, 10)]


def test_a_licence_expiring_on_the_last_day_of_the_course_is_enough(app_ctx, day):
    instructor = factories.instructor(expires_on=day)
    course = factories.course("AWARE", session_times=[(local(day, 9), local(day, 13))], instructors=[])
    instructors.assign_instructor(course, instructor)
    assert course.instructors == [instructor]


def test_a_session_ending_as_it_starts_is_refused(app_ctx, day):
    with pytest.raises(scheduling.InvalidCourse) as refused:
        scheduling.create_course(_details(day, "ADULT_2DAY", [((9, 0), (9, 0)), ((9, 0), (23, 0))]))
    assert ("session_1_end", "Session 1 must end after it starts") in refused.value.problems


def test_a_session_starting_right_now_is_in_the_past(app_ctx, day):
    details = _details(day, "AWARE", [((9, 0), (13, 0))])
    with pytest.raises(scheduling.InvalidCourse) as refused:
        scheduling.create_course(details, now=details.sessions[0].starts_at)
    assert ("session_1_date", "Session 1 must be in the future") in refused.value.problems
