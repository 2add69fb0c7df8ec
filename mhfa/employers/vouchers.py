"""Place vouchers: handing bought places to named staff, resending, reassigning, and the contact's view
of who holds each.

Each place is a voucher with an unguessable code. The contact allocates places one by one or from a
CSV file of names and emails (checked by ``mhfa.employers.staff``: every row before any place is used).
Each member of staff is emailed a link to claim the place and choose a date, or the contact books them
directly (``mhfa.employers.claims``).

No booking without consent: a place given to an address that already has an account is an *offer*,
which its owner accepts or declines (from the emailed link or their account) before anything can be
booked with it; the contact sees "offered", then the answer. The contact's pages show the name and
address they typed for a place, never the name on the record the address matched.

"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from mhfa.attendance.models import NonCompletion
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import Course
from mhfa.employers import emails, lookup
from mhfa.employers.models import USABLE_ORDER_STATUSES, Employer, OfferState, Order, PlaceVoucher, VoucherStatus
from mhfa.employers.staff import CsvRejected, StaffMember, check_member, parse_staff_csv
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.locks import lock_order, lock_voucher
from mhfa.people.models import Person, PersonSource
from mhfa.timeutil import utcnow


@dataclass
class Allocation:
    vouchers: list[PlaceVoucher] = field(default_factory=list)


# --- allocating ------------------------------------------------------------------------------------------

def _usable_order(employer: Employer, order: Order) -> Order:
    if order.employer_id != employer.id:
        raise NotFound("order not found")
    lock_order(order)  # two allocations at once never pick the same voucher
    if not order.places_usable:
        raise DomainError(f"This order is {order.status.label.lower()}: places can be handed out once it is invoiced",
                          field="email")
    return order


def unused_vouchers(order: Order) -> list[PlaceVoucher]:
    return list(db.session.scalars(sa.select(PlaceVoucher).where(
        PlaceVoucher.order_id == order.id, PlaceVoucher.status == VoucherStatus.AVAILABLE,
        PlaceVoucher.assigned_person_id.is_(None)).order_by(PlaceVoucher.id).execution_options(populate_existing=True)))


def _person_with_email(email: str) -> Person | None:
    """The person with this address, however it was capitalised when they were recorded."""
    return db.session.scalar(sa.select(Person).where(sa.func.lower(Person.email) == email).limit(1))


def _people_with_emails(emails: list[str]) -> dict[str, Person]:
    """The people with these (normalised) addresses, in one query: address to person."""
    found: dict[str, Person] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        for person in db.session.scalars(sa.select(Person).where(sa.func.lower(Person.email).in_(chunk))
                                         .order_by(Person.id)):
            found.setdefault(person.email.lower(), person)
    return found


def _staff_person(employer: Employer, member: StaffMember, person: Person | None) -> Person:
    if person is None:
        person = Person(first_name=member.first_name, last_name=member.last_name, email=member.email,
                        date_of_birth=member.date_of_birth, source=PersonSource.EMPLOYER, employer_id=employer.id)
        db.session.add(person)
        db.session.flush()
    elif person.is_erased:
        raise DomainError(f"{member.email} cannot be given a place", field="email")
    # A date of birth fills the gap on a record this organisation made, never on anyone else's: a
    # contact can type any address, and age rules read it.
    recorded_here = person.source is PersonSource.EMPLOYER and person.employer_id == employer.id
    if person.date_of_birth is None and member.date_of_birth is not None and recorded_here:
        person.date_of_birth = member.date_of_birth
    return person


def _with_accounts(people: list[Person]) -> set[int]:
    """The ids of these people who have an account (one query): a place given to them is an offer."""
    ids = [p.id for p in people if p is not None and p.id is not None]
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(User.person_id).where(User.person_id.in_(ids))))


def _give(voucher: PlaceVoucher, person: Person, member: StaffMember, by: User, *, offer: bool) -> PlaceVoucher:
    voucher.give(person, utcnow())
    voucher.sent_at = voucher.assigned_at
    voucher.given_first_name, voucher.given_last_name = member.first_name, member.last_name
    voucher.given_email = member.email
    voucher.offer = OfferState.OFFERED if offer else None
    voucher.offer_answered_at = None
    db.session.flush()
    audit.record("voucher.offered" if offer else "voucher.assigned", voucher, by, order_id=voucher.order_id,
                 person_id=person.id)
    if offer:
        emails.place_offered(voucher)
    else:
        emails.place_for_staff(voucher)
    return voucher


def _already_holds(order: Order, person: Person) -> bool:
    return db.session.scalar(sa.select(PlaceVoucher.id).where(
        PlaceVoucher.order_id == order.id, PlaceVoucher.assigned_person_id == person.id,
        PlaceVoucher.status == VoucherStatus.ASSIGNED)) is not None


def allocate(employer: Employer, order: Order, members: list[StaffMember], *, by: User) -> Allocation:
    """Give one unused place of the order to each member of staff (all of them, or none)."""
    _usable_order(employer, order)
    free = unused_vouchers(order)
    if len(members) > len(free):
        raise DomainError(f"This order has {len(free)} unused place{'s' if len(free) != 1 else ''} and you named "
                          f"{len(members)} people: name fewer, or order more places",
                          field="file" if len(members) > 1 else "email")
    known = _people_with_emails([member.email for member in members])
    _refuse_people_who_cannot_have_one(order, members, known)
    with_accounts = _with_accounts(list(known.values()))
    result = Allocation()
    for member, voucher in zip(members, free, strict=False):
        person = _staff_person(employer, member, known.get(member.email))
        result.vouchers.append(_give(voucher, person, member, by, offer=person.id in with_accounts))
    return result


def _refuse_people_who_cannot_have_one(order: Order, members: list[StaffMember], known: dict[str, Person]) -> None:
    """Every person who already holds an unused place of the order, or whose record was erased, before
    any place is given: from a CSV file, one ``line N: reason`` each."""
    problems = []
    for member in members:
        person = known.get(member.email)
        if person is None:
            continue
        if person.is_erased:
            problems.append((member, f"{member.email} cannot be given a place"))
        elif _already_holds(order, person):
            problems.append((member, f"{member.email} already has an unused place from this order"))
    if not problems:
        return
    if all(member.line is not None for member, _ in problems):
        raise CsvRejected([f"line {member.line}: {reason}" for member, reason in problems])
    raise DomainError(f"{problems[0][1]}: nothing was allocated", field="email")


def allocate_one(employer: Employer, order: Order, first_name: str, last_name: str, email: str, *,
                 by: User, date_of_birth: date | None = None) -> PlaceVoucher:
    member = check_member(first_name, last_name, email, date_of_birth)
    return allocate(employer, order, [member], by=by).vouchers[0]


def allocate_csv(employer: Employer, order: Order, data: bytes, *, by: User) -> Allocation:
    return allocate(employer, order, parse_staff_csv(data), by=by)


# --- one voucher --------------------------------------------------------------------------------------

def voucher_of(employer: Employer, voucher_id: int) -> PlaceVoucher | None:
    voucher = lookup.row(PlaceVoucher, voucher_id)
    return voucher if voucher is not None and voucher.order.employer_id == employer.id else None


def _needs_no_answer():
    """The places a contact may book with: given without an offer, or offered and accepted."""
    return sa.or_(PlaceVoucher.offer.is_(None), PlaceVoucher.offer == OfferState.ACCEPTED)


def given_not_used(employer: Employer) -> list[PlaceVoucher]:
    """Places given to named staff and not yet used or held (on invoiced or paid orders); not those offered
    to someone who has not accepted yet."""
    held = sa.exists().where(Booking.voucher_id == PlaceVoucher.id, Booking.status != BookingStatus.CANCELLED)
    return list(db.session.scalars(
        sa.select(PlaceVoucher).join(Order, Order.id == PlaceVoucher.order_id)
        .join(Person, Person.id == PlaceVoucher.assigned_person_id)
        .where(Order.employer_id == employer.id, Order.status.in_(USABLE_ORDER_STATUSES),
               PlaceVoucher.status == VoucherStatus.ASSIGNED, ~held, _needs_no_answer())
        .options(selectinload(PlaceVoucher.assigned_person),
                 selectinload(PlaceVoucher.order).selectinload(Order.course_type))
        .order_by(PlaceVoucher.given_last_name, PlaceVoucher.given_first_name, PlaceVoucher.id)))


def of_order(order: Order) -> list[PlaceVoucher]:
    """The order's vouchers with whom each was given to (one query)."""
    return list(db.session.scalars(sa.select(PlaceVoucher).where(PlaceVoucher.order_id == order.id)
                                   .options(selectinload(PlaceVoucher.assigned_person)).order_by(PlaceVoucher.id)))


