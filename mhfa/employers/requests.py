"""Closed-course requests, and bookings the programme team makes for someone (a phone booking).

A contact asks for a course run for their staff alone (type, preferred dates, location). A
coordinator schedules it in one step: the course form comes pre-filled from the request (type,
the first date the preferred dates name, the venue the location names, or online), and saving it
creates the closed course for the organisation and marks the request scheduled in one transaction
(or links a closed course already made for it). The contact is told and can order its places. Only
the organisation's staff can book a closed course (the bookings rules: a voucher of that employer).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingSource
from mhfa.bookings.vouchers import typed_voucher
from mhfa.courses import rules, scheduling
from mhfa.courses.models import Course, CourseStatus, CourseType, DeliveryMode, Venue
from mhfa.employers import lookup
from mhfa.employers.models import ClosedCourseRequest, ClosedCourseRequestStatus, Employer
from mhfa.employers.orders import place_price
from mhfa.employers.staff import check_member
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.locks import lock_request
from mhfa.notify.messages import absolute_url, send
from mhfa.people.models import Person, PersonSource
from mhfa.timeutil import london_today


@dataclass
class RequestDetails:
    course_type_id: int | None
    preferred_dates: str
    location: str
    learners: int | None = None
    notes: str = ""


def request_closed_course(employer: Employer, details: RequestDetails, *, by: User) -> ClosedCourseRequest:
    kind = lookup.row(CourseType, details.course_type_id)
    if kind is None or not kind.active:
        raise DomainError("Choose a course from the list", field="course_type")
    dates = " ".join((details.preferred_dates or "").split())
    if not dates:
        raise DomainError("Enter the dates you would prefer, like 'any Tuesday in March'", field="preferred_dates")
    location = " ".join((details.location or "").split())
    if not location:
        raise DomainError("Enter where the course should be, or 'online'", field="location")
    if len(dates) > 500 or len(location) > 500:
        raise DomainError("Keep the dates and the location to 500 characters each", field="location")
    if details.learners is not None and not 1 <= details.learners <= kind.max_learners:
        raise DomainError(f"{kind.name} takes 1 to {kind.max_learners} learners", field="learners")
    request = ClosedCourseRequest(employer=employer, course_type=kind, preferred_dates=dates, location=location,
                                  learners=details.learners, notes=(details.notes or "").strip()[:2000],
                                  requested_by_user_id=by.id)
    db.session.add(request)
    db.session.flush()
    audit.record("employer.closed_course_requested", request, by, employer_id=employer.id, course_type=kind.code)
    return request


def requests_of(employer: Employer) -> list[ClosedCourseRequest]:
    return list(db.session.scalars(sa.select(ClosedCourseRequest).where(ClosedCourseRequest.employer_id == employer.id)
                                   .order_by(ClosedCourseRequest.created_at.desc())))


def open_requests() -> list[ClosedCourseRequest]:
    return list(db.session.scalars(sa.select(ClosedCourseRequest).order_by(
        ClosedCourseRequest.status != ClosedCourseRequestStatus.OPEN, ClosedCourseRequest.created_at).limit(200)))


def courses_for_request(request: ClosedCourseRequest) -> list[Course]:
    """The organisation's closed courses of the requested type that could answer it."""
    return list(db.session.scalars(sa.select(Course).where(
        Course.employer_id == request.employer_id, Course.course_type_id == request.course_type_id,
        Course.status.in_([CourseStatus.DRAFT, CourseStatus.PUBLISHED])).order_by(Course.starts_at)))


def _refuse_unless_open(request: ClosedCourseRequest) -> None:
    lock_request(request)
    if request.status is not ClosedCourseRequestStatus.OPEN:
        raise Conflict("This request has already been answered")


def _mark_scheduled(request: ClosedCourseRequest, course: Course, by: User) -> None:
    request.course = course
    request.status = ClosedCourseRequestStatus.SCHEDULED
    db.session.flush()
    audit.record("employer.closed_course_scheduled", request, by, course_id=course.id)
    _tell_contacts(request, course, f"Your closed course is scheduled: {course.course_type.name}")


def _tell_contacts(request: ClosedCourseRequest, course: Course, subject: str) -> None:
    """Email the organisation's contacts: the course, and the order link once its places can be ordered."""
    for contact in request.employer.contacts:
        if contact.is_confirmed:
            send("employer_closed_course", to=contact.email, subject=subject, request=request, course=course,
                 orderable=course.status is CourseStatus.PUBLISHED, url=absolute_url("employers.new_order"))


