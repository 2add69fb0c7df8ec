"""Places on a course: its capacity, confirmed bookings and waiting list, counted in SQL.

Read-only counts over the bookings table for the course pages and lists. The seat check that books
a place counts again under the course lock (``mhfa.bookings.services``).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import (
    Course,
)
from mhfa.extensions import db


def _bookings_with(status: BookingStatus):
    """Bookings of a status on the course of the enclosing query. ``count(*)`` lets PostgreSQL answer
    from the (course_id, status) index alone."""
    return (
        sa.select(sa.func.count())
        .select_from(Booking)
        .where(Booking.course_id == Course.id, Booking.status == status)
        .correlate(Course)
        .scalar_subquery()
    )


CONFIRMED_COUNT = _bookings_with(BookingStatus.CONFIRMED)

WAITLISTED_COUNT = _bookings_with(BookingStatus.WAITLISTED)


@dataclass(frozen=True)
class Places:
    capacity: int
    confirmed: int
    waitlisted: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.confirmed, 0)


def places(course: Course) -> Places:
    return places_for([course])[course.id]


def places_for(courses: list[Course]) -> dict[int, Places]:
    """Confirmed bookings and waiting-list length of each course, in one query."""
    ids = [c.id for c in courses]
    counts = {course_id: [0, 0] for course_id in ids}
    if ids:
        rows = db.session.execute(
            sa.select(Booking.course_id, Booking.status, sa.func.count())
            .where(Booking.course_id.in_(ids), Booking.status != BookingStatus.CANCELLED)
            .group_by(Booking.course_id, Booking.status)
        )
        for course_id, status, count in rows:
            counts[course_id][0 if status is BookingStatus.CONFIRMED else 1] = count
    return {c.id: Places(c.capacity, *counts[c.id]) for c in courses}
