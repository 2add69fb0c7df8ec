"""Reach counts read from the kept figures, and the same counts computed bare from the raw rows.

``kept_counts``/``kept_group_counts`` are what every page, export and the API read: a SUM over a
few thousand kept monthly rows, fast at any scale. ``bare_counts``/``bare_group_counts`` answer the
same question straight from completions with ``COUNT(DISTINCT person)`` (the rule written out
independently of ``keeping.py``); the property test and ``benchmarks/reach.py`` compare the two.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.attendance.models import Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus, CourseType, FundingStream
from mhfa.employers.models import CreditNote, Employer, Invoice, Order, PlaceVoucher
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.reach.models import (
    BASES,
    GROUP_DIMENSIONS,
    UNKNOWN_AREA,
    ReachFirst,
    ReachGroupMonth,
    ReachMonth,
    ReachSpendMonth,
)

GROUPINGS = ("month", "area", "course_type")


@dataclass(frozen=True)
class Filters:
    """What a figure is about: basis, awareness courses in or out, first-reach course types, months."""

    basis: str = "home"
    include_awareness: bool = True
    course_type_ids: frozenset[int] | None = None  # None: every counting type
    start_month: int | None = None  # yyyymm, inclusive
    end_month: int | None = None
    area: int | None = None  # one area key (UNKNOWN_AREA for "Unknown"), None: all

    def __post_init__(self):
        if self.basis not in BASES:
            raise ValueError(f"unknown basis {self.basis!r}")

    def with_months(self, start: int | None, end: int | None) -> Filters:
        return replace(self, start_month=start, end_month=end)


# --- kept ---------------------------------------------------------------------------------------

def kept_counts(group_by: str, filters: Filters, *, areas: frozenset[int] | None = None) -> dict[int, int]:
    """People reached, grouped by month (yyyymm), area (key) or course type (id); ``areas``: only these area keys
    (``mhfa.reach.counted.counted_keys()`` for the people counted toward the target)."""
    t = ReachMonth
    column = {"month": t.month, "area": t.area, "course_type": t.course_type_id}[group_by]
    query = sa.select(column, sa.func.sum(t.people)).where(
        t.include_awareness.is_(filters.include_awareness), t.basis == filters.basis
    ).group_by(column)
    query = _month_filters(query, t, filters)
    if filters.area is not None:
        query = query.where(t.area == filters.area)
    if areas is not None:
        query = query.where(t.area.in_(sorted(areas)))
    return {key: int(n) for key, n in db.session.execute(query) if n}


def kept_month_area(filters: Filters) -> dict[tuple[int, int], int]:
    """People reached per (month, area key) on the basis: the headline's rates toward the target."""
    t = ReachMonth
    query = sa.select(t.month, t.area, sa.func.sum(t.people)).where(
        t.include_awareness.is_(filters.include_awareness), t.basis == filters.basis
    ).group_by(t.month, t.area)
    query = _month_filters(query, t, filters)
    return {(month, area): int(n) for month, area, n in db.session.execute(query) if n}


def kept_all_group_counts(filters: Filters, *, include_outside: bool = False) -> dict[str, dict[str, int]]:
    """Every group table's counts in one query: dimension → value → people counted toward the target on the
    filters' basis (``include_outside``: and the people outside the target region too)."""
    t = ReachGroupMonth
    query = sa.select(t.dimension, t.value, sa.func.sum(t.people)).where(
        t.include_awareness.is_(filters.include_awareness), t.basis == filters.basis,
        *_counted_only(t, include_outside)).group_by(t.dimension, t.value)
    query = _month_filters(query, t, filters)
    out: dict[str, dict[str, int]] = {d: {} for d in GROUP_DIMENSIONS}
    for dimension, value, n in db.session.execute(query):
        if n and dimension in out:
            out[dimension][value] = int(n)
    return out


def kept_group_counts(dimension: str, filters: Filters, *, include_outside: bool = False) -> dict[str, int]:
    """People reached by employer sector or an equality answer ("" = not known), counted toward the target on
    the filters' basis (``include_outside``: and those outside the region). Not split by area."""
    if dimension not in GROUP_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    t = ReachGroupMonth
    query = sa.select(t.value, sa.func.sum(t.people)).where(
        t.include_awareness.is_(filters.include_awareness), t.dimension == dimension, t.basis == filters.basis,
        *_counted_only(t, include_outside)).group_by(t.value)
    query = _month_filters(query, t, filters)
    return {key: int(n) for key, n in db.session.execute(query) if n}


