"""Who gets a seat that frees: automatic promotion, or a time-limited offer close to the course.

A seat that frees more than the offer window before the course (programme setting, seven days by
default) goes to the first person waiting at once, as it always has; they are told, and can give it
back with one click (the link in their email, or the button on My courses), which passes it on.

Within the window people may have made other plans, so the first person waiting is *offered* the
seat for a limited time (programme setting, 24 hours by default), with accept and decline links
that carry an unguessable token. The seat is held for them meanwhile: a held offer counts as taken
(``TAKES_A_SEAT``), so nobody booking jumps the queue. Declined, or not accepted in time, their
waiting-list place ends and the seat is offered to the next person. Expiry is applied by the
``send-reminders`` cron job and, lazily, whenever the offer's link or its person's courses are opened.

Every change happens under the course lock (the caller takes it, or these functions do), so an offer
accepted at the moment it expires is either accepted or passed on, never both.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from mhfa.bookings import emails
from mhfa.bookings.deadlines import waiting_list_moves
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.bookings.vouchers import return_voucher
from mhfa.courses.models import Course
from mhfa.errors import Conflict, NotFound
from mhfa.extensions import db
from mhfa.locks import lock_booking, lock_course, lock_vouchers
from mhfa.reach.models import ProgrammeSettings
from mhfa.timeutil import format_london, utcnow

DEFAULT_OFFER_WINDOW_DAYS = 7
DEFAULT_OFFER_HOURS = 24
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")  # what new_token makes; anything else is never looked up
EXPIRED = "The place offered was not accepted in time"

#: A waiting-list place with an offer not yet answered: it holds a seat.
HOLDS_OFFER = sa.and_(Booking.status == BookingStatus.WAITLISTED, Booking.offer_expires_at.is_not(None))
#: The bookings that take a seat: confirmed places and offers not yet answered.
TAKES_A_SEAT = sa.or_(Booking.status == BookingStatus.CONFIRMED, HOLDS_OFFER)


@dataclass(frozen=True)
class OfferRules:
    window: timedelta
    hours: int

    @property
    def lasts(self) -> timedelta:
        return timedelta(hours=self.hours)


def offer_rules() -> OfferRules:
    """The programme's rules for offers (the defaults until the settings are saved)."""
    row = db.session.execute(
        sa.select(ProgrammeSettings.offer_window_days, ProgrammeSettings.offer_hours)
        .order_by(ProgrammeSettings.id).limit(1)
    ).first()
    days, hours = row if row is not None else (DEFAULT_OFFER_WINDOW_DAYS, DEFAULT_OFFER_HOURS)
    return OfferRules(timedelta(days=days), hours)


def offer_applies(course: Course, now: datetime | None = None) -> bool:
    """Whether a seat freeing now would be offered for a limited time rather than given at once."""
    return course.starts_at is not None and course.starts_at - (now or utcnow()) <= offer_rules().window


def pending_offers(course: Course) -> list[Booking]:
    """The course's offers not yet answered, first made first."""
    return list(db.session.scalars(sa.select(Booking).where(Booking.course_id == course.id, HOLDS_OFFER)
                                   .order_by(Booking.id)))


def seats_taken(course: Course) -> int:
    """Confirmed places and held offers (the seat count under the course lock)."""
    return db.session.scalar(
        sa.select(sa.func.count(Booking.id)).where(Booking.course_id == course.id, TAKES_A_SEAT)
    ) or 0


def holds_offer(booking: Booking) -> bool:
    return booking.status is BookingStatus.WAITLISTED and booking.offer_expires_at is not None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def fill_free_seats(course: Course, now: datetime) -> list[Booking]:
    """Give free seats to the head of the waiting list (the caller holds the course lock).

    Returns the bookings promoted at once; those offered a seat are emailed their offer instead.
    """
    if not waiting_list_moves(course, now):
        return []
    free = course.capacity - seats_taken(course)
    if free <= 0:
        return []
    waiting = list(db.session.scalars(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.status == BookingStatus.WAITLISTED,
               Booking.offer_expires_at.is_(None))
        .order_by(Booking.id)
        .limit(free)
    ))
    rules = offer_rules()
    offering = offer_applies(course, now)
    for booking in waiting:
        booking.answer_token = new_token()
        if offering:
            booking.offered_at = now
            booking.offer_expires_at = min(now + rules.lasts, course.starts_at)
        else:
            booking.status = BookingStatus.CONFIRMED
            booking.confirmed_at = now
            if booking.voucher is not None:
                booking.voucher.spend()  # the held voucher now pays for the seat
    db.session.flush()
    for booking in waiting:
        if offering:
            emails.waiting_list_offer(booking, rules.hours)
        else:
            emails.booking_promoted(booking)
    return [] if offering else waiting


