"""Cancelling an invoiced or paid order never edits the VAT invoice: it issues a credit note (its own
sequential number, the invoice it refers to, negative amounts for the places released, a PDF)."""
import shutil
import subprocess

import pytest

from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.employers import invoices, orders
from mhfa.employers.billing import CreditNote, Invoice
from mhfa.employers.models import OrderStatus
from mhfa.extensions import db
from mhfa.timeutil import london_today
from tests import factories

PDFTOTEXT = shutil.which("pdftotext")


def _invoice_as_issued(invoice: Invoice) -> tuple:
    return (invoice.number, invoice.amount_pence, invoice.net_pence, invoice.vat_pence, invoice.issued_on,
            invoice.due_on, invoice.customer_name, invoice.customer_address, invoice.purchase_order_ref)


def test_cancelling_an_invoiced_order_credits_the_places_released_and_leaves_the_invoice_as_issued(app_ctx, smtp):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=3, by=contact)  # 3 x £95 + 20% VAT = £342.00
    invoice = order.invoice
    before = _invoice_as_issued(invoice)
    used = order.vouchers[0]
    bookings.book(factories.person("Uma"), factories.course("AWARE"), voucher=used)
    db.session.commit()

    orders.cancel_order(order, by=factories.user(Role.COORDINATOR), reason="Budget withdrawn")
    db.session.commit()
    [credit] = order.credit_notes
    assert credit.number == "CN-000001" and credit.invoice == invoice
    assert credit.places == 2 and credit.unit_price_pence == 9500
    assert (credit.net_pence, credit.vat_pence, credit.amount_pence) == (-19000, -3800, -22800)
    assert credit.issued_on == london_today() and credit.purchase_order_ref == invoice.purchase_order_ref
    db.session.expire_all()
    assert _invoice_as_issued(db.session.get(Invoice, invoice.id)) == before
    assert order.status is OrderStatus.CANCELLED
    assert f"Credit note CN-000001 for invoice {invoice.number} from MHFA Reach" in smtp.subjects(contact.email)


def test_credit_notes_have_their_own_sequence_and_a_whole_order_is_credited_in_full(app_ctx):
    coordinator = factories.user(Role.COORDINATOR)
    paid = factories.order(factories.employer("Acme"), places=5)
    orders.mark_paid(paid, by=coordinator)
    other = factories.order(factories.employer("Beta"), places=2)
    orders.cancel_order(paid, by=coordinator, reason="Course no longer needed")
    orders.cancel_order(other, by=coordinator, reason="Ordered twice")
    first, second = db.session.query(CreditNote).order_by(CreditNote.id).all()
    assert (first.number, second.number) == ("CN-000001", "CN-000002")
    assert first.amount_pence == -paid.invoice.amount_pence and first.places == 5
    assert second.amount_pence == -other.invoice.amount_pence
    assert [i.number for i in db.session.query(Invoice).order_by(Invoice.id)] == ["INV-000001", "INV-000002"]


def test_an_order_never_invoiced_or_with_every_place_used_gets_no_credit_note(app_ctx):
    coordinator = factories.user(Role.COORDINATOR)
    pending = factories.order(factories.employer("Acme"), status=OrderStatus.PENDING)
    orders.cancel_order(pending, by=coordinator, reason="Changed our minds")
    used_up = factories.order(factories.employer("Beta"), places=1)
    bookings.book(factories.person("Uma"), factories.course("AWARE"), voucher=used_up.vouchers[0])
    orders.cancel_order(used_up, by=coordinator, reason="Nothing left to release")
    assert db.session.query(CreditNote).count() == 0


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_credit_note_pdf_shows_its_number_the_invoice_and_negative_amounts(app_ctx, tmp_path):
    acme = factories.employer("Acme Housing Ltd")
    order = factories.order(acme, places=5, purchase_order_ref="PO-4471")
    orders.cancel_order(order, by=factories.user(Role.COORDINATOR), reason="Budget withdrawn")
    [credit] = order.credit_notes
    pdf = tmp_path / "credit.pdf"
    pdf.write_bytes(invoices.credit_note_pdf(credit))
    text = " ".join(subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    today = london_today().strftime("%-d %B %Y")
    for expected in ("VAT credit note", f"Credit note number {credit.number}", f"Date of issue {today}",
                     f"Credits invoice {order.invoice.number}", app_ctx.config["MHFA_SUPPLIER_NAME"],
                     f"VAT registration number: {app_ctx.config['MHFA_VAT_NUMBER']}", "Acme Housing Ltd",
                     "PO-4471", "Budget withdrawn", "-5", "£95.00", "Total excluding VAT -£475.00",
                     "VAT at 20% -£95.00", "Total credited -£570.00"):
        assert expected in text, expected


def test_the_contact_and_the_team_open_the_credit_note_and_another_organisation_cannot(client, auth, post_form):
    acme, beta = factories.employer("Acme"), factories.employer("Beta")
    contact, outsider = factories.contact(acme), factories.contact(beta)
    coordinator = factories.user(Role.COORDINATOR)
    order = factories.order(acme, places=2, by=contact)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/orders/{order.id}"
    cancelled = post_form(f"{page}/cancel", {"reason": "Budget withdrawn"}, page=page, follow_redirects=True)
    assert "Credit note CN-000001 issued and emailed" in cancelled.get_data(as_text=True)
    credit = db.session.query(CreditNote).one()
    pdf_url = f"/employer/orders/{order.id}/credit-notes/{credit.id}.pdf"
    assert pdf_url in client.get(page).get_data(as_text=True)
    assert client.get(pdf_url).data.startswith(b"%PDF")
    auth.logout()
    auth.login(contact)
    assert "Download credit note CN-000001 (PDF)" in client.get(f"/employer/orders/{order.id}").get_data(as_text=True)
    answer = client.get(pdf_url)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert client.get(f"/employer/orders/{order.id}/credit-notes/{credit.id + 1}.pdf").status_code == 404
    auth.logout()
    auth.login(outsider)
    assert client.get(pdf_url).status_code == 404
