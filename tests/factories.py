"""Builders of realistic test data. Each adds and flushes; the test decides when to commit."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from mhfa.areas.models import CouncilArea
from mhfa.areas.services import load_council_areas
from mhfa.auth.models import Role, User
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.catalogue import load_course_types
from mhfa.courses.models import Course, CourseSession, CourseStatus, CourseType, DeliveryMode, Instructor, Venue
from mhfa.employers.models import Employer, Order, Sector, SizeBand
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.timeutil import london_to_utc, utcnow

PASSWORD = "correct-horse-battery-staple"
# Production hashes with scrypt (about 0.3 s a hash); the suite configures a cheap method and every
# factory account shares one hash of PASSWORD computed once, so logging in costs microseconds.
CHEAP_HASH_METHOD = "pbkdf2:sha256:1"
PASSWORD_HASH = generate_password_hash(PASSWORD, method=CHEAP_HASH_METHOD)
_counter = itertools.count(1)


def load_reference() -> None:
    load_council_areas()
    load_course_types()


def area(name: str = "Birmingham") -> CouncilArea:
    return db.session.scalar(sa.select(CouncilArea).where(CouncilArea.name == name))


def course_type(code: str = "ADULT_2DAY") -> CourseType:
    return db.session.scalar(sa.select(CourseType).where(CourseType.code == code))


def person(first_name: str = "Asha", last_name: str | None = None, *, email: str | None = "", **fields) -> Person:
    n = next(_counter)
    last_name = last_name or f"Khan{n}"
    if email == "":
        email = f"{first_name}.{last_name}.{n}@example.org".lower()
    fields.setdefault("date_of_birth", date(1985, 6, 15))
    fields.setdefault("home_council_area", area("Birmingham"))
    record = Person(first_name=first_name, last_name=last_name, email=email, **fields)
    db.session.add(record)
    db.session.flush()
    return record


def user(*roles: Role, person_: Person | None = None, password: str = PASSWORD, confirmed: bool = True,
         **person_fields) -> User:
    """An account for a person; its email address is confirmed unless ``confirmed=False``."""
    owner = person_ or person(**person_fields)
    account = User(email=owner.email, person=owner, email_confirmed_at=utcnow() if confirmed else None)
    if password == PASSWORD:
        account.password_hash = PASSWORD_HASH
    else:
        account.set_password(password)
    for role in roles or (Role.TRAINEE,):
        account.grant(role)
    db.session.add(account)
    db.session.flush()
    if Role.EMPLOYER in roles and owner.employer is not None:
        # An employer contact speaks for the organisation through the contact relation (employers area).
        from mhfa.employers.models import EmployerContact

        db.session.add(EmployerContact(employer=owner.employer, user=account, email=account.email,
                                       confirmed_at=utcnow()))
        db.session.flush()
    return account


def employer(name: str | None = None, **fields) -> Employer:
    fields.setdefault("sector", Sector.PUBLIC)
    fields.setdefault("size_band", SizeBand.LARGE)
    fields.setdefault("council_area", area("Coventry"))
    record = Employer(name=name or f"Employer {next(_counter)}", **fields)
    db.session.add(record)
    db.session.flush()
    return record


def venue(name: str | None = None, council_area: str = "Birmingham", **fields) -> Venue:
    fields.setdefault("address_line1", "1 Centenary Square")
    fields.setdefault("town", council_area)
    fields.setdefault("postcode", "B1 2ND")
    fields.setdefault("step_free_access", True)
    record = Venue(name=name or f"Venue {next(_counter)}", council_area=area(council_area), **fields)
    db.session.add(record)
    db.session.flush()
    return record


def instructor(person_: Person | None = None, *, expires_on: date | None = None) -> Instructor:
    record = Instructor(
        person=person_ or person("Ian", "Structor"),
        licence_number=f"MHFA-LIC-{next(_counter):05d}",
        licence_expires_on=expires_on or date.today() + timedelta(days=365),
        course_types=list(db.session.scalars(sa.select(CourseType))),  # licensed for every course
    )
    db.session.add(record)
    db.session.flush()
    return record


def course(
    code: str = "ADULT_2DAY",
    *,
    start: datetime | None = None,
    mode: DeliveryMode = DeliveryMode.IN_PERSON,
    status: CourseStatus = CourseStatus.PUBLISHED,
    capacity: int | None = None,
    venue_: Venue | None = None,
    instructors: list[Instructor] | None = None,
    session_times: list[tuple[datetime, datetime]] | None = None,
    **fields,
) -> Course:
    """A course with sessions laid out as the course type needs (London wall-clock times).

    ``start`` is the London wall-clock date and time of the first session (naive); by default
    nine o'clock a fortnight from today. ``session_times`` gives each session's London start and
    end instead.
    """
    kind = course_type(code)
    start = start or datetime.combine(date.today() + timedelta(days=14), datetime.min.time()).replace(hour=9)
    sessions = kind.sessions_online if mode is DeliveryMode.ONLINE else kind.sessions_in_person
    hours_each = kind.hours / sessions
    gap_days = 2 if mode is DeliveryMode.ONLINE else 1
    place = None
    if mode is DeliveryMode.IN_PERSON:
        place = venue_ or venue()
        fields.setdefault("council_area_id", place.council_area_id)
    else:
        fields.setdefault("joining_url", "https://meet.example.org/mhfa-course")
    record = Course(
        course_type=kind,
        status=status,
        delivery_mode=mode,
        venue=place,
        capacity=capacity or kind.max_learners,
        **fields,
    )
    if session_times is None:
        session_times = [
            (start + timedelta(days=i * gap_days), start + timedelta(days=i * gap_days, hours=hours_each))
            for i in range(sessions)
        ]
    for local_start, local_end in session_times:
        record.sessions.append(CourseSession(starts_at=london_to_utc(local_start), ends_at=london_to_utc(local_end)))
    record.starts_at = record.sessions[0].starts_at
    record.ends_at = record.sessions[-1].ends_at
    record.instructors = instructors if instructors is not None else [instructor()]
    db.session.add(record)
    db.session.flush()
    return record


def booking_on(course: Course, person_: Person | None = None, status: BookingStatus = BookingStatus.CONFIRMED,
               **fields) -> Booking:
    """A booking (or waiting-list place) on ``course``, made directly: the booking rules are not applied."""
    record = Booking(course=course, person=person_ or person("Bea", "Booked"), status=status, **fields)
    db.session.add(record)
    db.session.flush()
    return record


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of a month: the UK clocks change on the last Sunday of March and of October."""
    day = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_clock_change(month: int, after: date | None = None) -> date:
    """The next last Sunday of ``month`` at least three weeks after ``after`` (today by default)."""
    after = after or date.today()
    change = last_sunday(after.year, month)
    return change if change > after + timedelta(days=21) else last_sunday(after.year + 1, month)


