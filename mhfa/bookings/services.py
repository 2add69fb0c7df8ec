"""Booking: eligibility, capacity, the waiting list, cancellation and promotion.

Capacity is never exceeded, whatever the concurrency. Every change to a course's places happens in
one transaction that first locks the course row (``SELECT … FOR NO KEY UPDATE`` on PostgreSQL; on
SQLite an UPDATE of the row, which takes the database's single write lock), then counts, then writes. A
second booking for the same course waits for the first to commit, so it counts the seat the first
one took. The waiting list is first in, first out by booking ``id``: the id is assigned when the
booking is inserted, under the lock, so its order is the order in which bookings got the lock,
whatever the clocks of the hosts say (``waitlisted_at`` is kept as information only).

Services never commit: the caller (a view, the API or the CLI) commits once. Emails are queued and
go out only after that commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, contains_eager, joinedload

from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseSession, CourseStatus
from mhfa.employers.models import USABLE_ORDER_STATUSES, Order, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.notify import messages
from mhfa.people.models import Person
from mhfa.timeutil import format_london, london_to_utc, to_london, utcnow

#: When a course sets no cancellation cut-off, trainees can cancel online until this many calendar days
#: before it starts, at the same London wall-clock time (9am Monday: 9am Saturday, across a clock change too).
DEFAULT_CANCELLATION_CUTOFF = timedelta(days=2)

LIVE = (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)
USABLE_VOUCHER = (VoucherStatus.AVAILABLE, VoucherStatus.ASSIGNED)


class AlreadyBooked(Conflict):
    """The person already holds a live booking on this course (a double submit lands here)."""

    def __init__(self, booking: Booking):
        message = ("you are already booked on this course" if booking.status is BookingStatus.CONFIRMED
                   else "you are already on the waiting list for this course")
        super().__init__(message)
        self.booking = booking


# --- dates that govern a course's bookings -----------------------------------------------------

def booking_closes_at(course: Course) -> datetime | None:
    """Bookings close at the course's deadline, or when its first session starts (``Course.booking_closes_at``)."""
    return course.booking_closes_at


def cancellation_cutoff(course: Course) -> datetime | None:
    """Until when a trainee can cancel a confirmed place online."""
    if course.cancellation_cutoff is not None:
        return course.cancellation_cutoff
    if course.starts_at is None:
        return None
    # Calendar days on the London wall clock, not 48 hours of UTC: a course at 9am on the Monday
    # after the clocks go forward can be cancelled until 9am on the Saturday, not 8am.
    wall_clock = to_london(course.starts_at).replace(tzinfo=None)
    return london_to_utc(wall_clock - DEFAULT_CANCELLATION_CUTOFF)


def contact_for(course: Course) -> str:
    """Whom to contact once a booking can no longer be cancelled online."""
    email = current_app.config["MHFA_CONTACT_EMAIL"]
    if course.is_closed and course.employer is not None:
        return f"the MHFA Reach programme team at {email} (or your contact at {course.employer.name})"
    return f"the MHFA Reach programme team at {email}"


# --- counting ------------------------------------------------------------------------------------

def confirmed_count(course: Course) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Booking.id)).where(
            Booking.course_id == course.id, Booking.status == BookingStatus.CONFIRMED
        )
    ) or 0


def places_left(course: Course) -> int:
    """Free places as a trainee sees them (the seat check itself counts under the course lock)."""
    from mhfa.courses.services import places

    return places(course).left


def waiting_position(booking: Booking) -> int | None:
    """1 for the first person waiting; None unless the booking is on the waiting list."""
    if booking.status is not BookingStatus.WAITLISTED:
        return None
    return db.session.scalar(
        sa.select(sa.func.count(Booking.id)).where(
            Booking.course_id == booking.course_id,
            Booking.status == BookingStatus.WAITLISTED,
            Booking.id <= booking.id,
        )
    )


