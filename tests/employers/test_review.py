"""Hostile input and prying on the employers' pages: what a contact learns by naming someone, ids no row
can have, and control characters (a NUL byte PostgreSQL cannot store) in every kind of field."""
import csv
import io
from datetime import date, timedelta

import pytest

from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.employers import coverage, reports, staff, vouchers
from mhfa.employers.models import ClosedCourseRequest, Employer, Order, PlaceVoucher
from mhfa.extensions import db
from tests import factories

HUGE = 10**30  # past 64 bits: SQLite's driver raises OverflowError on it


def test_naming_someone_by_email_never_shows_the_training_they_had_elsewhere(client, auth):
    """A contact can type anyone's email: that gives them a place, not that person's history with
    another organisation or on their own (bookings, completions, certificates and their PDFs)."""
    acme, beta = factories.employer("Acme", headcount=100), factories.employer("Beta", headcount=100)
    acme_contact, beta_contact = factories.contact(acme), factories.contact(beta)
    beta_order = factories.order(beta, places=1, by=beta_contact)
    theirs = vouchers.allocate_one(beta, beta_order, "Bo", "Beta", "bo@beta.example", by=beta_contact).assigned_person
    theirs.date_of_birth = date(1990, 1, 1)
    bookings.book(theirs, factories.course("AWARE", start=None), voucher=beta_order.vouchers[0])
    beta_cert = factories.arranged_certificate(beta, theirs, issued_on=date.today() - timedelta(days=3 * 365 - 30))
    loner = factories.person("Lou", "Own", email="lou@self.example")
    own_cert = factories.certificate(loner, issued_on=date.today() - timedelta(days=3 * 365 - 30))
    acme_order = factories.order(acme, places=2, by=acme_contact)
    for email in ("bo@beta.example", "lou@self.example"):
        vouchers.allocate_one(acme, acme_order, "Any", "Name", email, by=acme_contact)
    db.session.commit()

    rows = {r.person.email: r for r in reports.staff(acme)}
    for email in ("bo@beta.example", "lou@self.example"):
        row = rows[email]
        assert (row.course, row.booking, row.completed_on, row.certificate_number) == ("", "Not booked", None, None)
    cover = coverage.coverage(acme)
    assert cover.certified == 0 and cover.expiring == []
    auth.login(acme_contact)
    seen = client.get("/employer").get_data(as_text=True) + client.get("/employer/staff.csv").get_data(as_text=True)
    for cert in (beta_cert, own_cert):
        assert cert.number not in seen and cert.verification_token not in seen
    assert "Mental Health Aware" not in client.get("/employer/staff.csv").get_data(as_text=True)
    # Beta, which arranged Bo's training, still sees it.
    beta_rows = {r.person.email: r for r in reports.staff(beta)}
    assert beta_rows["bo@beta.example"].certificate_number == beta_cert.number
    assert coverage.coverage(beta).certified == 1


@pytest.fixture()
def acme(app_ctx):
    employer = factories.employer("Acme", headcount=40)
    contact = factories.contact(employer)
    order = factories.order(employer, places=2, by=contact)
    voucher = vouchers.allocate_one(employer, order, "Sam", "Staff", "sam@acme.example", by=contact)
    course = factories.course("AWARE", start=None)
    db.session.commit()
    return dict(employer=employer, contact=contact, order=order, voucher=voucher, course=course)


def test_ids_no_row_can_have_answer_404_in_the_url_and_a_refusal_in_a_form(client, auth, post_form, acme):
    auth.login(acme["contact"])
    for url in (f"/employer/orders/{HUGE}", f"/employer/orders/{HUGE}/invoice.pdf",
                f"/employer/places/{HUGE}/reassign"):
        assert client.get(url).status_code == 404, url
    staff = {"first_name": "Eve", "last_name": "Il", "email": "eve@acme.example"}
    for url in (f"/employer/orders/{HUGE}/allocate", f"/employer/orders/{HUGE}/upload",
                f"/employer/places/{HUGE}/resend", f"/employer/places/{HUGE}/reassign"):
        assert post_form(url, staff, page="/employer").status_code == 404, url
    order_form = {"kind": "course", "course": str(HUGE), "course_type": str(HUGE), "places": "1",
                  "purchase_order_ref": "PO-9", "billing_address": "1 High Street"}
    assert post_form("/employer/orders/new", order_form).status_code == 422
    assert post_form("/employer/orders/new", {**order_form, "kind": "course_type"}).status_code == 422
    group = {"course": str(HUGE), "vouchers": [str(acme["voucher"].id), str(HUGE)]}
    assert post_form("/employer/book", group).status_code == 422
    assert post_form("/employer/book", {**group, "course": "²"}).status_code == 422  # a digit int() refuses
    closed = {"course_type": str(HUGE), "preferred_dates": "March", "location": "Coventry"}
    assert post_form("/employer/closed-course-requests/new", closed).status_code == 422
    assert db.session.query(Order).count() == 1 and db.session.query(ClosedCourseRequest).count() == 0

    staff_user = factories.user(Role.TRAINEE, person_=acme["voucher"].assigned_person)
    db.session.commit()
    auth.logout()
    auth.login(staff_user)
    for course in (str(HUGE), "²"):
        assert post_form(f"/places/{acme['voucher'].code}", {"course": course}).status_code == 422

    registrant = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.logout()
    auth.login(registrant)
    register = {"name": "Canal Trust", "sector": "voluntary", "size_band": "medium", "headcount": "120",
                "council_area": str(HUGE)}
    assert post_form("/employers/register", register).status_code == 422

    coordinator = factories.user(Role.COORDINATOR)
    request = ClosedCourseRequest(employer=acme["employer"], course_type=factories.course_type("AWARE"),
                                  preferred_dates="March", location="Coventry")
    db.session.add(request)
    db.session.commit()
    auth.logout()
    auth.login(coordinator)
    for course in (str(HUGE), "²"):
        assert post_form(f"/manage/closed-course-requests/{request.id}", {"course": course}).status_code == 422
    assert db.session.query(Employer).count() == 1


