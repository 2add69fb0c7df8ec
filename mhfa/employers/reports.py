"""What an organisation sees of its places and staff: counts, each member of staff, coverage, exports.

An organisation's staff are the people it named: those it gave a place voucher (and who accepted it,
when it was an offer to an account holder), and those booked on its closed courses. Never the employer
people pick on their own profile. A person is shown by the name and address the organisation typed for
their place, never by the name on their record. Every figure is built in SQL
for one organisation, so one organisation's page or export never holds another's rows.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from mhfa import names
from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseType
from mhfa.employers.models import (
    USABLE_ORDER_STATUSES,
    Employer,
    OfferState,
    Order,
    OrderStatus,
    PlaceVoucher,
    VoucherStatus,
)
from mhfa.extensions import db
from mhfa.pagination import Page, paginate
from mhfa.people.models import Person
from mhfa.timeutil import london_today, to_london

#: The large employers' ask in the action plan: train up to 5% of staff in MHFA.
COVERAGE_ASK = 0.05
EXPIRY_WINDOW_DAYS = 183  # six months


def staff_ids(employer: Employer) -> sa.Select:
    """The ids of the organisation's staff, as a subquery-ready SELECT."""
    named = (sa.select(PlaceVoucher.assigned_person_id.label("person_id"))
             .join(Order, Order.id == PlaceVoucher.order_id)
             .where(Order.employer_id == employer.id, PlaceVoucher.assigned_person_id.is_not(None),
                    sa.or_(PlaceVoucher.offer.is_(None), PlaceVoucher.offer == OfferState.ACCEPTED)))
    closed = (sa.select(Booking.person_id.label("person_id")).join(Course, Course.id == Booking.course_id)
              .where(Course.employer_id == employer.id, Booking.status != BookingStatus.CANCELLED))
    return sa.union(named, closed)


def training_ids(employer: Employer) -> sa.Select:
    """The ids of the bookings the organisation arranged: paid with one of its place vouchers, or on one
    of its closed courses. Its pages show a member of staff's training through these alone.

    A contact can name anyone by email, so what a person booked, attended or was certified for
    elsewhere (on their own, or through another organisation) is never shown to this one.
    """
    own_vouchers = (sa.select(PlaceVoucher.id).join(Order, Order.id == PlaceVoucher.order_id)
                    .where(Order.employer_id == employer.id))
    # Two indexed lookups joined by UNION: one OR across the join would read every booking.
    with_voucher = sa.select(Booking.id).where(Booking.voucher_id.in_(own_vouchers))
    on_closed_course = (sa.select(Booking.id).join(Course, Course.id == Booking.course_id)
                        .where(Course.employer_id == employer.id))
    return sa.union(with_voucher, on_closed_course)


def _arranged_certificate(employer: Employer):
    """A certificate earned on a course the organisation arranged (see :func:`training_ids`)."""
    return Certificate.completion_id.in_(
        sa.select(Completion.id).where(Completion.booking_id.in_(training_ids(employer))))


@dataclass
class Places:
    bought: int
    allocated: int
    used: int
    remaining: int
    pending: int


def places(employer: Employer) -> Places:
    """Places on usable orders: bought, given to someone, used for a booking, still free; and on pending orders."""
    held = sa.exists().where(Booking.voucher_id == PlaceVoucher.id, Booking.status != BookingStatus.CANCELLED)
    row = db.session.execute(
        sa.select(
            sa.func.count(PlaceVoucher.id).filter(Order.status.in_(USABLE_ORDER_STATUSES),
                                                  PlaceVoucher.status != VoucherStatus.CANCELLED),
            sa.func.count(PlaceVoucher.id).filter(Order.status.in_(USABLE_ORDER_STATUSES),
                                                  PlaceVoucher.assigned_person_id.is_not(None),
                                                  PlaceVoucher.status != VoucherStatus.CANCELLED),
            sa.func.count(PlaceVoucher.id).filter(Order.status.in_(USABLE_ORDER_STATUSES),
                                                  sa.or_(PlaceVoucher.status == VoucherStatus.REDEEMED, held)),
            sa.func.count(PlaceVoucher.id).filter(Order.status.in_(USABLE_ORDER_STATUSES),
                                                  PlaceVoucher.status == VoucherStatus.AVAILABLE,
                                                  PlaceVoucher.assigned_person_id.is_(None)),
            sa.func.count(PlaceVoucher.id).filter(Order.status == OrderStatus.PENDING),
        ).select_from(PlaceVoucher).join(Order, Order.id == PlaceVoucher.order_id)
        .where(Order.employer_id == employer.id)
    ).one()
    return Places(*(int(value or 0) for value in row))


