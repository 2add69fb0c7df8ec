"""Course types, venues, instructors and courses: the rules for scheduling them.

Plain functions that take and return domain objects. They add and flush, never commit: the view
or command that calls one commits once. A refused request raises ``DomainError`` (or
``InvalidCourse`` with every problem found) before anything is changed.
"""
from __future__ import annotations

import csv
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from mhfa.areas.models import CouncilArea
from mhfa.areas.services import all_areas, normalise_postcode
from mhfa.audit import services as audit
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role, User
from mhfa.auth.services import normalise_email, person_with_email
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses import calendar
from mhfa.courses.models import (
    CalendarFeed,
    Course,
    CourseSession,
    CourseStatus,
    CourseType,
    DeliveryMode,
    FeedKind,
    Instructor,
    Venue,
    course_instructor,
)
from mhfa.employers.models import Employer, Order, OrderStatus, PlaceVoucher, VoucherStatus
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
from mhfa.notify import messages
from mhfa.notify.services import Attachment
from mhfa.pagination import Page
from mhfa.people.models import Person
from mhfa.timeutil import format_london, london_to_utc, london_today, to_london, utcnow

COURSE_TYPES_CSV = Path(__file__).parent / "data" / "course_types.csv"


def load_course_types(path: Path = COURSE_TYPES_CSV) -> dict[str, int]:
    """Add the catalogue's course types that are missing; leave existing ones as coordinators set them."""
    existing = {ct.code: ct for ct in db.session.scalars(sa.select(CourseType))}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    added = 0
    for row in rows:
        if row["code"] in existing:
            continue
        course_type = CourseType(
            code=row["code"],
            name=row["name"],
            description=row["description"],
            sessions_in_person=int(row["sessions_in_person"]),
            sessions_online=int(row["sessions_online"]),
            hours=float(row["hours"]),
            max_learners=int(row["max_learners"]),
            recommended_min_learners=int(row["recommended_min_learners"]) if row["recommended_min_learners"] else None,
            min_age=int(row["min_age"]),
            certificate_title=row["certificate_title"],
            certificate_valid_years=int(row["certificate_valid_years"]) if row["certificate_valid_years"] else None,
            counts_toward_target=row["counts_toward_target"] == "yes",
            is_awareness=row.get("awareness") == "yes",
            requires_prior_certificate=row["requires_prior_certificate"] == "yes",
        )
        db.session.add(course_type)
        existing[course_type.code] = course_type
        added += 1
    for row in rows:
        course_type = existing[row["code"]]
        if row["prerequisites"] and not course_type.prerequisites:
            course_type.prerequisites = [existing[code] for code in row["prerequisites"].split(";")]
    db.session.flush()
    return {"course types added": added}


def course_type_by_code(code: str) -> CourseType | None:
    return db.session.scalar(sa.select(CourseType).where(CourseType.code == code.strip().upper()))


# --- who may see what ------------------------------------------------------------------------

def is_staff(user) -> bool:
    """Coordinators see every course, closed and draft ones included."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.COORDINATOR)


def _person_id(user) -> int | None:
    return getattr(user, "person_id", None) if getattr(user, "is_authenticated", False) else None


def _contact_employer_id(user) -> int | None:
    """The employer an employer contact speaks for (set by the programme team, never by the contact)."""
    if not getattr(user, "is_authenticated", False) or not user.has_role(Role.EMPLOYER):
        return None
    person = user.person
    return person.employer_id if person is not None else None


def closed_course_access(user):
    """Which closed (one-employer) courses ``user`` may see, as a condition on ``Course``.

    Their employer's contacts, the course's instructors, people with a live booking on it and people
    holding a usable place voucher of that employer (available or assigned to them, on a confirmed
    order). Never the employer a trainee declares on their own profile: anyone can choose that.
    Coordinators are not limited at all (see ``is_staff``).
    """
    conditions = []
    employer_id = _contact_employer_id(user)
    if employer_id is not None:
        conditions.append(Course.employer_id == employer_id)
    person_id = _person_id(user)
    if person_id is not None:
        conditions += [
            sa.exists().where(
                course_instructor.c.course_id == Course.id,
                course_instructor.c.instructor_id == Instructor.id,
                Instructor.person_id == person_id,
            ),
            sa.exists().where(
                Booking.course_id == Course.id,
                Booking.person_id == person_id,
                Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]),
            ),
            sa.exists().where(
                PlaceVoucher.order_id == Order.id,
                Order.employer_id == Course.employer_id,
                Order.status == OrderStatus.CONFIRMED,
                PlaceVoucher.status.in_([VoucherStatus.AVAILABLE, VoucherStatus.ASSIGNED]),
                PlaceVoucher.assigned_person_id == person_id,
            ),
        ]
    return sa.or_(*conditions) if conditions else sa.false()


def _visible_in_lists(user):
    """Open courses, and the closed ones ``user`` may see."""
    if is_staff(user):
        return sa.true()
    return sa.or_(Course.employer_id.is_(None), closed_course_access(user))


def viewer_booking(course: Course, user) -> Booking | None:
    """The viewer's booking on the course: the live one if any, else the latest cancelled one."""
    person_id = _person_id(user)
    if person_id is None:
        return None
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.person_id == person_id)
        .order_by((Booking.status == BookingStatus.CANCELLED).asc(), Booking.id.desc())
        .limit(1)
    )


