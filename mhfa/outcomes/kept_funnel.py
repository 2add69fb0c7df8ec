"""The funnel from booked to certified, kept per place and counted per month (see ``keeping.py``)."""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mhfa.attendance.models import AttendanceStatus
from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import CourseStatus
from mhfa.extensions import db
from mhfa.outcomes.kept_tables import (
    FOREVER,
    FUNNEL_BASES,
    FUNNEL_KEYS,
    FUNNEL_TYPE_KEYS,
    FUNNEL_VALUES,
    PLACE_COLUMNS,
    booking_t,
    cert_t,
    chunks,
    completion_t,
    course_t,
    funnel_month_t,
    funnel_type_month_t,
    kept_sums,
    mark_t,
    move,
    move_statement,
    person_t,
    place_t,
    refresh,
)
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.reach.reached import among_bound, month_key

# --- the funnel ----------------------------------------------------------------------------------------

def london_month_key(column):
    """yyyymm of a stored (UTC) moment in London, portable: London is an hour ahead from the last Sunday of
    March to the last Sunday of October, which moves a moment into the next month only in the last hour of
    March to September (each of them wholly in summer time at that hour)."""
    month = sa.extract("month", column)
    last_hour = sa.and_(sa.extract("hour", column) == 23, sa.or_(
        sa.and_(month.in_([3, 5, 7, 8]), sa.extract("day", column) == 31),
        sa.and_(month.in_([4, 6, 9]), sa.extract("day", column) == 30)))
    return month_key(column) + sa.case((last_hour, 1), else_=0)


def place_select(where=None) -> sa.Select:
    """One row per place in the funnel (columns as ``funnel_place``), from the raw bookings, marks, completions
    and certificates; a course not started yet is kept too (readers count it once it has started)."""
    b, c = booking_t, course_t
    done = completion_t.alias("done")
    joined = b.join(c, c.c.id == b.c.course_id).join(person_t, person_t.c.id == b.c.person_id)
    forever = sa.literal(FOREVER, sa.Date)
    if where is None:
        # Every place (a rebuild): each step read once by a join, not looked up again per booking.
        present = (sa.select(mark_t.c.booking_id).where(mark_t.c.status == AttendanceStatus.PRESENT).distinct()
                   .subquery("present"))
        certs = (sa.select(cert_t.c.completion_id, sa.func.max(sa.case(
                    (cert_t.c.revoked_at.is_(None), sa.func.coalesce(cert_t.c.expires_on, forever)))).label("until"))
                 .group_by(cert_t.c.completion_id).subquery("certs"))
        joined = (joined.outerjoin(present, present.c.booking_id == b.c.id)
                  .outerjoin(done, done.c.booking_id == b.c.id)
                  .outerjoin(certs, certs.c.completion_id == done.c.id))
        attended, completed = present.c.booking_id.is_not(None), done.c.id.is_not(None)
        certified, until = certs.c.completion_id.is_not(None), certs.c.until
    else:
        # A few places (a refresh): each step an indexed look-up for these bookings only.
        attended = sa.exists().where(mark_t.c.booking_id == b.c.id, mark_t.c.status == AttendanceStatus.PRESENT)
        completed = sa.exists().where(done.c.booking_id == b.c.id)
        certified = sa.exists().where(done.c.booking_id == b.c.id, cert_t.c.completion_id == done.c.id)
        until = (sa.select(sa.func.max(sa.func.coalesce(cert_t.c.expires_on, forever)))
                 .where(done.c.booking_id == b.c.id, cert_t.c.completion_id == done.c.id,
                        cert_t.c.revoked_at.is_(None))
                 .scalar_subquery())

    def flag(condition):
        return sa.case((condition, 1), else_=0)

    inner = (
        sa.select(b.c.id.label("booking_id"), london_month_key(c.c.starts_at).label("month"),
                  c.c.starts_at.label("starts_at"), c.c.course_type_id.label("course_type_id"),
                  sa.func.coalesce(person_t.c.home_council_area_id, UNKNOWN_AREA).label("home_area"),
                  sa.func.coalesce(person_t.c.work_council_area_id, UNKNOWN_AREA).label("work_area"),
                  sa.func.coalesce(c.c.council_area_id, UNKNOWN_AREA).label("delivery_area"),
                  flag(attended).label("attended"), flag(completed).label("completed"),
                  flag(certified).label("certified"), until.label("current_until"))
        .select_from(joined)
        .where(b.c.status == BookingStatus.CONFIRMED,
               c.c.status.in_([CourseStatus.PUBLISHED, CourseStatus.COMPLETED]),
               c.c.starts_at.is_not(None), *(() if where is None else (where,)))
        .subquery("places"))
    return sa.select(*(inner.c[name] for name in PLACE_COLUMNS[:-1]),
                     sa.func.coalesce(month_key(inner.c.current_until), 0))


