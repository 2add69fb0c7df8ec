"""Reading bookings: the course to book, one booking, a course's places and waiting list, a person's courses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from mhfa.attendance.models import Completion, NonCompletion, NonCompletionReason
from mhfa.auth.models import User
from mhfa.bookings.deadlines import waiting_list_moves
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.bookings.services import LIVE, waiting_positions
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus
from mhfa.courses.visibility import can_view_course, course_for_viewer, viewer_booking
from mhfa.db_types import MAX_ID
from mhfa.employers.models import USABLE_ORDER_STATUSES, Order, PlaceVoucher, VoucherStatus
from mhfa.errors import NotFound
from mhfa.extensions import db
from mhfa.locks import lock_course_id, lock_person, lock_person_id
from mhfa.people.models import Person
from mhfa.timeutil import format_london, utcnow


def course_for_booking(course_id: int, user, voucher_code: str | None = None) -> Course:
    """The course to book, if the user may see it (the course pages' rule), or NotFound.

    A closed course is seen by the people ``closed_course_access`` names; the code of a place voucher
    of that employer (on a confirmed order, not cancelled) also opens it, so a link with the voucher
    code reaches the booking page, which then says whether the voucher can pay for this place.
    """
    try:
        course, _ = course_for_viewer(course_id, user)
    except NotFound:
        course = db.session.get(Course, course_id)
        code = (voucher_code or "").strip()
        if course is None or not course.is_closed or course.status is not CourseStatus.PUBLISHED or not code:
            raise
        opens = db.session.scalar(
            sa.select(PlaceVoucher.id).join(Order, Order.id == PlaceVoucher.order_id)
            .where(PlaceVoucher.code == code, Order.employer_id == course.employer_id,
                   Order.status.in_(USABLE_ORDER_STATUSES), PlaceVoucher.status != VoucherStatus.CANCELLED)
        )
        if opens is None:
            raise
    if course.status is CourseStatus.DRAFT:
        raise NotFound("There is no such course.")
    return course


def course_to_book(course_id: int, user, voucher_code: str | None = None) -> Course:
    """:func:`course_for_booking` for booking at once: the user's person is locked, then the course, which is
    read under its lock with what booking and its answer show (type, venue, sessions, instructors), once.
    The caller books with ``locked=True``; NotFound as :func:`course_for_booking`."""
    if not 0 < course_id <= MAX_ID:
        raise NotFound("There is no such course.")
    if user.person_id is not None and "person" not in sa.inspect(user).dict:
        # The person read by their lock is the user's (kept on the user: the session only holds it weakly).
        set_committed_value(user, "person", lock_person_id(user.person_id))
    elif user.person is not None:
        lock_person(user.person)
    course = lock_course_id(course_id, *_read_to_book())
    if course is None:
        raise NotFound("There is no such course.")
    # The viewer's booking matters only to see a cancelled or closed course (an open one is everyone's).
    booking = viewer_booking(course, user) if course.status is CourseStatus.CANCELLED or course.is_closed else None
    if not can_view_course(course, user, booking):
        return course_for_booking(course_id, user, voucher_code)  # a closed course a voucher code may open
    if course.status is CourseStatus.DRAFT:
        raise NotFound("There is no such course.")
    return course


@cache
def _read_to_book() -> tuple:
    """What booking a course and its answer show, loaded with the course: made once, so the locked read is the same
    statement every time (``mhfa.locks`` keeps it)."""
    return (joinedload(Course.course_type), joinedload(Course.venue), joinedload(Course.sessions),
            joinedload(Course.instructors))


def get_booking(booking_id: int) -> Booking:
    """Any booking, for the programme team; NotFound if there is none."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("booking not found")
    return booking


@dataclass
class CourseBookings:
    """A course's live bookings: confirmed places, and the waiting list first in line first."""

    confirmed: list[Booking]
    waiting: list[Booking]


def course_bookings(course: Course) -> CourseBookings:
    """The course's confirmed places and its waiting list in order, each with its person, in one query."""
    bookings = db.session.scalars(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.status.in_(LIVE))
        .options(joinedload(Booking.person))
        .order_by(Booking.id)
    ).all()
    return CourseBookings(
        confirmed=[b for b in bookings if b.status is BookingStatus.CONFIRMED],
        waiting=[b for b in bookings if b.status is BookingStatus.WAITLISTED],
    )


def next_waiting(course: Course, now: datetime | None = None) -> Booking | None:
    """The first person on the course's waiting list, if a seat that frees now would go to them."""
    if not waiting_list_moves(course, now or utcnow()):
        return None
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.id).limit(1)
    )