def can_view_course(course: Course, user, booking: Booking | None = None) -> bool:
    """Published (and completed) courses are public, except closed ones (see ``closed_course_access``);
    drafts only staff and the course's instructors; cancelled ones also people booked on them."""
    if is_staff(user) or course.is_taught_by(user):
        return True
    if course.status is CourseStatus.DRAFT:
        return False
    if course.status is CourseStatus.CANCELLED:
        return booking is not None
    if course.is_closed:
        if booking is not None and booking.status is not BookingStatus.CANCELLED:
            return True
        return db.session.scalar(
            sa.select(Course.id).where(Course.id == course.id, closed_course_access(user))
        ) is not None
    return True


def can_see_joining_url(course: Course, user, booking: Booking | None = None) -> bool:
    """The joining link of an online course: its confirmed trainees, its instructors and coordinators."""
    if not course.joining_url:
        return False
    if is_staff(user) or course.is_taught_by(user):
        return True
    return booking is not None and booking.status is BookingStatus.CONFIRMED


def course_for_viewer(course_id: int, user) -> tuple[Course, Booking | None]:
    """The course and the viewer's booking on it; NotFound when the viewer may not see it."""
    course = db.session.get(
        Course, course_id,
        options=[joinedload(Course.course_type), joinedload(Course.venue), selectinload(Course.sessions),
                 selectinload(Course.instructors)],
    )
    if course is None:
        raise NotFound("There is no such course.")
    booking = viewer_booking(course, user)
    if not can_view_course(course, user, booking):
        raise NotFound("There is no such course.")
    return course, booking


# --- places ------------------------------------------------------------------------------------

def _bookings_with(status: BookingStatus):
    """Bookings of a status on the course of the enclosing query. ``count(*)`` lets PostgreSQL answer
    from the (course_id, status) index alone."""
    return (
        sa.select(sa.func.count())
        .select_from(Booking)
        .where(Booking.course_id == Course.id, Booking.status == status)
        .correlate(Course)
        .scalar_subquery()
    )


CONFIRMED_COUNT = _bookings_with(BookingStatus.CONFIRMED)
WAITLISTED_COUNT = _bookings_with(BookingStatus.WAITLISTED)


@dataclass(frozen=True)
class Places:
    capacity: int
    confirmed: int
    waitlisted: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.confirmed, 0)


def places(course: Course) -> Places:
    return places_for([course])[course.id]


def places_for(courses: list[Course]) -> dict[int, Places]:
    """Confirmed bookings and waiting-list length of each course, in one query."""
    ids = [c.id for c in courses]
    counts = {course_id: [0, 0] for course_id in ids}
    if ids:
        rows = db.session.execute(
            sa.select(Booking.course_id, Booking.status, sa.func.count())
            .where(Booking.course_id.in_(ids), Booking.status != BookingStatus.CANCELLED)
            .group_by(Booking.course_id, Booking.status)
        )
        for course_id, status, count in rows:
            counts[course_id][0 if status is BookingStatus.CONFIRMED else 1] = count
    return {c.id: Places(c.capacity, *counts[c.id]) for c in courses}


# --- the course finder and the coordinators' list --------------------------------------------

@dataclass
class FinderFilters:
    council_area_id: int | None = None
    course_type_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    delivery_mode: DeliveryMode | None = None
    free_places: bool = False
    latest_first: bool = False


@dataclass
class Listing:
    course: Course
    places: Places


def _start_of_london_day(day: date) -> datetime:
    return london_to_utc(datetime.combine(day, time.min))


def _listing_page(conditions: list, *, order, page: int, per_page: int) -> Page:
    """One page of courses with their places, counted in SQL: a count and one query for the rows."""
    total = db.session.scalar(sa.select(sa.func.count(Course.id)).where(*conditions)) or 0
    page = max(page, 1)
    rows = db.session.execute(
        sa.select(Course, CONFIRMED_COUNT, WAITLISTED_COUNT)
        .where(*conditions)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(joinedload(Course.course_type), joinedload(Course.venue), joinedload(Course.council_area),
                 joinedload(Course.employer))
    ).all()
    items = [Listing(course, Places(course.capacity, confirmed, waitlisted)) for course, confirmed, waitlisted in rows]
    return Page(items=items, page=page, per_page=per_page, total=total)


