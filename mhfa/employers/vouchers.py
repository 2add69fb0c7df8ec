"""Place vouchers: handing bought places to named staff, who claim them, or whom the contact books.

Each place is a voucher with an unguessable code. The contact allocates places one by one or from a
CSV file of names and emails (every row is checked before any place is used; problems come back as
``line N: reason``). Each member of staff is emailed a link to claim the place and choose a date, or
the contact books them directly.

No booking without consent: a place given to an address that already has an account is an *offer*,
which its owner accepts or declines (from the emailed link or their account) before anything can be
booked with it; the contact sees "offered", then the answer. The contact's pages show the name and
address they typed for a place, never the name on the record the address matched.

Booking with a voucher goes through the bookings service, which
locks the voucher and spends it once, whatever the concurrency; a voucher used for a waiting-list
place is held, not spent, and promotion keeps it.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from mhfa import dates, names
from mhfa.attendance.models import NonCompletion
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.courses.models import Course, CourseStatus
from mhfa.employers import emails, lookup
from mhfa.employers.models import (
    USABLE_ORDER_STATUSES,
    Employer,
    OfferState,
    Order,
    PlaceVoucher,
    VoucherStatus,
)
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.locks import lock_order, lock_people, lock_voucher
from mhfa.names import normalise_email
from mhfa.people.models import Person, PersonSource
from mhfa.timeutil import utcnow

MAX_CSV_BYTES = 512 * 1024
#: An address starting with one of these is read as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = names.FORMULA_STARTS


@dataclass
class StaffMember:
    first_name: str
    last_name: str
    email: str
    date_of_birth: date | None = None  # optional: the contact can book them directly only with it (age rules)
    line: int | None = None  # the CSV line that named them


class CsvRejected(DomainError):
    """The file was refused: ``lines`` says what is wrong, one line per problem (``line N: reason``)."""

    def __init__(self, lines: list[str]):
        super().__init__(f"The file has {len(lines)} problem{'s' if len(lines) != 1 else ''}: no places were "
                         "allocated. Correct the file and upload it again", field="file")
        self.lines = lines


@dataclass
class Allocation:
    vouchers: list[PlaceVoucher] = field(default_factory=list)


# --- checking names and emails ----------------------------------------------------------------------

def _email_problem(email: str) -> str | None:
    if not email:
        return "enter the email address"
    local, at, domain = email.partition("@")
    if (not at or not local or "." not in domain or len(email) > 254 or email.startswith(FORMULA_STARTS)
            or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in email)):
        shown = "".join(ch if ch.isprintable() else "?" for ch in email[:60])
        return f"{shown} is not an email address in the correct format, like name@example.org"
    return None


def _date_of_birth(text: str) -> date:
    day = dates.parse(text)
    if day is None:
        raise DomainError(f"Date of birth {text[:20]} is not a real date, like 1985-06-15", field="date_of_birth")
    return dates.BIRTH.check(day, "Date of birth", field="date_of_birth")


def check_member(first_name: str, last_name: str, email: str, date_of_birth: date | str | None = None) -> StaffMember:
    first = names.check(first_name, "First name", field="first_name")
    last = names.check(last_name, "Last name", field="last_name")
    email = normalise_email(email or "")
    problem = _email_problem(email)
    if problem:
        raise DomainError(problem[0].upper() + problem[1:], field="email")
    if isinstance(date_of_birth, str):
        date_of_birth = _date_of_birth(date_of_birth) if date_of_birth.strip() else None
    elif date_of_birth is not None:
        dates.BIRTH.check(date_of_birth, "Date of birth", field="date_of_birth")
    return StaffMember(first, last, email, date_of_birth)


def _records(reader):
    """Each record with the line it starts on (a quoted line break makes a record span several lines)."""
    start = reader.line_num + 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def parse_staff_csv(data: bytes) -> list[StaffMember]:
    """The staff a CSV file names (header ``first_name,last_name,email``), or CsvRejected listing every problem."""
    if not data:
        raise CsvRejected(["the file is empty"])
    if len(data) > MAX_CSV_BYTES:
        raise CsvRejected([f"the file is larger than {MAX_CSV_BYTES // 1024} KB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRejected(["the file is not UTF-8 text: save it from your spreadsheet as \"CSV UTF-8\""]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    except (StopIteration, csv.Error):
        raise CsvRejected(["line 1: the first line must be the header first_name,last_name,email"]) from None
    missing = [name for name in ("first_name", "last_name", "email") if name not in header]
    if missing:
        raise CsvRejected([f"line 1: the header has no {', '.join(missing)} column"
                           " (it needs first_name,last_name,email)"])
    index = {name: header.index(name) for name in ("first_name", "last_name", "email", "date_of_birth")
             if name in header}
    members, problems, seen = [], [], {}
    try:
        for line, row in _records(reader):
            if not any(cell.strip() for cell in row):
                continue
            values = {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}
            try:
                member = check_member(values["first_name"], values["last_name"], values["email"],
                                      values.get("date_of_birth", ""))
            except DomainError as error:
                problems.append(f"line {line}: {error.message[0].lower() + error.message[1:]}")
                continue
            if member.email in seen:
                problems.append(f"line {line}: {member.email} is already on line {seen[member.email]}")
                continue
            seen[member.email] = line
            member.line = line
            members.append(member)
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: the file is not valid CSV ({error})")
    if problems:
        raise CsvRejected(problems)
    if not members:
        raise CsvRejected(["the file names nobody: add a line per member of staff under the header"])
    return members


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


# --- claiming and booking ----------------------------------------------------------------------------

def voucher_by_code(code: str) -> PlaceVoucher:
    code = (code or "").strip()
    # A code is token_urlsafe text: anything else (a NUL byte, a megabyte) names no voucher, unasked.
    voucher = None if len(code) > 64 or "\x00" in code else db.session.scalar(
        sa.select(PlaceVoucher).where(PlaceVoucher.code == code))
    if voucher is None:
        raise NotFound("That place voucher code is not recognised.")
    return voucher


def courses_for(voucher: PlaceVoucher) -> list[Course]:
    """The courses a voucher can pay for: its order's course, or the open (and own closed) courses of its type."""
    order = voucher.order
    if order.course is not None:
        return [order.course]
    return list(db.session.scalars(
        sa.select(Course).where(Course.status == CourseStatus.PUBLISHED, Course.course_type_id == order.course_type_id,
                                Course.starts_at > utcnow(),
                                sa.or_(Course.employer_id.is_(None), Course.employer_id == order.employer_id))
        .order_by(Course.starts_at).limit(60)))


