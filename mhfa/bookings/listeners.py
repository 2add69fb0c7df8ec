"""Bookings follow course changes: connected to the course hooks (``mhfa.courses.signals``) at app creation."""
from __future__ import annotations

from mhfa.bookings.interest import notify_interested
from mhfa.bookings.listings import CourseBookings, course_bookings
from mhfa.bookings.services import fill_from_waiting_list, release_course_bookings
from mhfa.courses import signals
from mhfa.courses.models import Course


def roster_section(course: Course) -> tuple[str, CourseBookings]:
    """The course page's bookings section: confirmed places, then the waiting list, in one query."""
    return "bookings/_course_bookings.html", course_bookings(course)


def register() -> None:
    """A cancelled course releases its bookings; a raised capacity promotes people from the waiting list; the
    programme team's course page shows the course's bookings; a published course tells those who asked for one."""
    signals.course_cancelled.connect(release_course_bookings)
    signals.capacity_raised.connect(fill_from_waiting_list)
    signals.course_page_sections.connect(roster_section)
    signals.course_published.connect(notify_interested)
