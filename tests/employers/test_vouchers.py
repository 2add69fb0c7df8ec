"""Place vouchers: handing places to staff one by one or by CSV, claiming from the email link, booking staff."""
import re

import pytest

from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.employers import claims, staff, vouchers
from mhfa.employers.models import OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.flow import http_status
from tests import factories

GOOD_CSV = b"first_name,last_name,email\nAmina,Begum,amina@acme.example\nBen,Cole,ben@acme.example\n" \
           b"Cara,Diaz,cara@acme.example\n"


def setup_order(places=5, **kwargs):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=places, by=contact, **kwargs)
    return acme, contact, order


def assigned(order):
    return [v for v in order.vouchers if v.assigned_person_id is not None]


def test_a_csv_gives_a_place_to_each_person_and_emails_them_their_link(smtp):
    acme, contact, order = setup_order()
    result = vouchers.allocate_csv(acme, order, GOOD_CSV, by=contact)
    db.session.commit()
    assert [v.assigned_person.email for v in result.vouchers] == ["amina@acme.example", "ben@acme.example",
                                                                 "cara@acme.example"]
    assert all(v.status is VoucherStatus.ASSIGNED for v in result.vouchers)
    [message] = smtp.to("amina@acme.example")
    assert f"/places/{result.vouchers[0].code}" in smtp.text(message)


@pytest.mark.parametrize("data, expected", [
    (b"first_name,last_name,email\nAmina,,amina@acme.example\n,Cole,not-an-email\n",
     ["line 2: enter the last name", "line 3: enter the first name"]),
    (b"first_name,last_name,email\nAmi\x1bna,Begum,a@acme.example\nBen,\xe2\x80\xaeSmith,b@acme.example\n",
     ["line 2: first name must not contain a control character",
      "line 3: last name must not contain a right-to-left or left-to-right control character"]),
    (b"first_name,last_name,email\nAmina,Begum,a@acme.example\nAmy,Begum,A@acme.example\n",
     ["line 3: a@acme.example is already on line 2"]),
    (b"name,email\nAmina Begum,a@acme.example\n", ["line 1: the header has no first_name, last_name column"]),
    ("first_name,last_name,email\nZoë,Brontë,z@acme.example\n".encode("latin-1"), ["the file is not UTF-8 text"]),
    (b"", ["the file is empty"]),
])
def test_a_csv_with_any_bad_row_is_refused_whole_with_a_line_per_problem(app_ctx, data, expected):
    acme, contact, order = setup_order()
    db.session.commit()
    with pytest.raises(staff.CsvRejected) as refused:
        vouchers.allocate_csv(acme, order, data, by=contact)
    db.session.rollback()
    for line, want in zip(refused.value.lines, expected, strict=True):
        assert line.startswith(want), refused.value.lines
    assert assigned(order) == []


def test_more_people_than_unused_places_is_refused_and_nothing_is_allocated(app_ctx):
    acme, contact, order = setup_order(places=2)
    db.session.commit()
    with pytest.raises(DomainError, match="This order has 2 unused places and you named 3 people"):
        vouchers.allocate_csv(acme, order, GOOD_CSV, by=contact)
    db.session.rollback()
    assert assigned(order) == []


def test_places_of_a_pending_order_cannot_be_handed_out(app_ctx):
    acme, contact, order = setup_order(status=OrderStatus.PENDING)
    with pytest.raises(DomainError, match="once it is invoiced"):
        vouchers.allocate_one(acme, order, "Amina", "Begum", "amina@acme.example", by=contact)


def test_another_organisations_order_is_not_found(app_ctx):
    acme, contact, order = setup_order()
    other = factories.employer("Other")
    with pytest.raises(DomainError) as refused:
        vouchers.allocate_one(other, order, "Amina", "Begum", "amina@acme.example", by=contact)
    assert http_status(refused.value) == 404


