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

#: A waiting-list place holding a seat offered to it (``mhfa.bookings.offers``): it counts as a taken seat.
_HOLDS_OFFER = sa.and_(Booking.status == BookingStatus.WAITLISTED, Booking.offer_expires_at.is_not(None))


def _bookings_where(*conditions):
    """Bookings on the course of the enclosing query matching ``conditions``."""
    return (
        sa.select(sa.func.count())
        .select_from(Booking)
        .where(Booking.course_id == Course.id, *conditions)
        .correlate(Course)
        .scalar_subquery()
    )


#: Seats taken: confirmed places and seats held for an offer.
CONFIRMED_COUNT = _bookings_where(sa.or_(Booking.status == BookingStatus.CONFIRMED, _HOLDS_OFFER))

WAITLISTED_COUNT = _bookings_where(Booking.status == BookingStatus.WAITLISTED, Booking.offer_expires_at.is_(None))


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
        taken = sa.or_(Booking.status == BookingStatus.CONFIRMED, _HOLDS_OFFER)
        rows = db.session.execute(
            sa.select(Booking.course_id, taken.label("taken"), sa.func.count())
            .where(Booking.course_id.in_(ids), Booking.status != BookingStatus.CANCELLED)
            .group_by(Booking.course_id, taken)
        )
        for course_id, is_taken, count in rows:
            counts[course_id][0 if is_taken else 1] += count
    return {c.id: Places(c.capacity, *counts[c.id]) for c in courses}
