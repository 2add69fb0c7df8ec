"""Keeping the outcome figures exact, in the same transaction as every change that moves them.

Two kept figures, each a per-row table and a summary that every reader sums:

- Evaluations and follow-ups: ``outcome_kept`` holds one row per invitation (its kind, the month of its
  completion, the home council area of its person, 0 when not known or unlinked by erasure, its course
  type, whether it was answered, and the numbers its answers gave to the questions the figures read);
  ``outcome_month`` holds per kind, month, area and course type the invitations, the answers, and for
  each score its count, sum and sum of squares (so a mean and its 95% interval come from a few rows),
  the ratings and how many were good or very good, the follow-up answers and how many used their skills;
  ``outcome_type_month`` the same for all areas together (read when no area is chosen).
- Current first aiders: ``first_aider_kept`` holds one row per person holding an unrevoked certificate,
  with their home and work areas and the latest expiry among those certificates (``9999-12-31`` for a
  certificate that never expires); ``first_aider_month`` counts them per basis, area and month of that
  expiry. Current today is the months after this one, plus this month's people whose expiry is today
  or later (an indexed range of the per-person table). Certificates are issued on the day they are
  issued, never later, so "issued by today" always holds.
- Groups: ``outcome_kept`` also keeps the course's funding stream and the person's equality answers, and
  ``outcome_group_month`` sums each group of those dimensions per kind, month, area and course type (the
  outcomes page's tables).
- The first aiders' trend: ``first_aider_span`` holds per person the merged stretches of days they held a
  current certificate (to the day before the London day of a revocation), ``first_aider_span_month``
  counts them per basis, area, first month and last month-end covered (computed in Python per person:
  the London day of a revocation).
- The funnel: ``funnel_place`` holds one row per place (a confirmed booking on a published or completed
  course with a start), with its London start month, course type, areas on each basis, steps reached
  and latest unrevoked certificate expiry; ``funnel_month`` counts them per basis, area, start month,
  course type and expiry month (readers add this month's started places and expiries from the rows).

What moves them is declared here (:func:`_after_flush` and :func:`_before_bulk`): an invitation made,
answered, unlinked or deleted (ORM objects, and bulk ``insert``/``update``/``delete`` statements through
the session, whose rows are read before they run); an answer added, changed or removed; a person's home
or work area or equality answers changed or a person deleted; a completion's date or booking changed, or
one made or deleted; a certificate issued, revoked, changed or deleted; a booking made, changed or
deleted; an attendance mark added, changed or removed; a course's status, start, type, area or funding
stream changed. The noted invitations, people and places are recomputed once per transaction (:func:`settle`):
before it commits and before anything inside it reads the kept tables. A rollback forgets them. Bulk
paths below the session (the demo's COPY) call :func:`rebuild`.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus
from mhfa.db_types import allow_large_sorts
from mhfa.extensions import db
from mhfa.history import changed, old_and_new
from mhfa.outcomes.models import (
    FirstAiderKept,
    FirstAiderMonth,
    FirstAiderSpan,
    FirstAiderSpanMonth,
    FunnelMonth,
    FunnelPlace,
    FunnelTypeMonth,
    OutcomeAnswer,
    OutcomeGroupMonth,
    OutcomeInvite,
    OutcomeKept,
    OutcomeMonth,
    OutcomeTypeMonth,
)
from mhfa.outcomes.questionnaires import GOOD_OR_BETTER
from mhfa.people.models import Person
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.reach.reached import among, month_key
from mhfa.timeutil import to_london

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
group_month_t = OutcomeGroupMonth.__table__
aider_t = FirstAiderKept.__table__
aider_month_t = FirstAiderMonth.__table__
booking_t = Booking.__table__
course_t = Course.__table__
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
GROUP_KEYS = ("kind", "dimension", "value", "month", "area", "course_type_id")
MONTH_VALUES = ("invited", "answered", *(f"{q}_{s}" for q in SCORES for s in ("n", "sum", "sq")),
                "rated", "good", "use_answered", "used")
AIDER_COLUMNS = ["person_id", "home_area", "work_area", "expires_on", "expiry_month"]
AIDER_KEYS = ("basis", "area", "expiry_month")
AIDER_BASES = {"home": "home_area", "work": "work_area"}
PLACE_COLUMNS = ["booking_id", "month", "starts_at", "course_type_id", "home_area", "work_area", "delivery_area",
                 "attended", "completed", "certified", "current_until", "current_month"]
FUNNEL_KEYS = ("basis", "area", "month", "course_type_id", "current_month")
FUNNEL_TYPE_KEYS = ("month", "course_type_id", "current_month")
FUNNEL_VALUES = ("booked", "attended", "completed", "certified")
FUNNEL_BASES = {"home": "home_area", "work": "work_area", "delivery": "delivery_area"}


def _insert_for(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _chunks(ids: Iterable[int | None]) -> list[list[int]]:
    ids = sorted({int(i) for i in ids if i is not None})
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


# --- evaluations and follow-ups -------------------------------------------------------------------------

def kept_select(where=None) -> sa.Select:
    """One row per invitation (columns as ``outcome_kept``), from the raw invitations and answers."""
    i = invite_t

    def number(key: str):
        return (sa.select(answer_t.c.number).where(answer_t.c.invite_id == i.c.id, answer_t.c.key == key)
                .scalar_subquery())

    query = (
        sa.select(i.c.id, i.c.kind, month_key(completion_t.c.completed_on),
                  sa.func.coalesce(person_t.c.home_council_area_id, UNKNOWN_AREA), i.c.course_type_id,
                  sa.case((i.c.answered_at.is_not(None), 1), else_=0), *(number(k) for k in ANSWER_KEYS),
                  sa.cast(course_t.c.funding_stream, sa.String(40)),
                  *(sa.cast(person_t.c[name], sa.String(40)) for name in GROUPS[1:]))
        .select_from(i.join(completion_t, completion_t.c.id == i.c.completion_id)
                     .outerjoin(person_t, person_t.c.id == i.c.person_id)
                     .outerjoin(course_t, course_t.c.id == i.c.course_id))
    )
    return query if where is None else query.where(where)


def _month_contributions(where, sign: int = 1, keys_of=MONTH_KEYS, k=kept_t) -> sa.Select:
    values = [sa.func.count(), sa.func.sum(k.c.answered)]
    for q in SCORES:
        column = k.c[q]
        values += [sa.func.count(column), sa.func.coalesce(sa.func.sum(sa.cast(column, sa.BigInteger)), 0),
                   sa.func.coalesce(sa.func.sum(sa.cast(column * column, sa.BigInteger)), 0)]
    values += [sa.func.count(k.c.rating), sa.func.sum(sa.case((k.c.rating >= GOOD_OR_BETTER, 1), else_=0)),
               sa.func.count(k.c.used_skills), sa.func.coalesce(sa.func.sum(k.c.used_skills), 0)]
    keys = [k.c[name] for name in keys_of]
    return (sa.select(*keys, *((sign * v).label(name) for v, name in zip(values, MONTH_VALUES, strict=True)))
            .where(where).group_by(*keys))


def _move(conn: Connection, table, keys, values, select) -> None:
    insert = _insert_for(conn)(table).from_select([*keys, *values], select)
    conn.execute(insert.on_conflict_do_update(
        index_elements=list(keys), set_={v: table.c[v] + insert.excluded[v] for v in values}))


def refresh_invites(invite_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these invitations' kept rows and move the monthly sums by the difference (set-based)."""
    conn = connection if connection is not None else db.session.connection()
    for ids in _chunks(invite_ids):
        theirs = among(kept_t.c.invite_id, ids, conn.dialect.name)
        _move_sums(conn, theirs, -1)
        conn.execute(kept_t.delete().where(theirs))
        conn.execute(kept_t.insert().from_select(KEPT_COLUMNS, kept_select(
            among(invite_t.c.id, ids, conn.dialect.name))))
        _move_sums(conn, theirs, +1)


