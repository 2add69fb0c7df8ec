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

The kept figures follow every change in the same transaction, once per transaction. What moves them is
declared in one place, :func:`affected_people` and :func:`affected_spend_months` (completions inserted
or deleted, certificates revoked, profile areas or equality answers changed, a course type's counting
setting changed, an order's funding or money, a course's area, stream or cost). Session listeners
(registered at app creation by :func:`register`) do the rest, so lower areas never call reach and
need not shape their code around it:

- after each flush, the people and months that flush may have moved are noted on the session;
- before the transaction commits, and before anything reads the kept tables inside it, the noted
  people's contributions and months are recomputed set-based in SQL on the transaction's connection
  (:func:`settle`), once for however many flushes came first;
- when the transaction ends without committing, what was noted is forgotten.

Bulk paths (imports, scripts writing with Core) call :func:`refresh_people` themselves.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import chain

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

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
    PERSON_DIMENSIONS,
    UNKNOWN_AREA,
    ReachFirst,
    ReachGroupMonth,
    ReachMonth,
    ReachSpendMonth,
)

CHUNK = 25000  # people per refresh statement on PostgreSQL (one array parameter)
SQLITE_CHUNK = 5000  # below SQLite's limit on bound parameters

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
area_t = CouncilArea.__table__

FIRST_COLUMNS = [
    "person_id", "include_awareness", "completion_id", "reached_on", "month", "course_type_id",
    "home_area", "work_area", "delivery_area", *PERSON_DIMENSIONS, "funding_stream",
]
_BASIS_COLUMN = {"home": "home_area", "work": "work_area", "delivery": "delivery_area"}


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


def _text(column):
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
            _text(sa.func.coalesce(order_t.c.funding_stream, course_t.c.funding_stream)).label("funding_stream"),
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
            _text(employer_t.c.sector),
            _text(person_t.c.age_band),
            _text(person_t.c.sex),
            _text(person_t.c.ethnic_group),
            _text(person_t.c.disability),
            firsts.c.funding_stream,
        )
        .select_from(
            firsts.join(person_t, person_t.c.id == firsts.c.person_id).outerjoin(
                employer_t, employer_t.c.id == person_t.c.employer_id
            )
        )
    )


# --- contributions ------------------------------------------------------------------------------

_MONTH_KEYS = ("include_awareness", "basis", "month", "area", "course_type_id")
_GROUP_KEYS = ("include_awareness", "basis", "counted", "dimension", "value", "month", "course_type_id")