def find_courses(filters: FinderFilters, viewer=None, *, page: int = 1, per_page: int = 20,
                 now: datetime | None = None) -> Page:
    """Published courses still open for booking (not started, booking deadline not passed) that the
    viewer may see, soonest first. A course whose booking has closed keeps its page, which says so."""
    now = now or utcnow()
    conditions = [
        Course.status == CourseStatus.PUBLISHED,
        Course.starts_at > now,
        sa.or_(Course.booking_deadline.is_(None), Course.booking_deadline > now),  # as Course.booking_open_at
        _visible_in_lists(viewer),
    ]
    if filters.date_from is not None:
        conditions.append(Course.starts_at >= _start_of_london_day(filters.date_from))
    if filters.date_to is not None:
        conditions.append(Course.starts_at < _start_of_london_day(filters.date_to + timedelta(days=1)))
    if filters.council_area_id is not None:
        conditions.append(Course.council_area_id == filters.council_area_id)
    if filters.course_type_id is not None:
        conditions.append(Course.course_type_id == filters.course_type_id)
    if filters.delivery_mode is not None:
        conditions.append(Course.delivery_mode == filters.delivery_mode)
    if filters.free_places:
        conditions.append(Course.capacity > CONFIRMED_COUNT)
    order = [Course.starts_at.desc(), Course.id.desc()] if filters.latest_first else [Course.starts_at, Course.id]
    return _listing_page(conditions, order=order, page=page, per_page=per_page)


@dataclass
class ManageFilters:
    status: CourseStatus | None = None
    council_area_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_courses(filters: ManageFilters, *, page: int = 1, per_page: int = 50) -> Page:
    """Every course, for coordinators, by first session date."""
    conditions = []
    if filters.status is not None:
        conditions.append(Course.status == filters.status)
    if filters.council_area_id is not None:
        conditions.append(Course.council_area_id == filters.council_area_id)
    if filters.date_from is not None:
        conditions.append(Course.starts_at >= _start_of_london_day(filters.date_from))
    if filters.date_to is not None:
        conditions.append(Course.starts_at < _start_of_london_day(filters.date_to + timedelta(days=1)))
    return _listing_page(conditions, order=[Course.starts_at, Course.id], page=page, per_page=per_page)


def finder_choices() -> tuple[list[CouncilArea], list[CourseType]]:
    """The council areas and active course types the finder's filters offer."""
    areas = all_areas()
    types = list(db.session.scalars(sa.select(CourseType).where(CourseType.active.is_(True)).order_by(CourseType.name)))
    return areas, types


# --- scheduling --------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class SessionTimes:
    """One session's start and end, as aware datetimes."""

    starts_at: datetime
    ends_at: datetime

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass
class CourseDetails:
    """Everything a coordinator sets on a course. Sessions in the order they were entered."""

    course_type: CourseType
    delivery_mode: DeliveryMode
    capacity: int
    sessions: list[SessionTimes]
    venue: Venue | None = None
    council_area: CouncilArea | None = None
    joining_url: str | None = None
    price_pence: int = 0
    employer: Employer | None = None
    booking_deadline: datetime | None = None
    notes: str = ""

    @classmethod
    def of(cls, course: Course) -> CourseDetails:
        """A course's current details, to change some of them."""
        return cls(
            course_type=course.course_type, delivery_mode=course.delivery_mode, capacity=course.capacity,
            sessions=[SessionTimes(s.starts_at, s.ends_at) for s in course.sessions], venue=course.venue,
            council_area=course.council_area, joining_url=course.joining_url, price_pence=course.price_pence,
            employer=course.employer, booking_deadline=course.booking_deadline, notes=course.notes,
        )


