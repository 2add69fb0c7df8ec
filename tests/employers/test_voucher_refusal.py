"""One answer to "can this place voucher pay for this place?", in every state a voucher can be in."""
from __future__ import annotations

import pytest

from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.bookings.models import BookingStatus
from mhfa.bookings.vouchers import usable_voucher
from mhfa.employers import orders
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories


@pytest.fixture()
def place(app_ctx):
    """An invoiced order's place, given to Amina, and an open course of its type."""
    acme = factories.employer("Acme")
    order = factories.order(acme, places=2, code="AWARE")
    amina = factories.person("Amina", "Begum", email="amina@acme.example")
    voucher = order.vouchers[0]
    voucher.give(amina, utcnow())
    course = factories.course("AWARE", capacity=1)
    db.session.flush()
    return voucher, amina, course


def test_a_place_given_and_unused_can_pay_for_its_holders_seat(place):
    voucher, amina, course = place
    assert voucher.refusal(amina, course) is None
    assert usable_voucher(voucher, amina, course) is voucher


def test_a_spent_place_is_refused_as_taken(place):
    voucher, amina, course = place
    bookings.book(amina, course, voucher=voucher)
    refused = voucher.refusal(amina, factories.course("AWARE"))
    assert refused.taken and "already been used" in refused.message


def test_a_place_held_by_a_waiting_list_booking_is_refused_until_that_place_is_given_up(place):
    voucher, amina, course = place
    bookings.book(factories.person("Someone", "Else"), course)  # the one seat goes
    held = bookings.book(amina, course, voucher=voucher)
    assert held.status is BookingStatus.WAITLISTED and held.voucher is voucher
    with pytest.raises(Conflict, match="held for your place on the waiting list"):
        usable_voucher(voucher, amina, factories.course("AWARE"))
    bookings.cancel_booking(held, by=factories.user(Role.COORDINATOR), override_cutoff=True)
    assert usable_voucher(voucher, amina, factories.course("AWARE")) is voucher


def test_a_cancelled_place_and_a_place_on_a_cancelled_order_are_refused(place):
    voucher, amina, course = place
    orders.cancel_order(voucher.order, by=factories.user(Role.COORDINATOR), reason="Budget withdrawn")
    db.session.flush()
    refused = voucher.refusal(amina, course)
    assert not refused.taken and "cancelled" in refused.message
    with pytest.raises(DomainError, match="cancelled"):
        usable_voucher(voucher, amina, course)


def test_another_organisations_place_is_refused_on_its_closed_course(place):
    voucher, amina, _course = place
    other = factories.employer("Other Ltd")
    closed = factories.course("AWARE", employer_id=other.id)
    assert "another employer" in voucher.refusal(amina, closed).message


def test_a_place_given_to_someone_else_is_refused(place):
    voucher, _amina, course = place
    assert "given to someone else" in voucher.refusal(factories.person("Ben", "Cole"), course).message
