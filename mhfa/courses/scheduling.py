"""Scheduling courses: create, change, reschedule, publish and cancel, keeping the rules of
``mhfa.courses.rules``.

Each change takes the course lock first (``mhfa.locks``), then checks. A refused change raises
``InvalidCourse`` with every problem found, before anything is changed. A published course whose
times or place change is rescheduled: SEQUENCE goes up and every booked trainee is emailed. Bookings
follow through the hooks in ``mhfa.courses.signals`` (courses never import bookings).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa.areas.services import all_areas
from mhfa.audit import services as audit
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import User
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses import emails, signals
from mhfa.courses.models import Course, CourseSession, CourseStatus, CourseType, DeliveryMode, FundingStream, Venue
from mhfa.courses.rules import (
    MAX_DELIVERY_COST_PENCE,
    CourseDetails,
    InvalidCourse,
    SessionTimes,
    rule_problems,
    session_times,
    stream_problem,
    teaching_problem,
)
from mhfa.employers.models import Employer
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.locks import lock_course
from mhfa.timeutil import utcnow


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


def closed_for_changes(course: Course) -> str | None:
    """Why a course can no longer be changed or cancelled (it is cancelled or completed), or None."""
    try:
        refuse_if_closed_for_changes(course)
    except DomainError as error:
        return error.message
    return None


def create_course(details: CourseDetails, actor: User | None = None, *, now: datetime | None = None) -> Course:
    """A new draft course with its sessions; nothing is added if any rule is broken."""
    problems = rule_problems(details, None, sessions_changed=True, now=now or utcnow())
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


def delete_unless_on_courses(thing, courses: int, refusal: str, event: str, actor: User | None, **details) -> None:
    """Delete a venue or an instructor, audited as ``event``, unless ``courses`` courses use it: then refuse,
    saying ``refusal`` (what to do instead)."""
    if courses:
        raise DomainError(refusal)
    audit.record(event, thing, actor, **details)
    db.session.delete(thing)
    db.session.flush()


def update_course(course: Course, details: CourseDetails, actor: User | None = None, *,
                  now: datetime | None = None) -> Course:
    """Change a course. On a published course, new times or a new place (another venue, or a new joining
    link for an online course) are a reschedule: the calendar SEQUENCE goes up and every booked trainee
    is told, with the updated calendar file."""
    lock_course(course)  # first: its status and the places booked cannot change until this transaction ends
    refuse_if_closed_for_changes(course)
    old_times = session_times(course)
    sessions_changed = sorted(details.sessions) != old_times
    problems = rule_problems(details, course, sessions_changed=sessions_changed, now=now or utcnow())
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


def change_course(course: Course, details: CourseDetails, actor: User | None = None) -> bool:
    """Change a course (``update_course``); True when the change rescheduled it, so its booked trainees
    were told."""
    sequence = course.sequence
    update_course(course, details, actor)
    return course.sequence > sequence


def course_form_choices(course: Course | None = None) -> dict:
    """What the course form offers: active course types and venues (and the course's own), areas, employers."""
    types = db.session.scalars(sa.select(CourseType).order_by(CourseType.name)).all()
    venues = db.session.scalars(
        sa.select(Venue).options(joinedload(Venue.council_area)).order_by(Venue.name)
    ).all()
    keep_type = course.course_type_id if course else None
    keep_venue = course.venue_id if course else None
    return {
        "course_types": [t for t in types if t.active or t.id == keep_type],
        "venues": [v for v in venues if v.active or v.id == keep_venue],
        "areas": all_areas(),
        "employers": list(db.session.scalars(sa.select(Employer).order_by(Employer.name))),
    }


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


def record_funding(course: Course, stream: FundingStream, delivery_cost_pence: int | None,
                   actor: User | None = None) -> Course:
    """Set a course's funding stream and delivery cost, also once it has run (audited); not on a cancelled course."""
    if course.status is CourseStatus.CANCELLED:
        raise DomainError("This course has been cancelled, so it has no funding to record.")
    if problem := stream_problem(course, stream):
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


def course_history(course: Course) -> list:
    """The course's audit trail, newest first, with who did each thing."""
    return list(db.session.execute(
        sa.select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.entity_type == Course.__tablename__, AuditEvent.entity_id == course.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    ).all())
