"""The VAT invoice as a PDF (WeasyPrint), with what HMRC's VAT manual (VATREC5010) says it must show.

Sequential number, date of issue, time of supply, the supplier's name, address and VAT registration
number, the customer's name and address, a description of what is supplied, the quantity, the unit
price before VAT, the rate of VAT and the amount of VAT, and the totals before and after VAT. The
amounts are those fixed on the invoice when it was issued, never re-read from the order.
"""
from __future__ import annotations

from flask import current_app, render_template

from mhfa.employers.models import Invoice
from mhfa.employers.orders import money, order_description


def invoice_html(invoice: Invoice) -> str:
    order = invoice.order
    config = current_app.config
    return render_template(
        "employers/invoice_pdf.html", invoice=invoice, order=order, money=money,
        description=order_description(order),
        unit_price=order.price_per_place_pence,
        supplier_name=config["MHFA_SUPPLIER_NAME"], supplier_address=config["MHFA_SUPPLIER_ADDRESS"].splitlines(),
        vat_number=config["MHFA_VAT_NUMBER"], vat_rate=f"{invoice.vat_rate_bp / 100:g}%",
        contact_email=config["MHFA_CONTACT_EMAIL"],
    )


def invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML  # imported when needed: it loads Pango

    return HTML(string=invoice_html(invoice), base_url=None).write_pdf()


def filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"