def first_group_counts(filters: Filters, *, areas: frozenset[int] | None = None) -> dict[str, dict[str, int]]:
    """As :func:`kept_all_group_counts`, for one area (``filters.area``): counted over the kept first-reach rows
    of the people attributed to it on the basis (``areas``: only when the area is one of these keys)."""
    t = ReachFirst
    area = getattr(t, {"home": "home_area", "work": "work_area", "delivery": "delivery_area"}[filters.basis])
    out: dict[str, dict[str, int]] = {d: {} for d in GROUP_DIMENSIONS}
    if areas is not None and filters.area is not None and filters.area not in areas:
        return out
    for dimension in GROUP_DIMENSIONS:
        column = getattr(t, dimension)
        query = sa.select(column, sa.func.count()).where(t.include_awareness.is_(filters.include_awareness))
        query = _month_filters(query, t, filters).group_by(column)
        if filters.area is not None:
            query = query.where(area == filters.area)
        elif areas is not None:
            query = query.where(area.in_(sorted(areas)))
        out[dimension] = {value: int(n) for value, n in db.session.execute(query) if n}
    return out


@dataclass(frozen=True)
class Spend:
    """Money known for a funding stream: pence counted, orders or courses counted, courses with no cost recorded."""

    pence: int = 0
    items: int = 0
    uncosted: int = 0


def kept_spend(filters: Filters) -> dict[str, Spend]:
    """Spend by funding stream over the filters' months and course types (awareness types left out when asked)."""
    t = ReachSpendMonth
    query = sa.select(t.funding_stream, sa.func.sum(t.spend_pence), sa.func.sum(t.items),
                      sa.func.sum(t.uncosted)).group_by(t.funding_stream)
    query = _month_filters(query, t, filters)
    if not filters.include_awareness:
        query = query.where(t.course_type_id.not_in(sa.select(CourseType.id).where(CourseType.is_awareness.is_(True))))
    return {stream: Spend(int(pence or 0), int(items or 0), int(uncosted or 0))
            for stream, pence, items, uncosted in db.session.execute(query) if items or uncosted}


def _counted_only(t, include_outside: bool) -> list:
    return [] if include_outside else [t.counted.is_(True)]


def _month_filters(query, t, filters: Filters):
    if filters.course_type_ids is not None:
        query = query.where(t.course_type_id.in_(sorted(filters.course_type_ids)))
    if filters.start_month is not None:
        query = query.where(t.month >= filters.start_month)
    if filters.end_month is not None:
        query = query.where(t.month <= filters.end_month)
    return query


# --- bare ---------------------------------------------------------------------------------------

def _counting(include_awareness: bool):
    """Completions that count, as (person_id, completion_id, completed_on, type, delivery area)."""
    live = sa.exists().where(Certificate.completion_id == Completion.id, Certificate.revoked_at.is_(None))
    any_certificate = sa.exists().where(Certificate.completion_id == Completion.id)
    query = (
        sa.select(Completion.id, Completion.person_id, Completion.completed_on, Completion.course_type_id,
                  sa.func.coalesce(Completion.delivery_council_area_id, Course.council_area_id).label("delivery"),
                  sa.func.coalesce(Order.__table__.c.funding_stream, Course.__table__.c.funding_stream)
                  .label("funding_stream"))
        .join(CourseType, CourseType.id == Completion.course_type_id)
        .outerjoin(Course, Course.id == Completion.course_id)
        .outerjoin(Booking, Booking.id == Completion.booking_id)
        .outerjoin(PlaceVoucher, PlaceVoucher.id == Booking.voucher_id)
        .outerjoin(Order, Order.id == PlaceVoucher.order_id)
        .where(CourseType.counts_toward_target.is_(True), sa.or_(live, ~any_certificate))
    )
    if not include_awareness:
        query = query.where(CourseType.is_awareness.is_(False))
    return query.subquery("counting")


def _first_completions(include_awareness: bool):
    """Each reached person's first counting completion: the earliest date, then the lowest id."""
    counting = _counting(include_awareness)
    earliest = (
        sa.select(counting.c.person_id, sa.func.min(counting.c.completed_on).label("first_on"))
        .group_by(counting.c.person_id).subquery("earliest")
    )
    first_id = (
        sa.select(counting.c.person_id, sa.func.min(counting.c.id).label("completion_id"))
        .join(earliest, sa.and_(earliest.c.person_id == counting.c.person_id,
                                earliest.c.first_on == counting.c.completed_on))
        .group_by(counting.c.person_id).subquery("first_id")
    )
    return counting, first_id