def _end_offer(booking: Booking, now: datetime, reason: str) -> None:
    """The offer is declined or ran out: the waiting-list place ends and any held voucher goes back."""
    lock_vouchers([booking.voucher_id])
    return_voucher(booking)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = reason
    db.session.flush()


def expire_offers_of(course: Course, now: datetime) -> list[Booking]:
    """Pass on every offer of the course that ran out (the caller holds the course lock); the expired ones."""
    query = sa.select(Booking).where(Booking.course_id == course.id, HOLDS_OFFER)
    if waiting_list_moves(course, now):  # else the course has started or gone: every offer ends
        query = query.where(Booking.offer_expires_at <= now)
    expired = list(db.session.scalars(query.order_by(Booking.id).execution_options(populate_existing=True)))
    for booking in expired:
        _end_offer(booking, now, EXPIRED)
        emails.waiting_list_offer_expired(booking)
    if expired:
        fill_free_seats(course, now)
    return expired


def expire_due_offers(now: datetime | None = None, *, person_id: int | None = None) -> int:
    """Pass on the offers that ran out (the cron job; ``person_id``: only that person's courses, looked at
    lazily when they open their list). Each course under its lock. Returns how many expired."""
    now = now or utcnow()
    query = (sa.select(Booking.course_id).join(Course, Course.id == Booking.course_id)
             .where(HOLDS_OFFER, sa.or_(Booking.offer_expires_at <= now, Course.starts_at <= now)).distinct())
    if person_id is not None:
        query = query.where(Booking.person_id == person_id)
    expired = 0
    for course_id in sorted(db.session.scalars(query)):
        expired += len(expire_offers_of(lock_course(db.session.get(Course, course_id)), now))
    return expired


def check_offer(booking: Booking, now: datetime | None = None) -> bool:
    """Pass on the booking's course's offers that ran out (looked at lazily, when the offer's page is opened);
    whether this booking's offer was one of them."""
    now = now or utcnow()
    expired = expire_offers_of(lock_course(booking.course), now)
    db.session.refresh(booking)
    return booking in expired


# --- the links in the emails -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """What answering a link did: ``accepted``, ``declined``, ``given_back`` or ``expired`` (the offer ran
    out first and has passed to the next person)."""

    outcome: str
    booking: Booking


def booking_for_token(token: str) -> Booking:
    """The booking an offer or give-back link names; NotFound for any other token."""
    token = (token or "").strip()
    booking = (db.session.scalar(sa.select(Booking).where(Booking.answer_token == token))
               if TOKEN_SHAPE.fullmatch(token) else None)
    if booking is None:
        raise NotFound("this link is not recognised: use the link in your latest email, or see My courses")
    return booking


def answer_offer(booking: Booking, *, accept: bool, now: datetime | None = None) -> Answer:
    """Accept or decline the seat offered; an offer that ran out is passed on first (and says so, no error)."""
    now = now or utcnow()
    course = lock_course(booking.course)
    db.session.refresh(booking)
    expire_offers_of(course, now)
    db.session.refresh(booking)
    if not holds_offer(booking):
        if booking.status is BookingStatus.CANCELLED and booking.cancel_reason == EXPIRED:
            return Answer("expired", booking)
        if booking.status is BookingStatus.CONFIRMED:
            raise Conflict("you have already accepted this place")
        raise Conflict("this offer has already been answered")
    if accept:
        lock_vouchers([booking.voucher_id])
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at = now
        booking.offer_expires_at = None
        if booking.voucher is not None:
            booking.voucher.spend()
        db.session.flush()
        emails.booking_promoted(booking)
        return Answer("accepted", booking)
    _end_offer(booking, now, "Declined the place offered from the waiting list")
    fill_free_seats(course, now)
    return Answer("declined", booking)


def can_give_back(booking: Booking, now: datetime | None = None) -> bool:
    """A seat that came from the waiting list can be given back with one click until the course starts."""
    now = now or utcnow()
    return (booking.status is BookingStatus.CONFIRMED and booking.answer_token is not None
            and booking.waitlisted_at is not None and waiting_list_moves(booking.course, now))


def give_back(booking: Booking, *, now: datetime | None = None) -> Answer:
    """Give back a seat that came from the waiting list: it goes to the next person waiting."""
    now = now or utcnow()
    course = lock_booking(booking)
    if booking.status is BookingStatus.CANCELLED:
        raise Conflict("this place has already been given back")
    if not can_give_back(booking, now):
        raise Conflict(f"this course started on {format_london(course.starts_at)}: the place can no longer be given"
                       " back")
    return_voucher(booking)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = "Gave back the place that came from the waiting list"
    db.session.flush()
    emails.booking_cancelled(booking, by_someone_else=False, was_waitlisted=False)
    fill_free_seats(course, now)
    return Answer("given_back", booking)
