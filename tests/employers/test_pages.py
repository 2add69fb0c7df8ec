"""The employer's pages and exports: a contact sees only their own organisation, on every page and export."""
import io
import re
import zipfile
from datetime import date, datetime, time, timedelta

import pytest

from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.employers import coverage, orders, organisations, reports, staff_exports, vouchers
from mhfa.employers.models import ClosedCourseRequest, Order, OrderStatus
from mhfa.extensions import db
from mhfa.timeutil import london_today, utcnow
from tests import factories


@pytest.fixture()
def two_organisations(app_ctx):
    """Acme and Beta, each with a contact, an invoiced order and a member of staff holding a place."""
    made = {}
    for name in ("Acme", "Beta"):
        employer = factories.employer(name, headcount=40)
        contact = factories.contact(employer)
        order = factories.order(employer, places=3, by=contact)
        voucher = vouchers.allocate_one(employer, order, f"{name}staff", "Member", f"staff@{name.lower()}.example",
                                        by=contact)
        made[name] = dict(employer=employer, contact=contact, order=order, voucher=voucher)
    db.session.commit()
    return made


def contact_urls(order_id, voucher_id):
    return {
        "GET": [f"/employer/orders/{order_id}", f"/employer/orders/{order_id}/invoice.pdf",
                f"/employer/places/{voucher_id}/reassign"],
        "POST": [f"/employer/orders/{order_id}/allocate", f"/employer/orders/{order_id}/upload",
                 f"/employer/places/{voucher_id}/resend", f"/employer/places/{voucher_id}/reassign"],
    }


def test_a_contact_cannot_open_or_change_another_organisations_orders_and_places(client, auth, post_form,
                                                                                  two_organisations):
    acme, beta = two_organisations["Acme"], two_organisations["Beta"]
    auth.login(acme["contact"])
    mine = contact_urls(acme["order"].id, acme["voucher"].id)
    for url in mine["GET"]:
        assert client.get(url).status_code == 200, url
    theirs = contact_urls(beta["order"].id, beta["voucher"].id)
    for url in theirs["GET"]:
        assert client.get(url).status_code == 404, url
    for url in theirs["POST"]:
        response = post_form(url, {"first_name": "Eve", "last_name": "Il", "email": "eve@acme.example"},
                             page="/employer")
        assert response.status_code == 404, url
    db.session.expire_all()
    assert beta["voucher"].assigned_person.email == "staff@beta.example"


def test_the_dashboard_and_exports_hold_only_the_organisations_own_staff(client, auth, two_organisations):
    acme = two_organisations["Acme"]
    auth.login(acme["contact"])
    page = client.get("/employer").get_data(as_text=True)
    assert "Acmestaff Member" in page and "Betastaff" not in page
    assert "Beta" not in page
    csv_text = client.get("/employer/staff.csv").get_data(as_text=True)
    assert "staff@acme.example" in csv_text and "beta" not in csv_text.lower()
    xlsx = client.get("/employer/staff.xlsx")
    assert xlsx.status_code == 200
    sheet = zipfile.ZipFile(io.BytesIO(xlsx.data)).read("xl/sharedStrings.xml").decode()
    assert "staff@acme.example" in sheet and "beta" not in sheet.lower()


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.INSTRUCTOR, Role.BOARD, Role.ADMIN])
def test_other_roles_are_refused_the_employer_pages(client, auth, two_organisations, role):
    auth.login(factories.user(role))
    for url in ("/employer", "/employer/staff.csv", "/employer/staff.xlsx",
                f"/employer/orders/{two_organisations['Acme']['order'].id}"):
        assert client.get(url).status_code == 403, url


def test_a_contact_role_without_a_contact_relation_sees_no_organisation(client, auth, two_organisations):
    acme = two_organisations["Acme"]
    person = factories.person(employer=acme["employer"])  # chose Acme on their own profile
    user = factories.user(Role.EMPLOYER, person_=person)
    db.session.query(db.Model.metadata.tables["employer_contact"]).filter_by(user_id=user.id).delete()
    db.session.commit()
    auth.login(user)
    assert client.get("/employer").status_code == 404
    assert client.get("/employer/staff.csv").status_code == 404
    assert "paid places not used yet" not in client.get("/").get_data(as_text=True)


