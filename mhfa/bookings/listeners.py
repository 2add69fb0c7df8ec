"""Bookings follow course changes: connected to the course hooks (``mhfa.courses.signals``) at app creation."""
from __future__ import annotations

from mhfa.bookings.services import fill_from_waiting_list, release_course_bookings
from mhfa.courses import signals


def register() -> None:
    """A cancelled course releases its bookings; a raised capacity promotes people from the waiting list."""
    signals.course_cancelled.connect(release_course_bookings)
    signals.capacity_raised.connect(fill_from_waiting_list)
