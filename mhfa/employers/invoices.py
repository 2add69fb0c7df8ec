"""The VAT invoice (and any credit note on it) as a PDF (WeasyPrint), with what HMRC's VAT manual
(VATREC5010) says an invoice must show.

Sequential number, date of issue, time of supply, the supplier's name, address and VAT registration
number, the customer's name and address, a description of what is supplied, the quantity, the unit
price before VAT, the rate of VAT and the amount of VAT, and the totals before and after VAT. The
amounts are those fixed on the invoice when it was issued, never re-read from the order.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template

from mhfa.employers.billing import CreditNote, Invoice
from mhfa.employers.orders import order_description
from mhfa.extensions import db
from mhfa.money import pounds as money
from mhfa.pdf import html_to_pdf
from mhfa.reach.models import ProgrammeSettings


def _supplier() -> dict:
    config = current_app.config
    settings = db.session.scalar(sa.select(ProgrammeSettings).order_by(ProgrammeSettings.id).limit(1))
    bank = None
    if settings is not None and settings.bank_account_number:
        bank = {"name": settings.bank_account_name or config["MHFA_SUPPLIER_NAME"],
                "sort_code": settings.bank_sort_code, "account_number": settings.bank_account_number}
    return {"supplier_name": config["MHFA_SUPPLIER_NAME"],
            "supplier_address": config["MHFA_SUPPLIER_ADDRESS"].splitlines(),
            "vat_number": config["MHFA_VAT_NUMBER"], "contact_email": config["MHFA_CONTACT_EMAIL"], "bank": bank,
            "no_show_terms": no_show_terms(settings)}


def no_show_terms(settings: ProgrammeSettings | None = None) -> str:
    """The programme's rule for a place whose holder does not come, as the order page and invoice state it."""
    if settings is None:
        settings = db.session.scalar(sa.select(ProgrammeSettings).order_by(ProgrammeSettings.id).limit(1))
    if settings is None or settings.no_show_spends_place:
        return ("A place whose holder does not attend, and whose booking was not cancelled before the course's "
                "cancellation cut-off, is spent: it is not refunded or given back. A booking cancelled before the "
                "cut-off gives the place back to its holder.")
    return ("A place whose holder does not attend is given back to you after the course, to give to someone "
            "else; a booking cancelled before the course's cancellation cut-off gives the place back to its holder.")


def invoice_html(invoice: Invoice) -> str:
    order = invoice.order
    return render_template(
        "employers/invoice_pdf.html", invoice=invoice, order=order, money=money,
        description=order_description(order), unit_price=order.price_per_place_pence,
        vat_rate=f"{invoice.vat_rate_bp / 100:g}%", **_supplier(),
    )


def credit_note_html(credit: CreditNote) -> str:
    """The credit note: the same facts as the invoice, its own number, the invoice it refers to, and
    negative amounts for the places it takes back."""
    return render_template("employers/credit_note_pdf.html", credit=credit, invoice=credit.invoice,
                           order=credit.order, money=money, description=order_description(credit.order),
                           vat_rate=f"{credit.vat_rate_bp / 100:g}%", **_supplier())


def invoice_pdf(invoice: Invoice) -> bytes:
    return html_to_pdf(invoice_html(invoice))


def credit_note_pdf(credit: CreditNote) -> bytes:
    return html_to_pdf(credit_note_html(credit))


def filename(document: Invoice | CreditNote) -> str:
    return f"{document.number}.pdf"
