"""Scheduling courses: create, change, reschedule, publish and cancel, with every rule a course must keep.

Each change takes the course lock first (``mhfa.locks``), then checks. A refused change raises
``InvalidCourse`` with every problem found, before anything is changed. A published course whose
times or place change is rescheduled: SEQUENCE goes up and every booked trainee is emailed. Bookings
follow through the hooks in ``mhfa.courses.signals`` (courses never import bookings).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa import dates
from mhfa.areas.models import CouncilArea
from mhfa.audit import services as audit
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import User
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses import emails, signals
from mhfa.courses.models import (
    Course,
    CourseSession,
    CourseStatus,
    CourseType,
    DeliveryMode,
    FundingStream,
    Instructor,
    Venue,
    course_instructor,
)
from mhfa.courses.places import places
from mhfa.employers.models import Employer, Order, OrderKind, OrderStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.locks import lock_course
from mhfa.timeutil import format_london, london_today, to_london, utcnow


@dataclass(frozen=True, order=True)
class SessionTimes:
    """One session's start and end, as aware datetimes."""

    starts_at: datetime
    ends_at: datetime

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass
class CourseDetails:
    """Everything a coordinator sets on a course. Sessions in the order they were entered."""

    course_type: CourseType
    delivery_mode: DeliveryMode
    capacity: int
    sessions: list[SessionTimes]
    venue: Venue | None = None
    council_area: CouncilArea | None = None
    joining_url: str | None = None
    price_pence: int = 0
    employer: Employer | None = None
    booking_deadline: datetime | None = None
    notes: str = ""
    #: None: the standard stream (publicly funded, or employer-paid for a closed course).
    funding_stream: FundingStream | None = None
    delivery_cost_pence: int | None = None

    @classmethod
    def of(cls, course: Course) -> CourseDetails:
        """A course's current details, to change some of them."""
        return cls(
            course_type=course.course_type, delivery_mode=course.delivery_mode, capacity=course.capacity,
            sessions=[SessionTimes(s.starts_at, s.ends_at) for s in course.sessions], venue=course.venue,
            council_area=course.council_area, joining_url=course.joining_url, price_pence=course.price_pence,
            employer=course.employer, booking_deadline=course.booking_deadline, notes=course.notes,
            funding_stream=course.funding_stream, delivery_cost_pence=course.delivery_cost_pence,
        )


