"""Current first aiders and their trend, kept per person and counted per area and month (see ``keeping.py``)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mhfa.certificates.models import makes_a_first_aider
from mhfa.outcomes.kept_tables import (
    AIDER_BASES,
    AIDER_COLUMNS,
    AIDER_DAY_KEYS,
    AIDER_KEYS,
    CHUNK,
    FOREVER,
    aider_day_t,
    aider_month_t,
    aider_t,
    cert_t,
    chunks,
    move,
    person_t,
    refresh,
    span_month_t,
    span_t,
)
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.reach.reached import among, month_key
from mhfa.timeutil import to_london

# --- current first aiders ------------------------------------------------------------------------------

def first_aider_select(where=None) -> sa.Select:
    """One row per person holding an unrevoked certificate that is not an awareness course's certificate of
    attendance (columns as ``first_aider_kept``)."""
    c = cert_t
    latest = (sa.select(c.c.person_id, sa.func.max(sa.func.coalesce(c.c.expires_on, sa.literal(FOREVER, sa.Date)))
                        .label("expires_on"))
              .where(c.c.revoked_at.is_(None), makes_a_first_aider(c.c.course_type_id),
                     *(() if where is None else (where,))).group_by(c.c.person_id)
              .subquery("latest"))
    return (sa.select(latest.c.person_id, sa.func.coalesce(person_t.c.home_council_area_id, UNKNOWN_AREA),
                      sa.func.coalesce(person_t.c.work_council_area_id, UNKNOWN_AREA), latest.c.expires_on,
                      month_key(latest.c.expires_on))
            .select_from(latest.join(person_t, person_t.c.id == latest.c.person_id)))


#: The counts the kept first-aider rows add to: per month of their latest expiry, and per day of it.
AIDER_SUMS = ((aider_month_t, AIDER_KEYS), (aider_day_t, AIDER_DAY_KEYS))


def aider_contributions(where, sign: int = 1, keys: tuple[str, ...] = AIDER_KEYS) -> sa.Select:
    parts = [sa.select(sa.literal(basis, sa.String(10)).label("basis"), aider_t.c[column].label("area"),
                       aider_t.c.expiry_month.label("expiry_month"), aider_t.c.expires_on.label("expires_on"))
             .where(where) for basis, column in AIDER_BASES.items()]
    rows = sa.union_all(*parts).subquery("contributions")
    grouped = [rows.c[k] for k in keys]
    return sa.select(*grouped, (sign * sa.func.count()).label("people")).where(sa.true()).group_by(*grouped)


def _move_aider_sums(conn: Connection, where, sign: int) -> None:
    for table, keys in AIDER_SUMS:
        move(conn, table, keys, ("people",), aider_contributions(where, sign, keys))


def refresh_first_aiders(person_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these people's kept first-aider rows and move the monthly and daily counts by the difference."""
    refresh(person_ids, connection, table=aider_t, key="person_id", source_key=cert_t.c.person_id,
            move_sums=_move_aider_sums,
            fill=lambda conn, where: conn.execute(aider_t.insert().from_select(AIDER_COLUMNS,
                                                                               first_aider_select(where))))


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


def span_rows(conn: Connection, where) -> list[dict]:
    certificates = conn.execute(sa.select(cert_t.c.person_id, cert_t.c.issued_on, cert_t.c.expires_on,
                                          cert_t.c.revoked_at)
                                .where(where, makes_a_first_aider(cert_t.c.course_type_id))).all()
    people = {row[0] for row in certificates}
    areas = {}
    for ids in chunks(people):
        areas.update({pid: (home or UNKNOWN_AREA, work or UNKNOWN_AREA) for pid, home, work in conn.execute(
            sa.select(person_t.c.id, person_t.c.home_council_area_id, person_t.c.work_council_area_id)
            .where(among(person_t.c.id, ids, conn.dialect.name)))})
    return [row for row in spans(certificates, areas) if row["person_id"] in areas]


def span_contributions(where, sign: int = 1) -> sa.Select:
    parts = [sa.select(sa.literal(basis, sa.String(10)).label("basis"), span_t.c[column].label("area"),
                       span_t.c.from_month, span_t.c.to_month).where(where)
             for basis, column in AIDER_BASES.items()]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in SPAN_KEYS]
    return sa.select(*keys, (sign * sa.func.count()).label("people")).where(sa.true()).group_by(*keys)


def insert_spans(conn: Connection, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(span_t.insert(), rows[start:start + CHUNK])


def refresh_spans(person_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these people's kept spans and move the trend's monthly counts by the difference."""
    refresh(person_ids, connection, table=span_t, key="person_id", source_key=cert_t.c.person_id,
            move_sums=lambda conn, where, sign: move(conn, span_month_t, SPAN_KEYS, ("people",),
                                                     span_contributions(where, sign)),
            fill=lambda conn, where: insert_spans(conn, span_rows(conn, where)))


#: People (a range of their ids) whose spans a refill computes at a time: the spans are merged in Python, so a
#: rebuild holds one range's certificates in memory, not the history's.
REFILL_PEOPLE = 50_000


def refill(conn: Connection) -> None:
    """Fill the emptied first-aider tables from the raw rows (a rebuild), the spans a range of people at a time."""
    conn.execute(aider_t.insert().from_select(AIDER_COLUMNS, first_aider_select()))
    for table, keys in AIDER_SUMS:
        conn.execute(table.insert().from_select([*keys, "people"], aider_contributions(sa.true(), 1, keys)))
    low, high = conn.execute(sa.select(sa.func.min(cert_t.c.person_id), sa.func.max(cert_t.c.person_id))).one()
    for first in range(low or 0, (high or -1) + 1, REFILL_PEOPLE):
        insert_spans(conn, span_rows(conn, cert_t.c.person_id.between(first, first + REFILL_PEOPLE - 1)))
    conn.execute(span_month_t.insert().from_select([*SPAN_KEYS, "people"], span_contributions(sa.true())))


def counted(conn: Connection) -> tuple[Counter, Counter]:
    """The kept first aiders per basis, area and expiry month and per basis, expiry day and area (each key led by
    its table's name), and the trend's spans per area and months."""
    aiders = Counter({(table.name, *row[:-1]): row[-1] for table, keys in AIDER_SUMS for row in conn.execute(
        sa.select(*(table.c[k] for k in keys), table.c.people).where(table.c.people != 0))})
    trend = Counter({tuple(row[:-1]): row[-1] for row in conn.execute(
        sa.select(*(span_month_t.c[k] for k in SPAN_KEYS), span_month_t.c.people).where(span_month_t.c.people != 0))})
    return aiders, trend
