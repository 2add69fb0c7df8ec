"""What an organisation sees of its places and staff: counts, each member of staff, coverage, exports.

An organisation's staff are the people it named: those it gave a place voucher (and who accepted it,
when it was an offer to an account holder), and those booked on its closed courses. Never the employer
people pick on their own profile. A person is shown by the name and address the organisation typed for
their place, never by the name on their record. Every figure is built in SQL
for one organisation, so one organisation's page or export never holds another's rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion, NonCompletion
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate, makes_a_first_aider
from mhfa.courses.models import Course, CourseStatus, CourseType
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
from mhfa.timeutil import london_today, to_london, utcnow

EXPIRY_WINDOW_DAYS = 183  # six months: a certificate running out within it is "expiring"


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


def arranged_certificate(employer: Employer):
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
    #: Places kept for someone on a course's waiting list: not spent on a seat yet, not free either.
    held: int = 0
    #: Places not used for a seat yet: those not given out, and those given to staff without a seat (waiting
    #: lists included).
    not_used: int = 0


def places(employer: Employer) -> Places:
    """Places on usable orders: bought, given to someone, used for a seat, held on a waiting list, still
    free (not given out), not used for a seat yet (free or given out); and on pending orders."""
    def booking_with(status):
        return sa.exists().where(Booking.voucher_id == PlaceVoucher.id, Booking.status == status)
    usable = Order.status.in_(USABLE_ORDER_STATUSES)
    row = db.session.execute(
        sa.select(
            sa.func.count(PlaceVoucher.id).filter(usable, PlaceVoucher.status != VoucherStatus.CANCELLED),
            sa.func.count(PlaceVoucher.id).filter(usable, PlaceVoucher.assigned_person_id.is_not(None),
                                                  PlaceVoucher.status != VoucherStatus.CANCELLED),
            sa.func.count(PlaceVoucher.id).filter(usable, sa.or_(PlaceVoucher.status == VoucherStatus.REDEEMED,
                                                                 booking_with(BookingStatus.CONFIRMED))),
            sa.func.count(PlaceVoucher.id).filter(usable, PlaceVoucher.status == VoucherStatus.AVAILABLE,
                                                  PlaceVoucher.assigned_person_id.is_(None)),
            sa.func.count(PlaceVoucher.id).filter(Order.status == OrderStatus.PENDING),
            sa.func.count(PlaceVoucher.id).filter(usable, PlaceVoucher.status != VoucherStatus.REDEEMED,
                                                  PlaceVoucher.status != VoucherStatus.CANCELLED,
                                                  booking_with(BookingStatus.WAITLISTED)),
            sa.func.count(PlaceVoucher.id).filter(usable, PlaceVoucher.status.in_([VoucherStatus.AVAILABLE,
                                                                                    VoucherStatus.ASSIGNED])),
        ).select_from(PlaceVoucher).join(Order, Order.id == PlaceVoucher.order_id)
        .where(Order.employer_id == employer.id)
    ).one()
    return Places(*(int(value or 0) for value in row))


#: The staff list's filters, by the value in the page's address.
FILTERS = {
    "booked": "Booked on a course",
    "not-booked": "Not booked on a course",
    "completed": "Completed a course",
    "expiring": "Certificate expires in the next six months",
    "expired": "Certificate expired",
}
#: The staff list's orders, by the value in the page's address.
SORTS = {
    "name": "Last name",
    "expiry": "Certificate expiry, soonest first",
    "next": "Next course, soonest first",
}


@dataclass
class StaffRow:
    person: Person
    first_name: str       # as the organisation typed it for their place (the record's on a closed course only)
    last_name: str
    email: str
    place: str            # what their voucher says: unused, booked, used...
    course: str           # their next course (type and first day), if they are booked on one
    booking: str          # Confirmed / Waiting list / Not booked (for their next course)
    attendance: str       # the last course they were on that has ended, and how it went
    completed_on: date | None       # the last course the organisation arranged that they completed
    certificate_number: str | None  # their latest current certificate, else their latest expired one
    certificate_expires_on: date | None
    certificate_token: str | None
    voucher_id: int | None
    certificate_title: str = ""
    certificate_issued_on: date | None = None
    certificate_expired: bool = False
    next_starts_on: date | None = None
    #: The place the contact can book them onto a course with now, if any.
    bookable_voucher_id: int | None = None

    @property
    def certificate(self) -> str:
        """The certificate as a sentence with its own dates: "expired" once it has."""
        if not self.certificate_number:
            return "None"
        dates = f"issued {self.certificate_issued_on:%-d %B %Y}" if self.certificate_issued_on else ""
        if self.certificate_expires_on:
            word = "expired" if self.certificate_expired else "expires"
            dates += f", {word} {self.certificate_expires_on:%-d %B %Y}"
        return f"{self.certificate_title} ({self.certificate_number}), {dates}".rstrip(", ")


class _Facts:
    """Correlated SQL facts about one member of staff (``Person.id``), from the training the organisation
    arranged only. The filters, the sorting and the figures at the top of the page all use these."""

    def __init__(self, employer: Employer, today: date, now):
        self.today, self.now = today, now
        self.arranged = training_ids(employer).subquery()
        arranged_ids = sa.select(self.arranged.c.id)
        self.live_booking = sa.and_(Booking.person_id == Person.id, Booking.status != BookingStatus.CANCELLED,
                                    Booking.id.in_(arranged_ids))
        # Booked: a live booking on a course that has not ended, is not cancelled and not yet completed.
        self.ahead = sa.and_(self.live_booking, Course.id == Booking.course_id,
                             Course.status.in_([CourseStatus.DRAFT, CourseStatus.PUBLISHED]),
                             sa.or_(Course.ends_at.is_(None), Course.ends_at >= now),
                             ~sa.exists().where(Completion.booking_id == Booking.id))
        self.booked = sa.exists().where(self.ahead)
        self.next_start = (sa.select(sa.func.min(Course.starts_at)).select_from(Booking).join(
            Course, Course.id == Booking.course_id).where(self.ahead).correlate(Person).scalar_subquery())
        self.completed = sa.exists().where(Completion.person_id == Person.id, Completion.booking_id.in_(arranged_ids))
        # A first-aid certificate: an awareness course's certificate of attendance never expires and makes no
        # first aider, so it neither hides an expiring certificate nor counts as one.
        certificate = sa.and_(Certificate.person_id == Person.id, Certificate.revoked_at.is_(None),
                              makes_a_first_aider(),
                              Certificate.completion_id.in_(sa.select(Completion.id).where(
                                  Completion.booking_id.in_(arranged_ids))))
        self.current = sa.and_(certificate, sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today))
        self.has_certificate = sa.exists().where(certificate)
        self.has_current = sa.exists().where(self.current)
        # The latest date a current certificate runs to (none without one; one that never expires runs on).
        self.runs_to = (sa.select(sa.func.max(sa.func.coalesce(Certificate.expires_on, date(9999, 12, 31))))
                        .where(self.current).correlate(Person).scalar_subquery())
        self.expiring = sa.and_(self.has_current, self.runs_to <= today + timedelta(days=EXPIRY_WINDOW_DAYS))
        self.expired = sa.and_(self.has_certificate, ~self.has_current)

    def condition(self, show: str):
        return {"booked": self.booked, "not-booked": ~self.booked, "completed": self.completed,
                "expiring": self.expiring, "expired": self.expired}.get(show)


def _searched(employer: Employer, words: str):
    """People whose name or email (their record's, or what the organisation typed for their place) holds
    every word of ``words``, in any case."""
    conditions = []
    for word in words.split()[:6]:
        word = word.lower()
        typed = sa.exists().where(
            PlaceVoucher.assigned_person_id == Person.id, PlaceVoucher.order_id == Order.id,
            Order.employer_id == employer.id,
            sa.or_(*(sa.func.lower(column).contains(word, autoescape=True) for column in (
                PlaceVoucher.given_first_name, PlaceVoucher.given_last_name, PlaceVoucher.given_email))))
        own = sa.or_(*(sa.func.lower(column).contains(word, autoescape=True)
                       for column in (Person.first_name, Person.last_name, Person.email)))
        conditions.append(sa.or_(own, typed))
    return sa.and_(*conditions)


def staff_query(employer: Employer, *, q: str = "", show: str = "", sort: str = "name",
                 today: date | None = None) -> sa.Select:
    ids = staff_ids(employer).subquery()
    query = sa.select(Person).where(Person.id.in_(sa.select(ids.c.person_id)))
    today = today or london_today()
    facts = _Facts(employer, today, utcnow())
    if show in FILTERS:
        query = query.where(facts.condition(show))
    if q.strip():
        query = query.where(_searched(employer, q))
    by_name = (Person.last_name, Person.first_name, Person.id)
    if sort == "expiry":
        return query.order_by(sa.case((facts.runs_to.is_(None), 1), else_=0), facts.runs_to, *by_name)
    if sort == "next":
        return query.order_by(sa.case((facts.next_start.is_(None), 1), else_=0), facts.next_start, *by_name)
    return query.order_by(*by_name)


def staff(employer: Employer) -> list[StaffRow]:
    """Every member of staff (for the exports)."""
    return _staff_rows(employer, list(db.session.scalars(staff_query(employer))))


def staff_page(employer: Employer, page: int, per_page: int = 25, *, q: str = "", show: str = "",
               sort: str = "name") -> Page:
    """One page of the staff list, searched (name or email), filtered (:data:`FILTERS`) and sorted
    (:data:`SORTS`); its items are StaffRows."""
    found = paginate(staff_query(employer, q=q, show=show, sort=sort), page, per_page)
    found.items = _staff_rows(employer, found.items)
    return found


def staff_counts(employer: Employer, today: date | None = None) -> dict[str, int]:
    """How many of the staff each filter shows (one query), with ``all`` for the whole list."""
    today = today or london_today()
    facts = _Facts(employer, today, utcnow())
    ids = staff_ids(employer).subquery()
    columns = [sa.func.count(Person.id)] + [sa.func.count(Person.id).filter(facts.condition(key)) for key in FILTERS]
    row = db.session.execute(sa.select(*columns).where(Person.id.in_(sa.select(ids.c.person_id)))).one()
    return dict(zip(["all", *FILTERS], (int(value or 0) for value in row), strict=True))


def _staff_rows(employer: Employer, people: list[Person], today: date | None = None) -> list[StaffRow]:
    """Each person's next booking, last finished course, latest completion and certificate, in a few queries."""
    if not people:
        return []
    today = today or london_today()
    now = utcnow()
    person_ids = [p.id for p in people]
    vouchers = {}
    for voucher in db.session.scalars(
            sa.select(PlaceVoucher).join(Order, Order.id == PlaceVoucher.order_id)
            .where(Order.employer_id == employer.id, PlaceVoucher.assigned_person_id.in_(person_ids))
            .options(selectinload(PlaceVoucher.order))
            .order_by(PlaceVoucher.id)):
        vouchers[voucher.assigned_person_id] = voucher  # the latest place given to each person
    completed_bookings = set(db.session.scalars(
        sa.select(Completion.booking_id).where(Completion.person_id.in_(person_ids),
                                               Completion.booking_id.in_(training_ids(employer)))))
    missed = set(db.session.scalars(
        sa.select(NonCompletion.booking_id).where(NonCompletion.person_id.in_(person_ids))))
    upcoming, finished = {}, {}
    for booking, course, kind in db.session.execute(
            sa.select(Booking, Course, CourseType).join(Course, Course.id == Booking.course_id)
            .join(CourseType, CourseType.id == Course.course_type_id)
            .where(Booking.person_id.in_(person_ids), Booking.status != BookingStatus.CANCELLED,
                   Booking.id.in_(training_ids(employer)))
            .options(selectinload(Course.sessions))
            .order_by(Course.starts_at, Booking.id)):
        ended = course.ends_at is not None and course.ends_at < now
        if (not ended and course.status in (CourseStatus.DRAFT, CourseStatus.PUBLISHED)
                and booking.id not in completed_bookings):
            upcoming.setdefault(booking.person_id, (booking, course, kind))  # the soonest
        else:
            finished[booking.person_id] = (booking, course, kind)  # the latest
    attended = dict(db.session.execute(
        sa.select(AttendanceMark.booking_id, sa.func.count(AttendanceMark.id))
        .where(AttendanceMark.booking_id.in_([b.id for b, _, _ in finished.values()] or [0]),
               AttendanceMark.status == AttendanceStatus.PRESENT)
        .group_by(AttendanceMark.booking_id)).all())
    completions = dict(db.session.execute(
        sa.select(Completion.person_id, sa.func.max(Completion.completed_on))
        .where(Completion.person_id.in_(person_ids), Completion.booking_id.in_(training_ids(employer)))
        .group_by(Completion.person_id)).all())
    current, lapsed = {}, {}
    for cert in db.session.scalars(sa.select(Certificate).where(
            Certificate.person_id.in_(person_ids), Certificate.revoked_at.is_(None), arranged_certificate(employer))
            .order_by(Certificate.issued_on, Certificate.id)):
        if cert.expires_on is None or cert.expires_on >= today:
            held = current.get(cert.person_id)
            if held is None or runs_to(cert) >= runs_to(held):
                current[cert.person_id] = cert  # the one that runs longest
        else:
            lapsed[cert.person_id] = cert  # the latest issued
    rows = []
    for person in people:
        voucher = vouchers.get(person.id)
        booking, course, kind = upcoming.get(person.id, (None, None, None))
        cert = current.get(person.id) or lapsed.get(person.id)
        first, last, email = known_as(voucher, person)
        rows.append(StaffRow(
            person=person, first_name=first, last_name=last, email=email,
            place=_place_state(voucher, booking),
            course=f"{kind.name}, {to_london(course.starts_at):%-d %B %Y}" if course is not None and course.starts_at
            else kind.name if kind is not None else "",
            booking=("Confirmed" if booking is not None and booking.status is BookingStatus.CONFIRMED
                     else "Waiting list" if booking is not None else "Not booked"),
            attendance=_last_course(finished.get(person.id), attended, completed_bookings, missed),
            completed_on=completions.get(person.id),
            certificate_number=cert.number if cert else None,
            certificate_expires_on=cert.expires_on if cert else None,
            certificate_token=cert.verification_token if cert else None,
            voucher_id=voucher.id if voucher is not None else None,
            certificate_title=cert.title if cert else "",
            certificate_issued_on=cert.issued_on if cert else None,
            certificate_expired=cert is not None and person.id not in current,
            next_starts_on=to_london(course.starts_at).date() if course is not None and course.starts_at else None,
            bookable_voucher_id=voucher.id if voucher is not None and voucher.status is VoucherStatus.ASSIGNED
            and voucher.usable_by_employer and voucher.order.places_usable
            and (booking is None or booking.voucher_id != voucher.id) else None,
        ))
    return rows


def runs_to(certificate: Certificate) -> date:
    return certificate.expires_on or date.max


def _last_course(found, attended: dict, completed: set, missed: set) -> str:
    """The last course of theirs that has ended, with its own date and what came of it."""
    if found is None:
        return ""
    booking, course, kind = found
    when = f"{kind.name}, {to_london(course.starts_at):%-d %B %Y}" if course.starts_at else kind.name
    if booking.id in completed:
        outcome = "completed"
    elif course.status is CourseStatus.CANCELLED:
        outcome = "course cancelled"
    elif booking.status is BookingStatus.WAITLISTED:
        outcome = "did not get a seat (waiting list)"
    elif booking.id in missed or course.status is CourseStatus.COMPLETED:
        outcome = f"did not complete (attended {attended.get(booking.id, 0)} of {len(course.sessions)} sessions)"
    else:
        outcome = "waiting for the instructor to complete the course"
    return f"{when}: {outcome}"


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