class InvalidCourse(DomainError):
    """A course that cannot be saved; ``problems`` lists each (field, message) found."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__(problems[0][1], field=problems[0][0])
        self.problems = problems


HOURS_TOLERANCE = 1 / 60  # a minute either way
MAX_DELIVERY_COST_PENCE = 100_000_000  # £1,000,000: more is a typing slip


def sessions_needed(course_type: CourseType, mode: DeliveryMode) -> int:
    return course_type.sessions_online if mode is DeliveryMode.ONLINE else course_type.sessions_in_person


def _hours_text(hours: float) -> str:
    whole, minutes = divmod(round(hours * 60), 60)
    text = f"{whole} hour{'s' if whole != 1 else ''}"
    return text + (f" {minutes} minutes" if minutes else "")


def _schedule_problems(details: CourseDetails, *, check_past: bool, now: datetime) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    kind = details.course_type
    sessions = details.sessions
    if not sessions:
        return [("session_1_date", "Enter the date, start time and end time of each session")]
    for number, session in enumerate(sessions, start=1):
        problem = dates.PROGRAMME.problem(to_london(session.starts_at).date(), f"Session {number} date")
        if problem:
            problems.append((f"session_{number}_date", problem))
        elif session.ends_at <= session.starts_at:
            problems.append((f"session_{number}_end", f"Session {number} must end after it starts"))
        elif check_past and session.starts_at <= now:
            problems.append((f"session_{number}_date", f"Session {number} must be in the future"))
    numbered = sorted(enumerate(sessions, start=1), key=lambda item: item[1].starts_at)
    for (first_no, first), (second_no, second) in zip(numbered, numbered[1:], strict=False):
        if second.starts_at < first.ends_at and first.ends_at > first.starts_at:
            later = max(first_no, second_no)
            problems.append((f"session_{later}_start",
                             f"Session {min(first_no, second_no)} and session {later} overlap"))
    needed = sessions_needed(kind, details.delivery_mode)
    if len(sessions) != needed:
        mode = "online" if details.delivery_mode is DeliveryMode.ONLINE else "in person"
        problems.append(("sessions", f"{kind.name} {mode} has {needed} session{'s' if needed != 1 else ''}; "
                                     f"you entered {len(sessions)}"))
    total = sum(s.hours for s in sessions if s.ends_at > s.starts_at)
    if abs(total - kind.hours) > HOURS_TOLERANCE:
        problems.append(("sessions", f"The sessions add up to {_hours_text(total)}; {kind.name} needs "
                                     f"{_hours_text(kind.hours)}"))
    return problems


def _course_problems(details: CourseDetails, course: Course | None, *, sessions_changed: bool,
                     now: datetime) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    kind = details.course_type
    if course is None and not kind.active:
        problems.append(("course_type", f"{kind.name} is no longer offered"))
    if course is not None and course.status is not CourseStatus.DRAFT:
        if kind.id != course.course_type_id:
            problems.append(("course_type", "A published course keeps its course type: cancel it and create a new one"))
        if details.delivery_mode is not course.delivery_mode:
            problems.append(("delivery_mode",
                             "A published course stays in person or online: cancel it and create a new one"))
    if details.delivery_mode is DeliveryMode.IN_PERSON:
        if details.venue is None:
            problems.append(("venue", "Choose the venue of an in-person course"))
        elif not details.venue.active and (course is None or course.venue_id != details.venue.id):
            problems.append(("venue", f"{details.venue.name} is no longer in use"))
    else:
        if not details.joining_url:
            problems.append(("joining_url", "Enter the joining link of an online course"))
        elif not re.fullmatch(r"https://[^\s/]+\.[^\s]+", details.joining_url):
            problems.append(("joining_url", "Enter the joining link as a web address starting https://"))
        if details.council_area is None:
            problems.append(("council_area", "Choose the council area that runs this online course"))
    if details.capacity < 1:
        problems.append(("capacity", "Capacity must be at least 1"))
    elif details.capacity > kind.max_learners:
        problems.append(("capacity", f"Capacity cannot be more than {kind.max_learners}, the limit for {kind.name}"))
    elif course is not None:
        booked = places(course).confirmed
        if details.capacity < booked:
            already = "1 place is" if booked == 1 else f"{booked} places are"
            problems.append(("capacity", f"{already} already booked, so capacity cannot be less than {booked}"))
    if details.price_pence < 0:
        problems.append(("price", "The price cannot be negative"))
    if details.delivery_cost_pence is not None and not 0 <= details.delivery_cost_pence <= MAX_DELIVERY_COST_PENCE:
        problems.append(("delivery_cost", "Enter a delivery cost from £0 to £1,000,000"))
    if course is not None and (problem := _stream_problem(course, details.funding_stream)):
        problems.append(("funding_stream", problem))
    problems += _schedule_problems(details, check_past=sessions_changed, now=now)
    if details.booking_deadline is not None and details.sessions:
        first_start = min(s.starts_at for s in details.sessions)
        deadline_changed = course is None or details.booking_deadline != course.booking_deadline
        if details.booking_deadline > first_start:
            problems.append(("booking_deadline_date", "The booking deadline must be before the first session starts"))
        elif deadline_changed and details.booking_deadline <= now:
            problems.append(("booking_deadline_date", "The booking deadline must be in the future"))
    type_changed = (course is not None and details.course_type is not None
                    and details.course_type is not course.course_type)
    if (course is not None and (sessions_changed or type_changed)
            and not any(f and f.startswith("session") for f, _ in problems)):
        for instructor in course.instructors:
            problem = instructor_problem(instructor, details.sessions, exclude_course=course,
                                         course_type=details.course_type)
            if problem:
                problems.append(("sessions", problem))
    return problems


def _apply(course: Course, details: CourseDetails) -> None:
    in_person = details.delivery_mode is DeliveryMode.IN_PERSON
    course.course_type = details.course_type
    course.delivery_mode = details.delivery_mode
    course.venue = details.venue if in_person else None
    course.council_area = details.venue.council_area if in_person else details.council_area
    course.joining_url = None if in_person else details.joining_url
    course.capacity = details.capacity
    course.price_pence = details.price_pence
    course.employer = details.employer
    course.booking_deadline = details.booking_deadline
    course.notes = details.notes or ""
    course.funding_stream = details.funding_stream or (
        FundingStream.EMPLOYER_PAID if details.employer is not None else FundingStream.PUBLIC)
    course.delivery_cost_pence = details.delivery_cost_pence


def _apply_sessions(course: Course, sessions: list[SessionTimes]) -> None:
    """Sessions in time order, updating existing rows in place so that their ids (calendar UIDs) stay."""
    ordered = sorted(sessions)
    existing = sorted(course.sessions, key=lambda s: s.starts_at)
    for row, times in zip(existing, ordered, strict=False):
        row.starts_at, row.ends_at = times.starts_at, times.ends_at
    for row in existing[len(ordered):]:
        course.sessions.remove(row)
    for times in ordered[len(existing):]:
        course.sessions.append(CourseSession(starts_at=times.starts_at, ends_at=times.ends_at))
    course.sessions.sort(key=lambda s: s.starts_at)
    course.starts_at = ordered[0].starts_at
    course.ends_at = max(s.ends_at for s in ordered)


def session_times(course: Course) -> list[SessionTimes]:
    return sorted(SessionTimes(s.starts_at, s.ends_at) for s in course.sessions)


def course_problems(details: CourseDetails, course: Course | None = None, *,
                    now: datetime | None = None) -> list[tuple[str | None, str]]:
    """Every rule these details break, changing nothing: so a form can name them all at once."""
    sessions_changed = course is None or sorted(details.sessions) != session_times(course)
    return _course_problems(details, course, sessions_changed=sessions_changed, now=now or utcnow())


def closed_for_changes(course: Course) -> str | None:
    """Why a course can no longer be changed or cancelled (it is cancelled or completed), or None."""
    try:
        refuse_if_closed_for_changes(course)
    except DomainError as error:
        return error.message
    return None


def create_course(details: CourseDetails, actor: User | None = None, *, now: datetime | None = None) -> Course:
    """A new draft course with its sessions; nothing is added if any rule is broken."""
    problems = _course_problems(details, None, sessions_changed=True, now=now or utcnow())
    if problems:
        raise InvalidCourse(problems)
    course = Course(status=CourseStatus.DRAFT, sequence=0)
    _apply(course, details)
    _apply_sessions(course, details.sessions)
    db.session.add(course)
    db.session.flush()
    audit.record("course.created", course, actor, course_type=course.course_type.code,
                 starts_at=course.starts_at.isoformat())
    return course


def refuse_if_closed_for_changes(course: Course) -> None:
    if course.status is CourseStatus.CANCELLED:
        raise DomainError("This course has been cancelled, so it cannot be changed.")
    if course.status is CourseStatus.COMPLETED:
        raise DomainError("This course has been completed, so it cannot be changed.")


def update_course(course: Course, details: CourseDetails, actor: User | None = None, *,
                  now: datetime | None = None) -> Course:
    """Change a course. On a published course, new times or a new place (another venue, or a new joining
    link for an online course) are a reschedule: the calendar SEQUENCE goes up and every booked trainee
    is told, with the updated calendar file."""
    lock_course(course)  # first: its status and the places booked cannot change until this transaction ends
    refuse_if_closed_for_changes(course)
    old_times = session_times(course)
    sessions_changed = sorted(details.sessions) != old_times
    problems = _course_problems(details, course, sessions_changed=sessions_changed, now=now or utcnow())
    if problems:
        raise InvalidCourse(problems)
    venue_changed = (
        (details.venue.id if details.venue and details.delivery_mode is DeliveryMode.IN_PERSON else None)
        != course.venue_id
    )
    joining_url_changed = (details.delivery_mode is DeliveryMode.ONLINE
                           and (details.joining_url or None) != course.joining_url)
    old_place = course.location_label
    old_capacity = course.capacity
    _apply(course, details)
    if sessions_changed:
        _apply_sessions(course, details.sessions)
    db.session.flush()
    if course.status is CourseStatus.PUBLISHED and course.capacity > old_capacity:
        signals.capacity_raised.send(course, now=now)  # new seats go to the waiting list first, with an email each
    if course.status is CourseStatus.PUBLISHED and (sessions_changed or venue_changed or joining_url_changed):
        announce_reschedule(course, actor, old_times=old_times, old_place=old_place,
                            joining_url_changed=joining_url_changed)
    else:
        audit.record("course.updated", course, actor)
    return course


def announce_reschedule(course: Course, actor: User | None, *, old_times: list[SessionTimes], old_place: str,
                joining_url_changed: bool = False) -> int:
    """A published course's times or place have changed (the caller holds its lock): SEQUENCE goes up, so
    calendars replace their events, and every trainee with a live booking is told. Returns how many."""
    course.sequence += 1
    db.session.flush()
    new_times = session_times(course)
    bookings = [(booking, booking.status) for booking in live_bookings(course)]
    notified = emails.tell_booked_trainees(
        course, "course_rescheduled", f"Your course has changed: {course.title}", bookings,
        old_times=old_times, old_place=old_place, times_changed=new_times != old_times,
        place_changed=course.location_label != old_place, joining_url_changed=joining_url_changed,
    )
    audit.record(
        "course.rescheduled", course, actor, sequence=course.sequence, notified=notified,
        old_sessions=[[s.starts_at.isoformat(), s.ends_at.isoformat()] for s in old_times],
        new_sessions=[[s.starts_at.isoformat(), s.ends_at.isoformat()] for s in new_times],
        old_place=old_place, new_place=course.location_label, joining_url_changed=joining_url_changed,
    )
    return notified


def reschedule_course(course: Course, sessions: list[SessionTimes], actor: User | None = None, *,
                      now: datetime | None = None) -> Course:
    """New times for a course's sessions, everything else kept (see ``update_course``)."""
    details = CourseDetails.of(course)
    details.sessions = sessions
    return update_course(course, details, actor, now=now)


