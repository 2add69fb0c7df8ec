"""The demo employer's work to do on the day the history is built: staff given a place and not booked
yet, and staff whose certificate (from training the organisation paid for) expires in the next six
months. Made after the bulk load, through the app's own services where a service exists."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.auth.models import User
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import CourseType
from mhfa.employers import orders, vouchers
from mhfa.employers.models import Employer, Order, OrderKind, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.extensions import db
from mhfa.people.models import Person

#: How many of the demo employer's staff wait to be booked, and at most how many certificates expire soon.
WAITING_TO_BOOK = 3
EXPIRING = 3


def employer_work(builder, contact: User) -> None:
    employer = db.session.get(Employer, builder.top_employer)
    if employer is None:
        return
    _expiring_certificates_paid_for(employer, builder.today, contact)
    _places_given_not_booked(employer, contact, builder.today)


def _staff_ids(employer: Employer) -> set[int]:
    return set(db.session.scalars(
        sa.select(PlaceVoucher.assigned_person_id).join(Order, Order.id == PlaceVoucher.order_id)
        .where(Order.employer_id == employer.id, PlaceVoucher.assigned_person_id.is_not(None))))


def _expiring_certificates_paid_for(employer: Employer, today, contact: User) -> None:
    """Employees whose certificate expires within six months had that course paid with one of the
    organisation's spare places of the same course type (as the history's employer-paid places are)."""
    found = db.session.execute(
        sa.select(Certificate, Booking).join(Completion, Completion.id == Certificate.completion_id)
        .join(Booking, Booking.id == Completion.booking_id).join(Person, Person.id == Certificate.person_id)
        .where(Person.employer_id == employer.id, Certificate.revoked_at.is_(None),
               Certificate.expires_on.between(today + timedelta(days=14), today + timedelta(days=170)),
               Booking.voucher_id.is_(None), Booking.status == BookingStatus.CONFIRMED)
        .order_by(Certificate.expires_on, Certificate.id)).all()
    for certificate, booking in found[:EXPIRING]:
        spare = db.session.scalar(
            sa.select(PlaceVoucher).join(Order, Order.id == PlaceVoucher.order_id)
            .where(Order.employer_id == employer.id, Order.course_type_id == certificate.course_type_id,
                   Order.status.in_([OrderStatus.INVOICED, OrderStatus.PAID]), Order.course_id.is_(None),
                   Order.ordered_at <= booking.created_at, PlaceVoucher.status == VoucherStatus.AVAILABLE,
                   PlaceVoucher.assigned_person_id.is_(None))
            .order_by(Order.ordered_at.desc(), PlaceVoucher.id).limit(1))
        if spare is None:
            spare = _place_bought_before(employer, certificate.course_type_id, booking.created_at, contact)
        person = certificate.person
        spare.status, spare.assigned_person, spare.assigned_at = VoucherStatus.REDEEMED, person, booking.created_at
        spare.given_first_name, spare.given_last_name, spare.given_email = (person.first_name, person.last_name,
                                                                            person.email)
        booking.voucher_id, booking.source = spare.id, BookingSource.EMPLOYER
    db.session.flush()


def _place_bought_before(employer: Employer, course_type_id: int, booked_at: datetime, contact: User) -> PlaceVoucher:
    """One place of this course type the organisation bought a fortnight before the booking it paid for (when
    none of its orders had one spare): so the demo shows staff expiring soon on every date it is built."""
    ordered = booked_at.replace(tzinfo=UTC) - timedelta(days=14) if booked_at.tzinfo is None else \
        booked_at - timedelta(days=14)
    order = orders.place_order(employer, orders.OrderRequest(
        kind=OrderKind.COURSE_TYPE, places=1, course_type_id=course_type_id,
        purchase_order_ref=f"PO-{ordered:%Y%m%d}", billing_address=employer.billing_address or employer.name),
        by=contact)
    order.ordered_at = ordered
    orders.issue_invoice(order, by=contact, today=ordered.date() + timedelta(days=1))
    return db.session.scalar(sa.select(PlaceVoucher).where(PlaceVoucher.order_id == order.id).limit(1))


def _places_given_not_booked(employer: Employer, contact: User, today) -> None:
    """A recent invoiced order of Adult MHFA places, three of them given to staff who have not booked yet."""
    kind = db.session.scalar(sa.select(CourseType).where(CourseType.code == "ADULT_2DAY"))
    staff = _staff_ids(employer)
    people = [p for p in db.session.scalars(
        sa.select(Person).where(Person.employer_id == employer.id, Person.date_of_birth.is_not(None),
                                Person.email.is_not(None), Person.erased_at.is_(None),
                                ~sa.exists().where(User.person_id == Person.id))
        .order_by(Person.id).limit(50)) if p.id not in staff][:WAITING_TO_BOOK]
    if kind is None or not people:
        return
    ordered = datetime.combine(today - timedelta(days=12), time(10), tzinfo=UTC)
    order = orders.place_order(employer, orders.OrderRequest(
        kind=OrderKind.COURSE_TYPE, places=WAITING_TO_BOOK + 2, course_type_id=kind.id,
        purchase_order_ref=f"PO-{today:%Y}-ADULT", billing_address=employer.billing_address or employer.name),
        by=contact)
    order.ordered_at = ordered
    orders.issue_invoice(order, by=contact, today=today - timedelta(days=11))
    for person in people:
        voucher = vouchers.allocate_one(employer, order, person.first_name, person.last_name, person.email,
                                        by=contact)
        voucher.assigned_at = voucher.sent_at = ordered + timedelta(days=2)
    db.session.flush()
