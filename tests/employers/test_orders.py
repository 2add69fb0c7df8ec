"""Orders: prices, purchase orders, sequential VAT invoices (read back from the PDF), payment, cancellation."""
import shutil
import subprocess
from datetime import date, timedelta

import pytest

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.bookings.models import BookingStatus
from mhfa.employers import invoices, orders
from mhfa.employers.billing import Invoice
from mhfa.employers.models import Order, OrderKind, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.timeutil import london_today
from tests import factories

PDFTOTEXT = shutil.which("pdftotext")


def request(**overrides):
    values = dict(kind=OrderKind.COURSE_TYPE, places=5, course_type_id=factories.course_type("AWARE").id,
                  purchase_order_ref="PO-778", billing_address="Finance, 1 High Street\nCoventry CV1 1AA")
    values.update(overrides)
    return orders.OrderRequest(**values)


def test_an_order_of_five_places_on_a_course_type_has_five_unguessable_vouchers(app_ctx):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = orders.place_order(acme, request(), by=contact)
    assert order.status is OrderStatus.PENDING and order.places == 5
    assert order.price_per_place_pence == 9500 and order.net_pence == 47500
    assert order.vat_pence == 9500 and order.total_pence == 57000
    codes = [v.code for v in order.vouchers]
    assert len(set(codes)) == 5 and all(len(c) >= 20 for c in codes)
    assert db.session.query(AuditEvent).filter_by(action="order.placed").count() == 1


def test_no_po_no_pay_refuses_an_order_without_a_purchase_order_number_and_changes_nothing(app_ctx):
    acme = factories.employer("Acme", requires_purchase_order=True)
    contact = factories.contact(acme)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        orders.place_order(acme, request(purchase_order_ref="  "), by=contact)
    db.session.rollback()
    assert refused.value.field == "purchase_order_ref" and "no PO, no pay" in refused.value.message
    assert db.session.query(Order).count() == 0 and db.session.query(PlaceVoucher).count() == 0


def test_places_on_one_course_are_priced_from_the_course_and_limited_to_its_free_places(app_ctx):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    course = factories.course("AWARE", capacity=3, price_pence=12000)
    with pytest.raises(DomainError, match="only 3 free places"):
        orders.place_order(acme, request(kind=OrderKind.COURSE, course_id=course.id, places=4), by=contact)
    order = orders.place_order(acme, request(kind=OrderKind.COURSE, course_id=course.id, places=2), by=contact)
    assert order.course == course and order.price_per_place_pence == 12000


def test_a_whole_closed_course_is_every_place_and_only_the_organisations_own(app_ctx):
    acme, other = factories.employer("Acme"), factories.employer("Other")
    contact = factories.contact(acme)
    closed = factories.course("AWARE", capacity=12, employer=acme)
    theirs = factories.course("AWARE", employer=other)
    with pytest.raises(DomainError, match="not a closed course for your organisation"):
        orders.place_order(acme, request(kind=OrderKind.CLOSED_COURSE, course_id=theirs.id), by=contact)
    order = orders.place_order(acme, request(kind=OrderKind.CLOSED_COURSE, course_id=closed.id), by=contact)
    assert order.places == 12
    with pytest.raises(DomainError, match="already been ordered"):
        orders.place_order(acme, request(kind=OrderKind.CLOSED_COURSE, course_id=closed.id), by=contact)