def test_exports_neutralise_formulas_and_spreadsheets_never_evaluate_them(app_ctx):
    acme = factories.employer("Acme")
    person = factories.person("=cmd|' /C calc'!A0", "+Smith", email="formula@acme.example")
    order = factories.order(acme, places=1)
    voucher = order.vouchers[0]
    voucher.assigned_person = person
    db.session.flush()
    text = staff_exports.staff_csv(acme)
    assert "'=cmd|' /C calc'!A0" in text and "'+Smith" in text
    workbook = zipfile.ZipFile(io.BytesIO(staff_exports.staff_xlsx(acme)))
    sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cell anywhere
    assert "'=cmd|' /C calc'!A0" in workbook.read("xl/sharedStrings.xml").decode().replace("&apos;", "'")


def _expiring_staff_some_booked_on_a_refresher():
    """Acme's four staff whose certificate expires soon: Ada booked on a refresher with Acme's place, Ben on its
    waiting list, Cat booked on it on her own (Acme never sees that), Dan on a refresher that has ended."""
    acme = factories.employer("Acme", headcount=100)
    contact = factories.contact(acme)
    today = london_today()
    refresher = factories.course("REFRESHER", start=datetime.combine(today + timedelta(days=20), time(9)))
    ended = factories.course("REFRESHER", start=datetime.combine(today - timedelta(days=30), time(9)))
    staff = {}
    for name in ("Ada", "Ben", "Cat", "Dan"):
        staff[name] = factories.person(name, "Expiring")
        factories.arranged_certificate(acme, staff[name], issued_on=date.today() - timedelta(days=3 * 365 - 30))

    def arranged(name, course, status=BookingStatus.CONFIRMED):
        place = factories.voucher(acme, "REFRESHER", assigned_to=staff[name])
        factories.booking_on(course, staff[name], status, voucher_id=place.id)

    arranged("Ada", refresher)
    arranged("Ben", refresher, BookingStatus.WAITLISTED)
    factories.booking_on(refresher, staff["Cat"])
    arranged("Dan", ended)
    return acme, contact


def test_refresher_places_leave_out_staff_already_booked_on_a_refresher_the_organisation_arranged(app_ctx):
    acme, _ = _expiring_staff_some_booked_on_a_refresher()
    found = coverage.refresher_places(acme, coverage.coverage(acme), factories.course_type("REFRESHER"))
    assert (found.expiring, found.already_booked, found.to_order) == (4, 2, 2)
    assert coverage.refresher_places(acme, coverage.coverage(acme), None).to_order == 4


def test_the_dashboard_orders_refresher_places_only_for_staff_not_booked_on_one(client, auth):
    _, contact = _expiring_staff_some_booked_on_a_refresher()
    db.session.commit()
    auth.login(contact)
    page = client.get("/employer").get_data(as_text=True)
    assert "4 people’s certificates expire in the next six months" in page
    assert "2 of them are already booked on a refresher course (or on its waiting list), so 2 need a refresher " \
        "place" in page
    assert "Order 2 refresher places" in page and "places=2" in page and "Order 4 refresher" not in page


def test_places_and_coverage_count_named_staff_against_the_five_percent_ask(app_ctx):
    acme = factories.employer("Acme", headcount=100)
    contact = factories.contact(acme)
    order = factories.order(acme, places=4, by=contact)
    given = vouchers.allocate_csv(acme, order, b"first_name,last_name,email\nA,One,a@acme.example\n"
                                  b"B,Two,b@acme.example\nC,Three,c@acme.example\n", by=contact).vouchers
    course = factories.course("AWARE", start=None)
    given[0].assigned_person.date_of_birth = date(1990, 1, 1)
    bookings.book(given[0].assigned_person, course, voucher=given[0])
    expiring_soon = date.today() - timedelta(days=3 * 365 - 30)
    factories.arranged_certificate(acme, given[1].assigned_person, issued_on=expiring_soon)
    factories.arranged_certificate(acme, given[2].assigned_person, issued_on=date.today() - timedelta(days=30))
    factories.certificate(factories.person(employer=acme), "ADULT_2DAY")  # profile employer only: not counted
    assert reports.places(acme) == reports.Places(bought=4, allocated=3, used=1, remaining=1, pending=0, not_used=3)
    cover = coverage.coverage(acme)
    assert cover.certified == 2 and cover.share == pytest.approx(0.02) and cover.needed_for_ask == 3
    assert [c.person for c in cover.expiring] == [given[1].assigned_person]


