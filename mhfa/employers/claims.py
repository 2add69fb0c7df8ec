"""A place used: claimed by the member of staff it was given to (choosing the date), booked for them by
their organisation's contact, or, when it was offered, accepted or declined by its owner first.

Booking goes through the bookings service with the voucher itself, which locks it and spends it once,
whatever the concurrency; a voucher used for a waiting-list place is held, not spent.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from mhfa import dates
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.courses.models import Course, CourseStatus
from mhfa.employers import emails, lookup
from mhfa.employers.models import USABLE_ORDER_STATUSES, Employer, OfferState, Order, PlaceVoucher, VoucherStatus
from mhfa.employers.vouchers import voucher_of
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.locks import lock_order, lock_people, lock_voucher
from mhfa.people.models import Person, PersonSource
from mhfa.timeutil import utcnow

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