class InvalidCourse(DomainError):
    """A course that cannot be saved; ``problems`` lists each (field, message) found."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__(problems[0][1], field=problems[0][0])
        self.problems = problems


HOURS_TOLERANCE = 1 / 60  # a minute either way


def sessions_needed(course_type: CourseType, mode: DeliveryMode) -> int:
    return course_type.sessions_online if mode is DeliveryMode.ONLINE else course_type.sessions_in_person


def _hours_text(hours: float) -> str:
    whole, minutes = divmod(round(hours * 60), 60)
    text = f"{whole} hour{'s' if whole != 1 else ''}"
    return text + (f" {minutes} minutes" if minutes else "")


def _schedule_problems(details: CourseDetails, *, check_past: bool, now: datetime) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    kind = details.course_type
    sessions = details.sessions
    if not sessions:
        return [("session_1_date", "Enter the date, start time and end time of each session")]
    for number, session in enumerate(sessions, start=1):
        if session.ends_at <= session.starts_at:
            problems.append((f"session_{number}_end", f"Session {number} must end after it starts"))
        elif check_past and session.starts_at <= now:
            problems.append((f"session_{number}_date", f"Session {number} must be in the future"))
    numbered = sorted(enumerate(sessions, start=1), key=lambda item: item[1].starts_at)
    for (first_no, first), (second_no, second) in zip(numbered, numbered[1:], strict=False):
        if second.starts_at < first.ends_at and first.ends_at > first.starts_at:
            later = max(first_no, second_no)
            problems.append((f"session_{later}_start",
                             f"Session {min(first_no, second_no)} and session {later} overlap"))
    needed = sessions_needed(kind, details.delivery_mode)
    if len(sessions) != needed:
        mode = "online" if details.delivery_mode is DeliveryMode.ONLINE else "in person"
        problems.append(("sessions", f"{kind.name} {mode} has {needed} session{'s' if needed != 1 else ''}; "
                                     f"you entered {len(sessions)}"))
    total = sum(s.hours for s in sessions if s.ends_at > s.starts_at)
    if abs(total - kind.hours) > HOURS_TOLERANCE:
        problems.append(("sessions", f"The sessions add up to {_hours_text(total)}; {kind.name} needs "
                                     f"{_hours_text(kind.hours)}"))
    return problems


def _course_problems(details: CourseDetails, course: Course | None, *, sessions_changed: bool,
                     now: datetime) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    kind = details.course_type
    if course is None and not kind.active:
        problems.append(("course_type", f"{kind.name} is no longer offered"))
    if course is not None and course.status is not CourseStatus.DRAFT:
        if kind.id != course.course_type_id:
            problems.append(("course_type", "A published course keeps its course type: cancel it and create a new one"))
        if details.delivery_mode is not course.delivery_mode:
            problems.append(("delivery_mode",
                             "A published course stays in person or online: cancel it and create a new one"))
    if details.delivery_mode is DeliveryMode.IN_PERSON:
        if details.venue is None:
            problems.append(("venue", "Choose the venue of an in-person course"))
        elif not details.venue.active and (course is None or course.venue_id != details.venue.id):
            problems.append(("venue", f"{details.venue.name} is no longer in use"))
    else:
        if not details.joining_url:
            problems.append(("joining_url", "Enter the joining link of an online course"))
        elif not re.fullmatch(r"https://[^\s/]+\.[^\s]+", details.joining_url):
            problems.append(("joining_url", "Enter the joining link as a web address starting https://"))
        if details.council_area is None:
            problems.append(("council_area", "Choose the council area that runs this online course"))
    if details.capacity < 1:
        problems.append(("capacity", "Capacity must be at least 1"))
    elif details.capacity > kind.max_learners:
        problems.append(("capacity", f"Capacity cannot be more than {kind.max_learners}, the limit for {kind.name}"))
    elif course is not None:
        booked = places(course).confirmed
        if details.capacity < booked:
            problems.append(("capacity", f"{booked} places are already booked, so capacity cannot be less "
                                         f"than {booked}"))
    if details.price_pence < 0:
        problems.append(("price", "The price cannot be negative"))
    problems += _schedule_problems(details, check_past=sessions_changed, now=now)
    if details.booking_deadline is not None and details.sessions:
        first_start = min(s.starts_at for s in details.sessions)
        deadline_changed = course is None or details.booking_deadline != course.booking_deadline
        if details.booking_deadline > first_start:
            problems.append(("booking_deadline_date", "The booking deadline must be before the first session starts"))
        elif deadline_changed and details.booking_deadline <= now:
            problems.append(("booking_deadline_date", "The booking deadline must be in the future"))
    if course is not None and sessions_changed and not any(f and f.startswith("session") for f, _ in problems):
        for instructor in course.instructors:
            problem = instructor_problem(instructor, details.sessions, exclude_course=course)
            if problem:
                problems.append(("sessions", problem))
    return problems


def _apply(course: Course, details: CourseDetails) -> None:
    in_person = details.delivery_mode is DeliveryMode.IN_PERSON
    course.course_type = details.course_type
    course.delivery_mode = details.delivery_mode
    course.venue = details.venue if in_person else None
    course.council_area = details.venue.council_area if in_person else details.council_area
    course.joining_url = None if in_person else details.joining_url
    course.capacity = details.capacity
    course.price_pence = details.price_pence
    course.employer = details.employer
    course.booking_deadline = details.booking_deadline
    course.notes = details.notes or ""


def _apply_sessions(course: Course, sessions: list[SessionTimes]) -> None:
    """Sessions in time order, updating existing rows in place so that their ids (calendar UIDs) stay."""
    ordered = sorted(sessions)
    existing = sorted(course.sessions, key=lambda s: s.starts_at)
    for row, times in zip(existing, ordered, strict=False):
        row.starts_at, row.ends_at = times.starts_at, times.ends_at
    for row in existing[len(ordered):]:
        course.sessions.remove(row)
    for times in ordered[len(existing):]:
        course.sessions.append(CourseSession(starts_at=times.starts_at, ends_at=times.ends_at))
    course.sessions.sort(key=lambda s: s.starts_at)
    course.starts_at = ordered[0].starts_at
    course.ends_at = max(s.ends_at for s in ordered)


def _times(course: Course) -> list[SessionTimes]:
    return sorted(SessionTimes(s.starts_at, s.ends_at) for s in course.sessions)


def create_course(details: CourseDetails, actor: User | None = None, *, now: datetime | None = None) -> Course:
    """A new draft course with its sessions; nothing is added if any rule is broken."""
    problems = _course_problems(details, None, sessions_changed=True, now=now or utcnow())
    if problems:
        raise InvalidCourse(problems)
    course = Course(status=CourseStatus.DRAFT, sequence=0)
    _apply(course, details)
    _apply_sessions(course, details.sessions)
    db.session.add(course)
    db.session.flush()
    audit.record("course.created", course, actor, course_type=course.course_type.code,
                 starts_at=course.starts_at.isoformat())
    return course


def _refuse_if_closed_for_changes(course: Course) -> None:
    if course.status is CourseStatus.CANCELLED:
        raise DomainError("This course has been cancelled, so it cannot be changed.")
    if course.status is CourseStatus.COMPLETED:
        raise DomainError("This course has been completed, so it cannot be changed.")


def update_course(course: Course, details: CourseDetails, actor: User | None = None, *,
                  now: datetime | None = None) -> Course:
    """Change a course. On a published course, new times or a new place (another venue, or a new joining
    link for an online course) are a reschedule: the calendar SEQUENCE goes up and every booked trainee
    is told, with the updated calendar file."""
    from mhfa.bookings.services import lock_course

    lock_course(course)  # first: its status and the places booked cannot change until this transaction ends
    _refuse_if_closed_for_changes(course)
    old_times = _times(course)
    sessions_changed = sorted(details.sessions) != old_times
    problems = _course_problems(details, course, sessions_changed=sessions_changed, now=now or utcnow())
    if problems:
        raise InvalidCourse(problems)
    venue_changed = (
        (details.venue.id if details.venue and details.delivery_mode is DeliveryMode.IN_PERSON else None)
        != course.venue_id
    )
    joining_url_changed = (details.delivery_mode is DeliveryMode.ONLINE
                           and (details.joining_url or None) != course.joining_url)
    old_place = course.location_label
    old_capacity = course.capacity
    _apply(course, details)
    if sessions_changed:
        _apply_sessions(course, details.sessions)
    db.session.flush()
    if course.status is CourseStatus.PUBLISHED and course.capacity > old_capacity:
        from mhfa.bookings.services import fill_from_waiting_list

        fill_from_waiting_list(course, now=now)  # new seats go to the waiting list first, with an email each
    if course.status is CourseStatus.PUBLISHED and (sessions_changed or venue_changed or joining_url_changed):
        _reschedule(course, actor, old_times=old_times, old_place=old_place, joining_url_changed=joining_url_changed)
    else:
        audit.record("course.updated", course, actor)
    return course


def _reschedule(course: Course, actor: User | None, *, old_times: list[SessionTimes], old_place: str,
                joining_url_changed: bool = False) -> int:
    """A published course's times or place have changed (the caller holds its lock): SEQUENCE goes up, so
    calendars replace their events, and every trainee with a live booking is told. Returns how many."""
    course.sequence += 1
    db.session.flush()
    new_times = _times(course)
    bookings = [(booking, booking.status) for booking in _live_bookings(course)]
    notified = _notify_booked(
        course, "course_rescheduled", f"Your course has changed: {course.title}", bookings,
        old_times=old_times, old_place=old_place, times_changed=new_times != old_times,
        place_changed=course.location_label != old_place, joining_url_changed=joining_url_changed,
    )
    audit.record(
        "course.rescheduled", course, actor, sequence=course.sequence, notified=notified,
        old_sessions=[[s.starts_at.isoformat(), s.ends_at.isoformat()] for s in old_times],
        new_sessions=[[s.starts_at.isoformat(), s.ends_at.isoformat()] for s in new_times],
        old_place=old_place, new_place=course.location_label, joining_url_changed=joining_url_changed,
    )
    return notified


def reschedule_course(course: Course, sessions: list[SessionTimes], actor: User | None = None, *,
                      now: datetime | None = None) -> Course:
    """New times for a course's sessions, everything else kept (see ``update_course``)."""
    details = CourseDetails.of(course)
    details.sessions = sessions
    return update_course(course, details, actor, now=now)