def closed_course_published(course: Course) -> None:
    """A closed course scheduled from a request was published: its organisation can now order its places."""
    for request in db.session.scalars(sa.select(ClosedCourseRequest).where(
            ClosedCourseRequest.course_id == course.id,
            ClosedCourseRequest.status == ClosedCourseRequestStatus.SCHEDULED)):
        _tell_contacts(request, course, f"Your closed course is open for ordering: {course.course_type.name}")


def schedule_request(request: ClosedCourseRequest, course_id: int | None, *, by: User) -> ClosedCourseRequest:
    """Answer a request with a closed course already made for the organisation."""
    _refuse_unless_open(request)
    course = lookup.row(Course, course_id)
    if course is None or course not in courses_for_request(request):
        raise DomainError(f"Choose a closed course of {request.course_type.name} for {request.employer.name}",
                          field="course")
    _mark_scheduled(request, course, by)
    return request


def schedule_new_course(request: ClosedCourseRequest, details: scheduling.CourseDetails, *, by: User) -> Course:
    """In one step: create the closed course the request asks for (the course rules as ever) and mark
    the request scheduled; nothing is saved if either is refused."""
    _refuse_unless_open(request)
    if details.course_type is None or details.course_type.id != request.course_type_id:
        raise DomainError(f"This request is for {request.course_type.name}: schedule that course, "
                          "or decline the request", field="course_type")
    if details.employer is None or details.employer.id != request.employer_id:
        raise DomainError(f"A course scheduled from this request is only for staff of {request.employer.name}",
                          field="employer")
    course = scheduling.create_course(details, by)
    _mark_scheduled(request, course, by)
    return course


_MONTHS = {name: n for n, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), start=1)}
_DATE_PATTERNS = (
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), lambda m: (int(m[1]), int(m[2]), int(m[3]))),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), lambda m: (int(m[3]), int(m[2]), int(m[1]))),
)
# One or more days of a month: "3 March", "2 and 3 March 2027", "2nd, 3rd & 4th of June", "9-11 June".
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DAYS_OF_A_MONTH = re.compile(
    rf"\b(?P<days>{_DAY}(?:\s*(?:,|and|&|\+|-|–|to)\s*{_DAY})*)\s+(?:of\s+)?(?P<month>[a-z]{{3,9}})\.?"
    rf"(?:\s+(?P<year>\d{{4}}))?\b")


def _month(word: str) -> int:
    return next((n for name, n in _MONTHS.items() if name.startswith(word) and len(word) >= 3), 0)


def preferred_date(text: str, today: date | None = None) -> date | None:
    """The first real date, today or later, that the request's preferred dates name (like 2027-03-02,
    2/3/2027 or 2 March 2027); None when they name none ("any Tuesday in March")."""
    days = preferred_days(text, today)
    return days[0] if days else None


def preferred_days(text: str, today: date | None = None) -> list[date]:
    """Every real date, today or later, that the preferred dates name, in the order written: "2 and 3
    March" is both days, "9-11 June 2027" all three; a day and month without a year is its next one."""
    today = today or london_today()
    text = (text or "").lower()
    found: list[tuple[int, date]] = []
    for pattern, parts in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                found.append((match.start(), date(*parts(match))))
            except ValueError:
                continue
    for match in _DAYS_OF_A_MONTH.finditer(text):
        month = _month(match["month"])
        if not month:
            continue
        numbers = [int(n) for n in re.findall(r"\d{1,2}", match["days"])]
        if len(numbers) == 2 and re.search(r"\d\s*(?:-|–|to)\s*\d", match["days"]) and numbers[0] < numbers[1]:
            numbers = list(range(numbers[0], numbers[1] + 1))
        for offset, number in enumerate(numbers):
            day = _next_day(number, month, int(match["year"]) if match["year"] else None, today)
            if day is not None:
                found.append((match.start() + offset, day))
    ordered: list[date] = []
    for _, day in sorted(found):
        if day >= today and day not in ordered:
            ordered.append(day)
    return ordered


def _next_day(number: int, month: int, year: int | None, today: date) -> date | None:
    for candidate in ([year] if year else [today.year, today.year + 1]):
        try:
            day = date(candidate, month, number)
        except ValueError:
            continue
        if year or day >= today:
            return day
    return None


