"""When the kept reach figures move: the session listeners that note, after each flush, the people and
months a change may have moved (:func:`affected_people`, :func:`affected_spend_months`, the one place
that declares what moves them) and :func:`settle` them once per transaction, before it commits or
reads the kept tables (see :mod:`mhfa.reach.keeping` for the rule, and :func:`register`)."""
from __future__ import annotations

from datetime import UTC
from itertools import chain

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from mhfa.areas.models import CouncilArea
from mhfa.attendance.models import Completion
from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseType
from mhfa.employers.billing import CreditNote, Invoice
from mhfa.employers.models import Employer, Order
from mhfa.history import changed, old_and_new
from mhfa.people.models import Person
from mhfa.reach.keeping import refresh_people, refresh_spend, regroup
from mhfa.reach.models import (
    PERSON_DIMENSIONS,
    ReachFirst,
    ReachGroupAreaMonth,
    ReachGroupMonth,
    ReachMonth,
    ReachSpendMonth,
)
from mhfa.reach.reached import booking_t, completion_t, order_t, person_t, voucher_t

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
        if obj in session.dirty and not changed(obj, *watched):
            continue
        months.update(_month_of(m) for m in old_and_new(obj, moment))
    months.discard(None)
    return months


# --- the session listener ----------------------------------------------------------------------

PERSON_ATTRIBUTES = ("home_council_area_id", "work_council_area_id", "employer_id", "home_council_area",
                     "work_council_area", "employer", *PERSON_DIMENSIONS[1:])


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
            if obj in session.dirty and not changed(
                obj, "person_id", "course_type_id", "completed_on", "delivery_council_area_id", "course_id",
                "booking_id",
            ):
                continue
            people.update(old_and_new(obj, "person_id"))
        elif isinstance(obj, Certificate):
            if obj in session.dirty and not changed(obj, "revoked_at", "completion_id", "person_id"):
                continue
            people.update(old_and_new(obj, "person_id"))
            completions.update(old_and_new(obj, "completion_id"))
        elif isinstance(obj, Person):
            # A new person has no completion yet (one added in the same flush names them above).
            if obj in session.deleted or (obj not in session.new and changed(obj, *PERSON_ATTRIBUTES)):
                people.add(obj.id)
        elif obj not in session.dirty:
            continue
        elif isinstance(obj, CourseType) and changed(obj, "counts_toward_target", "is_awareness"):
            types.add(obj.id)
        elif isinstance(obj, Employer) and changed(obj, "sector"):
            employers.add(obj.id)
        elif isinstance(obj, Course) and changed(obj, "council_area_id", "council_area", "funding_stream"):
            courses.add(obj.id)
        elif isinstance(obj, Order) and changed(obj, "funding_stream"):
            orders.add(obj.id)
        elif isinstance(obj, Booking) and changed(obj, "voucher_id", "voucher"):
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
                         ReachGroupAreaMonth.__table__, ReachSpendMonth.__table__})


def _after_flush(session: Session, flush_context) -> None:
    if not session.info.get("reach_listener", True):
        return
    people = affected_people(session)
    months = affected_spend_months(session)
    if people or months:
        pending_people, pending_months = session.info.setdefault(PENDING, (set(), set()))
        pending_people.update(people)
        pending_months.update(months)
    if any(isinstance(obj, CouncilArea) and changed(obj, "in_target_region") for obj in session.dirty) or any(
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