def publish_course(course: Course, actor: User | None = None, *, now: datetime | None = None) -> Course:
    """Open a draft course to the finder and to booking."""
    from mhfa.bookings.services import lock_course

    now = now or utcnow()
    lock_course(course)  # two coordinators publishing at once: the second sees it published
    if course.status is not CourseStatus.DRAFT:
        raise DomainError(f"Only a draft course can be published; this one is {course.status.value}.")
    if course.starts_at is None or course.starts_at <= now:
        raise DomainError("This course has already started, so it cannot be published. Change its dates first.")
    course.status = CourseStatus.PUBLISHED
    db.session.flush()
    audit.record("course.published", course, actor)
    return course


def cancel_course(course: Course, reason: str, actor: User | None = None) -> int:
    """Cancel a course and tell every booked trainee (the calendar event becomes STATUS:CANCELLED).

    Every live booking is cancelled with the course, and places paid with an employer's voucher are
    handed back to their holders to use on another course. Returns how many trainees were told.
    """
    from mhfa.bookings.services import lock_course, release_course_bookings

    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Enter the reason for cancelling; booked trainees are told it.", field="reason")
    lock_course(course)  # first, then check: a course cancelled meanwhile is not cancelled (and emailed) twice
    _refuse_if_closed_for_changes(course)
    was = {booking.id: booking.status for booking in _live_bookings(course)}
    course.status = CourseStatus.CANCELLED
    course.cancelled_reason = reason
    course.sequence += 1
    released = release_course_bookings(course, reason)
    notified = _notify_booked(course, "course_cancelled", f"Course cancelled: {course.title}",
                              [(booking, was.get(booking.id, booking.status)) for booking in released])
    audit.record("course.cancelled", course, actor, reason=reason, notified=notified,
                 bookings_cancelled=len(released))
    return notified