def test_the_dashboard_offers_refresher_places_for_expiring_certificates(client, auth):
    acme = factories.employer("Acme", headcount=100)
    contact = factories.contact(acme)
    order = factories.order(acme, places=1, by=contact)
    voucher = vouchers.allocate_one(acme, order, "Ada", "Lovel", "ada@acme.example", by=contact)
    factories.arranged_certificate(acme, voucher.assigned_person, issued_on=date.today() - timedelta(days=3 * 365 - 30))
    db.session.commit()
    auth.login(contact)
    page = client.get("/employer").get_data(as_text=True)
    assert "<strong>1</strong> of your 100 staff" in page and "<strong>1.0%</strong>" in page
    assert "Order 1 refresher place" in page
    refresher = factories.course_type("REFRESHER")
    form = client.get(f"/employer/orders/new?kind=course_type&course_type={refresher.id}&places=1").get_data(
        as_text=True)
    assert f'<option selected value="{refresher.id}"' in form or f'value="{refresher.id}" selected' in form


def test_current_first_aiders_beside_coverage_per_1000_staff_with_their_trend(client, auth):
    """The organisation's current first aiders (certificates from training it arranged) today, per 1,000 staff and
    1 in N, and at each month's end: a certificate revoked today was current at the end of last month; one that
    expired two months ago was current before; one earned elsewhere never counts."""
    acme = factories.employer("Acme", headcount=40)
    contact = factories.contact(acme)
    order = factories.order(acme, places=3, by=contact)
    given = vouchers.allocate_csv(acme, order, b"first_name,last_name,email\nA,One,a@acme.example\n"
                                  b"B,Two,b@acme.example\nC,Three,c@acme.example\n", by=contact).vouchers
    a, b, c = (v.assigned_person for v in given)
    today = london_today()
    factories.arranged_certificate(acme, a, issued_on=today - timedelta(days=400))
    revoked = factories.arranged_certificate(acme, b, issued_on=today - timedelta(days=300))
    revoked.revoked_at = utcnow()
    old = factories.arranged_certificate(acme, c, issued_on=today - timedelta(days=900))
    month_before_last_end = today.replace(day=1) - timedelta(days=1)
    month_before_last_end = month_before_last_end.replace(day=1) - timedelta(days=1)
    old.expires_on = month_before_last_end.replace(day=1)  # expired during the month before last
    factories.certificate(c, "ADULT_2DAY")  # earned elsewhere: never this organisation's
    db.session.commit()
    found = coverage.first_aiders(acme, today)
    assert found.current == coverage.coverage(acme, today).certified == 1
    assert found.per_1000 == 25.0 and found.one_in == 40
    trend = dict(found.trend)
    assert len(found.trend) == 12 and found.trend[-1] == (today, 1)
    last_month_end = today.replace(day=1) - timedelta(days=1)
    assert trend[last_month_end] == 2  # the revoked one was current then
    assert trend[month_before_last_end] == 2  # the expired one had run out; the revoked one still held
    earlier = month_before_last_end.replace(day=1) - timedelta(days=1)
    assert trend[earlier] == 3
    auth.login(contact)
    page = client.get("/employer").get_data(as_text=True)
    assert "1 of your staff is a current first aider today" in page and "25.0 per 1,000 staff, 1 in 40" in page
    assert "Current first aiders at the end of each month" in page


