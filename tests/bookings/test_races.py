"""Races of the booking changes: two moves crossing between the same two full courses, a paid place moved
while its employer's order is cancelled, and an offer from the waiting list accepted as it expires. Each
thread has its own app context, session and connection (on PostgreSQL, row locks; on SQLite, the
database's write lock)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role, User
from mhfa.bookings import offers, services, transfers
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import Course
from mhfa.employers import orders
from mhfa.employers.models import Order, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories, races

pytestmark = pytest.mark.slow
PAIRS = 6


@pytest.fixture()
def race_app(app_ctx, smtp):
    with races.app_beside(app_ctx, *races.MAIL, "MHFA_DELIVER_AFTER_COMMIT",
                          pool_size=2 * PAIRS + 2, max_overflow=0) as application:
        yield application


def _start(days: int) -> datetime:
    return datetime.combine(datetime.now().date() + timedelta(days=days), datetime.min.time()).replace(hour=9)


def _move(booking_id: int, course_id: int, user_id: int) -> Callable[[], None]:
    def job():
        transfers.transfer_booking(db.session.get(Booking, booking_id), db.session.get(Course, course_id),
                                   by=db.session.get(User, user_id))
    return job


def test_two_moves_crossing_between_two_full_courses_never_oversell_or_deadlock(app_ctx, race_app):
    jobs, courses = [], []
    for n in range(PAIRS):
        first = factories.course(start=_start(14 + n), capacity=1)
        second = factories.course(start=_start(40 + n), capacity=1)
        one, two = factories.trainee_accounts(2, f"Cross{n}x", "Mover")
        mine = factories.booking_on(first, one.person, confirmed_at=utcnow())
        theirs = factories.booking_on(second, two.person, confirmed_at=utcnow())
        jobs += [_move(mine.id, second.id, one.id), _move(theirs.id, first.id, two.id)]
        courses.append((first.id, second.id, one.person_id, two.person_id))
    db.session.commit()

    assert races.refusals(race_app, jobs) == []

    db.session.expire_all()
    for first_id, second_id, one_id, two_id in courses:
        for course_id in (first_id, second_id):
            confirmed = db.session.scalar(sa.select(sa.func.count()).where(
                Booking.course_id == course_id, Booking.status == BookingStatus.CONFIRMED))
            assert confirmed == 1  # each course full again, never two in one seat
        # Whoever went second found the seat the first freed; the first was promoted into the seat the second freed.
        live = db.session.execute(sa.select(Booking.person_id, Booking.course_id, Booking.status)
                                  .where(Booking.status != BookingStatus.CANCELLED)).all()
        mine = {(p, c, s) for p, c, s in live if p in (one_id, two_id)}
        assert mine == {(one_id, second_id, BookingStatus.CONFIRMED), (two_id, first_id, BookingStatus.CONFIRMED)}


def test_a_paid_place_moved_while_its_order_is_cancelled_ends_consistent(app_ctx, race_app):
    jobs, cases = [], []
    coordinator_id = factories.user(Role.COORDINATOR).id
    for n in range(PAIRS):
        full = factories.course(start=_start(14 + n), capacity=1)
        factories.booking_on(full)
        free = factories.course(start=_start(40 + n), capacity=5)
        [user] = factories.trainee_accounts(1, f"Paid{n}x", "Mover")
        [voucher] = factories.order(factories.employer(), places=1, code="ADULT_2DAY").vouchers
        voucher.give(user.person, utcnow())
        waiting = factories.booking_on(full, user.person, status=BookingStatus.WAITLISTED, voucher=voucher)
        order_id = voucher.order_id

        def cancel(order_id=order_id):
            orders.cancel_order(db.session.get(Order, order_id), by=db.session.get(User, coordinator_id),
                                reason="Budget withdrawn")
        jobs += [_move(waiting.id, free.id, user.id), cancel]
        cases.append((voucher.id, order_id, user.person_id, free.id))
    db.session.commit()

    assert set(races.refusals(race_app, jobs)) <= {"this booking is already cancelled"}

    db.session.expire_all()
    for voucher_id, order_id, person_id, free_id in cases:
        assert db.session.get(Order, order_id).status is OrderStatus.CANCELLED  # the cancellation always lands
        voucher = db.session.get(PlaceVoucher, voucher_id)
        holders = db.session.execute(sa.select(Booking.course_id, Booking.status).where(
            Booking.voucher_id == voucher_id, Booking.status != BookingStatus.CANCELLED)).all()
        if voucher.status is VoucherStatus.CANCELLED:  # the order went first: the waiting place was released
            assert holders == []
            assert db.session.scalar(sa.select(sa.func.count()).where(
                Booking.person_id == person_id, Booking.status != BookingStatus.CANCELLED)) == 0
        else:  # the move went first: the place was used on the new date, and stays used
            assert voucher.status is VoucherStatus.REDEEMED
            assert holders == [(free_id, BookingStatus.CONFIRMED)]


def test_an_offer_accepted_as_it_expires_is_either_accepted_or_passed_on_never_both(app_ctx, race_app):
    jobs, cases = [], []
    for n in range(PAIRS):
        course = factories.course(start=_start(3 + n % 3), capacity=1)
        holder, first, second = factories.trainee_accounts(3, f"Offer{n}x", "Waiting")
        held = factories.booking_on(course, holder.person, confirmed_at=utcnow())
        waiting = [factories.booking_on(course, user.person, status=BookingStatus.WAITLISTED, waitlisted_at=utcnow())
                   for user in (first, second)]
        services.cancel_booking(held, by=None, override_cutoff=True)
        assert offers.holds_offer(waiting[0])
        expires = waiting[0].offer_expires_at
        booking_id = waiting[0].id

        def accept(booking_id=booking_id, at=expires - timedelta(milliseconds=1)):
            offers.answer_offer(db.session.get(Booking, booking_id), accept=True, now=at)

        def expire(at=expires):
            offers.expire_due_offers(at)
        jobs += [accept, expire]
        cases.append((course.id, waiting[0].id, waiting[1].id))
    db.session.commit()

    assert races.refusals(race_app, jobs) == []

    db.session.expire_all()
    outcomes = set()
    for course_id, first_id, second_id in cases:
        first, second = db.session.get(Booking, first_id), db.session.get(Booking, second_id)
        taken = db.session.scalar(sa.select(sa.func.count()).where(Booking.course_id == course_id, offers.TAKES_A_SEAT))
        assert taken == 1  # one seat, held by exactly one person
        if first.status is BookingStatus.CONFIRMED:  # accepted first: the cron job found nothing due
            assert second.status is BookingStatus.WAITLISTED and not offers.holds_offer(second)
            outcomes.add("accepted")
        else:  # expired first: the late acceptance was told so, and the seat is offered to the next
            assert first.cancel_reason == offers.EXPIRED and offers.holds_offer(second)
            outcomes.add("expired")
    assert outcomes  # (which wins each race is up to the scheduler)
