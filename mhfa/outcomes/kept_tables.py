"""The kept outcome tables, their keys and the statements every kept figure moves by (see ``keeping.py``)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mhfa.attendance.models import AttendanceMark, Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseType
from mhfa.employers.models import Order, PlaceVoucher
from mhfa.extensions import db
from mhfa.outcomes.models import (
    FirstAiderDay,
    FirstAiderKept,
    FirstAiderMonth,
    FirstAiderSpan,
    FirstAiderSpanMonth,
    FunnelMonth,
    FunnelPlace,
    FunnelTypeMonth,
    OutcomeAnswer,
    OutcomeArea,
    OutcomeGroupMonth,
    OutcomeInvite,
    OutcomeKept,
    OutcomeMonth,
    OutcomeTypeMonth,
)
from mhfa.people.models import Person
from mhfa.reach.reached import among

SCORES = ("confidence_before", "confidence_now", "signposting_before", "signposting_now")
ANSWER_KEYS = (*SCORES, "rating", "used_skills")
FOREVER = date(9999, 12, 31)  # the expiry of a certificate that never expires
CHUNK = 25000

invite_t = OutcomeInvite.__table__
answer_t = OutcomeAnswer.__table__
completion_t = Completion.__table__
person_t = Person.__table__
cert_t = Certificate.__table__
kept_t = OutcomeKept.__table__
month_t = OutcomeMonth.__table__
type_month_t = OutcomeTypeMonth.__table__
area_sums_t = OutcomeArea.__table__
group_month_t = OutcomeGroupMonth.__table__
aider_t = FirstAiderKept.__table__
aider_month_t = FirstAiderMonth.__table__
aider_day_t = FirstAiderDay.__table__
booking_t = Booking.__table__
course_t = Course.__table__
type_t = CourseType.__table__
voucher_t = PlaceVoucher.__table__
order_t = Order.__table__
mark_t = AttendanceMark.__table__
place_t = FunnelPlace.__table__
span_t = FirstAiderSpan.__table__
span_month_t = FirstAiderSpanMonth.__table__
funnel_month_t = FunnelMonth.__table__
funnel_type_month_t = FunnelTypeMonth.__table__

GROUPS = ("funding_stream", "sex", "age_band", "ethnic_group", "disability")
KEPT_COLUMNS = ["invite_id", "kind", "month", "area", "course_type_id", "answered", *ANSWER_KEYS, *GROUPS]
MONTH_KEYS = ("kind", "month", "area", "course_type_id")
TYPE_MONTH_KEYS = ("kind", "month", "course_type_id")
AREA_KEYS = ("kind", "area", "course_type_id")
GROUP_KEYS = ("kind", "dimension", "value", "month", "area", "course_type_id")
MONTH_VALUES = ("invited", "answered", *(f"{q}_{s}" for q in SCORES for s in ("n", "sum", "sq")),
                "rated", "good", "use_answered", "used")
AIDER_COLUMNS = ["person_id", "home_area", "work_area", "expires_on", "expiry_month"]
AIDER_KEYS = ("basis", "area", "expiry_month")
AIDER_DAY_KEYS = ("basis", "expires_on", "area")
AIDER_BASES = {"home": "home_area", "work": "work_area"}
PLACE_COLUMNS = ["booking_id", "month", "starts_at", "course_type_id", "home_area", "work_area", "delivery_area",
                 "attended", "completed", "certified", "current_until", "current_month"]
FUNNEL_KEYS = ("basis", "area", "month", "course_type_id", "current_month")
FUNNEL_TYPE_KEYS = ("month", "course_type_id", "current_month")
FUNNEL_VALUES = ("booked", "attended", "completed", "certified")
FUNNEL_BASES = {"home": "home_area", "work": "work_area", "delivery": "delivery_area"}


def insert_for(conn: Connection):
    return insert_of(conn.dialect.name)


def insert_of(dialect: str):
    """The dialect's ``insert`` (with ``on_conflict_do_update``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def chunks(ids: Iterable[int | None]) -> list[list[int]]:
    ids = sorted({int(i) for i in ids if i is not None})
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def move(conn: Connection, table, keys, values, select) -> None:
    conn.execute(move_statement(conn.dialect.name, table, keys, values, select))


def move_statement(dialect: str, table, keys, values, select) -> sa.Insert:
    """Add ``select``'s rows (keys, then values) to the summary ``table``'s rows of the same keys."""
    insert = insert_of(dialect)(table).from_select([*keys, *values], select)
    return insert.on_conflict_do_update(
        index_elements=list(keys), set_={v: table.c[v] + insert.excluded[v] for v in values})


def kept_sums(conn: Connection, tables, values: tuple[str, ...]) -> Counter:
    """Every row of these summary tables (each with its keys) that holds a value: what a rebuild compares."""
    found = Counter()
    for table, keys in tables:
        for row in conn.execute(sa.select(*(table.c[k] for k in (*keys, *values)))):
            numbers = tuple(int(v or 0) for v in row[len(keys):])
            if any(numbers):
                found[(table.name, *row[:len(keys)])] = numbers
    return found


def refresh(ids: Iterable[int | None], connection: Connection | None, *, table: sa.Table, key: str, source_key,
            fill, move_sums) -> None:
    """Recompute the kept rows of these ids (``table.c[key]``) and move the sums they add to by the difference,
    set-based, a chunk of ids at a time: ``move_sums(conn, where, sign)`` takes the rows' part out (-1) or puts
    it back (+1); ``fill(conn, where)`` writes the rows again from the raw rows matching ``source_key``."""
    conn = connection if connection is not None else db.session.connection()
    for chunk in chunks(ids):
        theirs = among(table.c[key], chunk, conn.dialect.name)
        move_sums(conn, theirs, -1)
        conn.execute(table.delete().where(theirs))
        fill(conn, among(source_key, chunk, conn.dialect.name))
        move_sums(conn, theirs, +1)
