"""The dates that govern a course's bookings: when booking closes, until when a place can be cancelled
online, whether a freed seat still goes to the waiting list, whom to contact after that, and what a
no-show who did not cancel in time costs an employer's place."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from mhfa.courses.models import Course, CourseStatus
from mhfa.extensions import db
from mhfa.reach.models import ProgrammeSettings
from mhfa.timeutil import format_london, london_to_utc, to_london, utcnow

#: When a course sets no cancellation cut-off, trainees can cancel online until this many calendar days
#: before it starts, at the same London wall-clock time (9am Monday: 9am Saturday, across a clock change too).
DEFAULT_CANCELLATION_CUTOFF = timedelta(days=2)


def booking_closes_at(course: Course) -> datetime | None:
    """Bookings close at the course's deadline, or when its first session starts (``Course.booking_closes_at``)."""
    return course.booking_closes_at


def cancellation_cutoff(course: Course) -> datetime | None:
    """Until when a trainee can cancel a confirmed place online."""
    if course.cancellation_cutoff is not None:
        return course.cancellation_cutoff
    if course.starts_at is None:
        return None
    # Calendar days on the London wall clock, not 48 hours of UTC: a course at 9am on the Monday
    # after the clocks go forward can be cancelled until 9am on the Saturday, not 8am.
    wall_clock = to_london(course.starts_at).replace(tzinfo=None)
    return london_to_utc(wall_clock - DEFAULT_CANCELLATION_CUTOFF)


def cancellation_closed(course: Course, now: datetime | None = None) -> bool:
    """Whether the time for cancelling online has passed."""
    cutoff = cancellation_cutoff(course)
    return cutoff is not None and (now or utcnow()) >= cutoff


def cancellation_note(course: Course, now: datetime | None = None) -> str | None:
    """What a trainee is told about cancelling: until when they can online, or that the deadline has
    passed and whom to contact (never a date in the past as if it were still open)."""
    cutoff = cancellation_cutoff(course)
    if cutoff is None:
        return None
    if (now or utcnow()) < cutoff:
        return f"You can cancel online until {format_london(cutoff)}."
    return f"Online cancellation closed on {format_london(cutoff)}; to cancel, contact {contact_for(course)}."


def contact_for(course: Course) -> str:
    """Whom to contact once a booking can no longer be cancelled online."""
    email = current_app.config["MHFA_CONTACT_EMAIL"]
    if course.is_closed and course.employer is not None:
        return f"the MHFA Reach programme team at {email} (or your contact at {course.employer.name})"
    return f"the MHFA Reach programme team at {email}"


def waiting_list_moves(course: Course, now: datetime) -> bool:
    """Whether a seat that frees now goes to the waiting list: a published course not yet started."""
    return course.status is CourseStatus.PUBLISHED and (course.starts_at is None or now < course.starts_at)


def no_show_spends_place() -> bool:
    """The programme's rule for an employer's place whose holder did not come and had not cancelled before the
    cut-off: spent (True, the default) or returned to the employer (the programme settings)."""
    rule = db.session.scalar(sa.select(ProgrammeSettings.no_show_spends_place).order_by(ProgrammeSettings.id)
                             .limit(1))
    return True if rule is None else rule