def _live_bookings(course: Course) -> list[Booking]:
    return list(db.session.scalars(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]))
        .options(joinedload(Booking.person))
        .order_by(Booking.id)
    ))


def _notify_booked(course: Course, template: str, subject: str, bookings: list[tuple[Booking, BookingStatus]],
                   **context) -> int:
    """One email per trainee (each booking with the status it had), with the course's calendar file.

    The online joining link, in the text and in the calendar file, goes only to confirmed trainees;
    people on the waiting list get the same message and events without it.
    """
    calendars: dict[bool, Attachment] = {}
    sent = 0
    for booking, status in bookings:
        person = booking.person
        if not person.email or person.is_erased:
            continue
        confirmed = status is BookingStatus.CONFIRMED
        if confirmed not in calendars:
            calendars[confirmed] = Attachment(f"mhfa-course-{course.id}.ics", "text/calendar",
                                              calendar.course_ics(course, include_joining_url=confirmed),
                                              {"method": "PUBLISH"})
        messages.send(template, to=person.email, subject=subject, attachments=[calendars[confirmed]],
                      course=course, person=person, booking=booking, show_joining_url=confirmed,
                      waitlisted=status is BookingStatus.WAITLISTED, course_url=calendar.course_url(course),
                      **context)
        sent += 1
    return sent


# --- instructors on courses --------------------------------------------------------------------

def instructor_problem(instructor: Instructor, sessions: list[SessionTimes] | list[CourseSession], *,
                       exclude_course: Course | None = None) -> str | None:
    """Why the instructor cannot teach these sessions (licence, or a clashing course), or None."""
    name = instructor.person.full_name
    if not instructor.active:
        return f"{name} is not an active instructor"
    if not sessions:
        return None
    last_day = to_london(max(s.ends_at for s in sessions)).date()
    expires = instructor.licence_expires_on
    if expires < london_today():
        return f"{name}'s licence expired on {expires:%-d %B %Y}"
    if expires < last_day:
        return f"{name}'s licence expires on {expires:%-d %B %Y}, before the course ends on {last_day:%-d %B %Y}"
    overlaps = sa.or_(*[
        sa.and_(CourseSession.starts_at < s.ends_at, CourseSession.ends_at > s.starts_at) for s in sessions
    ])
    query = (
        sa.select(Course, CourseSession)
        .join(CourseSession, CourseSession.course_id == Course.id)
        .join(course_instructor, course_instructor.c.course_id == Course.id)
        .where(
            course_instructor.c.instructor_id == instructor.id,
            Course.status.in_([CourseStatus.DRAFT, CourseStatus.PUBLISHED]),
            overlaps,
        )
        .order_by(CourseSession.starts_at)
        .limit(1)
    )
    if exclude_course is not None and exclude_course.id is not None:
        query = query.where(Course.id != exclude_course.id)
    clash = db.session.execute(query).first()
    if clash is None:
        return None
    other, session = clash
    return (f"{name} is already teaching {other.title} (course {other.id}, {other.location_label}) "
            f"on {format_london(session.starts_at)} to {format_london(session.ends_at, '%-I:%M%p').lower()}, "
            f"at the same time")


def assign_instructor(course: Course, instructor: Instructor, actor: User | None = None) -> Course:
    """Put a licensed instructor on a course, unless their licence or another course gets in the way."""
    _refuse_if_closed_for_changes(course)
    if instructor in course.instructors:
        raise DomainError(f"{instructor.person.full_name} is already teaching this course.", field="instructor")
    problem = instructor_problem(instructor, list(course.sessions), exclude_course=course)
    if problem:
        raise DomainError(problem, field="instructor")
    course.instructors.append(instructor)
    db.session.flush()
    audit.record("course.instructor_assigned", course, actor, instructor_id=instructor.id,
                 licence_number=instructor.licence_number)
    return course


def remove_instructor(course: Course, instructor: Instructor, actor: User | None = None) -> Course:
    _refuse_if_closed_for_changes(course)
    if instructor not in course.instructors:
        raise NotFound("That instructor is not on this course.")
    course.instructors.remove(instructor)
    db.session.flush()
    audit.record("course.instructor_removed", course, actor, instructor_id=instructor.id,
                 licence_number=instructor.licence_number)
    return course


def instructors_available_for(course: Course) -> list[Instructor]:
    """Active instructors not yet on the course, by name (the list to choose from)."""
    assigned = {i.id for i in course.instructors}
    rows = db.session.scalars(
        sa.select(Instructor).join(Person, Person.id == Instructor.person_id)
        .where(Instructor.active.is_(True)).order_by(Person.last_name, Person.first_name)
        .options(joinedload(Instructor.person))
    )
    return [i for i in rows if i.id not in assigned]


# --- venues ------------------------------------------------------------------------------------