def test_an_order_without_a_required_po_is_refused_on_its_field_and_nothing_is_saved(client, auth, post_form):
    acme = factories.employer("Acme", requires_purchase_order=True, billing_address="1 High St")
    contact = factories.contact(acme)
    db.session.commit()
    auth.login(contact)
    data = {"kind": "course_type", "course_type": str(factories.course_type("AWARE").id), "places": "5",
            "purchase_order_ref": "", "billing_address": "1 High St"}
    refused = post_form("/employer/orders/new", data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'href="#purchase_order_ref"' in html and "no PO, no pay" in html
    assert db.session.query(Order).count() == 0
    assert post_form("/employer/orders/new", {**data, "purchase_order_ref": "PO-9"}).status_code == 302
    assert db.session.query(Order).one().status is OrderStatus.PENDING


def test_a_csv_upload_with_bad_rows_shows_each_line_and_allocates_nothing(client, auth, post_form):
    acme, contact, order = factories.ordered(5)
    db.session.commit()
    auth.login(contact)
    page = f"/employer/orders/{order.id}"
    data = {"file": (io.BytesIO(b"first_name,last_name,email\nAmina,Begum,bad-email\nBob\x07,Cole,b@acme.example\n"),
                     "staff.csv")}
    refused = post_form(f"{page}/upload", data, page=page, content_type="multipart/form-data")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "line 2: bad-email is not an email address" in html
    assert "line 3: first name must not contain a control character" in html
    db.session.expire_all()
    assert all(v.assigned_person_id is None for v in db.session.get(Order, order.id).vouchers)


def test_a_closed_course_request_is_scheduled_and_only_the_organisations_staff_can_book_it(client, auth, post_form,
                                                                                           smtp):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(contact)
    aware = factories.course_type("AWARE")
    assert post_form("/employer/closed-course-requests/new",
                     {"course_type": str(aware.id), "preferred_dates": "", "location": "Head office"}
                     ).status_code == 422
    assert post_form("/employer/closed-course-requests/new",
                     {"course_type": str(aware.id), "preferred_dates": "Any Tuesday in March",
                      "location": "Head office, Coventry", "learners": "12"}).status_code == 302
    request = db.session.query(ClosedCourseRequest).one()
    auth.logout()
    closed = factories.course("AWARE", employer=acme, capacity=12)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/closed-course-requests/{request.id}"
    assert "Any Tuesday in March" in client.get(page).get_data(as_text=True)
    assert post_form(page, {"course": str(closed.id)}).status_code == 302
    assert smtp.subjects(contact.email) == ["Your closed course is scheduled: Mental Health Aware (half day)"]
    outsider = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.logout()
    auth.login(outsider)
    assert client.get(f"/courses/{closed.id}").status_code == 404
    refused = post_form(f"/courses/{closed.id}/book", {}, page="/")
    assert refused.status_code == 404 and db.session.query(Booking).count() == 0


def test_a_coordinator_books_a_named_person_by_phone_with_the_same_rules_and_emails(client, auth, post_form, smtp):
    course = factories.course("AWARE", capacity=1)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/courses/{course.id}/book-person"
    young = post_form(page, {"first_name": "Kid", "last_name": "Young", "email": "kid@example.org",
                             "date_of_birth": "2016-01-01"})
    assert young.status_code == 422 and "for people aged 16 and over" in young.get_data(as_text=True)
    assert db.session.query(Booking).count() == 0
    booked = post_form(page, {"first_name": "Pat", "last_name": "Phone", "email": "pat@example.org",
                              "date_of_birth": "1970-04-04"})
    assert booked.status_code == 302
    assert smtp.subjects("pat@example.org")[0].startswith("Booking confirmed")
    waiting = post_form(page, {"first_name": "Wyn", "last_name": "Wait", "email": "wyn@example.org",
                               "date_of_birth": "1970-04-04"})
    assert waiting.status_code == 302
    statuses = sorted(b.status.value for b in db.session.query(Booking))
    assert statuses == [BookingStatus.CONFIRMED.value, BookingStatus.WAITLISTED.value]


def test_the_home_page_counts_certified_staff_through_the_contact_relation_not_profiles(client, auth):
    acme, other = factories.employer("Acme"), factories.employer("Other")
    contact = factories.contact(acme, employer=other)  # their own profile names another employer
    order = factories.order(acme, places=1, by=contact)
    named = vouchers.allocate_one(acme, order, "Nia", "Named", "nia@acme.example", by=contact)
    factories.arranged_certificate(acme, named.assigned_person, issued_on=date.today() - timedelta(days=10))
    for _ in range(3):  # people who picked Acme on their profile: not counted
        factories.certificate(factories.person(employer=acme), issued_on=date.today() - timedelta(days=10))
    factories.certificate(factories.person(employer=other), issued_on=date.today() - timedelta(days=10))
    db.session.commit()
    auth.login(contact)
    home = client.get("/").get_data(as_text=True)
    assert "Acme" in home and re.search(r'reach-stat">1</span> <a[^>]*>current first aider among your staff', home)


def _figure(pattern: str, page: str) -> int:
    found = re.search(pattern, page)
    assert found, pattern
    return int(found.group(1))


def test_the_home_page_figures_say_what_they_count_and_match_the_organisation_s_page(client, auth):
    acme = factories.employer("Acme", headcount=50)
    contact = factories.contact(acme)
    order = factories.order(acme, places=5, by=contact)
    given = [vouchers.allocate_one(acme, order, f"Staff{n}", "Member", f"s{n}@acme.example", by=contact)
             for n in range(2)]
    for n in range(3):
        factories.arranged_certificate(acme, factories.person(f"Aider{n}", "Current"),
                                       issued_on=date.today() - timedelta(days=30))
    factories.arranged_certificate(acme, factories.person("Lapsed", "Aider"), issued_on=date.today() - timedelta(
        days=4 * 365))
    given[0].assigned_person.date_of_birth = date(1990, 1, 1)
    bookings.book(given[0].assigned_person, factories.course("AWARE", start=None), voucher=given[0])
    db.session.commit()
    auth.login(contact)
    home = client.get("/").get_data(as_text=True)
    dashboard = client.get("/employer").get_data(as_text=True)
    aiders = _figure(r'reach-stat">(\d+)</span> <a[^>]*>current first aiders among your staff', home)
    assert aiders == 3 == _figure(r"(\d+) of your staff are current first aiders", dashboard)
    assert _figure(r"<strong>(\d+)</strong> of your 50 staff hold a current", dashboard) == aiders
    not_used = _figure(r'reach-stat">(\d+)</span> paid places not used yet for a seat', home)
    free = _figure(r"not used yet for a seat, (\d+) of them not given out to anyone", home)
    assert (not_used, free) == (4, 3)  # 5 bought, 1 used for a seat; 1 given out and not booked yet
    assert _figure(r'reach-stat">(\d+)</span> not given out to anyone yet', dashboard) == free
    assert _figure(r"(\d+) paid places are not used yet for a seat", dashboard) == not_used
    assert f"the {free} not given out, and 1 given to staff who have no seat with it yet" in dashboard


def test_an_invitation_link_asks_an_anonymous_visitor_to_sign_in_and_a_wrong_token_is_404(client, smtp):
    acme = factories.employer("Acme")
    organisations.invite_contact(acme, "new@acme.example", by=factories.contact(acme))
    db.session.commit()
    token = re.search(r"/employers/invitations/(\S+)", smtp.text(smtp.to("new@acme.example")[0])).group(1)
    page = client.get(f"/employers/invitations/{token}")
    assert page.status_code == 200 and "new@acme.example" in page.get_data(as_text=True)
    assert client.get("/employers/invitations/guessed-token").status_code == 404


def test_a_used_or_cancelled_voucher_link_says_so_and_books_nothing(client, auth, post_form):
    acme, contact, order = factories.ordered(1)
    course = factories.course("AWARE", start=None)
    [used] = order.vouchers
    bookings.book(factories.person(), course, voucher=used)
    other_order = factories.order(acme, places=1, by=contact)
    orders.cancel_order(other_order, by=factories.user(Role.COORDINATOR), reason="Ordered twice")
    trainee = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(trainee)
    assert "already been used" in client.get(f"/places/{used.code}").get_data(as_text=True)
    gone = other_order.vouchers[0].code
    assert "has been cancelled" in client.get(f"/places/{gone}").get_data(as_text=True)
    before = db.session.query(Booking).count()
    post_form(f"/places/{gone}", {"course": str(course.id)})
    assert db.session.query(Booking).count() == before
    refused = post_form(f"/courses/{course.id}/book", {"voucher_code": gone}, page=f"/courses/{course.id}/book")
    assert refused.status_code == 422 and "cancelled" in refused.get_data(as_text=True)


def test_the_staff_list_is_paginated_and_its_queries_do_not_grow_with_staff(client, auth, count_queries):
    acme = factories.employer("Acme", headcount=500)
    contact = factories.contact(acme)
    order = factories.order(acme, places=60, by=contact)
    rows = b"first_name,last_name,email\n" + b"".join(
        f"Staff{n:02d},Member,s{n}@acme.example\n".encode() for n in range(55))
    vouchers.allocate_csv(acme, order, rows, by=contact)
    db.session.commit()
    auth.login(contact)
    with count_queries() as queries:
        first = client.get("/employer").get_data(as_text=True)
    assert "55 staff (showing 1 to 25)" in first and "Staff25" not in first
    third = client.get("/employer?page=3").get_data(as_text=True)
    assert "55 staff (showing 51 to 55)" in third and "Staff54 Member" in third
    few = len(queries)
    assert few < 40


def test_an_orders_page_reads_its_places_in_a_fixed_number_of_queries(client, auth, count_queries):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    counts = []
    for places in (3, 30):
        order = factories.order(acme, places=places, by=contact)
        rows = b"first_name,last_name,email\n" + b"".join(
            f"P{places}x{n},Member,p{places}x{n}@acme.example\n".encode() for n in range(places))
        vouchers.allocate_csv(acme, order, rows, by=contact)
        db.session.commit()
        auth.login(contact)
        with count_queries() as queries:
            assert client.get(f"/employer/orders/{order.id}").status_code == 200
        counts.append(len(queries))
        auth.logout()
    assert counts[0] == counts[1]


def test_the_group_booking_page_offers_the_courses_the_places_pay_for(client, auth, post_form):
    acme, contact, order = factories.ordered(2)
    data = (b"first_name,last_name,email,date_of_birth\nAli,Shah,ali@acme.example,1990-01-01\n"
            b"Bea,Jones,bea@acme.example,1991-01-01\n")
    given = vouchers.allocate_csv(acme, order, data, by=contact).vouchers
    full = factories.course("AWARE", capacity=1)
    factories.booking_on(full)
    other_type = factories.course("ADULT_2DAY")
    db.session.commit()
    auth.login(contact)
    page = client.get("/employer/book").get_data(as_text=True)
    assert f'<option value="{full.id}">' in page and f'<option value="{other_type.id}">' not in page
    assert "Ali Shah" in page and "Bea Jones" in page
    nobody = post_form("/employer/book", {"course": str(full.id)})
    assert nobody.status_code == 422 and "Choose at least one member of staff" in nobody.get_data(as_text=True)
    done = post_form("/employer/book", {"course": str(full.id), "vouchers": [str(v.id) for v in given]})
    assert done.status_code == 302
    waiting = db.session.query(Booking).filter_by(course_id=full.id, status=BookingStatus.WAITLISTED).all()
    assert sorted(b.voucher_id for b in waiting) == sorted(v.id for v in given)


def test_coordinators_reject_a_registration_manage_contacts_and_cancel_an_order_through_the_pages(
        client, auth, post_form, smtp):
    from mhfa.audit.models import AuditEvent
    from mhfa.employers.models import EmployerContact, EmployerStatus

    pending = factories.employer("Pending Ltd", status=EmployerStatus.PENDING)
    registrant = factories.contact(pending)
    acme = factories.employer("Acme")
    order = factories.order(acme, places=2)
    colleague = factories.user(Role.TRAINEE, email="col@acme.example")
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/employers/{pending.id}"
    assert post_form(f"{page}/reject", {"reason": ""}, page=page).status_code == 422
    assert post_form(f"{page}/reject", {"reason": "Not in the region"}, page=page).status_code == 302
    assert "Not in the region" in smtp.text(smtp.to(registrant.email)[0])

    page = f"/manage/employers/{acme.id}"
    bad = post_form(f"{page}/contacts", {"email": "not an email"}, page=page)
    assert bad.status_code == 422 and "correct format" in bad.get_data(as_text=True)
    assert post_form(f"{page}/contacts", {"email": "COL@acme.example"}, page=page).status_code == 302
    contact = db.session.query(EmployerContact).filter_by(user_id=colleague.id).one()
    assert colleague.has_role(Role.EMPLOYER)
    assert post_form(f"/manage/employer-contacts/{contact.id}/remove", {}, page=page).status_code == 302
    db.session.expire_all()
    assert not db.session.get(type(colleague), colleague.id).has_role(Role.EMPLOYER)

    page = f"/manage/orders/{order.id}"
    assert post_form(f"{page}/cancel", {"reason": ""}, page=page).status_code == 422
    assert post_form(f"{page}/cancel", {"reason": "Ordered twice"}, page=page).status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED
    actions = set(db.session.scalars(db.select(AuditEvent.action)))
    assert {"employer.rejected", "employer.contact_added", "user.role_revoked", "order.cancelled"} <= actions


def test_a_contact_invites_a_colleague_and_reassigns_a_place_through_the_pages(client, auth, post_form, smtp):
    acme, contact, order = factories.ordered(1)
    voucher = vouchers.allocate_one(acme, order, "Ann", "Old", "ann@acme.example", by=contact)
    db.session.commit()
    auth.login(contact)
    assert post_form("/employer/contacts", {"email": "pat@acme.example"}).status_code == 302
    assert smtp.subjects("pat@acme.example") == ["Join Acme on MHFA Reach"]
    page = f"/employer/places/{voucher.id}/reassign"
    broken = post_form(page, {"first_name": "Ann\nOther", "last_name": "New", "email": "new@acme.example"})
    assert broken.status_code == 422 and "First name must not contain a line break" in broken.get_data(as_text=True)
    assert post_form(page, {"first_name": "Nat", "last_name": "New", "email": "nat@acme.example"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(voucher), voucher.id).assigned_person.email == "nat@acme.example"
    assert smtp.subjects("nat@acme.example")[0].startswith("Acme has a place for you")