def _group_contributions(where, sign: int = 1) -> sa.Select:
    """What the kept rows matching ``where`` add to ``outcome_group_month``: each row once per dimension."""
    k = kept_t
    parts = [sa.select(k.c.kind, sa.literal(name, sa.String(20)).label("dimension"),
                       sa.func.coalesce(k.c[name], "").label("value"), k.c.month, k.c.area, k.c.course_type_id,
                       k.c.answered, *(k.c[key] for key in ANSWER_KEYS)).where(where) for name in GROUPS]
    return _month_contributions(sa.true(), sign, GROUP_KEYS, sa.union_all(*parts).subquery("groups"))


def _move_sums(conn: Connection, where, sign: int) -> None:
    for table, keys in ((month_t, MONTH_KEYS), (type_month_t, TYPE_MONTH_KEYS)):
        _move(conn, table, keys, MONTH_VALUES, _month_contributions(where, sign, keys))
    _move(conn, group_month_t, GROUP_KEYS, MONTH_VALUES, _group_contributions(where, sign))


# --- current first aiders ------------------------------------------------------------------------------

def first_aider_select(where=None) -> sa.Select:
    """One row per person holding an unrevoked certificate (columns as ``first_aider_kept``)."""
    c = cert_t
    latest = (sa.select(c.c.person_id, sa.func.max(sa.func.coalesce(c.c.expires_on, sa.literal(FOREVER, sa.Date)))
                        .label("expires_on"))
              .where(c.c.revoked_at.is_(None), *(() if where is None else (where,))).group_by(c.c.person_id)
              .subquery("latest"))
    return (sa.select(latest.c.person_id, sa.func.coalesce(person_t.c.home_council_area_id, UNKNOWN_AREA),
                      sa.func.coalesce(person_t.c.work_council_area_id, UNKNOWN_AREA), latest.c.expires_on,
                      month_key(latest.c.expires_on))
            .select_from(latest.join(person_t, person_t.c.id == latest.c.person_id)))


