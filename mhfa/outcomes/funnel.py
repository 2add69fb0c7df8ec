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

:func:`funnel` reads the kept figures (``keeping.py``: the months before this one are a sum of a few rows of
``funnel_month``, this month's started places and this month's expiries an indexed range of ``funnel_place``);
:func:`counted_funnel` counts the same from the raw rows (and answers for any other day).
"""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus, CourseType
from mhfa.extensions import db
from mhfa.outcomes import keeping
from mhfa.outcomes.kept_tables import FUNNEL_BASES
from mhfa.outcomes.models import FunnelMonth, FunnelPlace, FunnelTypeMonth
from mhfa.people.models import Person
from mhfa.reach.counts import Filters
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.shares import Share
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

    rate = staticmethod(Share.of)  # 4 decimals in data, its counts kept for the page's percentage

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


def counted_funnel(filters: Filters, today: date | None = None, now: datetime | None = None) -> Funnel:
    """The funnel's counts from the raw rows: one grouped query over the places (per course), shaped by course
    type and month."""
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
    cells = []
    for _, type_id, starts_at, *counts in per_course:
        start = to_london(starts_at)
        cells.append((start.year * 100 + start.month, type_id, Step(*(int(n or 0) for n in counts))))
    return _shaped(cells, today)


def _shaped(cells, today: date) -> Funnel:
    """The total, by course type and by month, of (month, course type, Step) cells."""
    total = Step()
    by_type: dict[int, Step] = defaultdict(Step)
    by_month: dict[int, Step] = defaultdict(Step)
    for month, type_id, step in cells:
        total.add(step)
        by_type[type_id].add(step)
        by_month[month].add(step)
    types = {t.id: t for t in db.session.scalars(sa.select(CourseType).where(CourseType.id.in_(list(by_type))))}
    return Funnel(total, sorted(((types[k], s) for k, s in by_type.items()), key=lambda item: item[0].name),
                  sorted(by_month.items()), today)


# --- kept ------------------------------------------------------------------------------------------------

def _kept_filters(query, shape: tuple, month, type_id, area):
    _, _, _, since, until, typed, awareness = shape
    if since:
        query = query.where(month >= sa.bindparam("start_month"))
    if until:
        query = query.where(month <= sa.bindparam("end_month"))
    if typed:
        query = query.where(type_id.in_(sa.bindparam("type_ids", expanding=True)))
    if not awareness:
        query = query.where(type_id.not_in(sa.select(CourseType.id).where(CourseType.is_awareness.is_(True))))
    if area is not None:
        query = query.where(area == sa.bindparam("area"))
    return query


@functools.cache
def _kept_statement(shape: tuple) -> sa.Select:
    """The statement of :func:`kept_rows` for one shape of filters, built once: its values are parameters."""
    grouped, by_area, basis = shape[:3]
    p = FunnelPlace
    m = FunnelMonth if by_area else FunnelTypeMonth  # all areas together: a few hundred rows
    area = getattr(p, FUNNEL_BASES[basis])
    this_month, today = sa.bindparam("this_month", type_=sa.Integer), sa.bindparam("today", type_=sa.Date)

    def part(table, *counts) -> sa.Select:
        columns = [count.label(name) for count, name in zip(counts, STEPS, strict=True)]
        if not grouped:
            return sa.select(*columns)
        return sa.select(table.month.label("month"), table.course_type_id.label("course_type_id"), *columns).group_by(
            table.month, table.course_type_id)

    earlier = part(m, sa.func.sum(m.booked), sa.func.sum(m.attended), sa.func.sum(m.completed),
                   sa.func.sum(m.certified), sa.func.sum(sa.case((m.current_month > this_month, m.booked), else_=0))
                   ).where(m.month < this_month)
    if by_area:
        earlier = earlier.where(m.basis == basis)
    expiring = part(p, *(sa.literal(0),) * 4, sa.func.count()).where(
        p.current_until >= today, p.current_until < sa.bindparam("next_month", type_=sa.Date), p.month < this_month)
    started = part(p, sa.func.count(), sa.func.sum(p.attended), sa.func.sum(p.completed), sa.func.sum(p.certified),
                   sa.func.sum(sa.case((p.current_until >= today, 1), else_=0))).where(
        p.starts_at >= sa.bindparam("month_start"), p.starts_at <= sa.bindparam("now"))
    kept = sa.union_all(_kept_filters(earlier, shape, m.month, m.course_type_id, m.area if by_area else None),
                        _kept_filters(expiring, shape, p.month, p.course_type_id, area if by_area else None),
                        _kept_filters(started, shape, p.month, p.course_type_id, area if by_area else None)
                        ).subquery("kept")
    sums = [sa.func.sum(kept.c[name]).label(name) for name in STEPS]
    if not grouped:
        return sa.select(*sums)
    return sa.select(kept.c.month, kept.c.course_type_id, *sums).group_by(kept.c.month, kept.c.course_type_id)


def kept_rows(filters: Filters, today: date, now: datetime, grouped: bool) -> tuple[sa.Select, dict]:
    """One statement over the kept rows, and its parameters: the months before this one from ``funnel_month``
    (current today: the places whose certificate's latest expiry month is after this one), plus those expiring
    later this month and this month's started places from ``funnel_place`` (indexed ranges of their expiry and
    their start, read from the index alone on PostgreSQL); by start month and course type when ``grouped``, else
    one row of totals."""
    this_month = today.year * 100 + today.month
    shape = (grouped, filters.area is not None, filters.basis if filters.basis in FUNNEL_BASES else "home",
             bool(filters.start_month), bool(filters.end_month), bool(filters.course_type_ids),
             bool(filters.include_awareness))
    params = {"this_month": this_month, "today": today, "now": now, "month_start": _month_start(this_month),
              "next_month": date(today.year + today.month // 12, today.month % 12 + 1, 1)}
    params.update({name: value for name, value in (
        ("start_month", filters.start_month), ("end_month", filters.end_month),
        ("type_ids", sorted(filters.course_type_ids or ()))) if value})
    if filters.area is not None:
        params["area"] = filters.area
    return _kept_statement(shape), params


def funnel(filters: Filters, today: date | None = None, now: datetime | None = None) -> Funnel:
    """The funnel's counts from the kept rows (equal to :func:`counted_funnel` today), by start month and course
    type in one statement (:func:`kept_rows`); another day or moment is counted from the raw rows."""
    if (today is not None and today != london_today()) or now is not None:
        return counted_funnel(filters, today, now)
    today = london_today()
    keeping.settled(db.session())
    cells = []
    for month, type_id, *counts in db.session.execute(*kept_rows(filters, today, utcnow(), grouped=True)):
        step = Step(*(int(n or 0) for n in counts))
        if step.booked:
            cells.append((int(month), int(type_id), step))
    return _shaped(cells, today)
