"""The whole journey through the pages: register, approve, order five places, the invoice PDF, three
places handed out by CSV, a member of staff claims theirs from the email link, the contact sees them booked."""
import io
import re

from mhfa.auth.models import Role
from mhfa.employers.models import Employer, Order
from mhfa.extensions import db
from tests import factories


def test_an_employer_buys_places_and_a_member_of_staff_books_with_one(client, auth, post_form, smtp, count_queries):
    hr = factories.user(Role.TRAINEE, first_name="Hana", email="hana@foundry.example")
    coordinator = factories.user(Role.COORDINATOR)
    course = factories.course("AWARE", capacity=10)
    db.session.commit()

    auth.login(hr)
    assert "Register your organisation" in client.get("/").get_data(as_text=True)
    assert post_form("/employers/register", {
        "name": "Foundry Ltd", "sector": "private", "size_band": "medium", "headcount": "80",
        "council_area": str(factories.area("Sandwell").id), "billing_address": "Accounts\n1 Foundry Lane\nB70 1AA",
        "requires_purchase_order": "y"}).status_code == 302
    assert client.get("/employer").status_code == 403  # not a contact until approved
    auth.logout()

    auth.login(coordinator)
    employer = db.session.query(Employer).one()
    page = f"/manage/employers/{employer.id}"
    assert post_form(f"{page}/approve", {}, page=page).status_code == 302
    auth.logout()
    assert smtp.subjects("hana@foundry.example") == ["Foundry Ltd is approved on MHFA Reach"]
    team = client.application.config["MHFA_CONTACT_EMAIL"]
    assert smtp.subjects(team) == ["New employer registration: Foundry Ltd"]

    auth.login(hr)
    aware = factories.course_type("AWARE")
    order_form = {"kind": "course_type", "course_type": str(aware.id), "places": "5", "billing_address": ""}
    no_po = post_form("/employer/orders/new", order_form)
    assert no_po.status_code == 422 and db.session.query(Order).count() == 0
    assert post_form("/employer/orders/new", {**order_form, "purchase_order_ref": "PO-55"}).status_code == 302
    order = db.session.query(Order).one()
    assert smtp.subjects(team)[-1] == "New employer order: Foundry Ltd, 5 places"
    assert "give places to staff once the programme team has issued the invoice" in client.get(
        f"/employer/orders/{order.id}").get_data(as_text=True)
    auth.logout()

    auth.login(coordinator)
    assert 'href="/manage/orders"' in client.get("/").get_data(as_text=True)
    page = f"/manage/orders/{order.id}"
    assert post_form(f"{page}/invoice", {}, page=page).status_code == 302
    auth.logout()
    assert "Invoice INV-000001 from MHFA Reach" in smtp.subjects("hana@foundry.example")

    auth.login(hr)
    pdf = client.get(f"/employer/orders/{order.id}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    page = f"/employer/orders/{order.id}"
    csv = (b"first_name,last_name,email,date_of_birth\nAli,Shah,ali@foundry.example,1990-02-03\n"
           b"Bea,Jones,bea@foundry.example,\nCy,Lee,cy@foundry.example,\n")
    assert post_form(f"{page}/upload", {"file": (io.BytesIO(csv), "staff.csv")}, page=page,
                     content_type="multipart/form-data").status_code == 302
    assert "2 not given out" in client.get(page).get_data(as_text=True)
    auth.logout()

    [message] = smtp.to("ali@foundry.example")
    link = re.search(r"http://reach\.test(/places/\S+)", smtp.text(message)).group(1)
    ali = factories.user(Role.TRAINEE, person_=db.session.query(factories.Person).filter_by(
        email="ali@foundry.example").one())
    db.session.commit()
    auth.login(ali)
    assert post_form(link, {"course": str(course.id)}).status_code == 302
    assert any(s.startswith("Booking confirmed") for s in smtp.subjects("ali@foundry.example"))
    auth.logout()

    auth.login(hr)
    with count_queries() as queries:
        dashboard = client.get("/employer").get_data(as_text=True)
    assert "Ali Shah" in dashboard and "Confirmed" in dashboard and "Place used" in dashboard
    assert len(queries) < 40
