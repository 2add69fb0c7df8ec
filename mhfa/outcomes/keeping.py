"""Keeping the outcome figures exact, in the same transaction as every change that moves them.

Two kept figures, each a per-row table and a summary that every reader sums:

- Evaluations and follow-ups: ``outcome_kept`` holds one row per invitation (its kind, the month of its
  completion, the home council area of its person, 0 when not known or unlinked by erasure, its course
  type, whether it was answered, and the numbers its answers gave to the questions the figures read);
  ``outcome_month`` holds per kind, month, area and course type the invitations, the answers, and for
  each score its count, sum and sum of squares (so a mean and its 95% interval come from a few rows),
  the ratings and how many were good or very good, the follow-up answers and how many used their skills;
  ``outcome_type_month`` the same for all areas together (read when no area is chosen), and ``outcome_area``
  per area and course type for every month together (the public page's region).
- Current first aiders: ``first_aider_kept`` holds one row per person holding an unrevoked certificate of a
  course type that is not an awareness course (a certificate of attendance makes no first aider), with their
  home and work areas and the latest expiry among those certificates (``9999-12-31`` for a
  certificate that never expires); ``first_aider_month`` counts them per basis, area and month of that
  expiry, and ``first_aider_day`` per basis, day of that expiry and area. Current today is the months after this
  one, plus the days of this month from today on. Certificates are issued on the day they are
  issued, never later, so "issued by today" always holds.
- Groups: ``outcome_kept`` also keeps the place's funding stream (its order's when bought with a place voucher,
  else the course's, as reach counts it) and the person's equality answers, and
  ``outcome_group_month`` sums each group of those dimensions per kind, month, area and course type (the
  outcomes page's tables).
- The first aiders' trend: ``first_aider_span`` holds per person the merged stretches of days they held a
  current certificate (not an awareness course's; to the day before the London day of a revocation),
  ``first_aider_span_month`` counts them per basis, area, first month and last month-end covered (computed
  in Python per person: the London day of a revocation).
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
stream changed; an order's funding stream, a voucher's order or a booking's voucher changed; a course type
made or no longer an awareness course (its certificates' holders). The noted invitations, people and places
are recomputed once per transaction (:func:`settle`): before it commits and before anything inside it reads
the kept tables. A rollback forgets them. Bulk paths below the session (the demo's COPY) call :func:`rebuild`.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mhfa.attendance.models import AttendanceMark, Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseType
from mhfa.db_types import plan_for_whole_tables
from mhfa.employers.models import Order, PlaceVoucher
from mhfa.extensions import db
from mhfa.history import changed, old_and_new
from mhfa.locks import lock_kept_sums
from mhfa.outcomes import kept_first_aiders, kept_funnel
from mhfa.outcomes.kept_first_aiders import (
    refresh_first_aiders,
    refresh_spans,
)
from mhfa.outcomes.kept_funnel import (
    add_places,
    refresh_places,
)
from mhfa.outcomes.kept_tables import (
    ANSWER_KEYS,
    AREA_KEYS,
    GROUP_KEYS,
    GROUPS,
    KEPT_COLUMNS,
    MONTH_KEYS,
    MONTH_VALUES,
    SCORES,
    TYPE_MONTH_KEYS,
    aider_day_t,
    aider_month_t,
    aider_t,
    answer_t,
    area_sums_t,
    booking_t,
    cert_t,
    chunks,
    completion_t,
    course_t,
    funnel_month_t,
    funnel_type_month_t,
    group_month_t,
    invite_t,
    kept_sums,
    kept_t,
    mark_t,
    month_t,
    move,
    order_t,
    person_t,
    place_t,
    refresh,
    span_month_t,
    span_t,
    type_month_t,
    type_t,
    voucher_t,
)
from mhfa.outcomes.models import (
    OutcomeAnswer,
    OutcomeInvite,
)
from mhfa.outcomes.questionnaires import GOOD_OR_BETTER
from mhfa.people.models import Person
from mhfa.reach.keeping import differences
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.reach.reached import among, month_key

# --- evaluations and follow-ups -------------------------------------------------------------------------

def kept_select(where=None) -> sa.Select:
    """One row per invitation (columns as ``outcome_kept``), from the raw invitations and answers; its funding
    stream is its place's, as reach counts it: the order's when the place was bought with a voucher, else the
    course's. Without ``where`` (a rebuild), every invitation's answers are read in one pass, side by side by
    key; with it, each chosen invitation's answers are looked up by its key."""
    i = invite_t
    joined = i.join(completion_t, completion_t.c.id == i.c.completion_id)
    if where is None:
        answers = sa.select(answer_t.c.invite_id, *(
            sa.func.max(sa.case((answer_t.c.key == key, answer_t.c.number))).label(key) for key in ANSWER_KEYS
        )).group_by(answer_t.c.invite_id).subquery("answers")
        joined = joined.outerjoin(answers, answers.c.invite_id == i.c.id)
        numbers = [answers.c[key] for key in ANSWER_KEYS]
    else:
        numbers = [sa.select(answer_t.c.number).where(answer_t.c.invite_id == i.c.id, answer_t.c.key == key)
                   .scalar_subquery() for key in ANSWER_KEYS]

    query = (
        sa.select(i.c.id, i.c.kind, month_key(completion_t.c.completed_on),
                  sa.func.coalesce(person_t.c.home_council_area_id, UNKNOWN_AREA), i.c.course_type_id,
                  sa.case((i.c.answered_at.is_not(None), 1), else_=0), *numbers,
                  sa.cast(sa.func.coalesce(order_t.c.funding_stream, course_t.c.funding_stream), sa.String(40)),
                  *(sa.cast(person_t.c[name], sa.String(40)) for name in GROUPS[1:]))
        .select_from(joined
                     .outerjoin(person_t, person_t.c.id == i.c.person_id)
                     .outerjoin(course_t, course_t.c.id == i.c.course_id)
                     .outerjoin(booking_t, booking_t.c.id == completion_t.c.booking_id)
                     .outerjoin(voucher_t, voucher_t.c.id == booking_t.c.voucher_id)
                     .outerjoin(order_t, order_t.c.id == voucher_t.c.order_id))
    )
    return query if where is None else query.where(where)