@dataclass
class StaffRow:
    person: Person
    first_name: str       # as the organisation typed it for their place (the record's on a closed course only)
    last_name: str
    email: str
    place: str            # what their voucher says: unused, booked, used...
    course: str           # the course they are booked on, if any
    booking: str          # confirmed / waiting list / none
    attendance: str       # sessions attended of the course's sessions
    completed_on: date | None
    certificate_number: str | None
    certificate_expires_on: date | None
    certificate_token: str | None
    voucher_id: int | None


def _staff_query(employer: Employer) -> sa.Select:
    ids = staff_ids(employer).subquery()
    return (sa.select(Person).where(Person.id.in_(sa.select(ids.c.person_id)))
            .order_by(Person.last_name, Person.first_name, Person.id))


def staff(employer: Employer) -> list[StaffRow]:
    """Every member of staff (for the exports)."""
    return _staff_rows(employer, list(db.session.scalars(_staff_query(employer))))


def staff_page(employer: Employer, page: int, per_page: int = 50) -> Page:
    """One page of the staff list; its items are StaffRows."""
    found = paginate(_staff_query(employer), page, per_page)
    found.items = _staff_rows(employer, found.items)
    return found


def _staff_rows(employer: Employer, people: list[Person]) -> list[StaffRow]:
    """Each person's latest booking, attendance, completion and current certificate, in a few queries."""
    if not people:
        return []
    person_ids = [p.id for p in people]
    vouchers = {}
    for voucher in db.session.scalars(
            sa.select(PlaceVoucher).join(Order, Order.id == PlaceVoucher.order_id)
            .where(Order.employer_id == employer.id, PlaceVoucher.assigned_person_id.in_(person_ids))
            .order_by(PlaceVoucher.id)):
        vouchers[voucher.assigned_person_id] = voucher  # the latest place given to each person
    latest = {}
    for booking, course, kind in db.session.execute(
            sa.select(Booking, Course, CourseType).join(Course, Course.id == Booking.course_id)
            .join(CourseType, CourseType.id == Course.course_type_id)
            .where(Booking.person_id.in_(person_ids), Booking.status != BookingStatus.CANCELLED,
                   Booking.id.in_(training_ids(employer)))
            .options(selectinload(Course.sessions))
            .order_by(Course.starts_at)):
        latest[booking.person_id] = (booking, course, kind)
    attended = dict(db.session.execute(
        sa.select(AttendanceMark.booking_id, sa.func.count(AttendanceMark.id))
        .where(AttendanceMark.booking_id.in_([b.id for b, _, _ in latest.values()] or [0]),
               AttendanceMark.status == AttendanceStatus.PRESENT)
        .group_by(AttendanceMark.booking_id)).all())
    completions = dict(db.session.execute(
        sa.select(Completion.person_id, sa.func.max(Completion.completed_on))
        .where(Completion.person_id.in_(person_ids), Completion.booking_id.in_(training_ids(employer)))
        .group_by(Completion.person_id)).all())
    certificates = {}
    for cert in db.session.scalars(sa.select(Certificate).where(
            Certificate.person_id.in_(person_ids), Certificate.revoked_at.is_(None), _arranged_certificate(employer))
            .order_by(Certificate.issued_on)):
        certificates[cert.person_id] = cert
    rows = []
    for person in people:
        voucher = vouchers.get(person.id)
        booking, course, kind = latest.get(person.id, (None, None, None))
        cert = certificates.get(person.id)
        first, last, email = known_as(voucher, person)
        rows.append(StaffRow(
            person=person, first_name=first, last_name=last, email=email,
            place=_place_state(voucher, booking),
            course=f"{kind.name}, {to_london(course.starts_at):%-d %B %Y}" if course is not None else "",
            booking=("Confirmed" if booking is not None and booking.status is BookingStatus.CONFIRMED
                     else "Waiting list" if booking is not None else "Not booked"),
            attendance=(f"{attended.get(booking.id, 0)} of {len(course.sessions)} sessions" if booking is not None
                        else ""),
            completed_on=completions.get(person.id),
            certificate_number=cert.number if cert else None,
            certificate_expires_on=cert.expires_on if cert else None,
            certificate_token=cert.verification_token if cert else None,
            voucher_id=voucher.id if voucher is not None else None,
        ))
    return rows


