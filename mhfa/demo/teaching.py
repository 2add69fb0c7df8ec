"""Work waiting for instructors on the day the demo is built: courses that ran in the last fortnight
whose registers are still to take, and courses whose registers are taken and that wait to be completed.

The bulk history completes every course that has run (its registers, completions and certificates are
written as one), which leaves an instructor nothing to do. These few courses are added afterwards,
through the models, with people who have nothing else booked in the fortnight: the demo instructor
gets one of each kind, and a few other instructors one each.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from mhfa.attendance.models import AttendanceMark, AttendanceStatus
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.courses.models import (
    Course,
    CourseSession,
    CourseStatus,
    CourseType,
    DeliveryMode,
    Instructor,
    Venue,
    course_instructor,
)
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.timeutil import london_to_utc

FORTNIGHT = 14
TRAINEES = 6
OTHER_INSTRUCTORS = 4


@dataclass(frozen=True)
class _Plan:
    code: str
    days_ago: int            # the first session's day, counted back from the day the demo is built
    marked_sessions: int     # registers taken: 0 = all still to take; all of them = waiting to be completed
    hours: tuple[tuple[time, time], ...]


TWO_DAYS = ((time(9, 0), time(16, 0)), (time(9, 0), time(16, 0)))
HALF_DAY = ((time(9, 30), time(13, 30)),)
ONE_DAY = ((time(9, 0), time(16, 0)),)

# The demo instructor: a two-day course to complete, a half-day course and a two-day course whose
# registers are still to take (the second day's only, for the last).
DEMO_INSTRUCTOR_PLANS = (
    _Plan("ADULT_2DAY", 10, 2, TWO_DAYS),
    _Plan("AWARE", 3, 0, HALF_DAY),
    _Plan("ADULT_2DAY", 6, 1, TWO_DAYS),
)
# Other instructors' courses, and one in four days' time, fully booked, whose freed seat the demo offers to
# the first person waiting (mhfa.demo.features: a waiting-list offer runs only within the week before a course).
OTHER_PLANS = (_Plan("AWARE", 5, 1, HALF_DAY), _Plan("AWARE", 8, 0, HALF_DAY), _Plan("ADULT_2DAY", 12, 2, TWO_DAYS),
               _Plan("ADULT_CHAMPION", -4, 0, ONE_DAY))


def add_recent_teaching(today: date, demo_instructor_person_id: int | None) -> int:
    """Add the recent courses; returns how many were added."""
    instructors = _instructors(today, demo_instructor_person_id)
    if not instructors:
        return 0
    venues = list(db.session.scalars(sa.select(Venue).where(Venue.active.is_(True)).order_by(Venue.id).limit(10)))
    if not venues:
        return 0
    types = {t.code: t for t in db.session.scalars(sa.select(CourseType))}
    people = _free_people(today)
    added = 0
    work: list[tuple[Instructor, _Plan]] = []
    demo, others = instructors[0], instructors[1:]
    if demo_instructor_person_id is not None and demo.person_id == demo_instructor_person_id:
        work += [(demo, plan) for plan in DEMO_INSTRUCTOR_PLANS]
    else:
        others = instructors
    work += list(zip(others, OTHER_PLANS, strict=False))
    for n, (instructor, plan) in enumerate(work):
        kind = types.get(plan.code)
        trainees = people[n * TRAINEES:(n + 1) * TRAINEES]
        if kind is None or len(trainees) < 2:
            continue
        times = _session_times(today, plan)
        if _busy(instructor, times):
            continue
        _course(kind, venues[n % len(venues)], instructor, times, trainees, plan, today)
        added += 1
    db.session.flush()
    return added


def _instructors(today: date, demo_person_id: int | None) -> list[Instructor]:
    """The demo instructor first (if licensed now), then a few other active instructors."""
    licensed = (sa.select(Instructor).where(Instructor.active.is_(True), Instructor.licence_expires_on >= today)
                .order_by(Instructor.id))
    found = list(db.session.scalars(licensed.limit(OTHER_INSTRUCTORS + 1)))
    demo = None
    if demo_person_id is not None:
        demo = db.session.scalar(licensed.where(Instructor.person_id == demo_person_id))
    ordered = ([demo] if demo is not None else []) + [i for i in found if i is not demo]
    return ordered[:OTHER_INSTRUCTORS + (1 if demo is not None else 0)]


def _free_people(today: date) -> list[Person]:
    """Adults with an email address and a date of birth, booked on nothing that runs in the fortnight."""
    start = datetime.combine(today - timedelta(days=FORTNIGHT + 1), time.min, tzinfo=UTC)
    busy = (sa.select(Booking.person_id).join(Course, Course.id == Booking.course_id)
            .where(Course.ends_at >= start, Booking.status != BookingStatus.CANCELLED))
    adult = date(today.year - 18, today.month, 1)
    return list(db.session.scalars(
        sa.select(Person).where(Person.email.is_not(None), Person.date_of_birth.is_not(None),
                                Person.date_of_birth <= adult, Person.erased_at.is_(None),
                                Person.id.not_in(busy), Person.id.not_in(sa.select(Instructor.person_id)))
        .order_by(Person.id.desc()).limit(TRAINEES * (len(DEMO_INSTRUCTOR_PLANS) + len(OTHER_PLANS)))))


def _session_times(today: date, plan: _Plan) -> list[tuple[datetime, datetime]]:
    first = today - timedelta(days=plan.days_ago)
    return [(london_to_utc(datetime.combine(first + timedelta(days=i), start)),
             london_to_utc(datetime.combine(first + timedelta(days=i), end)))
            for i, (start, end) in enumerate(plan.hours)]


def _busy(instructor: Instructor, times: list[tuple[datetime, datetime]]) -> bool:
    overlaps = sa.or_(*[sa.and_(CourseSession.starts_at < end, CourseSession.ends_at > start) for start, end in times])
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(CourseSession)
        .join(course_instructor, course_instructor.c.course_id == CourseSession.course_id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(course_instructor.c.instructor_id == instructor.id, Course.status != CourseStatus.CANCELLED, overlaps)
    ) > 0


def _course(kind: CourseType, venue: Venue, instructor: Instructor, times, trainees: list[Person], plan: _Plan,
            today: date) -> Course:
    first_start, last_end = times[0][0], times[-1][1]
    created = first_start - timedelta(days=45)
    course = Course(course_type=kind, status=CourseStatus.PUBLISHED, delivery_mode=DeliveryMode.IN_PERSON,
                    venue=venue, council_area_id=venue.council_area_id, capacity=kind.max_learners, price_pence=0,
                    booking_deadline=first_start - timedelta(hours=48),
                    cancellation_cutoff=first_start - timedelta(hours=72),
                    starts_at=first_start, ends_at=last_end, created_at=created, updated_at=created)
    course.sessions = [CourseSession(starts_at=start, ends_at=end) for start, end in times]
    course.instructors = [instructor]
    db.session.add(course)
    db.session.flush()
    for n, person in enumerate(trainees):
        booked = created + timedelta(days=2 + n)
        booking = Booking(course_id=course.id, person_id=person.id, status=BookingStatus.CONFIRMED,
                          source=BookingSource.SELF, created_at=booked, confirmed_at=booked)
        db.session.add(booking)
        db.session.flush()
        for number, session in enumerate(course.sessions[:plan.marked_sessions]):
            # One trainee misses the second day: completing shows who will not complete, and why.
            absent = n == len(trainees) - 1 and number == 1
            db.session.add(AttendanceMark(
                booking_id=booking.id, session_id=session.id,
                status=AttendanceStatus.ABSENT if absent else AttendanceStatus.PRESENT,
                marked_by_user_id=None, marked_at=min(session.ends_at + timedelta(minutes=15),
                                                      datetime.combine(today, time.min, tzinfo=UTC))))
    return course