@dataclass
class VenueDetails:
    name: str
    address_line1: str
    town: str
    postcode: str
    council_area: CouncilArea
    address_line2: str = ""
    step_free_access: bool = False
    access_notes: str = ""
    active: bool = True


def _apply_venue(venue: Venue, details: VenueDetails) -> None:
    venue.name = details.name.strip()
    venue.address_line1 = details.address_line1.strip()
    venue.address_line2 = (details.address_line2 or "").strip()
    venue.town = details.town.strip()
    venue.postcode = normalise_postcode(details.postcode, required=True)
    venue.council_area = details.council_area
    venue.step_free_access = details.step_free_access
    venue.access_notes = (details.access_notes or "").strip()
    venue.active = details.active


def create_venue(details: VenueDetails, actor: User | None = None) -> Venue:
    venue = Venue()
    _apply_venue(venue, details)
    db.session.add(venue)
    db.session.flush()
    audit.record("venue.created", venue, actor, name=venue.name)
    return venue


def update_venue(venue: Venue, details: VenueDetails, actor: User | None = None, *,
                 now: datetime | None = None) -> Venue:
    """Change a venue. Its courses keep the council area they were given.

    A new name or address moves every published course there that has not finished: each is
    rescheduled (SEQUENCE up, booked trainees emailed the new place), as when its venue is changed.
    """
    from mhfa.bookings.services import lock_course

    normalise_postcode(details.postcode, required=True)  # refuse before touching anything
    old_address = venue.one_line_address
    _apply_venue(venue, details)
    db.session.flush()
    moved = []
    if venue.one_line_address != old_address:
        courses = db.session.scalars(
            sa.select(Course)
            .where(Course.venue_id == venue.id, Course.status == CourseStatus.PUBLISHED,
                   Course.ends_at > (now or utcnow()))
            .order_by(Course.starts_at, Course.id)
        ).all()
        for course in courses:
            lock_course(course)
            if course.status is CourseStatus.PUBLISHED:  # not cancelled meanwhile
                _reschedule(course, actor, old_times=_times(course), old_place=old_address)
                moved.append(course.id)
    audit.record("venue.updated", venue, actor, name=venue.name, courses_rescheduled=moved)
    return venue


def delete_venue(venue: Venue, actor: User | None = None) -> None:
    used = db.session.scalar(sa.select(sa.func.count(Course.id)).where(Course.venue_id == venue.id))
    if used:
        raise DomainError(f"{venue.name} is the venue of {used} course{'s' if used != 1 else ''}, so it cannot be "
                          "deleted. Mark it as no longer in use instead.")
    audit.record("venue.deleted", venue, actor, name=venue.name)
    db.session.delete(venue)
    db.session.flush()


def list_venues() -> list[Venue]:
    return list(db.session.scalars(
        sa.select(Venue).options(joinedload(Venue.council_area)).order_by(Venue.active.desc(), Venue.name)
    ))


# --- instructors -------------------------------------------------------------------------------

@dataclass
class InstructorDetails:
    first_name: str
    last_name: str
    email: str
    licence_number: str
    licence_expires_on: date
    active: bool = True


def _licence_number(text: str) -> str:
    number = re.sub(r"\s+", "", text or "").upper()
    if not number:
        raise DomainError("Enter the licence number", field="licence_number")
    return number


def _check_licence_unique(number: str, instructor: Instructor | None) -> None:
    other = db.session.scalar(sa.select(Instructor).where(sa.func.upper(Instructor.licence_number) == number))
    if other is not None and other is not instructor:
        raise DomainError(f"Licence number {number} belongs to {other.person.full_name} already",
                          field="licence_number")


def create_instructor(details: InstructorDetails, actor: User | None = None) -> Instructor:
    """A licensed instructor; the person is found by email address, or added."""
    number = _licence_number(details.licence_number)
    _check_licence_unique(number, None)
    if details.licence_expires_on < london_today():
        raise DomainError("The licence expiry date must be today or in the future", field="licence_expires_on")
    email = normalise_email(details.email)
    person = person_with_email(email)  # however an import or an employer capitalised it
    if person is not None and db.session.scalar(sa.select(Instructor).where(Instructor.person_id == person.id)):
        raise DomainError(f"{person.full_name} ({email}) is already an instructor", field="email")
    if person is None:
        person = Person(first_name=details.first_name.strip(), last_name=details.last_name.strip(), email=email)
        db.session.add(person)
    instructor = Instructor(person=person, licence_number=number, licence_expires_on=details.licence_expires_on,
                            active=details.active)
    db.session.add(instructor)
    db.session.flush()
    audit.record("instructor.created", instructor, actor, licence_number=number,
                 licence_expires_on=details.licence_expires_on.isoformat())
    return instructor


