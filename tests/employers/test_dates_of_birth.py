"""Places given without a date of birth: the contact gives it (when giving the place, or afterwards from
the order's page) or the member of staff is asked for it when they use the place; every refusal speaks to
the person reading it."""
from datetime import date

import pytest

from mhfa.bookings.models import Booking, BookingStatus
from mhfa.employers import claims, vouchers
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories


def _given(email="nia@acme.example"):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=2, by=contact)
    voucher = vouchers.allocate_one(acme, order, "Nia", "Nodob", email, by=contact)
    course = factories.course("AWARE", start=None)
    db.session.commit()
    return acme, contact, order, voucher, course


def test_booking_without_a_date_of_birth_tells_the_contact_what_to_do(app_ctx):
    acme, contact, _, voucher, course = _given()
    with pytest.raises(DomainError) as refused:
        claims.book_staff(acme, [voucher.id], course.id, by=contact)
    message = refused.value.message
    assert message.startswith("Nia Nodob: we do not have their date of birth") and "order's page" in message
    assert "your" not in message
    db.session.rollback()
    claims.give_date_of_birth(acme, voucher, date(1990, 5, 1), by=contact)
    made = claims.book_staff(acme, [voucher.id], course.id, by=contact)
    assert made[0].status is BookingStatus.CONFIRMED


def test_the_contact_gives_a_date_of_birth_only_for_a_record_they_made(app_ctx):
    holder = factories.person("Own", "Account", email="own@self.example", date_of_birth=None)
    acme, contact, _, voucher, _ = _given(email="own@self.example")
    assert voucher.assigned_person_id == holder.id
    with pytest.raises(DomainError, match="has their own account"):
        claims.give_date_of_birth(acme, voucher, date(1990, 5, 1), by=contact)
    assert holder.date_of_birth is None


def test_the_date_of_birth_page_checks_the_one_date_rule(client, auth, post_form):
    acme, contact, order, voucher, course = _given()
    auth.login(contact)
    page = client.get(f"/employer/orders/{order.id}").get_data(as_text=True)
    assert "Add their date of birth" in page
    url = f"/employer/places/{voucher.id}/date-of-birth"
    for bad in ("1850-01-01", "3000-01-01", "31/02/1990", ""):
        assert post_form(url, {"date_of_birth": bad}).status_code == 422, bad
    db.session.expire_all()
    assert voucher.assigned_person.date_of_birth is None
    assert post_form(url, {"date_of_birth": "01/05/1990"}).status_code == 302
    db.session.expire_all()
    assert voucher.assigned_person.date_of_birth == date(1990, 5, 1)
    assert post_form(url, {"date_of_birth": "1990-05-02"}).status_code == 409


def test_a_member_of_staff_is_asked_for_their_date_of_birth_when_they_claim(client, auth, post_form):
    acme, contact, order, voucher, course = _given()
    user = factories.user(factories.Role.TRAINEE, person_=voucher.assigned_person)
    db.session.commit()
    auth.login(user)
    url = f"/places/{voucher.code}"
    assert "Your date of birth" in client.get(url).get_data(as_text=True)
    refused = post_form(url, {"course": str(course.id)})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Enter your date of birth" in html
    assert "add your date of birth to your profile" not in html
    assert post_form(url, {"course": str(course.id), "date_of_birth": "1900-01-00"}).status_code == 422
    assert post_form(url, {"course": str(course.id), "date_of_birth": "1991-07-08"}).status_code == 302
    db.session.expire_all()
    booking = db.session.query(Booking).one()
    assert booking.person.date_of_birth == date(1991, 7, 8) and booking.voucher_id == voucher.id