def holders(order: Order) -> dict[int, Booking]:
    """The live booking each of the order's vouchers backs, by voucher id (one query)."""
    found = db.session.scalars(sa.select(Booking).join(PlaceVoucher, PlaceVoucher.id == Booking.voucher_id)
                               .where(PlaceVoucher.order_id == order.id, Booking.status != BookingStatus.CANCELLED)
                               .options(joinedload(Booking.course).joinedload(Course.course_type)))
    return {booking.voucher_id: booking for booking in found}


def no_shows(order: Order) -> dict[int, NonCompletion]:
    """The order's places whose holder did not attend, by voucher id, with what the programme's rule did to each
    (spent, or returned to the employer)."""
    found = db.session.scalars(
        sa.select(NonCompletion).join(PlaceVoucher, PlaceVoucher.id == NonCompletion.voucher_id)
        .where(PlaceVoucher.order_id == order.id).order_by(NonCompletion.id)
        .options(joinedload(NonCompletion.booking).joinedload(Booking.course).joinedload(Course.course_type)))
    return {record.voucher_id: record for record in found}


def holder(voucher: PlaceVoucher) -> Booking | None:
    return db.session.scalar(sa.select(Booking).where(Booking.voucher_id == voucher.id,
                                                      Booking.status != BookingStatus.CANCELLED))