#: The sums kept by month, area and course type, by month and course type, and by area and course type.
SUM_TABLES = ((month_t, MONTH_KEYS), (type_month_t, TYPE_MONTH_KEYS), (area_sums_t, AREA_KEYS))


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




def refresh_invites(invite_ids: Iterable[int | None], connection: Connection | None = None) -> None:
    """Recompute these invitations' kept rows and move the monthly sums by the difference (set-based)."""
    refresh(invite_ids, connection, table=kept_t, key="invite_id", source_key=invite_t.c.id, move_sums=_move_sums,
            fill=lambda conn, where: conn.execute(kept_t.insert().from_select(KEPT_COLUMNS, kept_select(where))))


def _group_contributions(where, sign: int = 1) -> sa.Select:
    """What the kept rows matching ``where`` add to ``outcome_group_month``: each row once per dimension."""
    k = kept_t
    parts = [sa.select(k.c.kind, sa.literal(name, sa.String(20)).label("dimension"),
                       sa.func.coalesce(k.c[name], "").label("value"), k.c.month, k.c.area, k.c.course_type_id,
                       k.c.answered, *(k.c[key] for key in ANSWER_KEYS)).where(where) for name in GROUPS]
    return _month_contributions(sa.true(), sign, GROUP_KEYS, sa.union_all(*parts).subquery("groups"))