def _aider_contributions(where, sign: int = 1) -> sa.Select:
    parts = [sa.select(sa.literal(basis, sa.String(10)).label("basis"), aider_t.c[column].label("area"),
                       aider_t.c.expiry_month.label("expiry_month")).where(where)
             for basis, column in AIDER_BASES.items()]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in AIDER_KEYS]
    return sa.select(*keys, (sign * sa.func.count()).label("people")).where(sa.true()).group_by(*keys)


def refresh_first_aiders(person_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these people's kept first-aider rows and move the monthly counts by the difference."""
    conn = connection if connection is not None else db.session.connection()
    for ids in _chunks(person_ids):
        theirs = among(aider_t.c.person_id, ids, conn.dialect.name)
        _move(conn, aider_month_t, AIDER_KEYS, ("people",), _aider_contributions(theirs, -1))
        conn.execute(aider_t.delete().where(theirs))
        conn.execute(aider_t.insert().from_select(AIDER_COLUMNS, first_aider_select(
            among(cert_t.c.person_id, ids, conn.dialect.name))))
        _move(conn, aider_month_t, AIDER_KEYS, ("people",), _aider_contributions(theirs, +1))


# --- the first aiders' trend ---------------------------------------------------------------------------

SPAN_COLUMNS = ("person_id", "starts_on", "ends_on", "home_area", "work_area", "from_month", "to_month")
SPAN_KEYS = ("basis", "area", "from_month", "to_month")


def _month_of(day: date) -> int:
    return day.year * 100 + day.month


def _last_month_end_covered(day: date) -> int:
    """The last month whose last day is ``day`` or earlier."""
    if day == FOREVER or (day + timedelta(days=1)).day == 1:
        return _month_of(day)
    first = day.replace(day=1) - timedelta(days=1)
    return _month_of(first)


def spans(certificates: Iterable[tuple], areas: dict[int, tuple[int, int]]) -> list[dict]:
    """The kept spans of these certificates ((person_id, issued_on, expires_on, revoked_at) rows): per person the
    union of the days each certificate was current, merged where they overlap or touch."""
    by_person: dict[int, list[tuple[date, date]]] = {}
    for person_id, issued_on, expires_on, revoked_at in certificates:
        end = expires_on or FOREVER
        if revoked_at is not None:
            end = min(end, to_london(revoked_at).date() - timedelta(days=1))
        if end >= issued_on:
            by_person.setdefault(person_id, []).append((issued_on, end))
    rows = []
    for person_id, days in by_person.items():
        merged: list[list[date]] = []
        for start, end in sorted(days):
            if merged and (start <= merged[-1][1] or start - timedelta(days=1) == merged[-1][1]):
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        home, work = areas.get(person_id, (UNKNOWN_AREA, UNKNOWN_AREA))
        rows += [{"person_id": person_id, "starts_on": start, "ends_on": end, "home_area": home, "work_area": work,
                  "from_month": _month_of(start), "to_month": _last_month_end_covered(end)} for start, end in merged]
    return rows


def _span_rows(conn: Connection, where) -> list[dict]:
    certificates = conn.execute(sa.select(cert_t.c.person_id, cert_t.c.issued_on, cert_t.c.expires_on,
                                          cert_t.c.revoked_at).where(where)).all()
    people = {row[0] for row in certificates}
    areas = {}
    for ids in _chunks(people):
        areas.update({pid: (home or UNKNOWN_AREA, work or UNKNOWN_AREA) for pid, home, work in conn.execute(
            sa.select(person_t.c.id, person_t.c.home_council_area_id, person_t.c.work_council_area_id)
            .where(among(person_t.c.id, ids, conn.dialect.name)))})
    return [row for row in spans(certificates, areas) if row["person_id"] in areas]


def _span_contributions(where, sign: int = 1) -> sa.Select:
    parts = [sa.select(sa.literal(basis, sa.String(10)).label("basis"), span_t.c[column].label("area"),
                       span_t.c.from_month, span_t.c.to_month).where(where)
             for basis, column in AIDER_BASES.items()]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in SPAN_KEYS]
    return sa.select(*keys, (sign * sa.func.count()).label("people")).where(sa.true()).group_by(*keys)