def _squashed(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def _words(text: str) -> str:
    """Lower-case words between single spaces (and one at each end), so a name is found only as whole words."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", (text or "").lower())) + " "


def _names(text: str, name: str) -> bool:
    return bool(name.strip()) and _words(name) in _words(text)


def venue_named(location: str) -> Venue | None:
    """The active venue the location names: by its postcode or its name (whole words, the longest name
    first), else the only venue in the town it names."""
    where = _squashed(location)
    if not where:
        return None
    venues = list(db.session.scalars(sa.select(Venue).where(Venue.active.is_(True)).order_by(Venue.id)))
    by_postcode = [v for v in venues if _squashed(v.postcode) and _squashed(v.postcode) in where]
    if by_postcode:
        return by_postcode[0]
    by_name = sorted((v for v in venues if _names(location, v.name)), key=lambda v: -len(v.name))
    if by_name:
        return by_name[0]
    in_town = [v for v in venues if _names(location, v.town)]
    return in_town[0] if len(in_town) == 1 else None


def wants_online(location: str) -> bool:
    """Whether a request's location asks for an online course ("online", "on Zoom"), and not "not online"."""
    words = _words(location)
    return any(f" {w} " in words for w in ("online", "zoom", "teams", "virtual")) and not any(
        f" {no} online " in words for no in ("not", "no"))


@dataclass(frozen=True)
class CourseProposal:
    """The closed course a request suggests, to start the course form from."""

    course_type: CourseType
    employer: Employer
    delivery_mode: DeliveryMode
    venue: Venue | None
    council_area_id: int | None
    capacity: int
    price_pence: int
    notes: str
    session_days: list[date]  # a day for each session, in order, as many as the request names (up to the type's)


def course_proposal(request: ClosedCourseRequest) -> CourseProposal:
    """What a request suggests: its type and organisation, the venue (or online) its location names, its
    learners, the type's place price, and the days it prefers, one per session ("2 and 3 March" is a
    two-day course's both days)."""
    kind = request.course_type
    mode = DeliveryMode.ONLINE if wants_online(request.location) else DeliveryMode.IN_PERSON
    online = mode is DeliveryMode.ONLINE
    return CourseProposal(
        course_type=kind, employer=request.employer, delivery_mode=mode,
        venue=None if online else venue_named(request.location),
        council_area_id=request.employer.council_area_id if online else None,
        capacity=min(request.learners or kind.max_learners, kind.max_learners),
        price_pence=place_price(kind),
        notes=f"Closed course for {request.employer.name} (request {request.id}): "
              f"preferred dates {request.preferred_dates}; location {request.location}."[:2000],
        session_days=preferred_days(request.preferred_dates)[:rules.sessions_needed(kind, mode)],
    )


def decline_request(request: ClosedCourseRequest, *, by: User) -> ClosedCourseRequest:
    _refuse_unless_open(request)
    request.status = ClosedCourseRequestStatus.DECLINED
    db.session.flush()
    audit.record("employer.closed_course_declined", request, by)
    return request


# --- booking on someone's behalf ------------------------------------------------------------------

@dataclass
class PhoneBooking:
    first_name: str
    last_name: str
    email: str
    date_of_birth: date | None = None
    voucher_code: str = ""


def book_on_behalf(course: Course, details: PhoneBooking, *, by: User) -> Booking:
    """A coordinator books a named person (found by email, or recorded now) with the usual rules and emails."""
    member = check_member(details.first_name, details.last_name, details.email, details.date_of_birth)
    person = db.session.scalar(sa.select(Person).where(sa.func.lower(Person.email) == member.email))
    if person is None:
        person = Person(first_name=member.first_name, last_name=member.last_name, email=member.email,
                        date_of_birth=details.date_of_birth, source=PersonSource.COORDINATOR)
        db.session.add(person)
        db.session.flush()
    elif person.date_of_birth is None and details.date_of_birth is not None:
        person.date_of_birth = details.date_of_birth
    booking = bookings.book(person, course, voucher=typed_voucher(details.voucher_code), booked_by=by,
                            source=BookingSource.COORDINATOR)
    audit.record("booking.made_for", booking, by, person_id=person.id, course_id=course.id,
                 status=booking.status.value, voucher_id=booking.voucher_id)
    return booking
