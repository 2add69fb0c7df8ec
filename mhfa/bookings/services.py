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

from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, joinedload

from mhfa.attendance.models import NonCompletion, NonCompletionReason
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings import emails, offers
from mhfa.bookings.deadlines import cancellation_cutoff, contact_for
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.bookings.vouchers import return_voucher, usable_voucher
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseSession, CourseStatus
from mhfa.courses.places import places
from mhfa.employers.models import OfferState, PlaceVoucher
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.locks import lock_booking, lock_course, lock_person, lock_vouchers
from mhfa.people.models import Person
from mhfa.timeutil import format_london, to_london, utcnow

LIVE = (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)


class AlreadyBooked(Conflict):
    """The person already holds a live booking on this course (a double submit lands here)."""

    def __init__(self, booking: Booking):
        message = ("you are already booked on this course" if booking.status is BookingStatus.CONFIRMED
                   else "you are already on the waiting list for this course")
        super().__init__(message)
        self.booking = booking


# --- counting ------------------------------------------------------------------------------------

def confirmed_count(course: Course) -> int:
    """Seats taken: confirmed places and seats held for an offer from the waiting list (``offers``)."""
    return offers.seats_taken(course)


def places_left(course: Course) -> int:
    """Free places as a trainee sees them (the seat check itself counts under the course lock)."""
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


# --- eligibility ------------------------------------------------------------------------------------

def live_booking(person: Person, course: Course) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking).where(
            Booking.person_id == person.id, Booking.course_id == course.id, Booking.status.in_(LIVE)
        )
    )


def certificate_held(person: Person, course: Course) -> Certificate | None:
    """The person's newest certificate of this course's type still valid on its first day, if any: booking the
    course again is allowed (to go over it again), and the booking page says so before the person books."""
    first_day = to_london(course.starts_at).date()
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.person_id == person.id, Certificate.course_type_id == course.course_type_id,
            Certificate.revoked_at.is_(None), Certificate.issued_on <= first_day,
            sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= first_day),
        ).order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(1)
    )


def booked_on_same_kind(person: Person, course: Course, now: datetime | None = None) -> Booking | None:
    """The person's live booking (a place or a waiting-list place) on another course of this course's type that has
    not started yet, soonest first: booking this one too is allowed, and the booking page says so first."""
    return db.session.scalar(
        sa.select(Booking).join(Course, Course.id == Booking.course_id).where(
            Booking.person_id == person.id, Booking.status.in_(LIVE), Booking.course_id != course.id,
            Course.course_type_id == course.course_type_id, Course.status == CourseStatus.PUBLISHED,
            Course.starts_at > (now or utcnow()),
        ).order_by(Course.starts_at, Booking.id).limit(1)
    )


def _clashing_booking(person: Person, course: Course) -> Booking | None:
    """A live booking of the person's on another course with a session overlapping one of this course's."""
    return next((b for b in _bookings_in_the_way(person, course) if b.course_id != course.id), None)


# Made once: an alias made per call is adapted afresh each time (a profile showed it costing more than the query).
_MINE, _THEIRS, _OTHER = aliased(CourseSession), aliased(CourseSession), aliased(Course)
#: The person and the course of the queries below, which are made once (every booking asks them): a statement
#: kept is neither built nor given its cache key again.
_PERSON_ID, _COURSE_ID = sa.bindparam("person_id", type_=sa.Integer), sa.bindparam("course_id", type_=sa.Integer)


def _in_the_way(person_id, course_id) -> sa.ColumnElement[bool]:
    """A booking that is the person's live booking on this course, or a live booking of theirs on another (not
    cancelled) course with a session overlapping one of this course's."""
    mine, theirs, other = _MINE, _THEIRS, _OTHER
    overlapping = sa.exists().where(
        other.id == Booking.course_id,
        other.status != CourseStatus.CANCELLED,
        theirs.course_id == Booking.course_id,
        mine.course_id == course_id,
        theirs.starts_at < mine.ends_at,
        mine.starts_at < theirs.ends_at,
    ).correlate(Booking)
    return sa.and_(Booking.person_id == person_id, Booking.status.in_(LIVE),
                   sa.or_(Booking.course_id == course_id, overlapping))


def _places_counts(course_id) -> sa.Select:
    """One row: the course's seats taken (confirmed places and seats held for an offer, ``offers.seats_taken``)
    and its waiting places (every one)."""
    return sa.select(
        sa.func.count(Booking.id).filter(offers.TAKES_A_SEAT).label("taken"),
        sa.func.count(Booking.id).filter(Booking.status == BookingStatus.WAITLISTED).label("waiting"),
    ).where(Booking.course_id == course_id, Booking.status.in_(LIVE))