def _whole_groups() -> sa.Select:
    """Every row of ``outcome_group_month`` from all of ``outcome_kept``, for a rebuild: one grouped read per
    dimension, side by side (no two share a key: each names its own dimension)."""
    k = kept_t
    parts = [sa.select(k.c.kind, sa.literal(name, sa.String(20)).label("dimension"),
                       sa.func.coalesce(k.c[name], "").label("value"), k.c.month, k.c.area, k.c.course_type_id,
                       k.c.answered, *(k.c[key] for key in ANSWER_KEYS)).subquery(f"by_{name}") for name in GROUPS]
    return sa.union_all(*(_month_contributions(sa.true(), 1, GROUP_KEYS, part) for part in parts))


def _move_sums(conn: Connection, where, sign: int) -> None:
    for table, keys in SUM_TABLES:
        move(conn, table, keys, MONTH_VALUES, _month_contributions(where, sign, keys))
    move(conn, group_month_t, GROUP_KEYS, MONTH_VALUES, _group_contributions(where, sign))


# --- rebuilding and checking ---------------------------------------------------------------------------

def _kept(conn: Connection) -> tuple[Counter, Counter, Counter, Counter]:
    months = kept_sums(conn, (*SUM_TABLES, (group_month_t, GROUP_KEYS)), MONTH_VALUES)
    return (months, *kept_first_aiders.counted(conn), kept_funnel.counted(conn))


def rebuild(connection: Connection | None = None, *, compare: bool = True) -> list[str]:
    """Recompute every kept outcome figure from the raw rows; the differences found (empty when exact).
    ``compare=False`` skips reading every kept figure before and after (a bulk load's first build: nothing was
    kept to compare with), which at 5,000,000 people is seconds and hundreds of megabytes."""
    conn = connection if connection is not None else db.session.connection()
    plan_for_whole_tables(conn)
    before = _kept(conn) if compare else None
    for table in KEPT_TABLES:
        conn.execute(table.delete())
    conn.execute(kept_t.insert().from_select(KEPT_COLUMNS, kept_select()))
    for table, keys in SUM_TABLES:
        conn.execute(table.insert().from_select([*keys, *MONTH_VALUES], _month_contributions(sa.true(), 1, keys)))
    conn.execute(group_month_t.insert().from_select([*GROUP_KEYS, *MONTH_VALUES], _whole_groups()))
    kept_first_aiders.refill(conn)
    kept_funnel.refill(conn)
    if not compare:
        return []
    return differences(("outcome sums", "first aiders", "first-aider trend", "funnel"), before, _kept(conn))


# --- the session listener ------------------------------------------------------------------------------

#: Where a session keeps what moved until :func:`settle`: invitation ids, completion ids and person ids
#: whose invitations moved (the people's places too), person ids whose first-aider row moved, booking ids
#: whose place moved, ids of bookings made in this transaction (no kept place yet), course ids whose places
#: moved, completion ids whose certificates moved, course ids whose funding stream moved, course type ids whose
#: holders' first-aider rows moved, and order, voucher and booking ids whose places' funding stream moved.
PENDING = "outcomes_pending"
SUSPENDED = "outcomes_suspended"
KEPT_TABLES = frozenset({kept_t, month_t, type_month_t, area_sums_t, group_month_t, aider_t, aider_month_t,
                         aider_day_t, place_t, funnel_month_t, funnel_type_month_t, span_t, span_month_t})
PERSON_AREAS = ("home_council_area_id", "home_council_area", "work_council_area_id", "work_council_area")
PERSON_GROUPS = GROUPS[1:]
COURSE_PLACES = ("status", "starts_at", "course_type_id", "course_type", "council_area_id", "council_area")
BOOKING_PLACES = ("status", "course_id", "course", "person_id", "person")
NOTED = ("invites", "completions", "people", "aiders", "places", "new_places", "courses", "certified", "streams",
         "kinds", "orders", "vouchers", "paid")


def _pending(session: Session) -> dict[str, set[int]]:
    return session.info.setdefault(PENDING, {name: set() for name in NOTED})


