"""Buying places: orders, their sequential VAT invoices, payment and cancellation.

An order is for N places on a course type (any public course of it), N places on one course, or
every place of a closed course run for the organisation. Each place is a voucher with an
unguessable code. States: pending (placed) → invoiced (the programme team issues the invoice; the
places can now be used) → paid (a coordinator records the payment); or cancelled, which releases
every place not used yet. Every change is audited.

Locks: an order's row is locked before its state changes (so it is invoiced or cancelled once);
invoice numbers come from one counter row that issuing an invoice updates first, so two invoices
issued at once wait for each other and get consecutive numbers. Cancelling releases waiting-list
places through the bookings service, which takes its locks in its own order (course, voucher, booking).

A VAT invoice is never edited or deleted: cancelling an invoiced (or paid) order issues a credit
note instead, for the places released (its own sequential number CN-000001 upwards from a counter
row of its own, the invoice it refers to, negative amounts).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from mhfa import dates
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import Course, CourseStatus, CourseType
from mhfa.employers import emails, lookup
from mhfa.employers.billing import CreditNote, Invoice, InvoiceCounter, vat_on
from mhfa.employers.models import (
    USABLE_ORDER_STATUSES,
    Employer,
    Order,
    OrderKind,
    OrderStatus,
    PlaceVoucher,
    VoucherStatus,
)
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.locks import lock_order, lock_vouchers
from mhfa.pagination import Page, paginate
from mhfa.reach.models import ProgrammeSettings
from mhfa.timeutil import london_today, to_london, utcnow

MAX_PLACES = 500
INVOICE_COUNTER = "invoice"
CREDIT_NOTE_COUNTER = "credit_note"


@dataclass
class OrderRequest:
    kind: OrderKind
    places: int | None = None
    course_type_id: int | None = None
    course_id: int | None = None
    purchase_order_ref: str = ""
    billing_address: str = ""



# --- prices ---------------------------------------------------------------------------------------

def place_price(course_type: CourseType, course: Course | None = None) -> int:
    """The price of one place before VAT, in pence: the course's own price, else the course type's."""
    if course is not None and course.price_pence:
        return course.price_pence
    return current_app.config["MHFA_PLACE_PRICES"].get(course_type.code, 0)


def price_list() -> list[tuple[CourseType, int]]:
    types = db.session.scalars(sa.select(CourseType).where(CourseType.active.is_(True)).order_by(CourseType.name))
    return [(kind, place_price(kind)) for kind in types]


# --- placing an order -----------------------------------------------------------------------------

def _course_for_order(employer: Employer, course_id: int | None, *, closed: bool) -> Course:
    course = lookup.row(Course, course_id)
    if course is None or course.status is not CourseStatus.PUBLISHED:
        raise DomainError("Choose a course from the list", field="course")
    if course.starts_at is not None and course.starts_at <= utcnow():
        raise DomainError("That course has already started: choose another", field="course")
    if closed and course.employer_id != employer.id:
        raise DomainError("That course is not a closed course for your organisation", field="course")
    if not closed and course.is_closed and course.employer_id != employer.id:
        raise DomainError("Choose a course from the list", field="course")
    return course


def place_order(employer: Employer, request: OrderRequest, *, by: User) -> Order:
    """A pending order with one voucher per place, or a DomainError naming the field to fix."""
    if not employer.is_approved:
        raise DomainError(f"{employer.name} is waiting for the programme team's approval: you can order places after",
                          field="kind")
    course = None
    if request.kind is OrderKind.COURSE_TYPE:
        kind = lookup.row(CourseType, request.course_type_id)
        if kind is None or not kind.active:
            raise DomainError("Choose a course from the list", field="course_type")
    elif request.kind in (OrderKind.COURSE, OrderKind.CLOSED_COURSE):
        course = _course_for_order(employer, request.course_id, closed=request.kind is OrderKind.CLOSED_COURSE)
        kind = course.course_type
    else:
        raise DomainError("Choose what you are buying", field="kind")

    if request.kind is OrderKind.CLOSED_COURSE:
        already = db.session.scalar(sa.select(Order.id).where(
            Order.course_id == course.id, Order.kind == OrderKind.CLOSED_COURSE, Order.status != OrderStatus.CANCELLED))
        if already is not None:
            raise Conflict("That closed course has already been ordered", field="course")
        places = course.capacity
    else:
        places = request.places
        if places is None or places < 1:
            raise DomainError("Enter the number of places, 1 or more", field="places")
        if places > MAX_PLACES:
            raise DomainError(f"Order at most {MAX_PLACES} places at a time", field="places")
        if course is not None:
            left = bookings.places_left(course)
            if places > left:
                raise DomainError(f"That course has only {left} free place{'s' if left != 1 else ''}: "
                                  "order fewer, or places on the course type", field="places")

    po = " ".join((request.purchase_order_ref or "").split())
    if len(po) > 60:
        raise DomainError("Purchase order number must be 60 characters or fewer", field="purchase_order_ref")
    if employer.requires_purchase_order and not po:
        raise DomainError(f"{employer.name} needs a purchase order number on every order (no PO, no pay): enter it",
                          field="purchase_order_ref")
    address = (request.billing_address or "").strip() or employer.billing_address
    if not address:
        raise DomainError("Enter the billing address for the invoice", field="billing_address")
    if len(address) > 1000:
        raise DomainError("Billing address must be 1,000 characters or fewer", field="billing_address")
    price = place_price(kind, course)
    if price <= 0:
        raise DomainError(f"{kind.name} has no price for employers yet: ask the programme team", field="course_type")

    order = Order(employer=employer, course_type=kind, course=course, kind=request.kind, places=places,
                  price_per_place_pence=price, purchase_order_ref=po, billing_address=address,
                  vat_rate_bp=current_app.config["MHFA_VAT_RATE_BP"], status=OrderStatus.PENDING,
                  created_by_user_id=by.id)
    db.session.add(order)
    for _ in range(places):
        order.vouchers.append(PlaceVoucher(code=secrets.token_urlsafe(16)))
    db.session.flush()
    audit.record("order.placed", order, by, employer_id=employer.id, kind=request.kind.value, places=places,
                 course_type=kind.code, course_id=getattr(course, "id", None), price_per_place_pence=price,
                 purchase_order_ref=po)
    emails.order_received(order)
    return order


# --- invoices ---------------------------------------------------------------------------------------

def _next_number(counter: str, model) -> int:
    """The next value of a counter row, one after another under any concurrency.

    The counter row is created once (if two requests race to create it, the loser's savepoint rolls
    back and it uses the winner's row); the UPDATE then holds the row until the transaction ends.
    """
    table = InvoiceCounter.__table__
    exists = db.session.scalar(sa.select(table.c.name).where(table.c.name == counter))
    if exists is None:
        start = db.session.scalar(sa.select(sa.func.count(model.id))) or 0
        try:
            with db.session.begin_nested():
                db.session.execute(table.insert().values(name=counter, last_value=start))
        except sa.exc.IntegrityError:
            pass
    db.session.execute(table.update().where(table.c.name == counter).values(last_value=table.c.last_value + 1))
    return db.session.scalar(sa.select(table.c.last_value).where(table.c.name == counter))


def next_invoice_number() -> str:
    """The next invoice number, INV-000001 upwards."""
    return f"INV-{_next_number(INVOICE_COUNTER, Invoice):06d}"


def next_credit_note_number() -> str:
    """The next credit note number, CN-000001 upwards (a sequence of its own)."""
    return f"CN-{_next_number(CREDIT_NOTE_COUNTER, CreditNote):06d}"


def payment_terms_days() -> int:
    """Days from an invoice's date to when it is due: the programme settings', else the server's setting."""
    terms = db.session.scalar(sa.select(ProgrammeSettings.payment_terms_days).order_by(ProgrammeSettings.id).limit(1))
    return terms if terms is not None else current_app.config["MHFA_INVOICE_DUE_DAYS"]


def _time_of_supply(order: Order, issued_on: date) -> date:
    """The tax point: the invoice date (issued before the course, within 14 days of it, it is the invoice date)."""
    return issued_on


def issue_invoice(order: Order, *, by: User, today: date | None = None) -> Invoice:
    """Invoice a pending order: its places can then be used, and its contacts are emailed."""
    lock_order(order)
    if order.status is not OrderStatus.PENDING:
        raise Conflict(f"This order is {order.status.label.lower()}: "
                       "only an order waiting for its invoice can be invoiced")
    today = today or london_today()
    employer = order.employer
    invoice = Invoice(
        number=next_invoice_number(), order=order, issued_on=today,
        due_on=today + timedelta(days=payment_terms_days()),
        supplied_on=_time_of_supply(order, today), net_pence=order.net_pence, vat_pence=order.vat_pence,
        vat_rate_bp=order.vat_rate_bp, amount_pence=order.total_pence, customer_name=employer.name,
        customer_address=order.billing_address or employer.billing_address,
        purchase_order_ref=order.purchase_order_ref,
    )
    db.session.add(invoice)
    order.status = OrderStatus.INVOICED
    order.invoiced_at = utcnow()
    db.session.flush()
    audit.record("order.invoiced", order, by, invoice=invoice.number, total_pence=invoice.amount_pence)
    emails.order_invoiced(order, invoice)
    return invoice


def mark_paid(order: Order, *, by: User, paid_on: date | None = None) -> Order:
    lock_order(order)
    if order.status is not OrderStatus.INVOICED:
        raise Conflict(f"This order is {order.status.label.lower()}: only an invoiced order can be marked paid")
    paid_on = dates.PROGRAMME.check(paid_on or london_today(), "The payment date", field="paid_on")
    invoice = order.invoice
    if paid_on < invoice.issued_on:
        raise DomainError("The payment date cannot be before the invoice date", field="paid_on")
    if paid_on > london_today():
        raise DomainError("The payment date cannot be in the future", field="paid_on")
    invoice.paid_on = paid_on
    order.status = OrderStatus.PAID
    order.paid_at = utcnow()
    db.session.flush()
    audit.record("order.paid", order, by, invoice=invoice.number, paid_on=paid_on.isoformat())
    return order


def cancel_order(order: Order, *, by: User, reason: str) -> list[PlaceVoucher]:
    """Cancel the order and release every place not used yet; returns the vouchers cancelled.

    A place held on a waiting list is released too (the booking is cancelled by the bookings service,
    which emails the person); places already used stay used.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Enter the reason for cancelling", field="reason")
    lock_order(order)
    if order.status is OrderStatus.CANCELLED:
        raise Conflict("This order is already cancelled")
    invoiced = order.status in USABLE_ORDER_STATUSES
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = utcnow()
    order.cancel_reason = reason[:200]
    db.session.flush()
    voucher_ids = [v.id for v in order.vouchers]
    waiting = list(db.session.scalars(sa.select(Booking).where(
        Booking.voucher_id.in_(voucher_ids), Booking.status == BookingStatus.WAITLISTED).order_by(Booking.id)))
    for booking in waiting:
        bookings.cancel_booking(booking, by=by, reason=f"Employer order cancelled: {reason}"[:200],
                                override_cutoff=True)
    lock_vouchers(voucher_ids)  # after the bookings' own locks (course, voucher): wait for any booking using them
    held = set(db.session.scalars(sa.select(Booking.voucher_id).where(
        Booking.voucher_id.in_(voucher_ids), Booking.status != BookingStatus.CANCELLED)))
    released = []
    for voucher in db.session.scalars(sa.select(PlaceVoucher).where(PlaceVoucher.id.in_(voucher_ids))
                                      .execution_options(populate_existing=True)):
        if voucher.status in (VoucherStatus.AVAILABLE, VoucherStatus.ASSIGNED) and voucher.id not in held:
            voucher.cancel()
            released.append(voucher)
    db.session.flush()
    credit = issue_credit_note(order, len(released), by=by, reason=reason) if invoiced and released else None
    audit.record("order.cancelled", order, by, reason=reason[:200], places_released=len(released),
                 credit_note=credit.number if credit else None)
    return released


def issue_credit_note(order: Order, places: int, *, by: User, reason: str, today: date | None = None) -> CreditNote:
    """Credit ``places`` places of the order's invoice (the invoice itself is left as issued)."""
    invoice = order.invoice
    unit = order.price_per_place_pence
    net = places * unit
    vat = vat_on(net, invoice.vat_rate_bp)
    if places == order.places:  # the whole invoice: exactly what it charged
        net, vat = invoice.net_pence, invoice.vat_pence
    credit = CreditNote(
        number=next_credit_note_number(), order=order, invoice=invoice, issued_on=today or london_today(),
        places=places, unit_price_pence=unit, net_pence=-net, vat_pence=-vat, vat_rate_bp=invoice.vat_rate_bp,
        amount_pence=-(net + vat), reason=" ".join(reason.split())[:200], customer_name=invoice.customer_name,
        customer_address=invoice.customer_address, purchase_order_ref=invoice.purchase_order_ref,
        created_by_user_id=by.id,
    )
    db.session.add(credit)
    db.session.flush()
    audit.record("order.credit_note_issued", order, by, credit_note=credit.number, invoice=invoice.number,
                 places=places, total_pence=credit.amount_pence)
    emails.credit_note_issued(order, credit)
    return credit


# --- reading ------------------------------------------------------------------------------------------

def orders_of(employer: Employer) -> list[Order]:
    return list(db.session.scalars(sa.select(Order).where(Order.employer_id == employer.id)
                                   .order_by(Order.ordered_at.desc(), Order.id.desc())))


def order_of(employer: Employer, order_id: int) -> Order | None:
    """One of the organisation's orders (another organisation's is not revealed to exist)."""
    order = lookup.row(Order, order_id)
    return order if order is not None and order.employer_id == employer.id else None


ORDERS_PER_PAGE = 25


def search_orders(status: OrderStatus | None = None, text: str = "", page: int = 1) -> Page:
    """The programme team's orders, a page at a time: those waiting for an invoice first, then newest;
    narrowed to one status, and to organisations whose name, or orders whose purchase order number,
    contains ``text``."""
    query = (sa.select(Order).join(Employer, Employer.id == Order.employer_id)
             .order_by(Order.status != OrderStatus.PENDING, Order.ordered_at.desc(), Order.id.desc()))
    if status is not None:
        query = query.where(Order.status == status)
    text = " ".join((text or "").split()).lower()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(sa.func.lower(Employer.name).like(like, escape="\\"),
                                   sa.func.lower(Order.purchase_order_ref).like(like, escape="\\")))
    return paginate(query, page, ORDERS_PER_PAGE)


def courses_to_order(employer: Employer, *, closed: bool) -> list[Course]:
    """Published courses not yet started: open ones, or this organisation's closed ones."""
    query = sa.select(Course).where(Course.status == CourseStatus.PUBLISHED, Course.starts_at > utcnow())
    query = query.where(Course.employer_id == employer.id) if closed else query.where(Course.employer_id.is_(None))
    return list(db.session.scalars(query.order_by(Course.starts_at).limit(200)))


def course_label(course: Course) -> str:
    where = course.venue.town if course.venue is not None else "online"
    return f"{course.course_type.name}, {to_london(course.starts_at):%-d %B %Y}, {where}"


def order_description(order: Order) -> str:
    if order.kind is OrderKind.COURSE_TYPE:
        return f"{order.course_type.name}: places on any public course"
    if order.kind is OrderKind.CLOSED_COURSE:
        return f"Closed course for {order.employer.name}: {course_label(order.course)}"
    return f"Places on {course_label(order.course)}"