def waiting_positions(bookings: list[Booking]) -> dict[int, int]:
    """Waiting-list positions of several bookings, in one query (a window over each course's list)."""
    course_ids = {b.course_id for b in bookings if b.status is BookingStatus.WAITLISTED}
    if not course_ids:
        return {}
    ranked = (
        sa.select(
            Booking.id.label("booking_id"),
            sa.func.row_number()
            .over(partition_by=Booking.course_id, order_by=Booking.id)
            .label("position"),
        )
        .where(Booking.course_id.in_(course_ids), Booking.status == BookingStatus.WAITLISTED)
        .subquery()
    )
    wanted = [b.id for b in bookings if b.status is BookingStatus.WAITLISTED]
    rows = db.session.execute(sa.select(ranked.c.booking_id, ranked.c.position).where(ranked.c.booking_id.in_(wanted)))
    return {booking_id: position for booking_id, position in rows}


# --- locks -----------------------------------------------------------------------------------------

def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def lock_course(course: Course) -> Course:
    """Hold the course row until the transaction ends; everything read after this is current.

    Changes already made in this session (e.g. a raised capacity) are flushed first, not lost.
    On PostgreSQL the lock (like every row lock here) is ``FOR NO KEY UPDATE``: it excludes every
    other lock of the row but not the foreign-key checks (``FOR KEY SHARE``) of rows that refer to it,
    so writing a booking never waits on a course or person another transaction holds, and the locks
    are only ever waited on in one order (person, course, voucher), never in a circle.
    """
    db.session.flush()
    if _is_postgresql():
        # Read the row: the ORM repopulates the object only from rows it fetches.
        db.session.execute(
            sa.select(Course).where(Course.id == course.id).with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).scalar_one()
    else:
        # SQLite has one writer at a time: writing first takes the RESERVED lock for this
        # transaction (waiting up to busy_timeout), so no other booking can count in between.
        db.session.execute(sa.text("UPDATE course SET capacity = capacity WHERE id = :id"), {"id": course.id})
        db.session.refresh(course)
    return course


def _lock_vouchers(voucher_ids) -> None:
    """Hold these place vouchers' rows until the transaction ends (on PostgreSQL; SQLite has one writer).

    Taken after the course lock and before changing a booking that holds one: booking with a voucher
    takes them in that order too, so the two never wait for each other in a circle.
    """
    ids = sorted({voucher_id for voucher_id in voucher_ids if voucher_id is not None})
    if ids and _is_postgresql():
        db.session.execute(
            sa.select(PlaceVoucher).where(PlaceVoucher.id.in_(ids)).order_by(PlaceVoucher.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )


def _lock_person(person: Person) -> None:
    """Serialise one person's bookings (on PostgreSQL), so two tabs cannot book overlapping courses at once."""
    if _is_postgresql():
        db.session.execute(sa.select(Person.id).where(Person.id == person.id).with_for_update(key_share=True))


# --- eligibility ------------------------------------------------------------------------------------

def live_booking(person: Person, course: Course) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking).where(
            Booking.person_id == person.id, Booking.course_id == course.id, Booking.status.in_(LIVE)
        )
    )


def _clashing_booking(person: Person, course: Course) -> Booking | None:
    """A live booking of the person's on another course with a session overlapping one of this course's."""
    mine = aliased(CourseSession)
    theirs = aliased(CourseSession)
    return db.session.scalar(
        sa.select(Booking)
        .join(Course, Course.id == Booking.course_id)
        .join(theirs, theirs.course_id == Booking.course_id)
        .join(mine, mine.course_id == course.id)
        .where(
            Booking.person_id == person.id,
            Booking.status.in_(LIVE),
            Booking.course_id != course.id,
            Course.status != CourseStatus.CANCELLED,
            theirs.starts_at < mine.ends_at,
            mine.starts_at < theirs.ends_at,
        )
        .limit(1)
    )