@contextmanager
def suspended(session: Session) -> Iterator[None]:
    """Nothing this session writes inside is noted, and what was noted is dropped on the way out: for a bulk
    load whose caller rebuilds every kept figure (:func:`rebuild`) before the transaction commits."""
    session.info[SUSPENDED] = True
    try:
        yield
    finally:
        session.info.pop(SUSPENDED, None)
        session.info.pop(PENDING, None)


def _after_flush(session: Session, flush_context) -> None:
    if session.info.get(SUSPENDED):
        return
    noted = {name: set() for name in NOTED}
    for obj in (*session.new, *session.dirty, *session.deleted):
        dirty = obj in session.dirty
        if isinstance(obj, OutcomeInvite):
            noted["invites"].add(obj.id)
        elif isinstance(obj, OutcomeAnswer):
            if not dirty or changed(obj, "number", "key", "invite_id"):
                noted["invites"].update(old_and_new(obj, "invite_id"))
        elif isinstance(obj, Certificate):
            if not dirty or changed(obj, "revoked_at", "expires_on", "person_id", "course_type_id", "course_type"):
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
            if dirty and changed(obj, "completed_on", "booking_id"):
                noted["completions"].add(obj.id)
            if not dirty or changed(obj, "booking_id"):
                noted["places"].update(old_and_new(obj, "booking_id"))
        elif isinstance(obj, Booking):
            if not dirty or changed(obj, *BOOKING_PLACES):
                noted["places"].add(obj.id)
            if dirty and changed(obj, "voucher_id", "voucher"):
                noted["paid"].add(obj.id)
        elif isinstance(obj, PlaceVoucher):
            if obj in session.deleted or (dirty and changed(obj, "order_id", "order")):
                noted["vouchers"].add(obj.id)
        elif isinstance(obj, Order):
            if obj in session.deleted or (dirty and changed(obj, "funding_stream")):
                noted["orders"].add(obj.id)
        elif isinstance(obj, CourseType):
            if dirty and changed(obj, "is_awareness"):
                noted["kinds"].add(obj.id)
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


#: What a bulk update or delete of a watched table notes of the rows it touches: each column read from them
#: and the pending sets its values go into.
_BULK_NOTES = {
    invite_t: [("id", ("invites",))],
    answer_t: [("invite_id", ("invites",))],
    cert_t: [("person_id", ("aiders",)), ("completion_id", ("certified",))],
    person_t: [("id", ("people", "aiders"))],
    completion_t: [("id", ("completions",)), ("booking_id", ("places",))],
    booking_t: [("id", ("places", "paid"))],
    mark_t: [("booking_id", ("places",))],
    course_t: [("id", ("courses", "streams"))],
    type_t: [("id", ("kinds",))],
    voucher_t: [("id", ("vouchers",))],
    order_t: [("id", ("orders",))],
}


def _before_bulk(state) -> None:
    """A bulk statement on a watched table (``session.execute(update(OutcomeInvite)...)``): note its rows first."""
    if not (state.is_update or state.is_delete or state.is_insert) or state.session.info.get(SUSPENDED):
        return
    tables = {mapper.local_table for mapper in state.all_mappers}
    watched = tables.intersection(_BULK_NOTES)
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
    notes = _BULK_NOTES[table]
    for row in conn.execute(sa.select(*(table.c[column] for column, _ in notes)).where(where)):
        for value, (_, into) in zip(row, notes, strict=True):
            for name in into:
                pending[name].add(value)