def booking_of(user: User, booking_id: int) -> Booking:
    """The user's own booking, or NotFound (another person's booking is not revealed to exist)."""
    booking = get_booking(booking_id)
    if user.person_id is None or booking.person_id != user.person_id:
        raise NotFound("booking not found")
    return booking


@dataclass
class MyCourses:
    upcoming: list[Booking]
    past: list[Booking]
    cancelled: list[Booking]
    positions: dict[int, int]
    certificates: list[Certificate]
    outcomes: dict[int, str] = field(default_factory=dict)   # a past booking's id: what came of it


def _place_note(record: NonCompletion) -> str:
    if record.place_returned is None:
        return ""
    return (" Your employer's place went back to them." if record.place_returned
            else " Your employer's place was used up.")


def _outcomes(past: list[Booking]) -> dict[int, str]:
    """For each past booking, whether the trainee completed the course, and if not, why."""
    ids = [b.id for b in past]
    if not ids:
        return {}
    completed = set(db.session.scalars(sa.select(Completion.booking_id).where(Completion.booking_id.in_(ids))))
    records = {record.booking_id: record for record in db.session.scalars(
        sa.select(NonCompletion).where(NonCompletion.booking_id.in_(ids)))}
    missed = {booking_id: record.missed_session_ids for booking_id, record in records.items()}
    outcomes = {}
    for booking in past:
        course = booking.course
        if booking.status is BookingStatus.WAITLISTED:
            outcomes[booking.id] = "You were on the waiting list and did not get a place."
        elif booking.id in completed:
            outcomes[booking.id] = "Completed."
        elif booking.id in records and records[booking.id].reason is NonCompletionReason.WITHDREW:
            detail = records[booking.id].detail
            outcomes[booking.id] = ("Did not complete: you withdrew part-way" + (f" ({detail})" if detail else "")
                                    + ". A certificate needs every session.")
        elif booking.id in records and records[booking.id].reason is NonCompletionReason.DID_NOT_ATTEND:
            outcomes[booking.id] = "Did not complete: you did not attend." + _place_note(records[booking.id])
        elif booking.id in missed:
            days = [format_london(s.starts_at, "%-d %B %Y") for s in course.sessions
                    if s.id in set(missed[booking.id] or [])]
            sessions = "sessions" if len(days) > 1 else "session"
            outcomes[booking.id] = (f"Did not complete: you were absent from the {sessions} on "
                                    + (", ".join(days) or "one of its days") + ". A certificate needs every session.")
        elif course.status is CourseStatus.CANCELLED:
            outcomes[booking.id] = "Did not complete: the course was cancelled."
        elif course.status is CourseStatus.PUBLISHED:
            outcomes[booking.id] = ("Not completed yet: the instructor has still to complete the course. "
                                    "You will be emailed your certificate when they do.")
        else:
            outcomes[booking.id] = "Did not complete."
    return outcomes


def my_courses(person: Person | None, now: datetime | None = None) -> MyCourses:
    """A person's bookings (upcoming, past, cancelled), waiting-list positions and certificates."""
    if person is None:
        return MyCourses([], [], [], {}, [])
    now = now or utcnow()
    bookings = list(db.session.scalars(
        sa.select(Booking).join(Course, Course.id == Booking.course_id)
        .where(Booking.person_id == person.id)
        .order_by(Course.starts_at, Booking.id)
        .options(
            contains_eager(Booking.course).joinedload(Course.course_type),
            contains_eager(Booking.course).joinedload(Course.venue),
            contains_eager(Booking.course).selectinload(Course.sessions),
        )
    ).unique())
    live = [b for b in bookings if b.status is not BookingStatus.CANCELLED]
    # A cancellation followed by a new booking of the same course is history: the course shows once, as booked.
    rebooked = {b.course_id for b in live}
    cancelled = [b for b in bookings if b.status is BookingStatus.CANCELLED and b.course_id not in rebooked]
    # A completed course is past at once (its certificate is issued), whatever the clock says.
    upcoming = [b for b in live if b.course.status is not CourseStatus.COMPLETED
                and (b.course.ends_at is None or b.course.ends_at >= now)]
    past = [b for b in reversed(live) if b not in upcoming]
    certificates = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.person_id == person.id).order_by(Certificate.issued_on.desc())
    ))
    return MyCourses(upcoming, past, list(reversed(cancelled)), waiting_positions(live), certificates,
                     _outcomes(past))
