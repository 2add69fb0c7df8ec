"""Moving a booking to another date of the same course type, in one step.

The new place is taken (a seat, or the new date's waiting list when it is full) and the old one
released in one transaction: the employer's order of a paid place (so cancelling that order and moving
its place go one after the other), the person's row, then both courses in id order (``lock_courses``),
then the place voucher: the order of ``mhfa.locks``. Two moves crossing between the
same two courses lock them in the same order, so they never wait for each other in a circle, and each
counts seats under its locks, so neither oversells.

The old booking is cancelled with the reason "Moved to …" and the new one points back at it
(``transferred_from``), keeps its source, who booked it and when, and takes over its place voucher (so
the employer's order and its funding stream still pay for it). The seat freed on the old date goes to
that date's waiting list as any cancellation's does. One email tells the person: its calendar files
cancel the old sessions and add the new ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings import emails, services
from mhfa.bookings.deadlines import cancellation_cutoff, contact_for
from mhfa.bookings.models import MOVED_PREFIX, Booking, BookingStatus
from mhfa.courses.models import Course, CourseStatus
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.locks import lock_courses, lock_order, lock_person, lock_vouchers
from mhfa.timeutil import format_london, utcnow


@dataclass(frozen=True)
class Transfer:
    """What a move did: the new booking, the old one (now cancelled) and who moved up on the old date."""

    booking: Booking
    old: Booking
    promoted: list[Booking]


def other_dates(booking: Booking, now: datetime | None = None) -> list[Course]:
    """The dates a booking could move to: the same course type, published, still taking bookings, and open to
    its person (a closed course only when the booking's place voucher is of that employer)."""
    now = now or utcnow()
    course = booking.course
    candidates = db.session.scalars(
        sa.select(Course)
        .where(Course.course_type_id == course.course_type_id, Course.id != course.id,
               Course.status == CourseStatus.PUBLISHED, Course.starts_at > now)
        .order_by(Course.starts_at, Course.id)
    )
    employer_id = booking.voucher.order.employer_id if booking.voucher is not None else None
    return [c for c in candidates if c.booking_refusal_at(now) is None
            and (c.employer_id is None or c.employer_id == employer_id)]


def can_transfer_online(booking: Booking, now: datetime | None = None) -> bool:
    """Whether the trainee can still move this booking themselves (the same deadline as cancelling)."""
    return services.can_cancel_online(booking, now)


def transfer_booking(booking: Booking, to_course: Course | None, *, by: User | None, override_cutoff: bool = False,
                     now: datetime | None = None) -> Transfer:
    """Move ``booking`` to ``to_course`` (another date of the same course type); a DomainError naming the rule.

    Trainees move their own booking up to the cancellation cut-off; ``override_cutoff`` is for the
    programme team, who may move a booking at any time before its course is completed.
    """
    now = now or utcnow()
    if to_course is None:
        raise NotFound("choose the date to move to", field="course_id")
    old_course = booking.course
    if to_course.id == old_course.id:
        raise DomainError("this booking is already on that date: choose another date", field="course_id")
    if to_course.course_type_id != old_course.course_type_id:
        raise DomainError(f"a booking can only move to another date of {old_course.course_type.name}",
                          field="course_id")
    services._check_open(to_course, now)  # fail fast before queueing for the locks
    person = booking.person
    voucher_id = booking.voucher_id
    if booking.voucher is not None:
        # A paid place moves only while its order stands: the order's lock first (as cancelling the order
        # takes it), so a move and the order's cancellation go one after the other.
        lock_order(booking.voucher.order)
    lock_person(person)
    lock_courses([old_course, to_course])
    lock_vouchers([voucher_id])
    db.session.refresh(booking)
    if booking.status is BookingStatus.CANCELLED:
        raise Conflict("this booking is already cancelled")
    if booking.voucher_id != voucher_id:
        raise Conflict("this booking changed while you were moving it: try again")
    if old_course.status is CourseStatus.COMPLETED:
        raise Conflict("this course has been completed: its bookings can no longer be moved")
    if not override_cutoff and not can_transfer_online(booking, now):
        if old_course.starts_at is not None and now >= old_course.starts_at:
            raise Conflict("this course has already started: to change your booking, contact "
                           f"{contact_for(old_course)}")
        raise Conflict(
            f"the deadline for changing this booking online ({format_london(cancellation_cutoff(old_course))}) has"
            f" passed: to move it, contact {contact_for(old_course)}"
        )
    services._check_open(to_course, now)
    services._check_person(person, to_course)
    existing = services.live_booking(person, to_course)
    if existing is not None:
        raise services.AlreadyBooked(existing)

    was_waitlisted = booking.status is BookingStatus.WAITLISTED
    voucher = booking.voucher
    if voucher is not None:
        booking.voucher = None  # the place goes with its person: unhooked here, used again below
        voucher.give_back()
        refused = voucher.refusal(person, to_course, now)
        if refused is not None:
            raise Conflict(f"the place voucher paying for this booking cannot move: {refused.message}",
                           field="course_id")
    elif to_course.is_closed:
        raise DomainError("that date is only for one employer's staff: choose another date", field="course_id")

    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = f"{MOVED_PREFIX}{format_london(to_course.starts_at, '%-d %B %Y')}"
    db.session.flush()
    if services._clashing_booking(person, to_course) is not None:
        raise Conflict("you are already booked on a course at that time", field="course_id")

    moved = Booking(course=to_course, person=person, source=booking.source, booked_by_user_id=booking.booked_by_user_id,
                    created_at=booking.created_at, transferred_from=booking)
    if services.confirmed_count(to_course) < to_course.capacity:
        moved.status, moved.confirmed_at = BookingStatus.CONFIRMED, now
    else:
        moved.status, moved.waitlisted_at = BookingStatus.WAITLISTED, now
    if voucher is not None:
        moved.voucher = voucher
        voucher.use(seat=moved.status is BookingStatus.CONFIRMED, person_id=person.id, now=now)
    db.session.add(moved)
    db.session.flush()
    audit.record("booking.transferred", moved, by, person_id=person.id, from_booking_id=booking.id,
                 from_course_id=old_course.id, to_course_id=to_course.id, status=moved.status.value,
                 by_trainee=by is not None and by.person_id == person.id, voucher_id=voucher.id if voucher else None)
    emails.booking_transferred(booking, moved, was_waitlisted=was_waitlisted,
                               position=services.waiting_position(moved),
                               by_someone_else=by is None or by.person_id != person.id)
    promoted = services._promote_waiting(old_course, now)  # a waiting-list place may have held an offered seat
    return Transfer(booking=moved, old=booking, promoted=promoted)