def _stream_problem(course: Course, stream: FundingStream | None) -> str | None:
    """A closed course bought whole by its organisation's order is paid for by that order: another stream
    would count its money twice (the order's, and a delivery cost) and its trainees under the order anyway."""
    if stream in (None, FundingStream.EMPLOYER_PAID) or course.id is None:
        return None
    order = db.session.scalar(sa.select(Order).where(
        Order.course_id == course.id, Order.kind == OrderKind.CLOSED_COURSE, Order.status != OrderStatus.CANCELLED))
    if order is None:
        return None
    return (f"This closed course is paid for by {order.employer.name}'s order, so its funding stream is "
            f"{FundingStream.EMPLOYER_PAID.label}")


def record_funding(course: Course, stream: FundingStream, delivery_cost_pence: int | None,
                   actor: User | None = None) -> Course:
    """Set a course's funding stream and delivery cost, also once it has run (audited); not on a cancelled course."""
    if course.status is CourseStatus.CANCELLED:
        raise DomainError("This course has been cancelled, so it has no funding to record.")
    if problem := _stream_problem(course, stream):
        raise DomainError(problem, field="funding_stream")
    if delivery_cost_pence is not None and not 0 <= delivery_cost_pence <= MAX_DELIVERY_COST_PENCE:
        raise DomainError("Enter a delivery cost from £0 to £1,000,000", field="delivery_cost")
    before = (course.funding_stream.value, course.delivery_cost_pence)
    course.funding_stream = stream
    course.delivery_cost_pence = delivery_cost_pence
    db.session.flush()
    audit.record("course.funding_recorded", course, actor, old_stream=before[0], old_delivery_cost_pence=before[1],
                 funding_stream=stream.value, delivery_cost_pence=delivery_cost_pence)
    return course