@cache
def _in_the_way_query() -> sa.Select:
    return sa.select(Booking).where(_in_the_way(_PERSON_ID, _COURSE_ID)).order_by(Booking.id)


@cache
def _in_the_way_and_places_query() -> sa.Select:
    places = _places_counts(_COURSE_ID).subquery("places")
    return (sa.select(places.c.taken, places.c.waiting, Booking).select_from(places)
            .outerjoin(Booking, _in_the_way(_PERSON_ID, _COURSE_ID)).order_by(Booking.id))


def _bookings_in_the_way(person: Person, course: Course) -> list[Booking]:
    """In one query: the person's live booking on this course, if any, and their live bookings on other (not
    cancelled) courses with a session overlapping one of this course's."""
    return list(db.session.scalars(_in_the_way_query(), {"person_id": person.id, "course_id": course.id}))


def _in_the_way_and_places(person: Person, course: Course) -> tuple[list[Booking], int, int]:
    """:func:`_bookings_in_the_way` and :func:`_places_counts` in one round trip (the caller holds the person's and
    the course's locks, so neither moves before the insert): the course's one row of counts, joined to each of the
    person's bookings in the way (usually none)."""
    rows = db.session.execute(_in_the_way_and_places_query(), {"person_id": person.id, "course_id": course.id}).all()
    return [row[2] for row in rows if row[2] is not None], rows[0][0] or 0, rows[0][1] or 0


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
    _refuse_in_the_way(course, _bookings_in_the_way(person, course))


def _refuse_in_the_way(course: Course, in_the_way: list[Booking]) -> None:
    existing = next((b for b in in_the_way if b.course_id == course.id), None)
    if existing is not None:
        raise AlreadyBooked(existing)
    if in_the_way:
        raise Conflict("you are already booked on a course at that time")


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

def book_for_user(user: User, course: Course, *, voucher: PlaceVoucher | None = None,
                  now: datetime | None = None, locked: bool = False) -> Booking:
    """Book the signed-in (or token-holding) user onto ``course`` (``locked``: see :func:`book`)."""
    return place_for_user(user, course, voucher=voucher, now=now, locked=locked)[0]


def place_for_user(user: User, course: Course, *, voucher: PlaceVoucher | None = None,
                   now: datetime | None = None, locked: bool = False) -> tuple[Booking, int | None]:
    """:func:`book_for_user`, with the new booking's waiting-list position (None for a confirmed place), as
    counted under the course lock: the answer needs no second count."""
    if user.email_confirmed_at is None or user.person is None:
        raise DomainError("confirm your email address before you book a place: use the link we emailed you",
                          field="email")
    return place(user.person, course, voucher=voucher, booked_by=user, now=now, locked=locked)


def book(person: Person, course: Course, *, voucher: PlaceVoucher | None = None, booked_by: User | None = None,
         source: BookingSource = BookingSource.SELF, now: datetime | None = None, locked: bool = False) -> Booking:
    """A confirmed place if one is free, else a place on the waiting list; or a DomainError naming the rule
    (see :func:`place`)."""
    return place(person, course, voucher=voucher, booked_by=booked_by, source=source, now=now, locked=locked)[0]


