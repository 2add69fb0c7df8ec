"""The funnel, from booked to certified: for a period and an area, by course type and by month.

The unit is a place: a confirmed booking on a course (published or completed, not cancelled) that has
started. Each place is counted at each step it reached:

- booked: the place;
- attended: marked present at one session or more;
- completed: a completion made from the booking;
- certified: a certificate issued for that completion (revoked ones included: it was issued);
- current today: one of those certificates is not revoked and not expired today.

No-show rate = (booked - attended) / booked; completion rate = completed / attended. The period is the
course's start month (Europe/London); the area follows reach's basis (home and work: the trainee's
record; delivery: the course's area), and "unknown" is the places with no area on that basis.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus, CourseType
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.reach.counts import Filters
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.timeutil import LONDON, london_today, to_london, utcnow

STEPS = ("booked", "attended", "completed", "certified", "current")
STEP_LABELS = {"booked": "Booked", "attended": "Attended at least one session", "completed": "Completed",
               "certified": "Certified", "current": "Certificate current today"}


@dataclass
class Step:
    booked: int = 0
    attended: int = 0
    completed: int = 0
    certified: int = 0
    current: int = 0

    def add(self, other: Step) -> None:
        for name in STEPS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def no_show_rate(self) -> float | None:
        return self.rate(self.booked - self.attended, self.booked)

    @property
    def completion_rate(self) -> float | None:
        return self.rate(self.completed, self.attended)

    @property
    def certified_rate(self) -> float | None:
        return self.rate(self.certified, self.completed)

    @property
    def current_rate(self) -> float | None:
        return self.rate(self.current, self.certified)

    def as_dict(self) -> dict:
        return {**{name: getattr(self, name) for name in STEPS}, "no_show_rate": self.no_show_rate,
                "completion_rate": self.completion_rate, "certified_rate": self.certified_rate,
                "current_rate": self.current_rate}


@dataclass
class Funnel:
    total: Step
    by_course_type: list[tuple[CourseType, Step]]
    by_month: list[tuple[int, Step]]  # yyyymm, in order
    as_of: date


def _month_start(key: int) -> datetime:
    return datetime(key // 100, key % 100, 1, tzinfo=LONDON)


def _next_month(key: int) -> int:
    year, month = divmod(key, 100)
    return (year + 1) * 100 + 1 if month == 12 else key + 1


def _area_column(basis: str):
    return {"home": Person.home_council_area_id, "work": Person.work_council_area_id,
            "delivery": Course.council_area_id}[basis]


def places_query(filters: Filters, now: datetime):
    """The places in the funnel (``booking_id``, ``course_id``), under the filters."""
    query = (sa.select(Booking.id.label("booking_id"), Course.id.label("course_id"))
             .join(Course, Course.id == Booking.course_id).join(Person, Person.id == Booking.person_id)
             .where(Booking.status == BookingStatus.CONFIRMED,
                    Course.status.in_([CourseStatus.PUBLISHED, CourseStatus.COMPLETED]),
                    Course.starts_at.is_not(None), Course.starts_at <= now))
    if filters.start_month:
        query = query.where(Course.starts_at >= _month_start(filters.start_month))
    if filters.end_month:
        query = query.where(Course.starts_at < _month_start(_next_month(filters.end_month)))
    if filters.course_type_ids:
        query = query.where(Course.course_type_id.in_(filters.course_type_ids))
    if not filters.include_awareness:
        awareness = sa.select(CourseType.id).where(CourseType.is_awareness.is_(True))
        query = query.where(Course.course_type_id.not_in(awareness))
    if filters.area is not None:
        column = _area_column(filters.basis)
        query = query.where(column.is_(None) if filters.area == UNKNOWN_AREA else column == filters.area)
    return query


def funnel(filters: Filters, today: date | None = None, now: datetime | None = None) -> Funnel:
    """The funnel's counts: one grouped query over the places (per course), shaped by course type and month."""
    today = today or london_today()
    now = now or utcnow()
    places = places_query(filters, now).subquery()
    attended = sa.exists().where(AttendanceMark.booking_id == places.c.booking_id,
                                 AttendanceMark.status == AttendanceStatus.PRESENT)
    booked_here = Completion.booking_id == places.c.booking_id
    completed = sa.exists().where(booked_here)
    certified = sa.exists().where(booked_here, Certificate.completion_id == Completion.id)
    current = sa.exists().where(booked_here, Certificate.completion_id == Completion.id,
                                Certificate.revoked_at.is_(None), Certificate.issued_on <= today,
                                sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today))

    def count(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    per_course = db.session.execute(
        sa.select(Course.id, Course.course_type_id, Course.starts_at, sa.func.count(places.c.booking_id),
                  count(attended), count(completed), count(certified), count(current))
        .join(places, places.c.course_id == Course.id).group_by(Course.id, Course.course_type_id, Course.starts_at)
    ).all()
    total = Step()
    by_type: dict[int, Step] = defaultdict(Step)
    by_month: dict[int, Step] = defaultdict(Step)
    for _, type_id, starts_at, *counts in per_course:
        step = Step(*(int(n or 0) for n in counts))
        total.add(step)
        by_type[type_id].add(step)
        start = to_london(starts_at)
        by_month[start.year * 100 + start.month].add(step)
    types = {t.id: t for t in db.session.scalars(sa.select(CourseType).where(CourseType.id.in_(list(by_type))))}
    return Funnel(total, sorted(((types[k], s) for k, s in by_type.items()), key=lambda item: item[0].name),
                  sorted(by_month.items()), today)