def known_as(voucher: PlaceVoucher | None, person: Person) -> tuple[str, str, str]:
    """The name and address the organisation knows someone by: what it typed for their place."""
    if voucher is not None and voucher.given_email:
        return voucher.given_first_name or "", voucher.given_last_name or "", voucher.given_email
    return person.first_name, person.last_name, person.email or ""


def known_names(employer: Employer, person_ids: list[int]) -> dict[int, str]:
    """The names the organisation typed for these people's places (one query), by person id."""
    found = {}
    for person_id, first, last in db.session.execute(
            sa.select(PlaceVoucher.assigned_person_id, PlaceVoucher.given_first_name, PlaceVoucher.given_last_name)
            .join(Order, Order.id == PlaceVoucher.order_id)
            .where(Order.employer_id == employer.id, PlaceVoucher.assigned_person_id.in_(person_ids or [0]),
                   PlaceVoucher.given_email.is_not(None))
            .order_by(PlaceVoucher.id)):
        found[person_id] = f"{first or ''} {last or ''}".strip()
    return found


def _place_state(voucher: PlaceVoucher | None, booking: Booking | None) -> str:
    if voucher is None:
        return "Closed course" if booking is not None else ""
    if voucher.status is VoucherStatus.CANCELLED:
        return "Place cancelled"
    if voucher.status is VoucherStatus.REDEEMED:
        return "Place used"
    if booking is not None and booking.voucher_id == voucher.id:
        return "Place held on a waiting list"
    return "Place not used yet"


@dataclass
class Coverage:
    headcount: int | None
    certified: int
    share: float | None
    ask: float
    needed_for_ask: int | None
    expiring: list[Certificate]
    #: The names the organisation knows the holders of expiring certificates by (person id to name).
    names: dict[int, str] = field(default_factory=dict)

    def name_of(self, certificate: Certificate) -> str:
        return self.names.get(certificate.person_id) or certificate.person.full_name


def coverage(employer: Employer, today: date | None = None) -> Coverage:
    """Staff with a current certificate as a share of headcount, against the 5% ask; expiring in six months."""
    today = today or london_today()
    ids = staff_ids(employer).subquery()
    current = sa.and_(Certificate.person_id.in_(sa.select(ids.c.person_id)), Certificate.revoked_at.is_(None),
                      _arranged_certificate(employer),
                      sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today))
    certified = db.session.scalar(sa.select(sa.func.count(sa.distinct(Certificate.person_id))).where(current)) or 0
    expiring = list(db.session.scalars(
        sa.select(Certificate).where(current, Certificate.expires_on.is_not(None),
                                     Certificate.expires_on <= today + timedelta(days=EXPIRY_WINDOW_DAYS))
        .order_by(Certificate.expires_on)))
    headcount = employer.headcount
    share = certified / headcount if headcount else None
    needed = max(0, math.ceil(headcount * COVERAGE_ASK) - certified) if headcount else None
    return Coverage(headcount, certified, share, COVERAGE_ASK, needed, expiring,
                    known_names(employer, [c.person_id for c in expiring]))


def staff_certified(employer: Employer) -> int:
    return coverage(employer).certified


# --- exports ------------------------------------------------------------------------------------------

HEADER = ["First name", "Last name", "Email", "Place", "Course", "Booking", "Attendance", "Completed on",
          "Certificate number", "Certificate expires on"]


def neutralise(value) -> str:
    """A cell a spreadsheet will show as text: one starting like a formula gets a leading apostrophe."""
    return names.spreadsheet_text("" if value is None else str(value))


def _rows(rows: list[StaffRow]) -> list[list[str]]:
    return [[neutralise(v) for v in (
        r.first_name, r.last_name, r.email, r.place, r.course, r.booking, r.attendance,
        r.completed_on.isoformat() if r.completed_on else "", r.certificate_number,
        r.certificate_expires_on.isoformat() if r.certificate_expires_on else "")] for r in rows]


def staff_csv(employer: Employer) -> str:
    """The staff table as CSV, UTF-8 with a byte-order mark (without one, Excel shows "Zoë" as "ZoÃ«")."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(_rows(staff(employer)))
    return out.getvalue()


def staff_xlsx(employer: Employer) -> bytes:
    """The same table as an Excel workbook; no cell is ever a formula or a link."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    sheet = book.add_worksheet("Staff")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, HEADER, bold)
    for i, row in enumerate(_rows(staff(employer)), start=1):
        for j, value in enumerate(row):
            sheet.write_string(i, j, value)
    sheet.set_column(0, len(HEADER) - 1, 18)
    book.close()
    return out.getvalue()
