"""Every row lock of the application, and the one order they are taken in:

1. an employer's order (``lock_order``) or a closed-course request (``lock_request``): the employer's
   side of a change, taken before anything it changes (of the booking paths, only moving a place an order
   paid for takes its order's lock, first, as cancelling the order does);
2. people (``lock_person``, or ``lock_people`` for several, in id order);
3. a course (``lock_course``), or two courses in id order (``lock_courses``, moving a booking between
   dates); an instructor's row, locked to assign them, is taken before any course
   lock, and no booking locks it;
4. place vouchers (``lock_vouchers`` in id order, or ``lock_voucher`` for one);
5. the certificates' status-list index (``lock_status_indexes``), then a certificate's row
   (``lock_certificate``), after the course lock when a register correction revokes one; nothing locks
   another row after it;
6. last of all, when the kept figures settle before commit: the kept outcome sums (``lock_kept_sums``:
   one lock, so two transactions never move the same summary rows in a different order), then the months
   of kept spend being recomputed (``lock_spend_months``, in month order, which takes ``lock_kept_sums``
   first), so two transactions never recompute one month at once.

The outbox's senders claim messages with ``claim_unlocked`` (``SKIP LOCKED``): they never wait, so they
are outside the order. ``tests/test_locks.py`` fails when a lock is written anywhere but here.

Every change to a course's places locks the course row first and counts afterwards, so capacity
holds under any concurrency (see ``mhfa.bookings.services``). The database's triggers that keep the course's
seats taken (``mhfa.bookings.seats``) update that row in the same transaction, under the lock already held.
On PostgreSQL each lock is ``SELECT … FOR NO KEY UPDATE``: it excludes every other lock of the row but not
the foreign-key checks (``FOR KEY SHARE``) of rows that refer to it, so writing a booking never waits on a
course or person another transaction holds. Because every caller takes the locks in the order above, two transactions
never wait for each other in a circle. SQLite has one writer at a time: writing first takes its
single write lock for the transaction, which serialises the same work.

Any area may take these locks; the module reads only models, so it sits below every area.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache

import sqlalchemy as sa

from mhfa.bookings.models import Booking
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, Instructor
from mhfa.employers.models import ClosedCourseRequest, Order, PlaceVoucher
from mhfa.extensions import db
from mhfa.people.models import Person


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def lock_order(order: Order) -> Order:
    """First: hold an employer's order until the transaction ends and read it afresh (allocating, resending,
    reassigning or cancelling its places go one at a time)."""
    return _lock_and_reread(order, "UPDATE employer_order SET status = status WHERE id = :id")


def lock_request(request: ClosedCourseRequest) -> ClosedCourseRequest:
    """First: hold a closed-course request until the transaction ends and read it afresh (it is answered once)."""
    return _lock_and_reread(request, "UPDATE closed_course_request SET status = status WHERE id = :id")


def lock_people(person_ids: Iterable[int]) -> None:
    """Second, for several people at once (an employer booking its staff): their rows in id order, on PostgreSQL."""
    ids = sorted(set(person_ids))
    if ids and is_postgresql():
        db.session.execute(sa.select(Person.id).where(Person.id.in_(ids)).order_by(Person.id)
                           .with_for_update(key_share=True))


def lock_person(person: Person) -> None:
    """First: serialise one person's bookings (on PostgreSQL), so two tabs cannot book overlapping courses."""
    if is_postgresql():
        db.session.execute(sa.select(Person.id).where(Person.id == person.id).with_for_update(key_share=True))


def lock_person_id(person_id: int) -> Person | None:
    """``lock_person`` for a person not loaded yet: on PostgreSQL the lock reads the row too (one statement)."""
    if is_postgresql():
        return db.session.scalar(_person_locked(), {"person_id": person_id})
    return db.session.get(Person, person_id)