def publish_course(course: Course, actor: User | None = None, *, now: datetime | None = None) -> Course:
    """Open a draft course to the finder and to booking."""
    now = now or utcnow()
    lock_course(course)  # two coordinators publishing at once: the second sees it published
    if course.status is not CourseStatus.DRAFT:
        raise DomainError(f"Only a draft course can be published; this one is {course.status.value}.")
    if course.starts_at is None or course.starts_at <= now:
        raise DomainError("This course has already started, so it cannot be published. Change its dates first.")
    if problem := teaching_problem(course):
        raise DomainError(problem, field="instructor")
    course.status = CourseStatus.PUBLISHED
    db.session.flush()
    audit.record("course.published", course, actor)
    signals.course_published.send(course)
    return course


def cancel_course(course: Course, reason: str, actor: User | None = None) -> int:
    """Cancel a course and tell every booked trainee (the calendar event becomes STATUS:CANCELLED).

    Every live booking is cancelled with the course, and places paid with an employer's voucher are
    handed back to their holders to use on another course. Returns how many trainees were told.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Enter the reason for cancelling; booked trainees are told it.", field="reason")
    lock_course(course)  # first, then check: a course cancelled meanwhile is not cancelled (and emailed) twice
    refuse_if_closed_for_changes(course)
    was = {booking.id: booking.status for booking in live_bookings(course)}
    course.status = CourseStatus.CANCELLED
    course.cancelled_reason = reason
    course.sequence += 1
    released = [booking for answer in signals.course_cancelled.send(course, reason=reason) for booking in answer]
    notified = emails.tell_booked_trainees(course, "course_cancelled", f"Course cancelled: {course.title}",
                              [(booking, was.get(booking.id, booking.status)) for booking in released])
    audit.record("course.cancelled", course, actor, reason=reason, notified=notified,
                 bookings_cancelled=len(released))
    return notified


def live_bookings(course: Course) -> list[Booking]:
    return list(db.session.scalars(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]))
        .options(joinedload(Booking.person))
        .order_by(Booking.id)
    ))


def teaching_problem(course: Course) -> str | None:
    """Why nobody on the course can teach it (it needs an instructor licensed for its type on its dates), or None."""
    kind = course.course_type.name
    if not course.instructors:
        return (f"Add an instructor before publishing: the course needs an instructor licensed for {kind} "
                f"on its dates ({_date_span(course)}).")
    problems = [instructor_problem(i, list(course.sessions), exclude_course=course, course_type=course.course_type)
                for i in course.instructors]
    if all(problems):
        return (f"No instructor on this course can teach it, so it cannot be published: {'; '.join(problems)}. "
                f"Add an instructor licensed for {kind} on its dates ({_date_span(course)}).")
    return None


def _date_span(course: Course) -> str:
    first, last = to_london(course.starts_at).date(), to_london(course.ends_at).date()
    return f"{first:%-d %B %Y}" if first == last else f"{first:%-d %B %Y} to {last:%-d %B %Y}"


def instructor_problem(instructor: Instructor, sessions: list[SessionTimes] | list[CourseSession], *,
                       exclude_course: Course | None = None, course_type: CourseType | None = None) -> str | None:
    """Why the instructor cannot teach these sessions (licence, or a clashing course), or None."""
    name = instructor.person.full_name
    if not instructor.active:
        return f"{name} is not an active instructor"
    if course_type is not None and not instructor.licensed_for(course_type):
        return (f"{name}'s licence does not cover {course_type.name}: they have no qualification recorded "
                f"to deliver it")
    if not sessions:
        return None
    last_day = to_london(max(s.ends_at for s in sessions)).date()
    expires = instructor.licence_expires_on
    if expires < london_today():
        return f"{name}'s licence expired on {expires:%-d %B %Y}"
    if expires < last_day:
        return f"{name}'s licence expires on {expires:%-d %B %Y}, before the course ends on {last_day:%-d %B %Y}"
    overlaps = sa.or_(*[
        sa.and_(CourseSession.starts_at < s.ends_at, CourseSession.ends_at > s.starts_at) for s in sessions
    ])
    query = (
        sa.select(Course, CourseSession)
        .join(CourseSession, CourseSession.course_id == Course.id)
        .join(course_instructor, course_instructor.c.course_id == Course.id)
        .where(
            course_instructor.c.instructor_id == instructor.id,
            Course.status.in_([CourseStatus.DRAFT, CourseStatus.PUBLISHED]),
            overlaps,
        )
        .order_by(CourseSession.starts_at)
        .limit(1)
    )
    if exclude_course is not None and exclude_course.id is not None:
        query = query.where(Course.id != exclude_course.id)
    clash = db.session.execute(query).first()
    if clash is None:
        return None
    other, session = clash
    return (f"{name} is already teaching {other.title} (course {other.id}, {other.location_label}) "
            f"on {format_london(session.starts_at)} to {format_london(session.ends_at, '%-I:%M%p').lower()}, "
            f"at the same time")


def course_history(course: Course) -> list:
    """The course's audit trail, newest first, with who did each thing."""
    return list(db.session.execute(
        sa.select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.entity_type == Course.__tablename__, AuditEvent.entity_id == course.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    ).all())