def update_instructor(instructor: Instructor, details: InstructorDetails, actor: User | None = None) -> Instructor:
    number = _licence_number(details.licence_number)
    _check_licence_unique(number, instructor)
    person = instructor.person
    email = normalise_email(details.email)
    if email != normalise_email(person.email or ""):
        if db.session.scalar(sa.select(User.id).where(User.person_id == person.id)) is not None:
            raise DomainError(f"{person.full_name} signs in to MHFA Reach as {person.email}, so their email "
                              "address cannot be changed here", field="email")
        other = db.session.scalar(
            sa.select(Person).where(sa.func.lower(Person.email) == email, Person.id != person.id).limit(1))
        if other is not None:
            raise DomainError(f"{email} is the email address of {other.full_name}", field="email")
        person.email = email
    person.first_name, person.last_name = details.first_name.strip(), details.last_name.strip()
    instructor.licence_number = number
    instructor.licence_expires_on = details.licence_expires_on
    instructor.active = details.active
    db.session.flush()
    audit.record("instructor.updated", instructor, actor, licence_number=number,
                 licence_expires_on=details.licence_expires_on.isoformat(), active=details.active)
    return instructor


def delete_instructor(instructor: Instructor, actor: User | None = None) -> None:
    used = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(course_instructor)
        .where(course_instructor.c.instructor_id == instructor.id)
    )
    if used:
        raise DomainError(f"{instructor.person.full_name} is on {used} course{'s' if used != 1 else ''}, so cannot be "
                          "deleted. Mark them as not active instead.")
    audit.record("instructor.deleted", instructor, actor, licence_number=instructor.licence_number)
    db.session.delete(instructor)
    db.session.flush()


def list_instructors() -> list[Instructor]:
    return list(db.session.scalars(
        sa.select(Instructor).join(Person, Person.id == Instructor.person_id)
        .options(joinedload(Instructor.person)).order_by(Instructor.active.desc(), Person.last_name, Person.first_name)
    ))


def instructor_for(user) -> Instructor | None:
    person_id = _person_id(user)
    if person_id is None:
        return None
    return db.session.scalar(sa.select(Instructor).where(Instructor.person_id == person_id))


# --- calendar feeds ----------------------------------------------------------------------------

def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def feed_for(user: User, kind: FeedKind, council_area: CouncilArea | None = None) -> CalendarFeed | None:
    query = sa.select(CalendarFeed).where(CalendarFeed.owner_user_id == user.id, CalendarFeed.kind == kind)
    if kind is FeedKind.AREA:
        query = query.where(CalendarFeed.council_area_id == council_area.id)
    return db.session.scalar(query.order_by(CalendarFeed.id).limit(1))


def reset_feed(user: User, kind: FeedKind, council_area: CouncilArea | None = None) -> CalendarFeed:
    """The user's feed of this kind with a new token (made if there is none): the old link stops working."""
    if kind is FeedKind.AREA and council_area is None:
        raise DomainError("Choose a council area", field="council_area")
    feed = feed_for(user, kind, council_area)
    if feed is None:
        feed = CalendarFeed(owner_user_id=user.id, kind=kind,
                            council_area_id=council_area.id if kind is FeedKind.AREA else None)
        db.session.add(feed)
    feed.token = new_feed_token()
    db.session.flush()
    audit.record("calendar_feed.reset", feed, user, kind=kind.value)
    return feed


def area_feeds(user: User) -> dict[int, CalendarFeed]:
    rows = db.session.scalars(
        sa.select(CalendarFeed).where(CalendarFeed.owner_user_id == user.id, CalendarFeed.kind == FeedKind.AREA)
    )
    return {feed.council_area_id: feed for feed in rows}


def feed_by_token(token: str) -> CalendarFeed:
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token == token)) if token else None
    if feed is None:
        raise NotFound("There is no such calendar.")
    return feed


# --- lookups for forms and pages ---------------------------------------------------------------

def course_form_choices(course: Course | None = None) -> dict:
    """What the course form offers: active course types and venues (and the course's own), areas, employers."""
    types = db.session.scalars(sa.select(CourseType).order_by(CourseType.name)).all()
    venues = db.session.scalars(
        sa.select(Venue).options(joinedload(Venue.council_area)).order_by(Venue.name)
    ).all()
    keep_type = course.course_type_id if course else None
    keep_venue = course.venue_id if course else None
    return {
        "course_types": [t for t in types if t.active or t.id == keep_type],
        "venues": [v for v in venues if v.active or v.id == keep_venue],
        "areas": all_areas(),
        "employers": list(db.session.scalars(sa.select(Employer).order_by(Employer.name))),
    }


def venue_form_data(venue: Venue) -> dict:
    return {
        "name": venue.name, "address_line1": venue.address_line1, "address_line2": venue.address_line2,
        "town": venue.town, "postcode": venue.postcode, "council_area": str(venue.council_area_id),
        "step_free_access": venue.step_free_access, "access_notes": venue.access_notes, "active": venue.active,
    }


def course_history(course: Course) -> list:
    """The course's audit trail, newest first, with who did each thing."""
    return list(db.session.execute(
        sa.select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.entity_type == Course.__tablename__, AuditEvent.entity_id == course.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    ).all())


def get_or_404(model, ident: int | None):
    record = db.session.get(model, ident) if ident is not None else None
    if record is None:
        raise NotFound(f"There is no such {model.__tablename__.replace('_', ' ')}.")
    return record