def test_a_nul_byte_or_control_character_in_any_field_is_refused_and_nothing_changes(client, auth, post_form, acme):
    auth.login(acme["contact"])
    allocate = f"/employer/orders/{acme['order'].id}/allocate"
    page = f"/employer/orders/{acme['order'].id}"
    for field, value in (("email", "nul\x00@acme.example"), ("first_name", "Ni\x00l"), ("email", "tab\t@acme.example"),
                         ("email", "bell\x07@acme.example")):
        staff = {"first_name": "Nil", "last_name": "Null", "email": "nil@acme.example", field: value}
        refused = post_form(allocate, staff, page=page)
        assert refused.status_code == (400 if "\x00" in value else 422), (field, value)  # NUL: the input guard
        assert "nil@acme.example" not in refused.get_data(as_text=True) or field != "email"
    order_form = {"kind": "course_type", "course_type": str(factories.course_type("AWARE").id), "places": "1",
                  "purchase_order_ref": "PO\x00-9", "billing_address": "1 High\x00 Street"}
    assert post_form("/employer/orders/new", order_form).status_code == 400  # NUL: the input guard
    closed = {"course_type": str(factories.course_type("AWARE").id), "preferred_dates": "March\x00",
              "location": "Coventry"}
    assert post_form("/employer/closed-course-requests/new", closed).status_code == 400
    assert post_form("/employer/contacts", {"email": "in\x00vite@acme.example"}).status_code == 400
    assert client.get("/places/abc%00def").status_code == 400
    assert client.get("/places/" + "a" * 5000).status_code == 404

    from mhfa.employers.staff import CsvRejected, parse_staff_csv
    with pytest.raises(CsvRejected) as refused_csv:
        parse_staff_csv(b"first_name,last_name,email\r\nNil,Null,nil\x00@acme.example\r\n")
    assert refused_csv.value.lines == ["line 2: nil?@acme.example is not an email address in the correct format, "
                                       "like name@example.org"]

    registrant = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.logout()
    auth.login(registrant)
    register = {"name": "Canal\x00 Trust", "sector": "voluntary", "size_band": "medium", "headcount": "120",
                "council_area": str(factories.area("Dudley").id)}
    assert post_form("/employers/register", register).status_code == 400  # NUL: the input guard
    db.session.expire_all()
    assert db.session.query(Employer).count() == 1 and db.session.query(Order).count() == 1
    assert db.session.query(PlaceVoucher).filter(PlaceVoucher.assigned_person_id.is_not(None)).count() == 1


def test_naming_someone_else_with_a_date_of_birth_never_writes_it_on_their_record(app_ctx):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=2, by=contact)
    stranger = factories.person("Sol", "Self", email="sol@self.example", date_of_birth=None)
    vouchers.allocate_one(acme, order, "Sol", "Self", "SOL@self.example", date_of_birth=date(2012, 1, 1), by=contact)
    assert stranger.date_of_birth is None  # their own record: an employer cannot make them a child
    recorded = vouchers.allocate_one(acme, order, "New", "Starter", "new@acme.example", by=contact).assigned_person
    again = factories.order(acme, places=1, by=contact)
    vouchers.allocate_one(acme, again, "New", "Starter", "new@acme.example", date_of_birth=date(1990, 2, 3), by=contact)
    assert recorded.date_of_birth == date(1990, 2, 3)  # a record Acme made itself: the gap is filled


def test_the_csv_export_opens_in_excel_with_accented_names_intact(client, auth, acme):
    vouchers.allocate_one(acme["employer"], acme["order"], "Zoë", "Ní Bhriain", "zoe@acme.example", by=acme["contact"])
    db.session.commit()
    auth.login(acme["contact"])
    response = client.get("/employer/staff.csv")
    assert response.data.startswith("\ufeff".encode()) and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["First name", "Last name"] and ["Zoë", "Ní Bhriain"] in [r[:2] for r in rows]


def test_a_csv_naming_people_who_cannot_have_a_place_reports_each_line_and_gives_nobody_one(app_ctx):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=6, by=contact)
    vouchers.allocate_one(acme, order, "Hal", "Holder", "hal@acme.example", by=contact)
    factories.person("Ed", "Erased", email="ed@acme.example", erased_at=factories.utcnow())
    db.session.commit()
    data = (b"first_name,last_name,email\r\nNew,One,new1@acme.example\r\nHal,Holder,HAL@acme.example\r\n"
            b"Ed,Erased,ed@acme.example\r\nNew,Two,new2@acme.example\r\n")
    with pytest.raises(staff.CsvRejected) as refused:
        vouchers.allocate_csv(acme, order, data, by=contact)
    assert refused.value.lines == ["line 3: hal@acme.example already has an unused place from this order",
                                   "line 4: ed@acme.example cannot be given a place"]
    db.session.rollback()
    given = db.session.query(PlaceVoucher).filter(PlaceVoucher.assigned_person_id.is_not(None)).all()
    assert [v.assigned_person.email for v in given] == ["hal@acme.example"]