def _names(course_types) -> str:
    names = [ct.name for ct in course_types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _check_open(course: Course, now: datetime) -> None:
    problem = course.booking_refusal_at(now)  # the one booking-open rule, also behind the course pages
    if problem is not None:
        raise DomainError(problem)


def _check_person(person: Person, course: Course) -> None:
    kind = course.course_type
    if person.is_erased:
        raise DomainError("this record has been erased and cannot be booked")
    first_day = to_london(course.starts_at).date()
    age = person.age_on(first_day)
    if age is None:
        raise DomainError(
            f"this course is for people aged {kind.min_age} and over: add your date of birth to your profile",
            field="date_of_birth",
        )
    if age < kind.min_age:
        raise DomainError(f"this course is for people aged {kind.min_age} and over", field="date_of_birth")
    if kind.requires_prior_certificate:
        query = sa.select(Certificate.id).where(
            Certificate.person_id == person.id,
            Certificate.revoked_at.is_(None),
            Certificate.issued_on <= first_day,
        )
        if kind.prerequisites:
            query = query.where(Certificate.course_type_id.in_([p.id for p in kind.prerequisites]))
        if db.session.scalar(query.limit(1)) is None:
            needed = _names(kind.prerequisites) if kind.prerequisites else "an MHFA course"
            raise DomainError(f"this course is a refresher: it needs an earlier certificate from {needed}")


def _check_not_booked(person: Person, course: Course) -> None:
    existing = live_booking(person, course)
    if existing is not None:
        raise AlreadyBooked(existing)
    if _clashing_booking(person, course) is not None:
        raise Conflict("you are already booked on a course at that time")


# --- place vouchers ----------------------------------------------------------------------------------
#
# A voucher pays for one seat. A confirmed booking spends it (REDEEMED). A waiting-list booking
# holds it (``booking.voucher_id`` set, the voucher still ASSIGNED to its holder) and spends it only
# when promoted. It goes back to its holder (ASSIGNED, no booking) when the booking is cancelled, the
# course is cancelled, or the course starts or completes while the booking is still waiting. The
# unique index on ``booking.voucher_id`` means one voucher never backs two bookings at once.

def _waiting_list_closed(booking: Booking, now: datetime) -> bool:
    """A waiting-list place that can never become a seat: its course has started, completed or gone."""
    return booking.status is BookingStatus.WAITLISTED and not _waiting_list_moves(booking.course, now)


def _return_voucher(booking: Booking) -> PlaceVoucher | None:
    """Unhook the booking's voucher and give it back to its holder (a cancelled voucher stays cancelled)."""
    voucher = booking.voucher
    if voucher is None:
        return None
    if voucher.status in (VoucherStatus.ASSIGNED, VoucherStatus.REDEEMED):
        voucher.status = VoucherStatus.ASSIGNED
    booking.voucher = None
    return voucher


def _voucher_holder(voucher: PlaceVoucher) -> Booking | None:
    """The booking holding the voucher, read afresh (the caller holds the locks)."""
    return db.session.scalar(
        sa.select(Booking).where(Booking.voucher_id == voucher.id).execution_options(populate_existing=True)
    )


def return_vouchers_of_closed_waiting_lists(now: datetime | None = None) -> int:
    """Give back the vouchers held by waiting-list places whose course has started, completed or been
    cancelled (the cron job; booking with the voucher also does it, see ``_usable_voucher``). Returns how many.
    """
    now = now or utcnow()
    held = db.session.execute(
        sa.select(Booking.id, Booking.voucher_id)
        .join(Course, Course.id == Booking.course_id)
        .where(Booking.status == BookingStatus.WAITLISTED, Booking.voucher_id.is_not(None),
               sa.or_(Course.status != CourseStatus.PUBLISHED, Course.starts_at <= now))
        .order_by(Booking.course_id, Booking.id)
    ).all()
    returned = 0
    for booking_id, voucher_id in held:
        booking = db.session.get(Booking, booking_id)
        lock_course(booking.course)  # the locks in the order every booking change takes them
        _lock_vouchers([voucher_id])
        db.session.refresh(booking)
        if booking.voucher_id is not None and _waiting_list_closed(booking, now):
            _return_voucher(booking)
            returned += 1
    db.session.flush()
    return returned


def _usable_voucher(code: str | None, person: Person, course: Course, *, lock: bool,
                    now: datetime | None = None) -> PlaceVoucher | None:
    """The place voucher a code names, if it can pay for this person's place on this course.

    A closed course (run for one employer) needs a voucher of that employer's; on an open course a
    voucher is optional and pays for the place. A voucher held by a waiting-list place is refused
    while that place could still become a seat, and given back first once it cannot.
    """
    now = now or utcnow()
    code = (code or "").strip()
    if not code:
        if course.is_closed:
            employer = course.employer.name if course.employer else "one employer"
            raise DomainError(
                f"this course is only for staff of {employer}: enter the place voucher code your employer gave you",
                field="voucher_code",
            )
        return None
    query = sa.select(PlaceVoucher).where(PlaceVoucher.code == code)
    if lock:  # read afresh under the lock (on SQLite the course's write lock): a copy loaded earlier may be stale
        query = query.execution_options(populate_existing=True)
        if _is_postgresql():
            query = query.with_for_update(key_share=True)
    voucher = db.session.scalar(query)
    if voucher is None:
        raise DomainError("that place voucher code is not recognised: check it against the one you were sent",
                          field="voucher_code")
    order: Order = voucher.order
    holder = _voucher_holder(voucher)
    if holder is not None and (holder.status is BookingStatus.CANCELLED or _waiting_list_closed(holder, now)):
        _return_voucher(holder)  # held by a waiting-list place that can no longer become a seat
        holder = None
    if voucher.status is VoucherStatus.REDEEMED or (holder is not None and holder.status is BookingStatus.CONFIRMED):
        raise Conflict("that place voucher has already been used", field="voucher_code")
    if voucher.status not in USABLE_VOUCHER or order.status is OrderStatus.CANCELLED:
        raise DomainError("that place voucher has been cancelled", field="voucher_code")
    if not order.places_usable:
        raise DomainError("that place voucher cannot be used yet: your employer's order for it has not been confirmed",
                          field="voucher_code")
    if order.course_id is not None and order.course_id != course.id:
        raise DomainError("that place voucher is for another course: use it on the course your employer chose",
                          field="voucher_code")
    if voucher.expires_on is not None and voucher.expires_on < to_london(course.starts_at).date():
        raise DomainError(f"that place voucher expires on {voucher.expires_on:%-d %B %Y}, before this course",
                          field="voucher_code")
    if course.is_closed and order.employer_id != course.employer_id:
        raise DomainError("that place voucher is not for this course: it belongs to another employer",
                          field="voucher_code")
    if order.course_type_id != course.course_type_id:
        raise DomainError(f"that place voucher is for {order.course_type.name}, not this course",
                          field="voucher_code")
    if voucher.assigned_person_id is not None and voucher.assigned_person_id != person.id:
        raise DomainError("that place voucher has been given to someone else", field="voucher_code")
    if holder is not None:
        held_on = holder.course
        raise Conflict(
            f"that place voucher is held for your place on the waiting list for {held_on.course_type.name}"
            f" ({format_london(held_on.starts_at, '%-d %B %Y')}): leave that waiting list to use it on another course",
            field="voucher_code",
        )
    return voucher


def booking_problem(user: User, course: Course, now: datetime | None = None) -> str | None:
    """The rule that would refuse this user a place (other than a voucher), to say so before they try."""
    if user.email_confirmed_at is None or user.person is None:
        return "confirm your email address before you book a place: use the link we emailed you"
    try:
        _check_open(course, now or utcnow())
        _check_person(user.person, course)
        _check_not_booked(user.person, course)
    except DomainError as error:
        return error.message
    return None


# --- booking -----------------------------------------------------------------------------------------

def book_for_user(user: User, course: Course, *, voucher_code: str | None = None,
                  now: datetime | None = None) -> Booking:
    """Book the signed-in (or token-holding) user onto ``course``."""
    if user.email_confirmed_at is None or user.person is None:
        raise DomainError("confirm your email address before you book a place: use the link we emailed you",
                          field="email")
    return book(user.person, course, voucher_code=voucher_code, booked_by=user, now=now)


def book(person: Person, course: Course, *, voucher_code: str | None = None, booked_by: User | None = None,
         source: BookingSource = BookingSource.SELF, now: datetime | None = None) -> Booking:
    """A confirmed place if one is free, else a place on the waiting list; or a DomainError naming the rule.

    The seat count and the insert happen under the course lock, so capacity holds under any
    concurrency, and a second submit by the same person finds the first booking (AlreadyBooked).
    """
    now = now or utcnow()
    _check_open(course, now)  # fail fast before queueing for the lock
    _lock_person(person)
    lock_course(course)
    _check_open(course, now)
    _check_person(person, course)
    _check_not_booked(person, course)
    voucher = _usable_voucher(voucher_code, person, course, lock=True, now=now) if (
        course.is_closed or (voucher_code or "").strip()) else None

    booking = Booking(course=course, person=person, source=source, booked_by_user_id=getattr(booked_by, "id", None))
    if confirmed_count(course) < course.capacity:
        booking.status, booking.confirmed_at = BookingStatus.CONFIRMED, now
    else:
        booking.status, booking.waitlisted_at = BookingStatus.WAITLISTED, utcnow()
    if voucher is not None:
        booking.voucher = voucher
        booking.source = BookingSource.EMPLOYER
        # A seat spends the voucher; a waiting-list place only holds it, until promoted.
        voucher.status = (VoucherStatus.REDEEMED if booking.status is BookingStatus.CONFIRMED
                          else VoucherStatus.ASSIGNED)
        if voucher.assigned_person_id is None:
            voucher.assigned_person_id, voucher.assigned_at = person.id, now
    try:
        with db.session.begin_nested():
            db.session.add(booking)
    except sa.exc.IntegrityError as error:
        # Only reachable without the locks (e.g. a row written outside this service): the unique
        # indexes still refuse a second live booking or a voucher used twice.
        existing = live_booking(person, course)
        if existing is not None:
            raise AlreadyBooked(existing) from error
        raise Conflict("that place voucher has already been used", field="voucher_code") from error

    if booking.status is BookingStatus.CONFIRMED:
        messages.booking_confirmed(booking)
    else:
        messages.booking_waitlisted(booking, waiting_position(booking))
    return booking


# --- cancellation and promotion ------------------------------------------------------------------------

def can_cancel_online(booking: Booking, now: datetime | None = None) -> bool:
    """Whether the trainee can still cancel this booking themselves."""
    now = now or utcnow()
    course = booking.course
    if booking.status not in LIVE or course.status is not CourseStatus.PUBLISHED:
        return False
    if course.starts_at is not None and now >= course.starts_at:
        return False
    if booking.status is BookingStatus.WAITLISTED:
        return True  # leaving a waiting list frees nobody's seat: allowed until the course starts
    cutoff = cancellation_cutoff(course)
    return cutoff is None or now < cutoff


def cancel_booking(booking: Booking, *, by: User | None, reason: str | None = None, override_cutoff: bool = False,
                   now: datetime | None = None) -> list[Booking]:
    """Cancel a booking; if it held a seat, promote the first person waiting in the same transaction.

    Trainees cancel up to the course's cut-off (``override_cutoff`` is for the programme team).
    Returns the bookings promoted from the waiting list. A cancellation by anyone other than the
    booking's own person is written to the audit log.
    """
    now = now or utcnow()
    course = lock_course(booking.course)
    _lock_vouchers([booking.voucher_id])
    db.session.refresh(booking)
    if booking.status is BookingStatus.CANCELLED:
        raise Conflict("this booking is already cancelled")
    if course.status is CourseStatus.COMPLETED:
        raise Conflict("this course has been completed: its bookings can no longer be cancelled")
    was_waitlisted = booking.status is BookingStatus.WAITLISTED
    if not override_cutoff and not can_cancel_online(booking, now):
        if course.starts_at is not None and now >= course.starts_at:
            raise Conflict(f"this course has already started: to change your booking, contact {contact_for(course)}")
        raise Conflict(
            f"the cancellation deadline for this course ({format_london(cancellation_cutoff(course))}) has passed:"
            f" to cancel, contact {contact_for(course)}"
        )
    voucher = _return_voucher(booking)  # a paid place: its holder can use the voucher on another course
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = (reason or "").strip()[:200] or None
    db.session.flush()
    by_someone_else = by is None or by.person_id != booking.person_id
    if by_someone_else:
        audit.record("booking.cancelled", booking, by, person_id=booking.person_id, course_id=course.id,
                     was=("waitlisted" if was_waitlisted else "confirmed"), reason=booking.cancel_reason,
                     voucher_id=voucher.id if voucher else None)
    messages.booking_cancelled(booking, by_someone_else=by_someone_else, was_waitlisted=was_waitlisted)
    return [] if was_waitlisted else _promote_waiting(course, now)


def release_course_bookings(course: Course, reason: str, *, now: datetime | None = None) -> list[Booking]:
    """The course is cancelled: cancel every live booking on it and hand paid places back.

    Returns the bookings released, so the caller can tell each trainee (one email about the course,
    not one per booking). The caller holds the course lock.
    """
    now = now or utcnow()
    live = (Booking.course_id == course.id, Booking.status.in_(LIVE))
    _lock_vouchers(db.session.scalars(sa.select(Booking.voucher_id).where(*live)))
    released = list(db.session.scalars(  # read after the voucher locks: what their holders look like now
        sa.select(Booking).where(*live).order_by(Booking.id).options(joinedload(Booking.voucher))
        .execution_options(populate_existing=True)
    ))
    for booking in released:
        _return_voucher(booking)
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = f"Course cancelled: {reason}"[:200]
    db.session.flush()
    return released


def _waiting_list_moves(course: Course, now: datetime) -> bool:
    """Whether a seat that frees now goes to the waiting list: a published course not yet started."""
    return course.status is CourseStatus.PUBLISHED and (course.starts_at is None or now < course.starts_at)


def _promote_waiting(course: Course, now: datetime) -> list[Booking]:
    """Fill free seats from the head of the waiting list (the caller holds the course lock)."""
    if not _waiting_list_moves(course, now):
        return []
    free = course.capacity - confirmed_count(course)
    if free <= 0:
        return []
    promoted = list(db.session.scalars(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.id)
        .limit(free)
    ))
    for booking in promoted:
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at = now
        if booking.voucher is not None and booking.voucher.status is VoucherStatus.ASSIGNED:
            booking.voucher.status = VoucherStatus.REDEEMED  # the held voucher now pays for the seat
    db.session.flush()
    for booking in promoted:
        messages.booking_promoted(booking)
    return promoted


