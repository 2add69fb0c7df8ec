"""An order's VAT records: its invoices, its credit notes, the invoice number counter, and the VAT sum."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.extensions import db

if TYPE_CHECKING:
    from mhfa.employers.models import Order


def vat_on(net_pence: int, rate_bp: int) -> int:
    """VAT on a net amount, rounded half up to the penny (HMRC allows rounding to the nearest penny)."""
    return (net_pence * rate_bp + 5000) // 10000


class Invoice(db.Model):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("employer_order.id"), index=True)
    amount_pence: Mapped[int]  # the total payable, VAT included
    issued_on: Mapped[date]
    due_on: Mapped[date]
    paid_on: Mapped[date | None]
    # What the invoice said when it was issued (a VAT invoice never changes afterwards).
    supplied_on: Mapped[date | None]  # the time of supply (tax point)
    net_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    vat_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    vat_rate_bp: Mapped[int] = mapped_column(default=2000, server_default="2000")
    customer_name: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    customer_address: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    purchase_order_ref: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")

    order: Mapped[Order] = relationship(back_populates="invoices")


class CreditNote(db.Model):
    """A VAT credit note: what cancelling an invoiced order takes back, never an edit of the invoice.

    Its own sequential number (CN-000001 upwards), the invoice it refers to, and negative amounts for
    the places released, fixed when it is issued (HMRC VAT manual VATREC5010 / VAT Notice 700 s.18).
    """

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("employer_order.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id"), index=True)
    issued_on: Mapped[date]
    places: Mapped[int]  # the quantity credited (the places released)
    unit_price_pence: Mapped[int]
    net_pence: Mapped[int]  # negative
    vat_pence: Mapped[int]  # negative
    vat_rate_bp: Mapped[int]
    amount_pence: Mapped[int]  # negative: the total credited, VAT included
    reason: Mapped[str] = mapped_column(sa.String(200))
    customer_name: Mapped[str] = mapped_column(sa.String(200))
    customer_address: Mapped[str] = mapped_column(sa.Text)
    purchase_order_ref: Mapped[str] = mapped_column(sa.String(60), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    order: Mapped[Order] = relationship(back_populates="credit_notes")
    invoice: Mapped[Invoice] = relationship()


class InvoiceCounter(db.Model):
    """The last invoice number given out. Issuing an invoice updates this row first, which locks it
    until the transaction ends, so two invoices issued at once get consecutive numbers, never the same.
    """

    __tablename__ = "invoice_counter"

    name: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)
