"""Invoices carry how to pay (bank account, reference, terms) from the programme settings; the place
email says "paid" only once the order is paid; the finder says who its price applies to."""
import shutil
import subprocess
from datetime import timedelta

import pytest

from mhfa.auth.models import Role
from mhfa.employers import invoices, orders, vouchers
from mhfa.employers.models import OrderStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.reach import settings as programme
from tests import factories

PDFTOTEXT = shutil.which("pdftotext")


def _set_payment(**fields):
    current = programme.current_settings(persist=True)
    changes = programme.SettingsChanges(current.target_people, current.start_on, current.end_on,
                                        programme.region_area_ids() or {factories.area().id}, set(), set(),
                                        programme.PaymentDetails(**fields))
    return programme.update_settings(changes)


def test_payment_details_are_checked_and_the_terms_set_the_due_date(app_ctx):
    for bad, field in (({"bank_sort_code": "12-34", "bank_account_number": "12345678"}, "bank_sort_code"),
                       ({"bank_sort_code": "123456", "bank_account_number": "1234"}, "bank_account_number"),
                       ({"bank_account_name": "Only a name"}, "bank_account_name"),
                       ({"bank_sort_code": "١٢٣٤٥٦", "bank_account_number": "12345678"}, "bank_sort_code"),
                       ({"payment_terms_days": 500}, "payment_terms_days")):
        with pytest.raises(DomainError) as refused:
            _set_payment(**bad)
        assert refused.value.field == field, bad
        db.session.rollback()
    saved = _set_payment(bank_account_name="WMCA", bank_sort_code="20 00 00", bank_account_number="12345678",
                         payment_terms_days=14)
    assert (saved.bank_sort_code, saved.payment_terms_days) == ("20-00-00", 14)
    order = factories.order(factories.employer("Acme"), status=OrderStatus.PENDING)
    invoice = orders.issue_invoice(order, by=factories.user(Role.COORDINATOR))
    assert invoice.due_on == invoice.issued_on + timedelta(days=14)


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_invoice_says_how_to_pay(app_ctx, tmp_path):
    order = factories.order(factories.employer("Acme"), places=2)
    pdf = tmp_path / "before.pdf"
    pdf.write_bytes(invoices.invoice_pdf(order.invoice))
    text = " ".join(subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert f"Payment reference {order.invoice.number}" in text and "for the account to pay into" in text
    _set_payment(bank_account_name="West Midlands CA", bank_sort_code="200000", bank_account_number="12345678")
    pdf.write_bytes(invoices.invoice_pdf(order.invoice))
    text = " ".join(subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    for expected in ("Bank transfer to West Midlands CA", "Sort code 20-00-00", "Account number 12345678",
                     f"Payment reference {order.invoice.number}", "30 days from the date of issue"):
        assert expected in text, expected


def test_the_place_email_says_paid_only_when_the_order_is_paid(smtp):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    invoiced = factories.order(acme, places=1, by=contact)
    paid = factories.order(acme, places=1, by=contact)
    paid.status = OrderStatus.PAID
    vouchers.allocate_one(acme, invoiced, "Ina", "Voiced", "ina@acme.example", by=contact)
    vouchers.allocate_one(acme, paid, "Pat", "Paid", "pat@acme.example", by=contact)
    db.session.commit()
    ina = smtp.text(smtp.to("ina@acme.example")[0])
    pat = smtp.text(smtp.to("pat@acme.example")[0])
    assert "Acme has ordered a place for you" in ina and "paid" not in ina
    assert "Acme has paid for a place for you" in pat


def test_the_finder_says_who_its_price_is_for(client, app_ctx):
    factories.course("AWARE", price_pence=0)
    db.session.commit()
    page = client.get("/courses").get_data(as_text=True)
    assert "Price to book yourself" in page and "Employers buying places for their staff" in page
