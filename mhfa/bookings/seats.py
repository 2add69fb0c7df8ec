"""Each course's kept count of seats taken (``Course.seats_taken``), recounted from its bookings.

The database keeps the count: triggers on ``booking`` (migration 2026_12_07_05) move it with every booking
written, whichever code or bulk load writes it. ``recount`` is the check of that upkeep, run by ``flask mhfa
rebuild-reach`` (``--check`` reports, without changing anything, each course whose kept count differs from a
bare count of its bookings) and by the tests of the demo's bulk load.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mhfa.bookings.models import Booking
from mhfa.bookings.offers import TAKES_A_SEAT
from mhfa.courses.models import Course
from mhfa.extensions import db

course_t = Course.__table__


def _counted():
    """Each course's seats taken, counted from its bookings (courses with none: no row)."""
    return (sa.select(Booking.course_id.label("course_id"), sa.func.count().label("seats"))
            .where(TAKES_A_SEAT).group_by(Booking.course_id).subquery("counted"))


def recount(connection: Connection | None = None) -> list[str]:
    """Set every course's kept seats taken to a fresh count of its bookings; returns a line for each course whose
    kept count differed (the caller commits, or rolls back to only check)."""
    conn = connection if connection is not None else db.session.connection()
    counted = _counted()
    fresh = sa.func.coalesce(counted.c.seats, 0)
    found = [f"seats taken on course {course_id}: kept {kept:,}, counted {count:,}" for course_id, kept, count in
             conn.execute(sa.select(course_t.c.id, course_t.c.seats_taken, fresh)
                          .select_from(course_t.outerjoin(counted, counted.c.course_id == course_t.c.id))
                          .where(course_t.c.seats_taken != fresh).order_by(course_t.c.id))]
    if found:
        differs = sa.and_(course_t.c.id == counted.c.course_id, course_t.c.seats_taken != counted.c.seats)
        conn.execute(course_t.update().where(differs).values(seats_taken=counted.c.seats))
        none_taken = ~sa.exists().where(Booking.course_id == course_t.c.id, TAKES_A_SEAT)
        conn.execute(course_t.update().where(course_t.c.seats_taken != 0, none_taken).values(seats_taken=0))
    return found