def funnel_contributions(where, sign: int = 1, places=place_t) -> sa.Select:
    """What these kept places (``places``: the table, or rows with its columns) add to the funnel's months."""
    p = places
    parts = [sa.select(sa.literal(basis, sa.String(10)).label("basis"), p.c[column].label("area"),
                       p.c.month.label("month"), p.c.course_type_id.label("course_type_id"),
                       p.c.current_month.label("current_month"), p.c.attended, p.c.completed, p.c.certified)
             .where(where) for basis, column in FUNNEL_BASES.items()]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in FUNNEL_KEYS]
    return (sa.select(*keys, (sign * sa.func.count()).label("booked"),
                      *((sign * sa.func.sum(rows.c[name])).label(name) for name in FUNNEL_VALUES[1:]))
            .where(sa.true()).group_by(*keys))


def funnel_type_contributions(where, sign: int = 1, places=place_t) -> sa.Select:
    p = places
    keys = [p.c[k] for k in FUNNEL_TYPE_KEYS]
    return (sa.select(*keys, (sign * sa.func.count()).label("booked"),
                      *((sign * sa.func.sum(p.c[name])).label(name) for name in FUNNEL_VALUES[1:]))
            .where(where).group_by(*keys))


def _move_funnel(conn: Connection, where, sign: int) -> None:
    move(conn, funnel_month_t, FUNNEL_KEYS, FUNNEL_VALUES, funnel_contributions(where, sign))
    move(conn, funnel_type_month_t, FUNNEL_TYPE_KEYS, FUNNEL_VALUES, funnel_type_contributions(where, sign))


def refresh_places(booking_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these bookings' kept places and move the funnel's monthly counts by the difference."""
    refresh(booking_ids, connection, table=place_t, key="booking_id", source_key=booking_t.c.id,
            move_sums=_move_funnel,
            fill=lambda conn, where: conn.execute(place_t.insert().from_select(PLACE_COLUMNS, place_select(where))))




def add_places(booking_ids: Iterable[int], connection: Connection | None = None) -> None:
    """Keep the places of bookings made in this transaction and move the funnel's monthly counts by them: they
    have no kept row yet, so nothing is taken out first (:func:`refresh_places` for a booking that may have one)."""
    conn = connection if connection is not None else db.session.connection()
    statements = _adding(conn.dialect.name)
    for chunk in chunks(booking_ids):
        for statement in statements:
            conn.execute(statement, {"ids": chunk})


@functools.cache
def _adding(dialect: str) -> tuple[sa.Insert, ...]:
    """:func:`add_places`' statements, built once with the bookings' ids bound as they run (every booking runs
    them: building and keying them anew cost more than running them). On PostgreSQL one statement: the months
    are moved by the rows its insert returns (its parts share one snapshot, so they cannot read each other's
    rows from the table), so a booking holds the kept sums' lock for one round trip, not three."""
    fill = place_t.insert().from_select(PLACE_COLUMNS, place_select(among_bound(booking_t.c.id, dialect)))
    if dialect != "postgresql":
        theirs = among_bound(place_t.c.booking_id, dialect)
        return (fill,
                move_statement(dialect, funnel_month_t, FUNNEL_KEYS, FUNNEL_VALUES, funnel_contributions(theirs)),
                move_statement(dialect, funnel_type_month_t, FUNNEL_TYPE_KEYS, FUNNEL_VALUES,
                               funnel_type_contributions(theirs)))
    added = fill.returning(*place_t.c).cte("added")
    months = move_statement(dialect, funnel_month_t, FUNNEL_KEYS, FUNNEL_VALUES,
                            funnel_contributions(sa.true(), places=added)).cte("months")
    return (move_statement(dialect, funnel_type_month_t, FUNNEL_TYPE_KEYS, FUNNEL_VALUES,
                           funnel_type_contributions(sa.true(), places=added)).add_cte(months),)


def refill(conn: Connection) -> None:
    """Fill the emptied funnel tables from the raw rows (a rebuild)."""
    conn.execute(place_t.insert().from_select(PLACE_COLUMNS, place_select()))
    conn.execute(funnel_month_t.insert().from_select([*FUNNEL_KEYS, *FUNNEL_VALUES], funnel_contributions(sa.true())))
    conn.execute(funnel_type_month_t.insert().from_select([*FUNNEL_TYPE_KEYS, *FUNNEL_VALUES],
                                                          funnel_type_contributions(sa.true())))


def counted(conn: Connection) -> Counter:
    """The kept funnel counts of every basis, area, month and course type (what a rebuild compares)."""
    return kept_sums(conn, ((funnel_month_t, FUNNEL_KEYS), (funnel_type_month_t, FUNNEL_TYPE_KEYS)), FUNNEL_VALUES)
