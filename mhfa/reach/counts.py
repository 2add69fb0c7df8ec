"""Reach counts read from the kept figures.

``kept_counts``/``kept_group_counts`` are what every page, export and the API read: a SUM over a
few thousand kept monthly rows, fast at any scale. The same questions answered bare from the raw rows
live with the tests (``tests/reach/bare.py``), which check one against the other.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from mhfa.courses.models import CourseType
from mhfa.extensions import db
from mhfa.reach.models import (
    BASES,
    GROUP_DIMENSIONS,
    ReachGroupAreaMonth,
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


def kept_area_group_counts(filters: Filters, *, areas: frozenset[int] | None = None) -> dict[str, dict[str, int]]:
    """As :func:`kept_all_group_counts`, for one area (``filters.area``): the kept rows per area of the people
    attributed to it on the basis (``areas``: only when the area is one of these keys; with no area chosen, the
    people of these areas)."""
    t = ReachGroupAreaMonth
    out: dict[str, dict[str, int]] = {d: {} for d in GROUP_DIMENSIONS}
    if areas is not None and filters.area is not None and filters.area not in areas:
        return out
    query = sa.select(t.dimension, t.value, sa.func.sum(t.people)).where(
        t.include_awareness.is_(filters.include_awareness), t.basis == filters.basis).group_by(t.dimension, t.value)
    query = _month_filters(query, t, filters)
    if filters.area is not None:
        query = query.where(t.area == filters.area)
    elif areas is not None:
        query = query.where(t.area.in_(sorted(areas)))
    for dimension, value, n in db.session.execute(query):
        if n and dimension in out:
            out[dimension][value] = int(n)
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
    # Both values named, not none: the index on the kept group rows is then searched past ``counted``.
    return [t.counted.in_([True, False]) if include_outside else t.counted.is_(True)]


def _month_filters(query, t, filters: Filters):
    if filters.course_type_ids is not None:
        query = query.where(t.course_type_id.in_(sorted(filters.course_type_ids)))
    if filters.start_month is not None:
        query = query.where(t.month >= filters.start_month)
    if filters.end_month is not None:
        query = query.where(t.month <= filters.end_month)
    return query