def _course_for_voucher(voucher: PlaceVoucher, course_id: int | None) -> Course:
    course = lookup.row(Course, course_id)
    if course is None or course not in courses_for(voucher):
        raise DomainError("Choose a course from the list", field="course")
    return course


def claim(user: User, code: str, course_id: int | None, *, date_of_birth: date | None = None) -> Booking:
    """A member of staff uses their place on the course they chose (the bookings rules decide); choosing a
    date for a place offered to them accepts it. Someone whose date of birth we do not have gives it here
    (it goes on their own record, checked by the one date rule)."""
    voucher = voucher_by_code(code)
    course = _course_for_voucher(voucher, course_id)
    person = user.person
    if person is not None and person.date_of_birth is None and date_of_birth is not None:
        person.date_of_birth = dates.BIRTH.check(date_of_birth, "Your date of birth", field="date_of_birth")
        audit.record("person.date_of_birth_given", person, user, voucher_id=voucher.id)
    if voucher.waiting_for_answer and user.person_id is not None and voucher.assigned_person_id == user.person_id:
        _answer(voucher, user, accept=True)
    try:
        return bookings.book_for_user(user, course, voucher=voucher)
    except DomainError as error:
        if error.field == "date_of_birth" and person is not None and person.date_of_birth is None:
            raise DomainError(f"Enter your date of birth: {course.course_type.name} is for people aged "
                              f"{course.course_type.min_age} and over", field="date_of_birth") from error
        raise


def _to_the_contact(voucher: PlaceVoucher, error: DomainError) -> str:
    """A booking refusal worded for the contact who booked, not for the member of staff."""
    person = voucher.assigned_person
    if error.field == "date_of_birth" and person is not None and person.date_of_birth is None:
        if may_give_date_of_birth(voucher):
            return ("we do not have their date of birth, which the course's age rule needs: add it on the "
                    "order's page (\u201cAdd their date of birth\u201d), then book them")
        return ("we do not have their date of birth, which the course's age rule needs: they have their own "
                "account, so ask them to book with the link we emailed them, where they are asked for it")
    message = error.message
    return message.replace("you are already", "they are already").replace("your profile", "their profile")


def may_give_date_of_birth(voucher: PlaceVoucher) -> bool:
    """Whether the organisation may give the date of birth of the person it gave this place to: only for a
    record it made itself, and only while none is known (a contact can type any address)."""
    person = voucher.assigned_person
    return (person is not None and person.date_of_birth is None and person.source is PersonSource.EMPLOYER
            and person.employer_id == voucher.order.employer_id and not person.is_erased)