def _unspent(voucher: PlaceVoucher) -> None:
    if voucher.status is VoucherStatus.REDEEMED or holder(voucher) is not None:
        raise Conflict("This place has already been used to book a course", field="email")
    if voucher.status is VoucherStatus.CANCELLED or not voucher.order.places_usable:
        raise Conflict("This place has been cancelled", field="email")


def resend(voucher: PlaceVoucher, *, by: User) -> PlaceVoucher:
    lock_voucher(voucher)
    _unspent(voucher)
    if voucher.assigned_person is None:
        raise DomainError("This place has not been given to anyone yet", field="email")
    voucher.sent_at = utcnow()
    db.session.flush()
    audit.record("voucher.resent", voucher, by, person_id=voucher.assigned_person_id)
    if voucher.waiting_for_answer:
        emails.place_offered(voucher)
    else:
        emails.place_for_staff(voucher)
    return voucher


def reassign(employer: Employer, voucher: PlaceVoucher, first_name: str, last_name: str, email: str, *,
             by: User) -> PlaceVoucher:
    """Give an unused place to someone else (the old link then refuses them: the place is not theirs)."""
    member = check_member(first_name, last_name, email)
    lock_order(voucher.order)
    lock_voucher(voucher)  # a claim in flight finishes first, and is seen by the check below
    _unspent(voucher)
    person = _staff_person(employer, member, _person_with_email(member.email))
    if voucher.assigned_person_id == person.id:
        raise DomainError(f"This place is already given to {member.email}", field="email")
    before = voucher.assigned_person_id
    audit.record("voucher.reassigned", voucher, by, from_person_id=before, to_person_id=person.id)
    return _give(voucher, person, member, by, offer=person.id in _with_accounts([person]))