def certificate(person_: Person, code: str = "ADULT_2DAY", *, issued_on: date | None = None,
                expires_on: date | None | str = "auto", revoked: bool = False):
    """A certificate (and the completion it is for) of a course type, issued to ``person_``."""
    from mhfa.attendance.models import Completion, CompletionSource
    from mhfa.certificates.models import Certificate

    kind = course_type(code)
    issued_on = issued_on or date.today() - timedelta(days=400)
    if expires_on == "auto":
        expires_on = (issued_on.replace(year=issued_on.year + kind.certificate_valid_years)
                      if kind.certificate_valid_years else None)
    completion = Completion(person=person_, course_type=kind, completed_on=issued_on, source=CompletionSource.IMPORT)
    n = next(_counter)
    record = Certificate(
        number=f"MHFA-{n:06d}", verification_token=f"verify-{n}-{person_.id}", completion=completion,
        person=person_, course_type=kind, title=kind.certificate_title, issued_on=issued_on, expires_on=expires_on,
        revoked_at=utcnow() if revoked else None,
    )
    db.session.add(record)
    db.session.flush()
    return record


def voucher(employer_: Employer, code: str = "ADULT_2DAY", *, status=None, assigned_to: Person | None = None,
            expires_on: date | None = None, order_status=None):
    """One place voucher of an employer's order for a course type (the order confirmed by default)."""
    import secrets

    from mhfa.employers.models import Order, OrderStatus, PlaceVoucher, VoucherStatus

    order = Order(employer=employer_, course_type=course_type(code), places=1, price_per_place_pence=15000,
                  status=order_status or OrderStatus.INVOICED)
    record = PlaceVoucher(order=order, code=secrets.token_urlsafe(12), status=status or VoucherStatus.AVAILABLE,
                          assigned_person=assigned_to, expires_on=expires_on)
    db.session.add(record)
    db.session.flush()
    return record


# --- attendance and certificates ----------------------------------------------------------------------

