"""A place voucher is used at most once, and invoice numbers never repeat, whatever the concurrency.

Each thread has its own app context, database session and connection (a second app on the same
database, from tests/races.py). On PostgreSQL a claim waits on the voucher's row
lock (taken after the course lock); on SQLite on the database write lock.
"""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role, User
from mhfa.bookings.models import Booking
from mhfa.employers import claims, orders, vouchers
from mhfa.employers.billing import Invoice
from mhfa.employers.models import Order, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories, races

CLAIMS = 12

pytestmark = pytest.mark.slow


@pytest.fixture()
def crowd_app(app_ctx, smtp):
    with races.app_beside(app_ctx, *races.MAIL, pool_size=CLAIMS + 2, max_overflow=0,
                          pool_timeout=120) as application:
        yield application


def test_simultaneous_claims_of_one_place_use_it_once(app_ctx, crowd_app):
    acme = factories.employer("Acme")
    order = factories.order(acme, places=1)
    [voucher] = order.vouchers  # not given to anyone: whoever holds the code may use it
    courses = [factories.course("AWARE", start=None) for _ in range(3)]
    users = factories.trainee_accounts(CLAIMS, "Claim", "Ant")
    db.session.commit()
    code, course_ids = voucher.code, [c.id for c in courses]
    items = [(u.id, course_ids[n % 3]) for n, u in enumerate(users)]

    def claim(user_id, course_id):
        return lambda: claims.claim(db.session.get(User, user_id), code, course_id).id

    outcomes = races.race(crowd_app, [claim(*item) for item in items], timeout=180)
    assert [kind for kind, _ in outcomes if kind == "error"] == [], outcomes
    assert sum(kind == "ok" for kind, _ in outcomes) == 1
    assert {message for kind, message in outcomes if kind == "refused"} <= {
        "that place voucher has already been used", "that place voucher has been given to someone else"}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.voucher_id == voucher.id)) == 1
    assert db.session.get(PlaceVoucher, voucher.id).status is VoucherStatus.REDEEMED


def test_invoices_issued_at_the_same_moment_get_distinct_consecutive_numbers(app_ctx, crowd_app):
    acme = factories.employer("Acme")
    pending = [factories.order(acme, places=1, status=OrderStatus.PENDING) for _ in range(8)]
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    coordinator_id = coordinator.id

    def invoice(order_id):
        return lambda: orders.issue_invoice(db.session.get(Order, order_id),
                                            by=db.session.get(User, coordinator_id)).number

    outcomes = races.race(crowd_app, [invoice(o.id) for o in pending] + [invoice(pending[0].id)],  # one order twice
                          timeout=180)
    assert [o for o in outcomes if o[0] == "error"] == []
    numbers = sorted(value for kind, value in outcomes if kind == "ok")
    assert numbers == [f"INV-{n:06d}" for n in range(1, 9)]
    assert [m for kind, m in outcomes if kind == "refused"] == [
        "This order is invoiced: only an order waiting for its invoice can be invoiced"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Invoice.id))) == 8


def test_a_place_reassigned_while_its_holder_claims_it_stays_theirs(app_ctx, crowd_app, monkeypatch):
    """The reassignment checks the place is unused and pauses; the claim arrives meanwhile. The claim
    must either finish before the check sees the place (refused: already used) or wait for the
    reassignment (then refused: given to someone else); never a used place handed to someone new."""
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=1, by=contact)
    voucher = vouchers.allocate_one(acme, order, "Ann", "Holder", "ann@acme.example", by=contact)
    voucher.assigned_person.date_of_birth = factories.date(1990, 1, 1)
    ann = User(email="ann@acme.example", person=voucher.assigned_person, password_hash="-",
               email_confirmed_at=utcnow())
    ann.grant(Role.TRAINEE)
    db.session.add(ann)
    course = factories.course("AWARE", start=None)
    db.session.commit()
    ids = dict(acme=acme.id, contact=contact.id, voucher=voucher.id, ann=ann.id, course=course.id)
    checked, claimed = threading.Event(), threading.Event()
    original = vouchers._unspent

    def check_then_pause(place):
        original(place)
        if threading.current_thread().name == "reassign":
            checked.set()
            claimed.wait(timeout=5)  # with the voucher locked the claim cannot finish: go on after a while

    monkeypatch.setattr(vouchers, "_unspent", check_then_pause)
    results = {}

    def run(name, work):
        kind, value = races.settle(crowd_app, work)
        results[name] = "ok" if kind == "ok" else repr(value) if kind == "error" else value
        if name == "claim":
            claimed.set()

    def reassign():
        place = db.session.get(PlaceVoucher, ids["voucher"])
        vouchers.reassign(db.session.get(type(acme), ids["acme"]), place, "Ben", "New", "ben@acme.example",
                          by=db.session.get(User, ids["contact"]))

    def claim():
        checked.wait(timeout=30)
        code = db.session.get(PlaceVoucher, ids["voucher"]).code
        claims.claim(db.session.get(User, ids["ann"]), code, ids["course"])

    threads = [threading.Thread(target=run, args=("reassign", reassign), name="reassign"),
               threading.Thread(target=run, args=("claim", claim), name="claim")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    db.session.expire_all()
    place = db.session.get(PlaceVoucher, ids["voucher"])
    used = db.session.scalar(sa.select(Booking).where(Booking.voucher_id == place.id))
    assert not any(r.startswith(("OperationalError", "Deadlock")) for r in results.values()), results
    if used is not None:  # the claim won: the place is Ann's, used, and was not handed on
        assert place.status is VoucherStatus.REDEEMED and place.assigned_person_id == used.person_id, results
        assert results["reassign"] != "ok", results
    else:
        assert results == {"reassign": "ok", "claim": "that place voucher has been given to someone else"}, results