def settle(session: Session) -> None:
    """Recompute the kept outcome figures of what this transaction's flushes and statements moved (once)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    pending = session.info.pop(PENDING, None)
    if not pending or not any(pending.values()):
        # Nothing moved (a bulk insert whose rows name nothing watched, e.g. one booking): no lock, which every
        # writer of the kept sums would otherwise queue on until this transaction commits.
        return
    conn = session.connection()
    lock_kept_sums(conn)
    _resolve(conn, pending)
    invites = set(pending["invites"])
    for column, key in ((invite_t.c.completion_id, "completions"), (invite_t.c.person_id, "people"),
                        (invite_t.c.course_id, "streams")):
        for ids in chunks(pending[key]):
            invites.update(conn.scalars(sa.select(invite_t.c.id).where(among(column, ids, conn.dialect.name))))
    if invites:
        refresh_invites(invites, conn)
    if pending["aiders"]:
        refresh_first_aiders(pending["aiders"], conn)
        refresh_spans(pending["aiders"], conn)
    places = set(pending["places"])
    for column, key in ((booking_t.c.course_id, "courses"), (booking_t.c.person_id, "people")):
        for ids in chunks(pending[key]):
            places.update(conn.scalars(sa.select(booking_t.c.id).where(among(column, ids, conn.dialect.name))))
    for ids in chunks(pending["certified"]):
        places.update(conn.scalars(sa.select(completion_t.c.booking_id).where(
            among(completion_t.c.id, ids, conn.dialect.name), completion_t.c.booking_id.is_not(None))))
    if places:
        refresh_places(places, conn)
    if new_places := pending["new_places"] - places:
        add_places(new_places, conn)


def _resolve(conn: Connection, pending: dict[str, set[int]]) -> None:
    """Add to the pending completions those whose place's funding stream moved (its order's stream, its voucher's
    order or its booking's voucher), and to the pending first aiders the holders of a certificate of a course type
    that became or stopped being an awareness course."""
    c, b, v = completion_t, booking_t, voucher_t
    dialect = conn.dialect.name
    for key, query, column in (
            ("orders", sa.select(c.c.id).join(b, b.c.id == c.c.booking_id).join(v, v.c.id == b.c.voucher_id),
             v.c.order_id),
            ("vouchers", sa.select(c.c.id).join(b, b.c.id == c.c.booking_id), b.c.voucher_id),
            ("paid", sa.select(c.c.id), c.c.booking_id)):
        for ids in chunks(pending[key]):
            pending["completions"].update(conn.scalars(query.where(among(column, ids, dialect))))
    for ids in chunks(pending["kinds"]):
        pending["aiders"].update(conn.scalars(sa.select(cert_t.c.person_id).distinct().where(
            among(cert_t.c.course_type_id, ids, dialect))))


def settled(session: Session) -> None:
    """Settle what this transaction moved before a reader sums the kept rows (the listener does it too, for
    statements that name a kept table's entity; a reader from a subquery of them calls this first)."""
    if PENDING in session.info or (session.autoflush and (session.new or session.dirty or session.deleted)):
        settle(session)


def _before_commit(session: Session) -> None:
    settle(session)


def _on_execute(state):
    if state.is_insert and not state.session.info.get(SUSPENDED) and len(state.statement.exported_columns) \
            and any(mapper.class_ is Booking for mapper in state.all_mappers):
        return _noting_new_bookings(state)
    if state.is_select:
        session = state.session
        unsettled = PENDING in session.info or (session.autoflush and (session.new or session.dirty or
                                                                       session.deleted))
        if unsettled and KEPT_TABLES.intersection(mapper.local_table for mapper in state.all_mappers):
            settle(session)
    else:
        _before_bulk(state)


def _noting_new_bookings(state):
    """An insert of bookings that returns them (a booking made with one ``INSERT … RETURNING``): run it, and note
    the bookings it made as new places (their values are in the statement, not its parameters, and their ids are
    known only once it has run)."""
    result = state.invoke_statement().freeze()
    returned = (row if isinstance(row, Booking) else row[0] for row in result.data)  # entities, or rows of them
    made = {booking.id for booking in returned if isinstance(booking, Booking)}
    if made:
        _pending(state.session)["new_places"].update(made)
    return result()


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
