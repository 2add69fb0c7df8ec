"""One way to write an amount of money: pence are stored, pounds are shown.

``pounds`` is how a page, an email, an invoice or a credit note shows an amount (``£1,234.50``,
``-£120.00`` for an amount credited); ``amount`` is how a form field holds one for editing (``1234.50``).
"""
from __future__ import annotations


def pounds(pence: int) -> str:
    """£1,234.50; a negative amount (credited) as -£120.00."""
    return f"-£{-pence / 100:,.2f}" if pence < 0 else f"£{pence / 100:,.2f}"


def amount(pence: int | None) -> str:
    """The amount as a form field holds it: 1234.50 (no sign, no separator); empty when there is none."""
    return "" if pence is None else f"{pence / 100:.2f}"