@cache
def _person_locked() -> sa.Select:
    """Made once (every booking asks it): a statement kept is neither built nor given its cache key again."""
    return (sa.select(Person).where(Person.id == sa.bindparam("person_id", type_=sa.Integer))
            .with_for_update(key_share=True).execution_options(populate_existing=True))


def lock_course_id(course_id: int, *options) -> Course | None:
    """``lock_course`` for a course not loaded yet: hold its row and read it, with ``options`` (eager loads of
    what the caller will show), once: one statement on PostgreSQL (``FOR NO KEY UPDATE OF course``), the
    no-op write and one read on SQLite. None when there is no such course."""
    db.session.flush()
    postgresql = is_postgresql()
    if not postgresql:
        db.session.execute(sa.text("UPDATE course SET capacity = capacity WHERE id = :id"), {"id": course_id})
    return db.session.scalars(_course_locked(postgresql, options), {"course_id": course_id}).unique().one_or_none()


@lru_cache(maxsize=16)
def _course_locked(postgresql: bool, options: tuple) -> sa.Select:
    """The course read (locked on PostgreSQL) with ``options``, made once for each set of options a caller keeps
    (``listings.course_to_book``): a statement kept is neither built nor given its cache key again."""
    query = (sa.select(Course).where(Course.id == sa.bindparam("course_id", type_=sa.Integer)).options(*options)
             .execution_options(populate_existing=True))
    return query.with_for_update(key_share=True, of=Course) if postgresql else query


def lock_course(course: Course) -> Course:
    """Second: hold the course row until the transaction ends; everything read after this is current.

    Changes already made in this session (e.g. a raised capacity) are flushed first, not lost.
    """
    return _lock_and_reread(course, "UPDATE course SET capacity = capacity WHERE id = :id")


def lock_courses(courses: Iterable[Course]) -> None:
    """Third, for several courses at once (a booking moving from one date to another): each row in id order.

    Two moves crossing between the same two courses lock them in the same order, so neither waits on the
    other in a circle; each course is read afresh, as :func:`lock_course` does.
    """
    for course in sorted({course.id: course for course in courses}.values(), key=lambda course: course.id):
        lock_course(course)


def _lock_and_reread(instance, sqlite_no_op: str):
    """Flush, hold ``instance``'s row until the transaction ends, and read it afresh.

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` of the row (the ORM repopulates the object only from
    rows it fetches). SQLite has one writer at a time: a no-op write takes the RESERVED lock for this
    transaction (waiting up to busy_timeout), so nobody else writes in between; then a refresh.
    """
    db.session.flush()
    model = type(instance)
    if is_postgresql():
        db.session.execute(
            sa.select(model).where(model.id == instance.id).with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).scalar_one()
    else:
        db.session.execute(sa.text(sqlite_no_op), {"id": instance.id})
        db.session.refresh(instance)
    return instance


