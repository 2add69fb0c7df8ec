"""Place vouchers on bookings: which voucher can pay for a place, and giving held vouchers back.

A voucher pays for one seat. A confirmed booking spends it (REDEEMED). A waiting-list booking
holds it (``booking.voucher_id`` set, the voucher still ASSIGNED to its holder) and spends it only
when promoted. It goes back to its holder (ASSIGNED, no booking) when the booking is cancelled, the
course is cancelled, or the course starts or completes while the booking is still waiting. The
unique index on ``booking.voucher_id`` means one voucher never backs two bookings at once.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from mhfa.bookings.deadlines import waiting_list_moves
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import Course, CourseStatus
from mhfa.employers.models import PlaceVoucher
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.locks import lock_course, lock_voucher, lock_vouchers
from mhfa.people.models import Person
from mhfa.timeutil import format_london, utcnow


def waiting_list_closed(booking: Booking, now: datetime) -> bool:
    """A waiting-list place that can never become a seat: its course has started, completed or gone."""
    return booking.status is BookingStatus.WAITLISTED and not waiting_list_moves(booking.course, now)


def return_voucher(booking: Booking) -> PlaceVoucher | None:
    """Unhook the booking's voucher and give it back to its holder (a cancelled voucher stays cancelled)."""
    voucher = booking.voucher
    if voucher is None:
        return None
    voucher.give_back()
    booking.voucher = None
    return voucher


def voucher_holder(voucher: PlaceVoucher) -> Booking | None:
    """The booking holding the voucher, read afresh (the caller holds the locks)."""
    return db.session.scalar(
        sa.select(Booking).where(Booking.voucher_id == voucher.id).execution_options(populate_existing=True)
    )


def return_vouchers_of_closed_waiting_lists(now: datetime | None = None) -> int:
    """Give back the vouchers held by waiting-list places whose course has started, completed or been
    cancelled (the cron job; booking with the voucher also does it, see ``usable_voucher``). Returns how many.
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
        lock_vouchers([voucher_id])
        db.session.refresh(booking)
        if booking.voucher_id is not None and waiting_list_closed(booking, now):
            return_voucher(booking)
            returned += 1
    db.session.flush()
    return returned


def typed_voucher(code: str | None) -> PlaceVoucher | None:
    """The place voucher a typed code names (read where the code enters: the booking page, the API, a phone
    booking), None when no code was typed, or a refusal on the ``voucher_code`` field when it names none."""
    code = (code or "").strip()
    if not code:
        return None
    # A code is token_urlsafe text: anything else (a NUL byte, a megabyte) names no voucher, unasked.
    voucher = None if len(code) > 64 or "\x00" in code else db.session.scalar(
        sa.select(PlaceVoucher).where(PlaceVoucher.code == code))
    if voucher is None:
        raise DomainError("that place voucher code is not recognised: check it against the one you were sent",
                          field="voucher_code")
    return voucher


def usable_voucher(voucher: PlaceVoucher | None, person: Person, course: Course, *,
                   now: datetime | None = None) -> PlaceVoucher | None:
    """The voucher, locked and read afresh, if it can pay for this person's place on this course.

    A closed course (run for one employer) needs a voucher of that employer's; on an open course a
    voucher is optional and pays for the place. The voucher answers for itself (``PlaceVoucher.refusal``);
    a voucher held by a waiting-list place is refused while that place could still become a seat, and
    given back first once it cannot. The caller holds the course lock.
    """
    now = now or utcnow()
    if voucher is None:
        if course.is_closed:
            employer = course.employer.name if course.employer else "one employer"
            raise DomainError(
                f"this course is only for staff of {employer}: enter the place voucher code your employer gave you",
                field="voucher_code",
            )
        return None
    lock_voucher(voucher)
    holder = voucher_holder(voucher)
    if holder is not None and (holder.status is BookingStatus.CANCELLED or waiting_list_closed(holder, now)):
        return_voucher(holder)  # held by a waiting-list place that can no longer become a seat
        holder = None
    if holder is not None and holder.status is BookingStatus.CONFIRMED:
        raise Conflict("that place voucher has already been used", field="voucher_code")
    if refused := voucher.refusal(person, course, now):
        raise (Conflict if refused.taken else DomainError)(refused.message, field="voucher_code")
    if holder is not None:
        held_on = holder.course
        raise Conflict(
            f"that place voucher is held for your place on the waiting list for {held_on.course_type.name}"
            f" ({format_london(held_on.starts_at, '%-d %B %Y')}): leave that waiting list to use it on another course",
            field="voucher_code",
        )
    return voucher
