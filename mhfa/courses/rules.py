"""The rules a course keeps: its sessions add up to its type's hours, in order, in the future; its place,
capacity, price, deadline and funding make sense; its instructors are licensed and free on its dates.

``course_problems`` names every rule some details break, changing nothing, so a page can show them all
at once; ``mhfa.courses.scheduling`` refuses a change that breaks any (``InvalidCourse``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from mhfa import dates
from mhfa.areas.models import CouncilArea
from mhfa.courses.models import (
    Course,
    CourseSession,
    CourseStatus,
    CourseType,
    DeliveryMode,
    FundingStream,
    Instructor,
    Venue,
    course_instructor,
)
from mhfa.courses.places import places
from mhfa.employers.models import Employer, Order, OrderKind, OrderStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.timeutil import format_london, london_today, to_london, utcnow


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
    #: None: the standard stream (publicly funded, or employer-paid for a closed course).
    funding_stream: FundingStream | None = None
    delivery_cost_pence: int | None = None

    @classmethod
    def of(cls, course: Course) -> CourseDetails:
        """A course's current details, to change some of them."""
        return cls(
            course_type=course.course_type, delivery_mode=course.delivery_mode, capacity=course.capacity,
            sessions=[SessionTimes(s.starts_at, s.ends_at) for s in course.sessions], venue=course.venue,
            council_area=course.council_area, joining_url=course.joining_url, price_pence=course.price_pence,
            employer=course.employer, booking_deadline=course.booking_deadline, notes=course.notes,
            funding_stream=course.funding_stream, delivery_cost_pence=course.delivery_cost_pence,
        )


class InvalidCourse(DomainError):
    """A course that cannot be saved; ``problems`` lists each (field, message) found."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__(problems[0][1], field=problems[0][0])
        self.problems = problems


HOURS_TOLERANCE = 1 / 60  # a minute either way
MAX_DELIVERY_COST_PENCE = 100_000_000  # £1,000,000: more is a typing slip


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
        problem = dates.PROGRAMME.problem(to_london(session.starts_at).date(), f"Session {number} date")
        if problem:
            problems.append((f"session_{number}_date", problem))
        elif session.ends_at <= session.starts_at:
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


def rule_problems(details: CourseDetails, course: Course | None, *, sessions_changed: bool,
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
            already = "1 place is" if booked == 1 else f"{booked} places are"
            problems.append(("capacity", f"{already} already booked, so capacity cannot be less than {booked}"))
    if details.price_pence < 0:
        problems.append(("price", "The price cannot be negative"))
    if details.delivery_cost_pence is not None and not 0 <= details.delivery_cost_pence <= MAX_DELIVERY_COST_PENCE:
        problems.append(("delivery_cost", "Enter a delivery cost from £0 to £1,000,000"))
    if course is not None and (problem := stream_problem(course, details.funding_stream)):
        problems.append(("funding_stream", problem))
    problems += _schedule_problems(details, check_past=sessions_changed, now=now)
    if details.booking_deadline is not None and details.sessions:
        first_start = min(s.starts_at for s in details.sessions)
        deadline_changed = course is None or details.booking_deadline != course.booking_deadline
        if details.booking_deadline > first_start:
            problems.append(("booking_deadline_date", "The booking deadline must be before the first session starts"))
        elif deadline_changed and details.booking_deadline <= now:
            problems.append(("booking_deadline_date", "The booking deadline must be in the future"))
    type_changed = (course is not None and details.course_type is not None
                    and details.course_type is not course.course_type)
    if (course is not None and (sessions_changed or type_changed)
            and not any(f and f.startswith("session") for f, _ in problems)):
        for instructor in course.instructors:
            problem = instructor_problem(instructor, details.sessions, exclude_course=course,
                                         course_type=details.course_type)
            if problem:
                problems.append(("sessions", problem))
    return problems


def stream_problem(course: Course, stream: FundingStream | None) -> str | None:
    """A closed course bought whole by its organisation's order is paid for by that order: another stream
    would count its money twice (the order's, and a delivery cost) and its trainees under the order anyway."""
    if stream in (None, FundingStream.EMPLOYER_PAID) or course.id is None:
        return None
    order = db.session.scalar(sa.select(Order).where(
        Order.course_id == course.id, Order.kind == OrderKind.CLOSED_COURSE, Order.status != OrderStatus.CANCELLED))
    if order is None:
        return None
    return (f"This closed course is paid for by {order.employer.name}'s order, so its funding stream is "
            f"{FundingStream.EMPLOYER_PAID.label}")


def session_times(course: Course) -> list[SessionTimes]:
    return sorted(SessionTimes(s.starts_at, s.ends_at) for s in course.sessions)


def course_problems(details: CourseDetails, course: Course | None = None, *,
                    now: datetime | None = None) -> list[tuple[str | None, str]]:
    """Every rule these details break, changing nothing: so a form can name them all at once."""
    sessions_changed = course is None or sorted(details.sessions) != session_times(course)
    return rule_problems(details, course, sessions_changed=sessions_changed, now=now or utcnow())


def teaching_problem(course: Course) -> str | None:
    """Why nobody on the course can teach it (it needs an instructor licensed for its type on its dates), or None."""
    kind = course.course_type.name
    if not course.instructors:
        return (f"Add an instructor before publishing: the course needs an instructor licensed for {kind} "
                f"on its dates ({_date_span(course)}).")
    problems = [instructor_problem(i, list(course.sessions), exclude_course=course, course_type=course.course_type)
                for i in course.instructors]
    if all(problems):
        return (f"No instructor on this course can teach it, so it cannot be published: {'; '.join(problems)}. "
                f"Add an instructor licensed for {kind} on its dates ({_date_span(course)}).")
    return None


def _date_span(course: Course) -> str:
    first, last = to_london(course.starts_at).date(), to_london(course.ends_at).date()
    return f"{first:%-d %B %Y}" if first == last else f"{first:%-d %B %Y} to {last:%-d %B %Y}"


def instructor_problem(instructor: Instructor, sessions: list[SessionTimes] | list[CourseSession], *,
                       exclude_course: Course | None = None, course_type: CourseType | None = None) -> str | None:
    """Why the instructor cannot teach these sessions (licence, or a clashing course), or None."""
    name = instructor.person.full_name
    if not instructor.active:
        return f"{name} is not an active instructor"
    if course_type is not None and not instructor.licensed_for(course_type):
        return (f"{name}'s licence does not cover {course_type.name}: they have no qualification recorded "
                f"to deliver it")
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
