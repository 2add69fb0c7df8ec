"""Who is reached, as SQL: the rule of :mod:`mhfa.reach.keeping` written once over the raw tables
(a completion counts; a person's first counting completion reaches them, attributed as they are now),
for the kept figures, their rebuild and the spend. Shared column helpers (``month_key``, ``text_of``,
``among``) sit here too."""
from __future__ import annotations

import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.attendance.models import Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseType
from mhfa.employers.billing import CreditNote, Invoice
from mhfa.employers.models import Employer, Order, PlaceVoucher
from mhfa.people.models import Person
from mhfa.reach.models import (
    PERSON_DIMENSIONS,
    UNKNOWN_AREA,
    ReachFirst,
    ReachGroupAreaMonth,
    ReachGroupMonth,
    ReachMonth,
    ReachSpendMonth,
)

completion_t = Completion.__table__
type_t = CourseType.__table__
cert_t = Certificate.__table__
course_t = Course.__table__
person_t = Person.__table__
employer_t = Employer.__table__
booking_t = Booking.__table__
voucher_t = PlaceVoucher.__table__
order_t = Order.__table__
invoice_t = Invoice.__table__
credit_t = CreditNote.__table__
spend_t = ReachSpendMonth.__table__
first_t = ReachFirst.__table__
month_t = ReachMonth.__table__
group_t = ReachGroupMonth.__table__
area_group_t = ReachGroupAreaMonth.__table__
area_t = CouncilArea.__table__

FIRST_COLUMNS = [
    "person_id", "include_awareness", "completion_id", "reached_on", "month", "course_type_id",
    "home_area", "work_area", "delivery_area", *PERSON_DIMENSIONS, "funding_stream",
]
BASIS_COLUMN = {"home": "home_area", "work": "work_area", "delivery": "delivery_area"}


def month_key(column):
    """yyyymm of a date column, portable between SQLite and PostgreSQL."""
    return sa.cast(sa.extract("year", column) * 100 + sa.extract("month", column), sa.Integer)


def counting_conditions(completion, include_awareness: bool = True) -> list:
    """The WHERE conditions that make a completion count (course type joined as ``type_t``)."""
    any_cert = cert_t.alias("any_cert")
    live_cert = cert_t.alias("live_cert")
    withdrawn = sa.and_(
        sa.exists().where(any_cert.c.completion_id == completion.c.id),
        ~sa.exists().where(live_cert.c.completion_id == completion.c.id, live_cert.c.revoked_at.is_(None)),
    )
    conditions = [type_t.c.counts_toward_target.is_(True), ~withdrawn]
    if not include_awareness:
        conditions.append(type_t.c.is_awareness.is_(False))
    return conditions


def text_of(column):
    return sa.func.coalesce(sa.cast(column, sa.String(30)), sa.literal("", sa.String(30)))


def first_reach_select(person_ids: list[int] | None = None, dialect: str = "sqlite") -> sa.Select:
    """One row per reached person and variant (columns as ``reach_first``), computed from the raw rows.

    The counting completions are read once for both variants: each person's first of all of them
    (awareness courses counted) and their first that is not an awareness course (not counted)."""
    c = completion_t
    order = (c.c.completed_on, c.c.id)
    ranked = (
        sa.select(
            c.c.id.label("completion_id"),
            c.c.person_id,
            c.c.course_type_id,
            c.c.completed_on,
            type_t.c.is_awareness,
            sa.func.coalesce(c.c.delivery_council_area_id, course_t.c.council_area_id, UNKNOWN_AREA)
            .label("delivery"),
            text_of(sa.func.coalesce(order_t.c.funding_stream, course_t.c.funding_stream)).label("funding_stream"),
            sa.func.row_number().over(partition_by=c.c.person_id, order_by=order).label("rn_all"),
            sa.func.row_number().over(partition_by=(c.c.person_id, type_t.c.is_awareness), order_by=order)
            .label("rn_kind"),
        )
        .select_from(c.join(type_t, type_t.c.id == c.c.course_type_id)
                     .outerjoin(course_t, course_t.c.id == c.c.course_id)
                     .outerjoin(booking_t, booking_t.c.id == c.c.booking_id)
                     .outerjoin(voucher_t, voucher_t.c.id == booking_t.c.voucher_id)
                     .outerjoin(order_t, order_t.c.id == voucher_t.c.order_id))
        .where(*counting_conditions(c))
    )
    if person_ids is not None:
        ranked = ranked.where(among(c.c.person_id, person_ids, dialect))
    ranked = ranked.cte("ranked")
    firsts = sa.union_all(
        sa.select(ranked, sa.literal(True, sa.Boolean).label("variant")).where(ranked.c.rn_all == 1),
        sa.select(ranked, sa.literal(False, sa.Boolean).label("variant"))
        .where(ranked.c.rn_kind == 1, ranked.c.is_awareness.is_(False)),
    ).subquery("firsts")
    return (
        sa.select(
            firsts.c.person_id,
            firsts.c.variant,
            firsts.c.completion_id,
            firsts.c.completed_on,
            month_key(firsts.c.completed_on),
            firsts.c.course_type_id,
            sa.func.coalesce(person_t.c.home_council_area_id, UNKNOWN_AREA),
            sa.func.coalesce(person_t.c.work_council_area_id, UNKNOWN_AREA),
            firsts.c.delivery,
            text_of(employer_t.c.sector),
            text_of(person_t.c.age_band),
            text_of(person_t.c.sex),
            text_of(person_t.c.ethnic_group),
            text_of(person_t.c.disability),
            firsts.c.funding_stream,
        )
        .select_from(
            firsts.join(person_t, person_t.c.id == firsts.c.person_id).outerjoin(
                employer_t, employer_t.c.id == person_t.c.employer_id
            )
        )
    )


def among(column, ids: list[int], dialect: str):
    """``column IN ids``: on PostgreSQL ``IN (SELECT unnest(array))``, one parameter that is cheap to
    send and that the planner joins by index (it estimates a set-returning function at 100 rows),
    whatever the size of the table; a plain list elsewhere."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column.in_(sa.select(sa.func.unnest(sa.literal(list(ids), ARRAY(sa.Integer)))).scalar_subquery())
    return column.in_(list(ids))


def among_bound(column, dialect: str, name: str = "ids"):
    """:func:`among` with the ids bound when the statement runs (``{name: ids}``), for a statement built once."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column.in_(sa.select(sa.func.unnest(sa.bindparam(name, type_=ARRAY(sa.Integer)))).scalar_subquery())
    return column.in_(sa.bindparam(name, expanding=True))