def give_date_of_birth(employer: Employer, voucher: PlaceVoucher, day: date | None, *, by: User) -> Person:
    """The contact gives the date of birth of a member of staff they gave a place to (so they can book them)."""
    if voucher.order.employer_id != employer.id or voucher.assigned_person is None:
        raise NotFound("place not found")
    if day is None:
        raise DomainError("Enter their date of birth", field="date_of_birth")
    person = voucher.assigned_person
    if person.date_of_birth is not None:
        raise Conflict(f"We already have {voucher.given_name}'s date of birth", field="date_of_birth")
    if not may_give_date_of_birth(voucher):
        raise DomainError(f"{voucher.given_name} has their own account: they give their date of birth themselves "
                          "when they use the link we emailed them", field="date_of_birth")
    person.date_of_birth = dates.BIRTH.check(day, "Date of birth", field="date_of_birth")
    audit.record("person.date_of_birth_given", person, by, voucher_id=voucher.id, employer_id=employer.id)
    return person


# --- offers: answered by the person they were made to --------------------------------------------------------

def offers_for(user: User) -> list[PlaceVoucher]:
    """The places offered to ``user`` and waiting for their answer (on orders that can be used)."""
    if user.person_id is None:
        return []
    return list(db.session.scalars(
        sa.select(PlaceVoucher).join(Order, Order.id == PlaceVoucher.order_id)
        .where(PlaceVoucher.assigned_person_id == user.person_id, PlaceVoucher.offer == OfferState.OFFERED,
               PlaceVoucher.status == VoucherStatus.ASSIGNED, Order.status.in_(USABLE_ORDER_STATUSES))
        .options(selectinload(PlaceVoucher.order).selectinload(Order.employer),
                 selectinload(PlaceVoucher.order).selectinload(Order.course_type))
        .order_by(PlaceVoucher.assigned_at, PlaceVoucher.id)))


def answer_offer(user: User, code: str, *, accept: bool) -> PlaceVoucher:
    """The person a place was offered to accepts it (it is then theirs to book, or their employer's to book
    for them) or declines it (it goes back to the organisation, to give to someone else)."""
    voucher = voucher_by_code(code)
    if user.person_id is None or voucher.assigned_person_id != user.person_id:
        raise NotFound("That place is not offered to you.")
    lock_order(voucher.order)
    lock_voucher(voucher)  # a reassignment in flight finishes first, and is seen below
    if voucher.assigned_person_id != user.person_id:
        raise NotFound("That place is not offered to you.")
    if not voucher.waiting_for_answer:
        raise Conflict("You have already answered this offer", field="answer")
    if voucher.status is VoucherStatus.CANCELLED or not voucher.order.places_usable:
        raise Conflict("This place has been cancelled", field="answer")
    return _answer(voucher, user, accept=accept)


def _answer(voucher: PlaceVoucher, user: User, *, accept: bool) -> PlaceVoucher:
    voucher.offer = OfferState.ACCEPTED if accept else OfferState.DECLINED
    voucher.offer_answered_at = utcnow()
    if not accept:
        voucher.take_back()
        voucher.sent_at = None
    db.session.flush()
    audit.record("voucher.offer_accepted" if accept else "voucher.offer_declined", voucher, user,
                 order_id=voucher.order_id)
    emails.offer_answered(voucher)
    return voucher


def book_staff(employer: Employer, voucher_ids: list[int], course_id: int | None, *, by: User) -> list[Booking]:
    """The contact books named staff onto one course, each with their own place voucher, in one step.

    A full course puts them all on its waiting list (each voucher held, and spent on promotion). Any
    refusal refuses the whole group, naming the person. People are locked in id order before the
    bookings service takes the course lock, so two group bookings never wait on each other in a circle.
    """
    if not voucher_ids:
        raise DomainError("Choose at least one member of staff", field="vouchers")
    vouchers = []
    for voucher_id in sorted(set(voucher_ids)):
        voucher = voucher_of(employer, voucher_id)
        if voucher is None or voucher.assigned_person is None:
            raise DomainError("Choose staff from the list", field="vouchers")
        if not voucher.usable_by_employer:
            raise DomainError(f"{voucher.given_name} has not accepted the place yet: they book once they do, or "
                              "you can", field="vouchers")
        vouchers.append(voucher)
    course = _course_for_voucher(vouchers[0], course_id)
    people = sorted({v.assigned_person_id for v in vouchers})
    if len(people) != len(vouchers):
        raise DomainError("Choose each member of staff once", field="vouchers")
    lock_people(people)
    made = []
    for voucher in vouchers:
        if course not in courses_for(voucher):
            raise DomainError(f"{voucher.given_name}'s place is not for this course", field="vouchers")
        try:
            booking = bookings.book(voucher.assigned_person, course, voucher=voucher, booked_by=by,
                                    source=BookingSource.EMPLOYER)
        except DomainError as error:
            raise type(error)(f"{voucher.given_name}: {_to_the_contact(voucher, error)}", field="vouchers") from error
        made.append(booking)
    audit.record("employer.staff_booked", employer, by, course_id=course.id, booking_ids=[b.id for b in made],
                 waitlisted=sum(b.status is BookingStatus.WAITLISTED for b in made))
    return made