def lock_vouchers(voucher_ids: Iterable[int | None]) -> None:
    """Third: hold these place vouchers' rows until the transaction ends (on PostgreSQL), in id order.

    Taken after the course lock and before changing a booking that holds one: booking with a voucher
    takes them in that order too, so the two never wait for each other in a circle.
    """
    ids = sorted({voucher_id for voucher_id in voucher_ids if voucher_id is not None})
    if ids and is_postgresql():
        db.session.execute(
            sa.select(PlaceVoucher).where(PlaceVoucher.id.in_(ids)).order_by(PlaceVoucher.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )


def lock_booking(booking: Booking) -> Course:
    """A booking about to change: its course (third), then the place voucher it holds (fourth), then the
    booking itself read afresh. Returns the course, read afresh too."""
    course = lock_course(booking.course)
    lock_vouchers([booking.voucher_id])
    db.session.refresh(booking)
    return course


def lock_instructor(instructor: Instructor) -> None:
    """Hold the instructor's row until the transaction ends: assignments of one instructor go one at a time.

    PostgreSQL: ``FOR NO KEY UPDATE`` on the row (taken before any course lock of this transaction, and
    no booking path locks instructors, so there is no cycle). SQLite: a no-op write takes the database
    write lock, so the clash check that follows reads what the other writer committed.
    """
    db.session.flush()
    if is_postgresql():
        db.session.execute(sa.select(Instructor.id).where(Instructor.id == instructor.id)
                           .with_for_update(key_share=True))
    else:
        db.session.execute(sa.text("UPDATE instructor SET id = id WHERE id = :id"), {"id": instructor.id})
    db.session.expire(instructor)


def lock_voucher(voucher: PlaceVoucher) -> PlaceVoucher:
    """Fourth, for one voucher already loaded (after its order's lock, or the course's when booking with it):
    hold its row and read it afresh.

    SQLite: the order's or course's lock already took the one write lock, so only the re-read is needed: a
    copy loaded earlier in the request may be stale."""
    db.session.flush()
    if is_postgresql():
        db.session.scalars(sa.select(PlaceVoucher).where(PlaceVoucher.id == voucher.id)  # read: the rows refill it
                           .with_for_update(key_share=True).execution_options(populate_existing=True)).all()
    else:
        db.session.refresh(voucher)
    return voucher


#: The advisory lock under which certificates are issued ("MHFA" in ASCII).
STATUS_INDEX_LOCK = 0x4D484641


def lock_status_indexes() -> None:
    """Held while certificates are issued, so two transactions never draw the same random status-list index:
    the second draws after the first has committed, and sees the indexes it took.

    PostgreSQL: a transaction-scoped advisory lock, taken after any course lock and before any certificate
    row. SQLite: issuing writes under the course lock, which is already the database's single write lock.
    """
    if is_postgresql():
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": STATUS_INDEX_LOCK})


def lock_certificate(certificate: Certificate) -> Certificate:
    """Last: hold the certificate's row until the transaction ends, re-read, so two revocations or reissues
    of one certificate go one at a time and the second sees what the first wrote.

    PostgreSQL: ``FOR NO KEY UPDATE`` on the row, repopulating the object. SQLite: a no-op write takes the
    database write lock (as :func:`lock_course` does), then the object is read afresh.
    """
    return _lock_and_reread(certificate, "UPDATE certificate SET id = id WHERE id = :id")


def claim_unlocked(due: sa.Select) -> sa.Select:
    """The rows of ``due`` no other transaction holds, locked for this one (PostgreSQL's ``SKIP LOCKED``):
    two senders claiming work take different rows and never wait for each other."""
    return due.with_for_update(skip_locked=True)


#: The key space of the advisory locks on months of kept spend (``lock_spend_months``).
SPEND_MONTH_LOCK = 0x5E5D
#: The advisory lock held while kept outcome sums move (``lock_kept_sums``).
KEPT_SUMS_LOCK = (0x5E5E, 0)


def lock_kept_sums(connection) -> None:
    """Held while this transaction moves the kept outcome sums (monthly counts upserted by difference): a
    second transaction moving them waits for the first to commit. Without it two transactions moving
    overlapping summary rows in a different order deadlock (a race test saw it on the funnel's months).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the writes already hold its single write lock.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": KEPT_SUMS_LOCK[0], "key": KEPT_SUMS_LOCK[1]})


def lock_spend_months(connection, months: Iterable[int]) -> None:
    """Held while these months' kept spend is recomputed (deleted and written again), in month order: a second
    transaction recomputing a month waits for the first to commit and then reads what it wrote.

    PostgreSQL: transaction-scoped advisory locks on the transaction's connection. SQLite: the recompute
    writes, which already holds the database's single write lock.
    """
    if connection.dialect.name == "postgresql":
        lock_kept_sums(connection)  # before any month: the order every transaction takes them in
        for month in sorted(set(months)):
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :month)"),
                               {"space": SPEND_MONTH_LOCK, "month": int(month)})