def _insert_spans(conn: Connection, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(span_t.insert(), rows[start:start + CHUNK])


def refresh_spans(person_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these people's kept spans and move the trend's monthly counts by the difference."""
    conn = connection if connection is not None else db.session.connection()
    for ids in _chunks(person_ids):
        theirs = among(span_t.c.person_id, ids, conn.dialect.name)
        _move(conn, span_month_t, SPAN_KEYS, ("people",), _span_contributions(theirs, -1))
        conn.execute(span_t.delete().where(theirs))
        _insert_spans(conn, _span_rows(conn, among(cert_t.c.person_id, ids, conn.dialect.name)))
        _move(conn, span_month_t, SPAN_KEYS, ("people",), _span_contributions(theirs, +1))


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
    attended = sa.exists().where(mark_t.c.booking_id == b.c.id, mark_t.c.status == AttendanceStatus.PRESENT)
    completed = sa.exists().where(done.c.booking_id == b.c.id)
    certified = sa.exists().where(done.c.booking_id == b.c.id, cert_t.c.completion_id == done.c.id)
    until = (sa.select(sa.func.max(sa.func.coalesce(cert_t.c.expires_on, sa.literal(FOREVER, sa.Date))))
             .where(done.c.booking_id == b.c.id, cert_t.c.completion_id == done.c.id, cert_t.c.revoked_at.is_(None))
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
        .select_from(b.join(c, c.c.id == b.c.course_id).join(person_t, person_t.c.id == b.c.person_id))
        .where(b.c.status == BookingStatus.CONFIRMED,
               c.c.status.in_([CourseStatus.PUBLISHED, CourseStatus.COMPLETED]),
               c.c.starts_at.is_not(None), *(() if where is None else (where,)))
        .subquery("places"))
    return sa.select(*(inner.c[name] for name in PLACE_COLUMNS[:-1]),
                     sa.func.coalesce(month_key(inner.c.current_until), 0))


def _funnel_contributions(where, sign: int = 1) -> sa.Select:
    p = place_t
    parts = [sa.select(sa.literal(basis, sa.String(10)).label("basis"), p.c[column].label("area"),
                       p.c.month.label("month"), p.c.course_type_id.label("course_type_id"),
                       p.c.current_month.label("current_month"), p.c.attended, p.c.completed, p.c.certified)
             .where(where) for basis, column in FUNNEL_BASES.items()]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in FUNNEL_KEYS]
    return (sa.select(*keys, (sign * sa.func.count()).label("booked"),
                      *((sign * sa.func.sum(rows.c[name])).label(name) for name in FUNNEL_VALUES[1:]))
            .where(sa.true()).group_by(*keys))


def _funnel_type_contributions(where, sign: int = 1) -> sa.Select:
    p = place_t
    keys = [p.c[k] for k in FUNNEL_TYPE_KEYS]
    return (sa.select(*keys, (sign * sa.func.count()).label("booked"),
                      *((sign * sa.func.sum(p.c[name])).label(name) for name in FUNNEL_VALUES[1:]))
            .where(where).group_by(*keys))


def _move_funnel(conn: Connection, where, sign: int) -> None:
    _move(conn, funnel_month_t, FUNNEL_KEYS, FUNNEL_VALUES, _funnel_contributions(where, sign))
    _move(conn, funnel_type_month_t, FUNNEL_TYPE_KEYS, FUNNEL_VALUES, _funnel_type_contributions(where, sign))


def refresh_places(booking_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these bookings' kept places and move the funnel's monthly counts by the difference."""
    conn = connection if connection is not None else db.session.connection()
    for ids in _chunks(booking_ids):
        theirs = among(place_t.c.booking_id, ids, conn.dialect.name)
        _move_funnel(conn, theirs, -1)
        conn.execute(place_t.delete().where(theirs))
        conn.execute(place_t.insert().from_select(PLACE_COLUMNS, place_select(
            among(booking_t.c.id, ids, conn.dialect.name))))
        _move_funnel(conn, theirs, +1)


# --- rebuilding and checking ---------------------------------------------------------------------------

def _kept(conn: Connection) -> tuple[Counter, Counter, Counter]:
    months = Counter()
    for table, keys in ((month_t, MONTH_KEYS), (type_month_t, TYPE_MONTH_KEYS), (group_month_t, GROUP_KEYS)):
        for row in conn.execute(sa.select(*(table.c[k] for k in (*keys, *MONTH_VALUES)))):
            values = tuple(int(v or 0) for v in row[len(keys):])
            if any(values):
                months[(table.name, *row[:len(keys)])] = values
    aiders = Counter({tuple(row[:-1]): row[-1] for row in conn.execute(
        sa.select(*(aider_month_t.c[k] for k in AIDER_KEYS), aider_month_t.c.people)
        .where(aider_month_t.c.people != 0))})
    funnel = Counter()
    for table, keys in ((funnel_month_t, FUNNEL_KEYS), (funnel_type_month_t, FUNNEL_TYPE_KEYS)):
        for row in conn.execute(sa.select(*(table.c[k] for k in (*keys, *FUNNEL_VALUES)))):
            values = tuple(int(v or 0) for v in row[len(keys):])
            if any(values):
                funnel[(table.name, *row[:len(keys)])] = values
    trend = Counter({tuple(row[:-1]): row[-1] for row in conn.execute(
        sa.select(*(span_month_t.c[k] for k in SPAN_KEYS), span_month_t.c.people).where(span_month_t.c.people != 0))})
    return months, aiders, funnel, trend


def rebuild(connection: Connection | None = None) -> list[str]:
    """Recompute every kept outcome figure from the raw rows; the differences found (empty when exact)."""
    conn = connection if connection is not None else db.session.connection()
    allow_large_sorts(conn)
    before = _kept(conn)
    for table in (kept_t, month_t, type_month_t, group_month_t, aider_t, aider_month_t, place_t, funnel_month_t,
                  funnel_type_month_t, span_t, span_month_t):
        conn.execute(table.delete())
    conn.execute(kept_t.insert().from_select(KEPT_COLUMNS, kept_select()))
    for table, keys in ((month_t, MONTH_KEYS), (type_month_t, TYPE_MONTH_KEYS)):
        conn.execute(table.insert().from_select([*keys, *MONTH_VALUES], _month_contributions(sa.true(), 1, keys)))
    conn.execute(group_month_t.insert().from_select([*GROUP_KEYS, *MONTH_VALUES], _group_contributions(sa.true())))
    conn.execute(aider_t.insert().from_select(AIDER_COLUMNS, first_aider_select()))
    conn.execute(aider_month_t.insert().from_select([*AIDER_KEYS, "people"], _aider_contributions(sa.true())))
    conn.execute(place_t.insert().from_select(PLACE_COLUMNS, place_select()))
    conn.execute(funnel_month_t.insert().from_select([*FUNNEL_KEYS, *FUNNEL_VALUES],
                                                     _funnel_contributions(sa.true())))
    conn.execute(funnel_type_month_t.insert().from_select([*FUNNEL_TYPE_KEYS, *FUNNEL_VALUES],
                                                          _funnel_type_contributions(sa.true())))
    _insert_spans(conn, _span_rows(conn, sa.true()))
    conn.execute(span_month_t.insert().from_select([*SPAN_KEYS, "people"], _span_contributions(sa.true())))
    after = _kept(conn)
    lines = []
    labels = ("outcome sums", "first aiders", "funnel", "first-aider trend")
    for label, old, new in zip(labels, before, after, strict=True):
        for key in sorted(set(old) | set(new), key=repr):
            if old.get(key, 0) != new.get(key, 0):
                lines.append(f"{label} {key}: kept {old.get(key, 0)}, recomputed {new.get(key, 0)}")
    return lines


# --- the session listener ------------------------------------------------------------------------------

#: Where a session keeps what moved until :func:`settle`: invitation ids, completion ids and person ids
#: whose invitations moved (the people's places too), person ids whose first-aider row moved, booking ids
#: whose place moved, course ids whose places moved, and completion ids whose certificates moved.
PENDING = "outcomes_pending"
KEPT_TABLES = frozenset({kept_t, month_t, type_month_t, group_month_t, aider_t, aider_month_t, place_t,
                         funnel_month_t, funnel_type_month_t, span_t, span_month_t})
PERSON_AREAS = ("home_council_area_id", "home_council_area", "work_council_area_id", "work_council_area")
PERSON_GROUPS = GROUPS[1:]
COURSE_PLACES = ("status", "starts_at", "course_type_id", "course_type", "council_area_id", "council_area")
BOOKING_PLACES = ("status", "course_id", "course", "person_id", "person")
NOTED = ("invites", "completions", "people", "aiders", "places", "courses", "certified", "streams")


def _pending(session: Session) -> dict[str, set[int]]:
    return session.info.setdefault(PENDING, {name: set() for name in NOTED})


def _after_flush(session: Session, flush_context) -> None:
    noted = {name: set() for name in NOTED}
    for obj in (*session.new, *session.dirty, *session.deleted):
        dirty = obj in session.dirty
        if isinstance(obj, OutcomeInvite):
            noted["invites"].add(obj.id)
        elif isinstance(obj, OutcomeAnswer):
            if not dirty or changed(obj, "number", "key", "invite_id"):
                noted["invites"].update(old_and_new(obj, "invite_id"))
        elif isinstance(obj, Certificate):
            if not dirty or changed(obj, "revoked_at", "expires_on", "person_id"):
                noted["aiders"].update(old_and_new(obj, "person_id"))
            if not dirty or changed(obj, "revoked_at", "expires_on", "completion_id"):
                noted["certified"].update(old_and_new(obj, "completion_id"))
        elif isinstance(obj, Person):
            if obj in session.deleted or (dirty and changed(obj, *PERSON_AREAS)):
                noted["people"].add(obj.id)
                noted["aiders"].add(obj.id)
            elif dirty and changed(obj, *PERSON_GROUPS):
                noted["people"].add(obj.id)
        elif isinstance(obj, Completion):
            if dirty and changed(obj, "completed_on"):
                noted["completions"].add(obj.id)
            if not dirty or changed(obj, "booking_id"):
                noted["places"].update(old_and_new(obj, "booking_id"))
        elif isinstance(obj, Booking):
            if not dirty or changed(obj, *BOOKING_PLACES):
                noted["places"].add(obj.id)
        elif isinstance(obj, AttendanceMark):
            if not dirty or changed(obj, "status", "booking_id"):
                noted["places"].update(old_and_new(obj, "booking_id"))
        elif isinstance(obj, Course) and dirty:
            if changed(obj, *COURSE_PLACES):
                noted["courses"].add(obj.id)
            if changed(obj, "funding_stream"):
                noted["streams"].add(obj.id)
    if any(noted.values()):
        pending = _pending(session)
        for name, ids in noted.items():
            pending[name].update(i for i in ids if i is not None)


def _before_bulk(state) -> None:
    """A bulk statement on a watched table (``session.execute(update(OutcomeInvite)...)``): note its rows first."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    tables = {mapper.local_table for mapper in state.all_mappers}
    watched = tables & {invite_t, answer_t, cert_t, person_t, completion_t, booking_t, mark_t, course_t}
    if not watched:
        return
    session = state.session
    pending = _pending(session)
    table = next(iter(watched))
    if state.is_insert:
        params = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
        parents = {invite_t: [("completion_id", "completions")], answer_t: [("invite_id", "invites")],
                   cert_t: [("person_id", "aiders"), ("completion_id", "certified")],
                   completion_t: [("booking_id", "places")], booking_t: [("course_id", "courses")],
                   mark_t: [("booking_id", "places")]}.get(table, [])
        for column, into in parents:
            pending[into].update(p[column] for p in params if p and p.get(column) is not None)
        return
    where = state.statement.whereclause
    if where is None and isinstance(state.parameters, list):  # a bulk update by primary key: those rows
        keys = [p["id"] for p in state.parameters if p and p.get("id") is not None]
        where = table.c.id.in_(keys) if keys else sa.false()
    elif where is None:
        where = sa.true()
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    conn = session.connection()
    if table is invite_t:
        pending["invites"].update(conn.scalars(sa.select(invite_t.c.id).where(where)))
    elif table is answer_t:
        pending["invites"].update(conn.scalars(sa.select(answer_t.c.invite_id).where(where)))
    elif table is cert_t:
        for person_id, completion_id in conn.execute(sa.select(cert_t.c.person_id, cert_t.c.completion_id)
                                                     .where(where)):
            pending["aiders"].add(person_id)
            pending["certified"].add(completion_id)
    elif table is person_t:
        ids = set(conn.scalars(sa.select(person_t.c.id).where(where)))
        pending["people"].update(ids)
        pending["aiders"].update(ids)
    elif table is completion_t:
        for completion_id, booking_id in conn.execute(sa.select(completion_t.c.id, completion_t.c.booking_id)
                                                      .where(where)):
            pending["completions"].add(completion_id)
            pending["places"].add(booking_id)
    elif table is booking_t:
        pending["places"].update(conn.scalars(sa.select(booking_t.c.id).where(where)))
    elif table is mark_t:
        pending["places"].update(conn.scalars(sa.select(mark_t.c.booking_id).where(where)))
    elif table is course_t:
        ids = set(conn.scalars(sa.select(course_t.c.id).where(where)))
        pending["courses"].update(ids)
        pending["streams"].update(ids)


def settle(session: Session) -> None:
    """Recompute the kept outcome figures of what this transaction's flushes and statements moved (once)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    conn = session.connection()
    invites = set(pending["invites"])
    for column, key in ((invite_t.c.completion_id, "completions"), (invite_t.c.person_id, "people"),
                        (invite_t.c.course_id, "streams")):
        for ids in _chunks(pending[key]):
            invites.update(conn.scalars(sa.select(invite_t.c.id).where(among(column, ids, conn.dialect.name))))
    if invites:
        refresh_invites(invites, conn)
    if pending["aiders"]:
        refresh_first_aiders(pending["aiders"], conn)
        refresh_spans(pending["aiders"], conn)
    places = set(pending["places"])
    for column, key in ((booking_t.c.course_id, "courses"), (booking_t.c.person_id, "people")):
        for ids in _chunks(pending[key]):
            places.update(conn.scalars(sa.select(booking_t.c.id).where(among(column, ids, conn.dialect.name))))
    for ids in _chunks(pending["certified"]):
        places.update(conn.scalars(sa.select(completion_t.c.booking_id).where(
            among(completion_t.c.id, ids, conn.dialect.name), completion_t.c.booking_id.is_not(None))))
    if places:
        refresh_places(places, conn)


def settled(session: Session) -> None:
    """Settle what this transaction moved before a reader sums the kept rows (the listener does it too, for
    statements that name a kept table's entity; a reader from a subquery of them calls this first)."""
    if PENDING in session.info or (session.autoflush and (session.new or session.dirty or session.deleted)):
        settle(session)


def _before_commit(session: Session) -> None:
    settle(session)


def _on_execute(state) -> None:
    if state.is_select:
        session = state.session
        unsettled = PENDING in session.info or (session.autoflush and (session.new or session.dirty or
                                                                       session.deleted))
        if unsettled and KEPT_TABLES.intersection(mapper.local_table for mapper in state.all_mappers):
            settle(session)
    else:
        _before_bulk(state)


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


LISTENERS = (("after_flush", _after_flush), ("before_commit", _before_commit), ("do_orm_execute", _on_execute),
             ("after_transaction_end", _forget))


def register() -> None:
    """Keep the outcome figures in every transaction of every session (called once at app creation)."""
    for name, listener in LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