def taught_course(code: str = "ADULT_2DAY", *, trainees: int = 2, days_ago: int = 3, **fields):
    """A published course that started ``days_ago`` days ago, taught by an instructor with an account,
    with ``trainees`` confirmed bookings. Returns (course, instructor user, bookings)."""
    teacher = user(Role.INSTRUCTOR, first_name="Ines", last_name=f"Teacher{next(_counter)}")
    start = datetime.combine(date.today() - timedelta(days=days_ago), datetime.min.time()).replace(hour=9)
    run = course(code, start=start, instructors=[instructor(teacher.person)], **fields)
    bookings = [booking_on(run, person(f"Trainee{i}", f"Surname{next(_counter)}")) for i in range(trainees)]
    return run, teacher, bookings


def mark_everyone(course_: Course, status=None, *, by=None) -> None:
    """Mark every confirmed booking of ``course_`` for every session (present by default), directly."""
    from mhfa.attendance.models import AttendanceMark, AttendanceStatus

    for b in db.session.scalars(sa.select(Booking).where(Booking.course_id == course_.id,
                                                         Booking.status == BookingStatus.CONFIRMED)):
        for s in course_.sessions:
            db.session.add(AttendanceMark(booking_id=b.id, session_id=s.id, status=status or AttendanceStatus.PRESENT,
                                          marked_by_user_id=getattr(by, "id", None)))
    db.session.flush()
# --- employers ---------------------------------------------------------------------------------------


def contact(employer_: Employer, **person_fields) -> User:
    """An employer contact account who speaks for ``employer_`` (through the contact relation only)."""
    from mhfa.employers.models import EmployerContact

    account = user(Role.EMPLOYER, **person_fields)
    # The employer on their profile (if any) must not decide it: only this row does.
    db.session.execute(sa.delete(EmployerContact).where(EmployerContact.user_id == account.id))
    db.session.add(EmployerContact(employer=employer_, user=account, email=account.email, confirmed_at=utcnow()))
    db.session.flush()
    return account


def order(employer_: Employer, places: int = 5, code: str = "AWARE", *, status=None, by: User | None = None,
          course_: Course | None = None, purchase_order_ref: str = "PO-1"):
    """An order placed through the service (vouchers and all), then invoiced unless ``status`` says otherwise."""
    from mhfa.employers import orders
    from mhfa.employers.models import OrderKind, OrderStatus

    by = by or contact(employer_)
    request = orders.OrderRequest(kind=OrderKind.COURSE if course_ else OrderKind.COURSE_TYPE, places=places,
                                  course_type_id=course_type(code).id, course_id=course_.id if course_ else None,
                                  purchase_order_ref=purchase_order_ref,
                                  billing_address="1 High Street\nCoventry CV1 1AA")
    record = orders.place_order(employer_, request, by=by)
    if status is not OrderStatus.PENDING:
        orders.issue_invoice(record, by=user(Role.COORDINATOR))
    db.session.flush()
    return record


def ordered(places: int, name: str = "Acme", **employer_fields) -> tuple[Employer, User, Order]:
    """An employer (``name``), a contact who speaks for it and an invoiced order the contact placed."""
    employer_ = employer(name, **employer_fields)
    by = contact(employer_)
    return employer_, by, order(employer_, places, by=by)


def arranged_certificate(employer_: Employer, person_: Person, code: str = "ADULT_2DAY", *,
                         issued_on: date | None = None):
    """A certificate ``person_`` earned on a closed course ``employer_`` arranged (so its pages may show it)."""
    closed = course(code, employer_id=employer_.id)
    record = certificate(person_, code, issued_on=issued_on)
    record.completion.booking_id = booking_on(closed, person_).id
    record.completion.course_id = closed.id
    db.session.flush()
    return record


def trainee_accounts(count: int, first_name: str, last_name: str) -> list[User]:
    """``count`` adult trainees of Birmingham with confirmed accounts (no password hashing: a crowd for
    concurrency tests), e.g. ``Crowd0 Member`` with ``crowd0@example.org``; flushed, not committed."""
    home = area("Birmingham")
    users = []
    for n in range(count):
        person = Person(first_name=f"{first_name}{n}", last_name=last_name,
                        email=f"{first_name.lower()}{n}@example.org", date_of_birth=date(1990, 1, 1),
                        home_council_area=home)
        user = User(email=person.email, person=person, password_hash="-", email_confirmed_at=utcnow())
        user.grant(Role.TRAINEE)
        db.session.add(user)
        users.append(user)
    db.session.flush()
    return users