def fill_from_waiting_list(course: Course, now: datetime | None = None) -> list[Booking]:
    """Promote waiting people into any free seats (e.g. after the capacity was raised)."""
    lock_course(course)
    return _promote_waiting(course, now or utcnow())


# --- reading -------------------------------------------------------------------------------------------

def course_for_booking(course_id: int, user, voucher_code: str | None = None) -> Course:
    """The course to book, if the user may see it (the course pages' rule), or NotFound.

    A closed course is seen by the people ``closed_course_access`` names; the code of a place voucher
    of that employer (on a confirmed order, not cancelled) also opens it, so a link with the voucher
    code reaches the booking page, which then says whether the voucher can pay for this place.
    """
    from mhfa.courses.services import course_for_viewer

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
    if not _waiting_list_moves(course, now or utcnow()):
        return None
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.id).limit(1)
    )


def booking_of(user: User, booking_id: int) -> Booking:
    """The user's own booking, or NotFound (another person's booking is not revealed to exist)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or user.person_id is None or booking.person_id != user.person_id:
        raise NotFound("booking not found")
    return booking


@dataclass
class MyCourses:
    upcoming: list[Booking]
    past: list[Booking]
    cancelled: list[Booking]
    positions: dict[int, int]
    certificates: list[Certificate]


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
    cancelled = [b for b in bookings if b.status is BookingStatus.CANCELLED]
    live = [b for b in bookings if b.status is not BookingStatus.CANCELLED]
    upcoming = [b for b in live if b.course.ends_at is None or b.course.ends_at >= now]
    past = [b for b in reversed(live) if b not in upcoming]
    certificates = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.person_id == person.id).order_by(Certificate.issued_on.desc())
    ))
    return MyCourses(upcoming, past, list(reversed(cancelled)), waiting_positions(live), certificates)