def _bare_base(filters: Filters):
    counting, first_id = _first_completions(filters.include_awareness)
    area = {
        "home": sa.func.coalesce(Person.home_council_area_id, UNKNOWN_AREA),
        "work": sa.func.coalesce(Person.work_council_area_id, UNKNOWN_AREA),
        "delivery": sa.func.coalesce(counting.c.delivery, UNKNOWN_AREA),
    }[filters.basis]
    month = sa.cast(sa.extract("year", counting.c.completed_on) * 100 + sa.extract("month", counting.c.completed_on),
                    sa.Integer)
    joined = counting.join(first_id, first_id.c.completion_id == counting.c.id).join(
        Person, Person.id == counting.c.person_id)
    conditions = []
    if filters.course_type_ids is not None:
        conditions.append(counting.c.course_type_id.in_(sorted(filters.course_type_ids)))
    if filters.start_month is not None:
        conditions.append(month >= filters.start_month)
    if filters.end_month is not None:
        conditions.append(month <= filters.end_month)
    if filters.area is not None:
        conditions.append(area == filters.area)
    return counting, joined, area, month, conditions


def bare_counts(group_by: str, filters: Filters) -> dict[int, int]:
    """The same as :func:`kept_counts`, by COUNT(DISTINCT person) over the raw rows."""
    counting, joined, area, month, conditions = _bare_base(filters)
    column = {"month": month, "area": area, "course_type": counting.c.course_type_id}[group_by]
    query = (sa.select(column, sa.func.count(sa.distinct(counting.c.person_id)))
             .select_from(joined).where(*conditions).group_by(column))
    return {key: int(n) for key, n in db.session.execute(query) if n}


def bare_group_counts(dimension: str, filters: Filters, *, include_outside: bool = False) -> dict[str, int]:
    """The same as :func:`kept_group_counts`, by COUNT(DISTINCT person) over the raw rows."""
    counting, joined, area, _month, conditions = _bare_base(replace(filters, area=None))
    if not include_outside:
        in_region = sa.select(CouncilArea.id).where(CouncilArea.in_target_region.is_(True)).scalar_subquery()
        conditions.append(sa.or_(area == UNKNOWN_AREA, area.in_(in_region)))
    if dimension == "sector":
        joined = joined.outerjoin(Employer, Employer.id == Person.employer_id)
        column = Employer.__table__.c.sector
    elif dimension == "funding_stream":
        column = counting.c.funding_stream
    else:
        column = Person.__table__.c[dimension]
    value = sa.func.coalesce(sa.cast(column, sa.String(30)), sa.literal("", sa.String(30)))
    query = (sa.select(value, sa.func.count(sa.distinct(counting.c.person_id)))
             .select_from(joined).where(*conditions).group_by(value))
    return {key: int(n) for key, n in db.session.execute(query) if n}


def bare_spend(filters: Filters) -> dict[str, Spend]:
    """The same as :func:`kept_spend`, summed straight from courses and orders."""
    types = sa.select(CourseType.id)
    if filters.course_type_ids is not None:
        types = types.where(CourseType.id.in_(sorted(filters.course_type_ids)))
    if not filters.include_awareness:
        types = types.where(CourseType.is_awareness.is_(False))

    def month_of(column):
        return sa.cast(sa.extract("year", column) * 100 + sa.extract("month", column), sa.Integer)

    def in_months(column):
        conditions = []
        if filters.start_month is not None:
            conditions.append(month_of(column) >= filters.start_month)
        if filters.end_month is not None:
            conditions.append(month_of(column) <= filters.end_month)
        return conditions

    out: dict[str, list[int]] = {}
    costed = (FundingStream.PUBLIC, FundingStream.OTHER)
    for course in db.session.execute(
            sa.select(Course.funding_stream, Course.delivery_cost_pence)
            .where(Course.status == CourseStatus.COMPLETED, Course.funding_stream.in_(costed),
                   Course.starts_at.is_not(None), Course.course_type_id.in_(types), *in_months(Course.starts_at))):
        totals = out.setdefault(course.funding_stream.value, [0, 0, 0])
        if course.delivery_cost_pence is None:
            totals[2] += 1
        else:
            totals[0] += course.delivery_cost_pence
            totals[1] += 1
    credits: dict[int, int] = {}
    for order_id, net in db.session.execute(sa.select(CreditNote.order_id, CreditNote.net_pence)):
        credits[order_id] = credits.get(order_id, 0) + net
    for order in db.session.execute(
            sa.select(Order.id, Order.funding_stream, Invoice.net_pence).join(Invoice, Invoice.order_id == Order.id)
            .where(Order.course_type_id.in_(types), *in_months(Order.ordered_at))):
        totals = out.setdefault(order.funding_stream.value, [0, 0, 0])
        totals[0] += order.net_pence + credits.get(order.id, 0)
        totals[1] += 1
    return {stream: Spend(*totals) for stream, totals in out.items()}