def test_a_member_of_staff_claims_the_place_from_the_email_link_and_picks_a_date(client, auth, post_form, smtp):
    acme, contact, order = setup_order()
    later = factories.course("AWARE", start=None)
    voucher = vouchers.allocate_one(acme, order, "Amina", "Begum", "amina@acme.example", by=contact)
    db.session.commit()
    link = re.search(r"http://reach.test(/places/\S+)", smtp.text(smtp.to("amina@acme.example")[0])).group(1)
    assert "sign in" in client.get(link).get_data(as_text=True)
    staff = factories.user(Role.TRAINEE, person_=voucher.assigned_person)
    db.session.commit()
    auth.login(staff)
    no_age = post_form(link, {"course": str(later.id)})  # staff named by their employer: no date of birth yet
    assert no_age.status_code == 422 and "Enter your date of birth: Mental Health Aware (half day) is for people " \
        "aged 16 and over" in no_age.get_data(as_text=True)  # asked on the form, where they can give it
    voucher.assigned_person.date_of_birth = factories.date(1990, 5, 1)
    db.session.commit()
    page = client.get(link).get_data(as_text=True)
    assert "Mental Health Aware" in page and f'value="{later.id}"' in page
    assert post_form(link, {"course": str(later.id)}).status_code == 302
    db.session.expire_all()
    booking = db.session.query(Booking).one()
    assert booking.person_id == voucher.assigned_person_id and booking.status is BookingStatus.CONFIRMED
    assert db.session.get(PlaceVoucher, voucher.id).status is VoucherStatus.REDEEMED
    used = client.get(link).get_data(as_text=True)
    assert "already been used" in used


def test_a_place_given_to_someone_is_refused_to_anyone_else_and_a_wrong_code_is_404(client, auth, post_form):
    acme, contact, order = setup_order()
    course = factories.course("AWARE", start=None)
    voucher = vouchers.allocate_one(acme, order, "Amina", "Begum", "amina@acme.example", by=contact)
    stranger = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(stranger)
    refused = post_form(f"/places/{voucher.code}", {"course": str(course.id)})
    assert refused.status_code == 422 and "given to someone else" in refused.get_data(as_text=True)
    assert client.get("/places/not-a-real-code").status_code == 404
    assert db.session.query(Booking).count() == 0


def test_the_contact_books_staff_onto_a_full_course_waiting_list_in_one_step_and_promotion_spends_each_voucher(
        app_ctx):
    acme, contact, order = setup_order(places=3)
    full = factories.course("AWARE", capacity=1)
    taken = factories.booking_on(full)
    with_ages = b"first_name,last_name,email,date_of_birth\nAmina,Begum,amina@acme.example,1990-01-02\n" \
                b"Ben,Cole,ben@acme.example,02/03/1985\nCara,Diaz,cara@acme.example,1979-12-31\n"
    given = vouchers.allocate_csv(acme, order, with_ages, by=contact).vouchers
    made = claims.book_staff(acme, [v.id for v in given], full.id, by=contact)
    assert [b.status for b in made] == [BookingStatus.WAITLISTED] * 3
    assert all(v.status is VoucherStatus.ASSIGNED for v in given)  # held, not spent
    full.capacity = 2
    bookings.cancel_booking(taken, by=None, override_cutoff=True)
    db.session.refresh(made[0])
    assert made[0].status is BookingStatus.CONFIRMED and made[0].voucher_id == given[0].id
    db.session.refresh(given[0])
    assert given[0].status is VoucherStatus.REDEEMED


def test_a_group_booking_refused_for_one_person_books_nobody(app_ctx):
    acme, contact, order = setup_order(places=2)
    course = factories.course("AWARE", start=None)
    data = b"first_name,last_name,email,date_of_birth\nAmina,Begum,a@acme.example,1990-01-02\n" \
           b"Ben,Cole,b@acme.example,2015-01-01\n"
    given = vouchers.allocate_csv(acme, order, data, by=contact).vouchers  # Ben is too young
    db.session.commit()
    with pytest.raises(DomainError, match=f"^{given[1].assigned_person.full_name}: this course is for people aged"):
        claims.book_staff(acme, [v.id for v in given], course.id, by=contact)
    db.session.rollback()
    assert db.session.query(Booking).count() == 0


def test_an_unused_place_is_resent_or_reassigned_but_a_used_one_is_not(smtp):
    acme, contact, order = setup_order(places=2)
    course = factories.course("AWARE", start=None)
    first = vouchers.allocate_one(acme, order, "Amina", "Begum", "amina@acme.example", by=contact)
    vouchers.resend(first, by=contact)
    vouchers.reassign(acme, first, "Ben", "Cole", "ben@acme.example", by=contact)
    first.assigned_person.date_of_birth = factories.date(1988, 8, 8)
    db.session.commit()
    assert first.assigned_person.email == "ben@acme.example"
    assert len(smtp.to("amina@acme.example")) == 2 and len(smtp.to("ben@acme.example")) == 1
    bookings.book(first.assigned_person, course, voucher=first)
    with pytest.raises(DomainError, match="already been used"):
        vouchers.reassign(acme, first, "Cara", "Diaz", "cara@acme.example", by=contact)
    with pytest.raises(DomainError, match="already been used"):
        vouchers.resend(first, by=contact)
