"""Reach counts computed bare from the raw rows: the oracles the kept figures are checked against.

They answer the questions ``mhfa.reach.counts`` answers from the kept figures, straight from completions
with ``COUNT(DISTINCT person)`` (the rule written out independently of ``mhfa/reach/keeping.py``). The
property tests and ``benchmarks/dashboard.py`` compare the two; the application never reads these.
"""
from __future__ import annotations

import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.attendance.models import Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus, CourseType, FundingStream
from mhfa.employers.billing import CreditNote, Invoice
from mhfa.employers.models import Employer, Order, PlaceVoucher
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.reach.counts import Filters, Spend
from mhfa.reach.models import (
    UNKNOWN_AREA,
)

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
    """The same as :func:`kept_group_counts` (with ``filters.area``: as :func:`kept_area_group_counts`), by
    COUNT(DISTINCT person) over the raw rows."""
    counting, joined, area, _month, conditions = _bare_base(filters)
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