def test_invoice_numbers_are_sequential_and_the_places_usable_once_invoiced(app_ctx):
    acme = factories.employer("Acme")
    first = factories.order(acme, status=OrderStatus.PENDING)
    second = factories.order(acme, status=OrderStatus.PENDING)
    coordinator = factories.user(Role.COORDINATOR)
    assert not first.places_usable
    a = orders.issue_invoice(second, by=coordinator)
    b = orders.issue_invoice(first, by=coordinator)
    assert (a.number, b.number) == ("INV-000001", "INV-000002")
    assert first.status is OrderStatus.INVOICED and first.places_usable
    with pytest.raises(DomainError, match="only an order waiting for its invoice"):
        orders.issue_invoice(first, by=coordinator)


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_invoice_pdf_shows_what_a_uk_vat_invoice_must(app_ctx, tmp_path):
    acme = factories.employer("Acme Housing Ltd")
    order = factories.order(acme, places=5, code="AWARE", purchase_order_ref="PO-4471")
    invoice = order.invoice
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(invoices.invoice_pdf(invoice))
    text = " ".join(subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    today = london_today().strftime("%-d %B %Y")
    for expected in ("VAT invoice", invoice.number, f"Date of issue {today}", f"Time of supply {today}",
                     app_ctx.config["MHFA_SUPPLIER_NAME"], "16 Summer Lane", "Birmingham B19 3SD",
                     f"VAT registration number: {app_ctx.config['MHFA_VAT_NUMBER']}",
                     "Acme Housing Ltd", "1 High Street", "Coventry CV1 1AA", "PO-4471",
                     "Mental Health Aware", "5", "£95.00", "20%", "Total excluding VAT £475.00",
                     "VAT at 20% £95.00", "Total payable £570.00"):
        assert expected in text, expected


def test_marking_paid_needs_an_invoice_and_a_sensible_date(app_ctx):
    order = factories.order(factories.employer("Acme"))
    coordinator = factories.user(Role.COORDINATOR)
    with pytest.raises(DomainError, match="cannot be in the future"):
        orders.mark_paid(order, by=coordinator, paid_on=london_today() + timedelta(days=1))
    orders.mark_paid(order, by=coordinator, paid_on=london_today())
    assert order.status is OrderStatus.PAID and order.invoice.paid_on == london_today()
    assert order.places_usable


def test_cancelling_releases_unused_places_keeps_used_ones_and_gives_up_waiting_list_places(app_ctx):
    acme = factories.employer("Acme")
    order = factories.order(acme, places=3)
    full = factories.course("AWARE", capacity=1)
    factories.booking_on(full)
    open_course = factories.course("AWARE", start=None)
    used_by, waiting = factories.person("Uma"), factories.person("Wes")
    v_used, v_waiting, v_free = order.vouchers
    bookings.book(used_by, open_course, voucher=v_used)
    held = bookings.book(waiting, full, voucher=v_waiting)
    assert held.status is BookingStatus.WAITLISTED
    released = orders.cancel_order(order, by=factories.user(Role.COORDINATOR), reason="Budget withdrawn")
    assert {v.id for v in released} == {v_waiting.id, v_free.id}
    assert v_used.status is VoucherStatus.REDEEMED and v_free.status is VoucherStatus.CANCELLED
    assert held.status is BookingStatus.CANCELLED and v_waiting.status is VoucherStatus.CANCELLED
    with pytest.raises(DomainError, match="cancelled"):
        bookings.book(factories.person(), open_course, voucher=v_free)


def test_the_coordinators_pages_invoice_and_the_home_page_links_to_waiting_orders(client, auth, post_form):
    order = factories.order(factories.employer("Acme"), status=OrderStatus.PENDING)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    assert 'href="/manage/orders"' in client.get("/").get_data(as_text=True)
    page = f"/manage/orders/{order.id}"
    assert "Issue the invoice" in client.get(page).get_data(as_text=True)
    assert post_form(f"{page}/invoice", {}, page=page).status_code == 302
    assert db.session.query(Invoice).count() == 1
    pdf = client.get(f"/employer/orders/{order.id}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    refused = post_form(f"{page}/paid", {"paid_on": "not a date"}, page=page)
    assert refused.status_code == 422 and "Enter the payment date as a real date" in refused.get_data(as_text=True)
    assert post_form(f"{page}/paid", {"paid_on": date.today().isoformat()}, page=page).status_code == 302
