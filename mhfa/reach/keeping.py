"""Keeping the reach figures exact, in the same transaction as every change that moves them.

The rule (one place, used by the listener, the bulk paths and the rebuild):

- A completion *counts* when its course type counts toward the target and it has not been
  withdrawn: a completion whose certificates are all revoked no longer counts (a revoked
  certificate that was reissued leaves an unrevoked one, so the completion still counts). A
  completion without any certificate (imports, awareness courses) counts.
- A person is reached on the date of their first counting completion (ties: the lowest completion
  id); two variants are kept, with awareness courses counted and without them.
- The person is attributed as they are *now*: home and work areas and employer sector from their
  current record, the delivery area of the completion that reached them (its own delivery area,
  else its course's area); "Unknown" (area key 0, group value "") when not known.
- Erasure never changes reach: an erased person keeps the attribution (areas, sector, answers)
  their kept row had when they were erased, whatever the erasure clears from their record.
- The funding stream of a reached person is that of the completion that reached them: the stream of
  the employer order whose place voucher paid for the booking, else its course's stream; "" (not
  recorded) for a completion without a course (historical imports).

Spend (``reach_spend_month``), per funding stream, month and course type:

- *Orders*: the net value (before VAT) invoiced for every employer order, less any credit note for
  places released when an invoiced order was cancelled, in the order's stream, in the month it was
  placed (an order not yet invoiced has spent nothing).
- *Course delivery costs*: the delivery cost a coordinator recorded on a completed course in the
  publicly funded or other stream, in the month the course started. A completed course in those
  streams with no cost recorded is counted as *uncosted*, so a total with gaps is never shown as
  complete. An employer-paid course's money is its employer's order, so its cost is not added again.

This module computes the kept figures (:func:`refresh_people`, :func:`refresh_spend`, :func:`rebuild`);
the rule itself, as SQL, is :mod:`mhfa.reach.reached`; when they are recomputed is :mod:`mhfa.reach.upkeep`.
The kept figures follow every change in the same transaction, once per transaction. What moves them is
declared in one place, ``upkeep.affected_people`` and ``upkeep.affected_spend_months`` (completions inserted
or deleted, certificates revoked, profile areas or equality answers changed, a course type's counting
setting changed, an order's funding or money, a course's area, stream or cost). Session listeners
(registered at app creation by ``upkeep.register``) do the rest, so lower areas never call reach and
need not shape their code around it:

- after each flush, the people and months that flush may have moved are noted on the session;
- before the transaction commits, and before anything reads the kept tables inside it, the noted
  people's contributions and months are recomputed set-based in SQL on the transaction's connection
  (``upkeep.settle``), once for however many flushes came first;
- when the transaction ends without committing, what was noted is forgotten.

Bulk paths (imports, scripts writing with Core) call :func:`refresh_people` themselves.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mhfa.courses.models import CourseStatus, FundingStream
from mhfa.db_types import plan_for_whole_tables
from mhfa.extensions import db
from mhfa.locks import lock_spend_months
from mhfa.reach.models import (
    BASES,
    GROUP_DIMENSIONS,
    PERSON_DIMENSIONS,
    UNKNOWN_AREA,
)
from mhfa.reach.reached import (
    BASIS_COLUMN,
    FIRST_COLUMNS,
    among,
    area_group_t,
    area_t,
    course_t,
    credit_t,
    first_reach_select,
    first_t,
    group_t,
    invoice_t,
    month_key,
    month_t,
    order_t,
    person_t,
    spend_t,
    text_of,
)

CHUNK = 25000  # people per refresh statement on PostgreSQL (one array parameter)
SQLITE_CHUNK = 5000  # below SQLite's limit on bound parameters
BULK_PEOPLE = 1000  # from this many people on PostgreSQL, the kept counts are gathered and moved once


# --- contributions ------------------------------------------------------------------------------

_MONTH_KEYS = ("include_awareness", "basis", "month", "area", "course_type_id")
_GROUP_KEYS = ("include_awareness", "basis", "counted", "dimension", "value", "month", "course_type_id")
_AREA_GROUP_KEYS = ("include_awareness", "basis", "area", "dimension", "value", "month", "course_type_id")


_KEPT_COLUMNS = ("include_awareness", "month", "course_type_id", *BASIS_COLUMN.values(), *GROUP_DIMENSIONS)


def _kept_grouped(where, columns: tuple[str, ...] = _KEPT_COLUMNS, sign: int = 1) -> sa.Select:
    keys = [first_t.c[c] for c in columns]
    return sa.select(*keys, (sign * sa.func.count()).label("n")).where(where).group_by(*keys)


def _kept(where, columns: tuple[str, ...]):
    """The kept rows matching ``where`` counted by ``columns``: read once per statement (a common table
    expression), so the bases and dimensions below add up a few grouped rows, not every row again."""
    return _kept_grouped(where, columns).cte("kept")


def _month_contributions(where, sign: int = 1, kept=None) -> sa.Select:
    """What the kept rows matching ``where`` add to ``reach_month``, one row per key (``kept``: the counts
    already gathered, signed, in place of ``where``)."""
    if kept is None:
        kept = _kept(where, ("include_awareness", "month", "course_type_id", *BASIS_COLUMN.values()))
    parts = [
        sa.select(kept.c.include_awareness.label("include_awareness"),
                  sa.literal(basis, sa.String(10)).label("basis"), kept.c.month.label("month"),
                  kept.c[BASIS_COLUMN[basis]].label("area"),
                  kept.c.course_type_id.label("course_type_id"), kept.c.n)
        for basis in BASES
    ]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in _MONTH_KEYS]
    return sa.select(*keys, (sign * sa.func.sum(rows.c.n)).label("people")).where(sa.true()).group_by(*keys)


def counted_area(area_column):
    """True when an area key counts toward the target: in the target region, or not known (0).

    The rule itself is ``mhfa.reach.counted``'s; this is its SQL form for the kept group rows, which
    are recomputed whenever a council area joins or leaves the region."""
    in_region = sa.select(area_t.c.id).where(area_t.c.in_target_region.is_(True)).scalar_subquery()
    return sa.case((sa.or_(area_column == UNKNOWN_AREA, area_column.in_(in_region)), True), else_=False)


def _group_contributions(where, sign: int = 1, *, by_area: bool = False, kept=None) -> sa.Select:
    """What the kept rows matching ``where`` add to ``reach_group_month`` (``by_area``: to
    ``reach_group_area_month``, the area in place of whether it counts), one row per key."""
    if kept is None:
        kept = _kept(where, _KEPT_COLUMNS)

    def split(basis: str):
        area = kept.c[BASIS_COLUMN[basis]]
        return area.label("area") if by_area else counted_area(area).label("counted")

    parts = [
        sa.select(kept.c.include_awareness.label("include_awareness"),
                  sa.literal(basis, sa.String(10)).label("basis"), split(basis),
                  sa.literal(dimension, sa.String(20)).label("dimension"), kept.c[dimension].label("value"),
                  kept.c.month.label("month"), kept.c.course_type_id.label("course_type_id"), kept.c.n)
        for basis in BASES for dimension in GROUP_DIMENSIONS
    ]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in (_AREA_GROUP_KEYS if by_area else _GROUP_KEYS)]
    return sa.select(*keys, (sign * sa.func.sum(rows.c.n)).label("people")).where(sa.true()).group_by(*keys)


def _whole_area_groups() -> sa.Select:
    """Every row of ``reach_group_area_month`` from all of ``reach_first``, for a rebuild: one grouped read per
    basis and dimension, side by side (no two parts share a key: each names its own basis and dimension), so no
    row is ever grouped by every dimension at once (the people barely share such keys: that grouping read as
    many rows as it was given, then the bases and dimensions multiplied them by 18 before grouping again)."""
    parts = []
    for basis in BASES:
        for dimension in GROUP_DIMENSIONS:
            keys = (first_t.c.include_awareness, first_t.c[BASIS_COLUMN[basis]], first_t.c[dimension],
                    first_t.c.month, first_t.c.course_type_id)
            grouped = sa.select(*keys, sa.func.count().label("people")).group_by(*keys).subquery()
            include, area, value, month, course_type, _people = grouped.c
            parts.append(sa.select(include.label("include_awareness"), sa.literal(basis, sa.String(10)).label("basis"),
                                   area.label("area"), sa.literal(dimension, sa.String(20)).label("dimension"),
                                   value.label("value"), month.label("month"), course_type.label("course_type_id"),
                                   grouped.c.people))
    return sa.union_all(*parts)


def _groups_from_area_groups() -> sa.Select:
    """``reach_group_month`` added up from ``reach_group_area_month`` (its areas told apart only by whether they
    count toward the target), for a rebuild, once the per-area rows are built."""
    rows = sa.select(*(area_group_t.c[k] for k in _AREA_GROUP_KEYS if k != "area"),
                     counted_area(area_group_t.c.area).label("counted"), area_group_t.c.people).subquery("rows")
    keys = [rows.c[k] for k in _GROUP_KEYS]
    return sa.select(*keys, sa.func.sum(rows.c.people).label("people")).where(sa.true()).group_by(*keys)


def regroup(connection: Connection | None = None) -> None:
    """Recompute every kept group row from ``reach_first`` (when the target region changes; the rows per area
    do not say whether their area counts, so they stay as they are)."""
    conn = connection if connection is not None else db.session.connection()
    conn.execute(group_t.delete())
    conn.execute(group_t.insert().from_select([*_GROUP_KEYS, "people"], _group_contributions(sa.true())))


def _insert_for(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _add_contributions(conn: Connection, where, sign: int, kept=None) -> None:
    """Move the monthly, group and per-area group counts by the kept rows matching ``where`` (in SQL, one
    statement each), or by the counts already gathered in ``kept`` (see :func:`_gathered_counts`).

    Counts that fall to zero stay as zero rows (bounded by the key space; every reader ignores them).
    """
    for table, keys, select in ((month_t, _MONTH_KEYS, _month_contributions(where, sign, kept)),
                                (group_t, _GROUP_KEYS, _group_contributions(where, sign, kept=kept)),
                                (area_group_t, _AREA_GROUP_KEYS,
                                 _group_contributions(where, sign, by_area=True, kept=kept))):
        insert = _insert_for(conn)(table).from_select([*keys, "people"], select)
        conn.execute(insert.on_conflict_do_update(
            index_elements=list(keys), set_={"people": table.c.people + insert.excluded.people}))


def _gathered_counts(conn: Connection) -> sa.Table:
    """A temporary table for this transaction (PostgreSQL) gathering the signed counts of every chunk of a
    bulk refresh, by every key, so the three kept counts are moved once at the end: each kept count's row
    is then updated once, not once per chunk, and the kept rows of each chunk are read once, not three times."""
    table = sa.Table("reach_gathered_counts", sa.MetaData(),
                     *(sa.Column(c, first_t.c[c].type) for c in _KEPT_COLUMNS), sa.Column("n", sa.BigInteger),
                     prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
    table.create(conn)
    return table


def _move_counts(conn: Connection, where, sign: int, gathered: sa.Table | None) -> None:
    """Move the kept counts by the kept rows matching ``where`` now, or note them in ``gathered``."""
    if gathered is None:
        _add_contributions(conn, where, sign)
    else:
        conn.execute(gathered.insert().from_select([*_KEPT_COLUMNS, "n"], _kept_grouped(where, sign=sign)))


# --- refreshing people ---------------------------------------------------------------------------

def refresh_people(person_ids: Iterable[int | None], connection: Connection | None = None) -> int:
    """Recompute these people's kept rows and move the monthly counts by the difference.

    Set-based: a few statements per chunk of people, whatever their number (their old contribution
    taken off, their rows recomputed, the new contribution added, all in SQL). Returns the number of
    people looked at. Erased people who were already reached keep their row (erasure never moves reach).
    """
    conn = connection if connection is not None else db.session.connection()
    ids = sorted({int(i) for i in person_ids if i is not None})
    size = CHUNK if conn.dialect.name == "postgresql" else SQLITE_CHUNK
    gathered = _gathered_counts(conn) if conn.dialect.name == "postgresql" and len(ids) >= BULK_PEOPLE else None
    for start in range(0, len(ids), size):
        _refresh_chunk(conn, ids[start:start + size], gathered)
    if gathered is not None:
        _add_contributions(conn, None, 1, gathered)
        gathered.drop(conn)
    return len(ids)


def _refresh_chunk(conn: Connection, ids: list[int], gathered: sa.Table | None = None) -> None:
    dialect = conn.dialect.name
    held = sorted(conn.execute(sa.select(first_t.c.person_id).where(among(first_t.c.person_id, ids, dialect))
                               .distinct()).scalars())
    kept = {}
    if held:  # people with kept rows: their old contribution comes off (new people, as imported, have none)
        kept = _erased_attributes(conn, among(first_t.c.person_id, held, dialect))
        _move_counts(conn, among(first_t.c.person_id, held, dialect), -1, gathered)
        conn.execute(first_t.delete().where(among(first_t.c.person_id, held, dialect)))
    conn.execute(first_t.insert().from_select(FIRST_COLUMNS, first_reach_select(ids, dialect)))
    _restore_attributes(conn, kept)
    _move_counts(conn, among(first_t.c.person_id, ids, dialect), +1, gathered)


_PERSON_ATTRIBUTES = ("home_area", "work_area", *PERSON_DIMENSIONS)


def _erased_attributes(conn: Connection, where) -> dict[int, dict]:
    """How erased people who were already reached are attributed (their areas, sector and answers then).

    Erasure never moves reach: whatever the erasure clears from the person's record, an erased
    person keeps the attribution their kept row had (their completions still count as before).
    """
    rows = conn.execute(
        sa.select(first_t.c.person_id, *(first_t.c[a] for a in _PERSON_ATTRIBUTES))
        .join(person_t, person_t.c.id == first_t.c.person_id)
        .where(where, person_t.c.erased_at.is_not(None))
    )
    return {row[0]: dict(zip(_PERSON_ATTRIBUTES, row[1:], strict=True)) for row in rows}


def _restore_attributes(conn: Connection, kept: dict[int, dict]) -> None:
    if kept:
        conn.execute(
            first_t.update().where(first_t.c.person_id == sa.bindparam("pid"))
            .values({a: sa.bindparam("v_" + a) for a in _PERSON_ATTRIBUTES}),
            [{"pid": pid, **{"v_" + a: v for a, v in attrs.items()}} for pid, attrs in kept.items()],
        )


# --- spend ---------------------------------------------------------------------------------------

SPEND_KEYS = ("funding_stream", "month", "course_type_id", "source")
SPEND_VALUES = ("spend_pence", "items", "uncosted")
COSTED_STREAMS = (FundingStream.PUBLIC, FundingStream.OTHER)


def month_bounds(month: int) -> tuple[datetime, datetime]:
    """The first moment of a month (yyyymm, UTC) and of the month after it."""
    first = datetime(month // 100, month % 100, 1, tzinfo=UTC)
    return first, datetime(first.year + (first.month == 12), first.month % 12 + 1, 1, tzinfo=UTC)


def _within(column, months: Iterable[int] | None):
    if months is None:
        return sa.true()
    return sa.or_(sa.false(), *(sa.and_(column >= start, column < end) for start, end in map(month_bounds, months)))


def spend_select(months: Iterable[int] | None = None) -> sa.Select:
    """Spend rows (columns as ``reach_spend_month``) computed from courses and orders, by the rule above."""
    months = None if months is None else sorted(months)
    course_keys = (text_of(course_t.c.funding_stream), month_key(course_t.c.starts_at), course_t.c.course_type_id)
    courses = (
        sa.select(*course_keys, sa.literal("course", sa.String(10)),
                  sa.func.coalesce(sa.func.sum(sa.cast(course_t.c.delivery_cost_pence, sa.BigInteger)), 0),
                  sa.func.count(course_t.c.delivery_cost_pence),
                  sa.func.sum(sa.case((course_t.c.delivery_cost_pence.is_(None), 1), else_=0)))
        .where(course_t.c.status == CourseStatus.COMPLETED, course_t.c.funding_stream.in_(COSTED_STREAMS),
               course_t.c.starts_at.is_not(None), _within(course_t.c.starts_at, months))
        .group_by(*course_keys)
    )
    order_keys = (text_of(order_t.c.funding_stream), month_key(order_t.c.ordered_at), order_t.c.course_type_id)
    credited = (sa.select(credit_t.c.order_id, sa.func.sum(sa.cast(credit_t.c.net_pence, sa.BigInteger)).label("net"))
                .group_by(credit_t.c.order_id).subquery())
    orders = (
        sa.select(*order_keys, sa.literal("order", sa.String(10)),
                  sa.func.sum(sa.cast(invoice_t.c.net_pence, sa.BigInteger) + sa.func.coalesce(credited.c.net, 0)),
                  sa.func.count(), sa.literal(0, sa.Integer))
        .select_from(order_t.join(invoice_t, invoice_t.c.order_id == order_t.c.id)
                     .outerjoin(credited, credited.c.order_id == order_t.c.id))
        .where(_within(order_t.c.ordered_at, months))
        .group_by(*order_keys)
    )
    return sa.union_all(courses, orders)


def refresh_spend(months: Iterable[int], connection: Connection | None = None) -> None:
    """Recompute the kept spend of these months (yyyymm) from the courses and orders."""
    conn = connection if connection is not None else db.session.connection()
    months = sorted(set(months))
    if months:
        lock_spend_months(conn, months)
        conn.execute(spend_t.delete().where(spend_t.c.month.in_(months)))
        conn.execute(spend_t.insert().from_select([*SPEND_KEYS, *SPEND_VALUES], spend_select(months)))


# --- rebuilding and checking -------------------------------------------------------------------

def _kept_spend(conn: Connection) -> Counter:
    return Counter({tuple(row[:len(SPEND_KEYS)]): tuple(row[len(SPEND_KEYS):]) for row in conn.execute(
        sa.select(*(spend_t.c[k] for k in (*SPEND_KEYS, *SPEND_VALUES))))})


def _kept_rows(conn: Connection, table, keys: tuple[str, ...]) -> Counter:
    return Counter({tuple(row[:-1]): row[-1] for row in conn.execute(
        sa.select(*(table.c[k] for k in keys), table.c.people).where(table.c.people != 0))})


def _kept_tables(conn: Connection) -> tuple[Counter, Counter, Counter, Counter]:
    months = _kept_rows(conn, month_t, _MONTH_KEYS)
    groups = _kept_rows(conn, group_t, _GROUP_KEYS)
    area_groups = _kept_rows(conn, area_group_t, _AREA_GROUP_KEYS)
    firsts = Counter(dict(conn.execute(
        sa.select(first_t.c.include_awareness, sa.func.count()).group_by(first_t.c.include_awareness)).all()))
    return Counter({(bool(k[0]), *k[1:]): v for k, v in months.items()}), \
        Counter({(bool(k[0]), k[1], bool(k[2]), *k[3:]): v for k, v in groups.items()}), \
        Counter({(bool(k[0]), *k[1:]): v for k, v in area_groups.items()}), \
        Counter({bool(k): v for k, v in firsts.items()})


def rebuild(connection: Connection | None = None, *, compare: bool = True) -> list[str]:
    """Recompute every kept figure from the raw rows; returns the differences found (empty when exact).

    Erased people keep the attribution their kept rows had (erasure never moves reach); the caller
    commits, or rolls back to only check. ``compare=False`` skips reading every kept figure before and after
    (a bulk load's first build: nothing was kept to compare with).
    """
    conn = connection if connection is not None else db.session.connection()
    plan_for_whole_tables(conn)
    before = (*_kept_tables(conn), _kept_spend(conn)) if compare else None
    kept = _erased_attributes(conn, sa.true())
    conn.execute(first_t.delete())
    conn.execute(first_t.insert().from_select(FIRST_COLUMNS, first_reach_select()))
    _restore_attributes(conn, kept)
    conn.execute(month_t.delete())
    conn.execute(group_t.delete())
    conn.execute(area_group_t.delete())
    conn.execute(month_t.insert().from_select([*_MONTH_KEYS, "people"], _month_contributions(sa.true())))
    conn.execute(area_group_t.insert().from_select([*_AREA_GROUP_KEYS, "people"], _whole_area_groups()))
    conn.execute(group_t.insert().from_select([*_GROUP_KEYS, "people"], _groups_from_area_groups()))
    conn.execute(spend_t.delete())
    conn.execute(spend_t.insert().from_select([*SPEND_KEYS, *SPEND_VALUES], spend_select()))
    if not compare:
        return []
    return differences(("monthly count", "group count", "group count by area", "people reached",
                        "spend (pence, items, uncosted)"),
                       before, (*_kept_tables(conn), _kept_spend(conn)))


def differences(labels: tuple[str, ...], before, after) -> list[str]:
    """What a rebuild changed: one line per kept figure (under its label) whose recomputed value differs."""
    lines = []
    for label, old, new in zip(labels, before, after, strict=True):
        for key in sorted(set(old) | set(new), key=repr):
            if old.get(key, 0) != new.get(key, 0):
                lines.append(f"{label} {key}: kept {old.get(key, 0)}, recomputed {new.get(key, 0)}")
    return lines
