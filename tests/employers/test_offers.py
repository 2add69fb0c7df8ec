"""No booking without consent: a place given to an address that already has an account is an offer its owner
accepts or declines before anything is booked; the employer sees "offered", then the answer, and only ever the
name it typed."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.employers import claims, reports, vouchers
from mhfa.employers.models import OfferState, PlaceVoucher, VoucherStatus
from mhfa.employers.requests import PhoneBooking, book_on_behalf
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories
from tests.conftest import Auth

TYPED = ("Anyone", "Made-up")


@pytest.fixture()
def offered(client, auth, post_form, smtp):
    """Acme's contact gives a place to the address of Tara Second's account, typing another name."""
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=2, by=contact)
    tara = factories.user(Role.TRAINEE, first_name="Tara", last_name="Second", email="tara@example.org",
                          date_of_birth=date(1990, 1, 1))
    course = factories.course("AWARE")
    db.session.commit()
    auth.login(contact)
    response = post_form(f"/employer/orders/{order.id}/allocate",
                         {"first_name": TYPED[0], "last_name": TYPED[1], "email": "Tara@Example.org"},
                         page=f"/employer/orders/{order.id}", follow_redirects=True)
    return {"acme": acme, "contact": contact, "order": order, "tara": tara, "course": course, "response": response,
            "voucher": db.session.scalar(sa.select(PlaceVoucher).where(PlaceVoucher.assigned_person_id.is_not(None)))}


def _employer_sees(client, order) -> str:
    pages = [f"/employer/orders/{order.id}", "/employer", "/employer/staff.csv", "/employer/book"]
    return "\n".join(client.get(page).get_data(as_text=True) for page in pages)


def test_a_place_for_an_account_holder_is_an_offer_and_the_employer_never_sees_their_name(client, offered, smtp):
    flashed = offered["response"].get_data(as_text=True)
    assert "Place offered to Anyone Made-up" in flashed and "Tara" not in flashed
    voucher = offered["voucher"]
    assert voucher.offer is OfferState.OFFERED and voucher.status is VoucherStatus.ASSIGNED
    seen = _employer_sees(client, offered["order"])
    assert "Offered: waiting for them to accept or decline" in seen and "Anyone Made-up" in seen
    assert "Tara" not in seen and "Second" not in seen
    assert reports.staff(offered["acme"]) == []  # not their staff until they accept
    [mail] = smtp.to("tara@example.org")
    assert mail["Subject"] == "Acme offers you a place: Mental Health Aware (half day)"
    assert "Nothing is booked, and Acme sees nothing about you, unless you accept" in smtp.text(mail)
    with pytest.raises(DomainError, match="Anyone Made-up has not accepted the place yet"):
        claims.book_staff(offered["acme"], [voucher.id], offered["course"].id, by=offered["contact"])
    db.session.rollback()
    with pytest.raises(DomainError, match="has not accepted the place offered to them yet"):
        bookings.book(offered["tara"].person, offered["course"], voucher=voucher,
                      booked_by=offered["contact"], source=BookingSource.EMPLOYER)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_accepting_from_the_emailed_link_lets_them_or_the_employer_book(app_ctx, client, post_form, offered, smtp):
    Auth(client).logout()
    link = re.search(r"http://reach.test(/places/\S+)", smtp.text(smtp.to("tara@example.org")[0])).group(1)
    Auth(client).login(offered["tara"])
    page = client.get(link).get_data(as_text=True)
    assert "Acme offers you a place" in page and "Accept" in page and "Decline" in page
    accepted = post_form(f"{link}/accept", {}, page=link)
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith(link)
    voucher = db.session.get(PlaceVoucher, offered["voucher"].id)
    db.session.refresh(voucher)
    assert voucher.offer is OfferState.ACCEPTED
    assert smtp.subjects(offered["contact"].email)[-1] == \
        "Anyone Made-up accepted the place on Mental Health Aware (half day)"
    assert post_form(f"{link}/accept", {}, page=link).status_code == 409  # answered already
    Auth(client).logout()
    Auth(client).login(offered["contact"])
    seen = _employer_sees(client, offered["order"])
    assert "Accepted: not used yet" in seen and "Tara" not in seen and "Second" not in seen
    [row] = reports.staff(offered["acme"])
    assert (row.first_name, row.last_name, row.email) == (*TYPED, "tara@example.org")
    made = claims.book_staff(offered["acme"], [voucher.id], offered["course"].id, by=offered["contact"])
    db.session.commit()
    assert made[0].person_id == offered["tara"].person_id and made[0].status is BookingStatus.CONFIRMED


def test_declining_from_the_account_page_books_nothing_and_frees_the_place(app_ctx, client, post_form, offered):
    Auth(client).logout()
    Auth(client).login(offered["tara"])
    home = client.get("/").get_data(as_text=True)
    assert "Places offered to you" in home and "Acme: Mental Health Aware" in home
    assert "Places offered" in client.get("/account").get_data(as_text=True)
    listing = client.get("/account/place-offers").get_data(as_text=True)
    assert "Acme: Mental Health Aware" in listing
    code = offered["voucher"].code
    assert post_form(f"/places/{code}/decline", {}, page="/account/place-offers").status_code == 302
    db.session.expire_all()
    voucher = db.session.get(PlaceVoucher, offered["voucher"].id)
    assert (voucher.status, voucher.assigned_person_id, voucher.offer) == \
        (VoucherStatus.AVAILABLE, None, OfferState.DECLINED)
    assert "No places are waiting for your answer" in client.get("/account/place-offers").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0
    Auth(client).logout()
    Auth(client).login(offered["contact"])
    seen = client.get(f"/employer/orders/{offered['order'].id}").get_data(as_text=True)
    assert "Declined by Anyone Made-up (tara@example.org)" in seen and "free to give to someone else" in seen
    assert "Tara" not in seen
    assert len(vouchers.unused_vouchers(offered["order"])) == 2  # it can be given again
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"voucher.offered", "voucher.offer_declined"} <= actions


def test_only_the_person_offered_the_place_can_answer(app_ctx, client, post_form, offered):
    code = offered["voucher"].code
    Auth(client).logout()
    stranger = factories.user(Role.TRAINEE)
    db.session.commit()
    Auth(client).login(stranger)
    assert post_form(f"/places/{code}/accept", {}, page="/account/place-offers").status_code == 404
    assert post_form(f"/places/{code}/decline", {}, page="/account/place-offers").status_code == 404
    Auth(client).logout()
    assert client.post(f"/places/{code}/accept").status_code in (302, 400)  # signed out: no answer
    db.session.expire_all()
    assert db.session.get(PlaceVoucher, offered["voucher"].id).offer is OfferState.OFFERED


def test_choosing_a_date_from_the_link_is_their_acceptance(app_ctx, client, post_form, offered):
    Auth(client).logout()
    Auth(client).login(offered["tara"])
    link = f"/places/{offered['voucher'].code}"
    assert post_form(link, {"course": str(offered["course"].id)}).status_code == 302
    db.session.expire_all()
    voucher = db.session.get(PlaceVoucher, offered["voucher"].id)
    assert voucher.offer is OfferState.ACCEPTED and voucher.status is VoucherStatus.REDEEMED


def test_a_coordinators_phone_booking_with_the_code_stays_and_is_audited(app_ctx, offered):
    coordinator = factories.user(Role.COORDINATOR)
    booking = book_on_behalf(offered["course"], PhoneBooking("Tara", "Second", "tara@example.org",
                                                             voucher_code=offered["voucher"].code), by=coordinator)
    db.session.commit()
    assert booking.person_id == offered["tara"].person_id
    assert db.session.get(PlaceVoucher, offered["voucher"].id).offer is OfferState.ACCEPTED
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "booking.made_for"))
    assert event.actor_user_id == coordinator.id


def test_a_place_for_an_address_without_an_account_is_no_offer(app_ctx):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=1, by=contact)
    voucher = vouchers.allocate_one(acme, order, "New", "Starter", "new.starter@acme.example", by=contact)
    assert voucher.offer is None and voucher.usable_by_employer and voucher.given_name == "New Starter"