def among(column, ids: list[int], dialect: str):
    """``column IN ids``: on PostgreSQL ``IN (SELECT unnest(array))``, one parameter that is cheap to
    send and that the planner joins by index (it estimates a set-returning function at 100 rows),
    whatever the size of the table; a plain list elsewhere."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column.in_(sa.select(sa.func.unnest(sa.literal(list(ids), ARRAY(sa.Integer)))).scalar_subquery())
    return column.in_(list(ids))


def _kept(where, columns: tuple[str, ...]):
    """The kept rows matching ``where`` counted by ``columns``: read once per statement (a common table
    expression), so the bases and dimensions below add up a few grouped rows, not every row again."""
    keys = [first_t.c[c] for c in columns]
    return sa.select(*keys, sa.func.count().label("n")).where(where).group_by(*keys).cte("kept")


def _month_contributions(where, sign: int = 1) -> sa.Select:
    """What the kept rows matching ``where`` add to ``reach_month``, one row per key."""
    kept = _kept(where, ("include_awareness", "month", "course_type_id", *_BASIS_COLUMN.values()))
    parts = [
        sa.select(kept.c.include_awareness.label("include_awareness"),
                  sa.literal(basis, sa.String(10)).label("basis"), kept.c.month.label("month"),
                  kept.c[_BASIS_COLUMN[basis]].label("area"),
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


def _group_contributions(where, sign: int = 1) -> sa.Select:
    """What the kept rows matching ``where`` add to ``reach_group_month``, one row per key."""
    kept = _kept(where, ("include_awareness", "month", "course_type_id", *_BASIS_COLUMN.values(),
                         *GROUP_DIMENSIONS))
    parts = [
        sa.select(kept.c.include_awareness.label("include_awareness"),
                  sa.literal(basis, sa.String(10)).label("basis"),
                  counted_area(kept.c[_BASIS_COLUMN[basis]]).label("counted"),
                  sa.literal(dimension, sa.String(20)).label("dimension"), kept.c[dimension].label("value"),
                  kept.c.month.label("month"), kept.c.course_type_id.label("course_type_id"), kept.c.n)
        for basis in BASES for dimension in GROUP_DIMENSIONS
    ]
    rows = sa.union_all(*parts).subquery("contributions")
    keys = [rows.c[k] for k in _GROUP_KEYS]
    return sa.select(*keys, (sign * sa.func.sum(rows.c.n)).label("people")).where(sa.true()).group_by(*keys)


def regroup(connection: Connection | None = None) -> None:
    """Recompute every kept group row from ``reach_first`` (when the target region changes)."""
    conn = connection if connection is not None else db.session.connection()
    conn.execute(group_t.delete())
    conn.execute(group_t.insert().from_select([*_GROUP_KEYS, "people"], _group_contributions(sa.true())))


def _insert_for(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _add_contributions(conn: Connection, where, sign: int) -> None:
    """Move the monthly and group counts by the kept rows matching ``where`` (in SQL, one statement each).

    Counts that fall to zero stay as zero rows (bounded by the key space; every reader ignores them).
    """
    for table, keys, select in ((month_t, _MONTH_KEYS, _month_contributions(where, sign)),
                                (group_t, _GROUP_KEYS, _group_contributions(where, sign))):
        insert = _insert_for(conn)(table).from_select([*keys, "people"], select)
        conn.execute(insert.on_conflict_do_update(
            index_elements=list(keys), set_={"people": table.c.people + insert.excluded.people}))


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
    for start in range(0, len(ids), size):
        _refresh_chunk(conn, ids[start:start + size])
    return len(ids)


def _refresh_chunk(conn: Connection, ids: list[int]) -> None:
    dialect = conn.dialect.name
    held = sorted(conn.execute(sa.select(first_t.c.person_id).where(among(first_t.c.person_id, ids, dialect))
                               .distinct()).scalars())
    kept = {}
    if held:  # people with kept rows: their old contribution comes off (new people, as imported, have none)
        kept = _erased_attributes(conn, among(first_t.c.person_id, held, dialect))
        _add_contributions(conn, among(first_t.c.person_id, held, dialect), -1)
        conn.execute(first_t.delete().where(among(first_t.c.person_id, held, dialect)))
    conn.execute(first_t.insert().from_select(FIRST_COLUMNS, first_reach_select(ids, dialect)))
    _restore_attributes(conn, kept)
    _add_contributions(conn, among(first_t.c.person_id, ids, dialect), +1)


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
    course_keys = (_text(course_t.c.funding_stream), month_key(course_t.c.starts_at), course_t.c.course_type_id)
    courses = (
        sa.select(*course_keys, sa.literal("course", sa.String(10)),
                  sa.func.coalesce(sa.func.sum(sa.cast(course_t.c.delivery_cost_pence, sa.BigInteger)), 0),
                  sa.func.count(course_t.c.delivery_cost_pence),
                  sa.func.sum(sa.case((course_t.c.delivery_cost_pence.is_(None), 1), else_=0)))
        .where(course_t.c.status == CourseStatus.COMPLETED, course_t.c.funding_stream.in_(COSTED_STREAMS),
               course_t.c.starts_at.is_not(None), _within(course_t.c.starts_at, months))
        .group_by(*course_keys)
    )
    order_keys = (_text(order_t.c.funding_stream), month_key(order_t.c.ordered_at), order_t.c.course_type_id)
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
        conn.execute(spend_t.delete().where(spend_t.c.month.in_(months)))
        conn.execute(spend_t.insert().from_select([*SPEND_KEYS, *SPEND_VALUES], spend_select(months)))


_COURSE_SPEND = ("status", "starts_at", "funding_stream", "delivery_cost_pence", "course_type_id", "course_type")
_ORDER_SPEND = ("status", "ordered_at", "places", "price_per_place_pence", "funding_stream", "course_type_id",
                "course_type")


def _month_of(moment) -> int | None:
    if moment is None:
        return None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.year * 100 + moment.month


def affected_spend_months(session: Session) -> set[int]:
    """The months whose kept spend this flush may have moved (courses and orders added, changed or removed)."""
    months: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Course):
            watched, moment = _COURSE_SPEND, "starts_at"
        elif isinstance(obj, Order):
            watched, moment = _ORDER_SPEND, "ordered_at"
        elif isinstance(obj, (Invoice, CreditNote)):  # an order's spend is what its invoice and credit notes say
            ordered_at = session.connection().scalar(
                sa.select(order_t.c.ordered_at).where(order_t.c.id == obj.order_id))
            months.add(_month_of(ordered_at))
            continue
        else:
            continue
        if obj in session.dirty and not _changed(obj, *watched):
            continue
        months.update(_month_of(m) for m in _old_and_new(obj, moment))
    months.discard(None)
    return months


# --- rebuilding and checking -------------------------------------------------------------------

def _kept_spend(conn: Connection) -> Counter:
    return Counter({tuple(row[:len(SPEND_KEYS)]): tuple(row[len(SPEND_KEYS):]) for row in conn.execute(
        sa.select(*(spend_t.c[k] for k in (*SPEND_KEYS, *SPEND_VALUES))))})


def _kept_tables(conn: Connection) -> tuple[Counter, Counter, Counter]:
    months = Counter({tuple(row[:-1]): row[-1] for row in conn.execute(
        sa.select(*(month_t.c[k] for k in _MONTH_KEYS), month_t.c.people).where(month_t.c.people != 0))})
    groups = Counter({tuple(row[:-1]): row[-1] for row in conn.execute(
        sa.select(*(group_t.c[k] for k in _GROUP_KEYS), group_t.c.people).where(group_t.c.people != 0))})
    firsts = Counter(dict(conn.execute(
        sa.select(first_t.c.include_awareness, sa.func.count()).group_by(first_t.c.include_awareness)).all()))
    return Counter({(bool(k[0]), *k[1:]): v for k, v in months.items()}), \
        Counter({(bool(k[0]), k[1], bool(k[2]), *k[3:]): v for k, v in groups.items()}), \
        Counter({bool(k): v for k, v in firsts.items()})


def rebuild(connection: Connection | None = None) -> list[str]:
    """Recompute every kept figure from the raw rows; returns the differences found (empty when exact).

    Erased people keep the attribution their kept rows had (erasure never moves reach); the caller
    commits, or rolls back to only check.
    """
    conn = connection if connection is not None else db.session.connection()
    before = (*_kept_tables(conn), _kept_spend(conn))
    kept = _erased_attributes(conn, sa.true())
    conn.execute(first_t.delete())
    conn.execute(first_t.insert().from_select(FIRST_COLUMNS, first_reach_select()))
    _restore_attributes(conn, kept)
    conn.execute(month_t.delete())
    conn.execute(group_t.delete())
    conn.execute(month_t.insert().from_select([*_MONTH_KEYS, "people"], _month_contributions(sa.true())))
    conn.execute(group_t.insert().from_select([*_GROUP_KEYS, "people"], _group_contributions(sa.true())))
    conn.execute(spend_t.delete())
    conn.execute(spend_t.insert().from_select([*SPEND_KEYS, *SPEND_VALUES], spend_select()))
    after = (*_kept_tables(conn), _kept_spend(conn))
    return _differences(before, after)


def _differences(before, after) -> list[str]:
    lines = []
    labels = ("monthly count", "group count", "people reached", "spend (pence, items, uncosted)")
    for label, old, new in zip(labels, before, after, strict=True):
        for key in sorted(set(old) | set(new), key=repr):
            if old.get(key, 0) != new.get(key, 0):
                lines.append(f"{label} {key}: kept {old.get(key, 0)}, recomputed {new.get(key, 0)}")
    return lines


# --- the session listener ----------------------------------------------------------------------

PERSON_ATTRIBUTES = ("home_council_area_id", "work_council_area_id", "employer_id", "home_council_area",
                     "work_council_area", "employer", *PERSON_DIMENSIONS[1:])


def _changed(obj, *names: str) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _old_and_new(obj, name: str) -> list:
    history = sa.inspect(obj).attrs[name].history
    return [*history.deleted, *history.added, *history.unchanged, getattr(obj, name, None)]


def affected_people(session: Session) -> set[int]:
    """The people whose kept figures this flush may have moved."""
    people: set[int] = set()
    types: set[int] = set()
    employers: set[int] = set()
    courses: set[int] = set()
    completions: set[int] = set()
    orders: set[int] = set()
    bookings: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Completion):
            if obj in session.dirty and not _changed(
                obj, "person_id", "course_type_id", "completed_on", "delivery_council_area_id", "course_id",
                "booking_id",
            ):
                continue
            people.update(_old_and_new(obj, "person_id"))
        elif isinstance(obj, Certificate):
            if obj in session.dirty and not _changed(obj, "revoked_at", "completion_id", "person_id"):
                continue
            people.update(_old_and_new(obj, "person_id"))
            completions.update(_old_and_new(obj, "completion_id"))
        elif isinstance(obj, Person):
            # A new person has no completion yet (one added in the same flush names them above).
            if obj in session.deleted or (obj not in session.new and _changed(obj, *PERSON_ATTRIBUTES)):
                people.add(obj.id)
        elif obj not in session.dirty:
            continue
        elif isinstance(obj, CourseType) and _changed(obj, "counts_toward_target", "is_awareness"):
            types.add(obj.id)
        elif isinstance(obj, Employer) and _changed(obj, "sector"):
            employers.add(obj.id)
        elif isinstance(obj, Course) and _changed(obj, "council_area_id", "council_area", "funding_stream"):
            courses.add(obj.id)
        elif isinstance(obj, Order) and _changed(obj, "funding_stream"):
            orders.add(obj.id)
        elif isinstance(obj, Booking) and _changed(obj, "voucher_id", "voucher"):
            bookings.add(obj.id)
    completions.discard(None)
    if orders:
        bookings.update(session.connection().scalars(
            sa.select(booking_t.c.id).join(voucher_t, voucher_t.c.id == booking_t.c.voucher_id)
            .where(voucher_t.c.order_id.in_(orders))))
    if bookings:
        people.update(session.connection().scalars(
            sa.select(completion_t.c.person_id).where(completion_t.c.booking_id.in_(bookings))))
    if types or employers or courses or completions:
        conn = session.connection()
        if completions:
            people.update(conn.scalars(sa.select(completion_t.c.person_id).where(completion_t.c.id.in_(completions))))
        if types:
            people.update(conn.scalars(sa.select(completion_t.c.person_id).distinct().where(
                completion_t.c.course_type_id.in_(types))))
        if employers:
            people.update(conn.scalars(sa.select(person_t.c.id).where(person_t.c.employer_id.in_(employers))))
        if courses:
            people.update(conn.scalars(sa.select(completion_t.c.person_id).distinct().where(
                completion_t.c.course_id.in_(courses))))
    people.discard(None)
    return people


#: Where a session keeps what its flushes moved until :func:`settle` recomputes it.
PENDING = "reach_pending"
#: Set when a flush moved a council area into or out of the target region: every group row is recomputed.
REGROUP = "reach_regroup"
KEPT_TABLES = frozenset({ReachFirst.__table__, ReachMonth.__table__, ReachGroupMonth.__table__,
                         ReachSpendMonth.__table__})


def _after_flush(session: Session, flush_context) -> None:
    if not session.info.get("reach_listener", True):
        return
    people = affected_people(session)
    months = affected_spend_months(session)
    if people or months:
        pending_people, pending_months = session.info.setdefault(PENDING, (set(), set()))
        pending_people.update(people)
        pending_months.update(months)
    if any(isinstance(obj, CouncilArea) and _changed(obj, "in_target_region") for obj in session.dirty) or any(
            isinstance(obj, CouncilArea) for obj in session.deleted):
        session.info[REGROUP] = True


def settle(session: Session) -> None:
    """Recompute the kept figures of the people and months this transaction's flushes moved (once)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    people, months = session.info.pop(PENDING, (set(), set()))
    if people:
        refresh_people(people, connection=session.connection())
    if months:
        refresh_spend(months, connection=session.connection())
    if session.info.pop(REGROUP, False):
        regroup(session.connection())


def _before_commit(session: Session) -> None:
    settle(session)


def _before_reading_kept_figures(state) -> None:
    session = state.session
    unsettled = PENDING in session.info or REGROUP in session.info or (
        session.autoflush and (session.new or session.dirty or session.deleted))
    if unsettled and state.is_select and KEPT_TABLES.intersection(mapper.local_table for mapper in state.all_mappers):
        settle(session)


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a savepoint's end leaves the rest noted)
        session.info.pop(PENDING, None)
        session.info.pop(REGROUP, None)


LISTENERS = (("after_flush", _after_flush), ("before_commit", _before_commit),
             ("do_orm_execute", _before_reading_kept_figures), ("after_transaction_end", _forget))


def register(app) -> None:
    """Keep the reach figures in every transaction of every session (called once by create_app)."""
    for name, listener in LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