def place(person: Person, course: Course, *, voucher: PlaceVoucher | None = None, booked_by: User | None = None,
          source: BookingSource = BookingSource.SELF, now: datetime | None = None,
          locked: bool = False) -> tuple[Booking, int | None]:
    """A confirmed place if one is free, else a place on the waiting list; or a DomainError naming the rule.
    Returns the booking and its waiting-list position (None for a confirmed place).

    The seat count and the insert happen under the course lock, so capacity holds under any
    concurrency, and a second submit by the same person finds the first booking (AlreadyBooked). ``voucher``
    is the place voucher to pay with, as its holder resolved it (``vouchers.typed_voucher`` for a typed code).
    ``locked``: the caller already holds the person's and then the course's lock (in that order) and read the
    course under it (``mhfa.locks.lock_person_id``, ``lock_course_id``), so it is not locked and read again.
    """
    now = now or utcnow()
    if not locked:
        _check_open(course, now)  # fail fast before queueing for the lock
        lock_person(person)
        lock_course(course)
    _check_open(course, now)
    _check_person(person, course)
    in_the_way, taken, waiting = _in_the_way_and_places(person, course)
    _refuse_in_the_way(course, in_the_way)
    voucher = usable_voucher(voucher, person, course, now=now)
    if voucher is not None and voucher.offer is OfferState.OFFERED:
        # A place offered to someone with an account: their employer cannot book it for them until they accept;
        # they (or the programme team, on the phone with them) booking with it is their answer.
        if source is BookingSource.EMPLOYER:
            raise DomainError("this person has not accepted the place offered to them yet", field="voucher_code")
        voucher.offer, voucher.offer_answered_at = OfferState.ACCEPTED, now

    seat = taken < course.capacity
    row = dict(course_id=course.id, person_id=person.id, source=source,
               booked_by_user_id=getattr(booked_by, "id", None),
               status=BookingStatus.CONFIRMED if seat else BookingStatus.WAITLISTED,
               confirmed_at=now if seat else None, waitlisted_at=None if seat else utcnow())
    if voucher is not None:
        row.update(voucher_id=voucher.id, source=BookingSource.EMPLOYER)
        voucher.use(seat=seat, person_id=person.id, now=now)
    booking = _insert(row)
    if booking is None:
        # Only reachable without the locks (e.g. a row written outside this service): the unique
        # indexes still refuse a second live booking or a voucher used twice (the insert does nothing).
        existing = live_booking(person, course)
        if existing is not None:
            raise AlreadyBooked(existing)
        raise Conflict("that place voucher has already been used", field="voucher_code")

    if seat:
        emails.booking_confirmed(booking, now)
        return booking, None
    # Under the course lock the new booking is the last of the waiting list (ids grow under the lock).
    emails.booking_waitlisted(booking, waiting + 1)
    return booking, waiting + 1


def _insert(row: dict) -> Booking | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the booking: None when a unique index refused it (instead of a
    savepoint around the insert: one statement, and the transaction stays usable either way)."""
    dialect_insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return db.session.scalars(
        dialect_insert(Booking).values(**row).on_conflict_do_nothing().returning(Booking)
    ).one_or_none()


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
    course = lock_booking(booking)
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
    voucher = return_voucher(booking)  # a paid place: its holder can use the voucher on another course
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = (reason or "").strip()[:200] or None
    db.session.flush()
    by_someone_else = by is None or by.person_id != booking.person_id
    if by_someone_else:
        audit.record("booking.cancelled", booking, by, person_id=booking.person_id, course_id=course.id,
                     was=("waitlisted" if was_waitlisted else "confirmed"), reason=booking.cancel_reason,
                     voucher_id=voucher.id if voucher else None)
    emails.booking_cancelled(booking, by_someone_else=by_someone_else, was_waitlisted=was_waitlisted)
    return _promote_waiting(course, now)  # a waiting-list place may have held an offered seat


def release_course_bookings(course: Course, reason: str, *, now: datetime | None = None) -> list[Booking]:
    """The course is cancelled: cancel every live booking on it and hand paid places back.

    Returns the bookings released, so the caller can tell each trainee (one email about the course,
    not one per booking). The caller holds the course lock.
    """
    now = now or utcnow()
    live = (Booking.course_id == course.id, Booking.status.in_(LIVE))
    lock_vouchers(db.session.scalars(sa.select(Booking.voucher_id).where(*live)))
    released = list(db.session.scalars(  # read after the voucher locks: what their holders look like now
        sa.select(Booking).where(*live).order_by(Booking.id).options(joinedload(Booking.voucher))
        .execution_options(populate_existing=True)
    ))
    for booking in released:
        if booking.status is BookingStatus.CONFIRMED:  # why this place ended without completion
            db.session.add(NonCompletion(course_id=course.id, booking_id=booking.id, person_id=booking.person_id,
                                         missed_session_ids=[], reason=NonCompletionReason.COURSE_CANCELLED,
                                         detail=reason[:200], recorded_at=now))
        return_voucher(booking)
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = f"Course cancelled: {reason}"[:200]
    db.session.flush()
    return released


def _promote_waiting(course: Course, now: datetime) -> list[Booking]:
    """Fill free seats from the head of the waiting list (the caller holds the course lock): promoted at once,
    or offered for a limited time close to the course (``mhfa.bookings.offers``). Returns those promoted."""
    return offers.fill_free_seats(course, now)


def fill_from_waiting_list(course: Course, now: datetime | None = None) -> list[Booking]:
    """Promote waiting people into any free seats (e.g. after the capacity was raised)."""
    lock_course(course)
    return _promote_waiting(course, now or utcnow())
