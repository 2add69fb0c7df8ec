"""Course reminders: two days before a course's first session, once per booking and version of the course.

A course reminder's kind carries the course's calendar SEQUENCE (``course-reminder-<sequence>``),
which goes up when the course is moved, so a course moved after its reminder went out gets a
reminder for the new dates. Once-only comes from ``mhfa.notify.reminders.claim``.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from mhfa.bookings import emails
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import Course, CourseStatus
from mhfa.extensions import db
from mhfa.notify.models import SentReminder
from mhfa.notify.reminders import claim, not_sent
from mhfa.people.models import Person

COURSE_REMINDER_BEFORE = timedelta(days=2)
COURSE_REMINDER = "course-reminder"  # + "-<course sequence>"; alone, a row written before the sequence was part of it


def course_reminder_kind(sequence: int) -> str:
    """The ``SentReminder.kind`` of the reminder for one version (calendar SEQUENCE) of a course."""
    return f"{COURSE_REMINDER}-{sequence}"


def due_course_reminders(now: datetime) -> list[Booking]:
    """Confirmed places on published courses whose first session starts within the next two days,
    not yet reminded of this version of the course; with what the email needs loaded (no query per booking).
    """
    this_version = sa.literal(f"{COURSE_REMINDER}-") + sa.cast(Course.sequence, sa.String)
    # A row of the old kind (no sequence) written in the last two days was for the current dates:
    # do not send the same reminder again just because the kind changed.
    reminded_before_sequences = sa.exists().where(
        SentReminder.kind == COURSE_REMINDER, SentReminder.subject_id == Booking.id,
        SentReminder.sent_at > now - COURSE_REMINDER_BEFORE,
    )
    return list(db.session.scalars(
        sa.select(Booking)
        .join(Course, Course.id == Booking.course_id)
        .join(Person, Person.id == Booking.person_id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Course.status == CourseStatus.PUBLISHED,
            Course.starts_at > now,
            Course.starts_at <= now + COURSE_REMINDER_BEFORE,
            Person.erased_at.is_(None),
            Person.email.is_not(None),
            not_sent(this_version, Booking.id),
            ~reminded_before_sequences,
        )
        .options(
            contains_eager(Booking.person),
            contains_eager(Booking.course).joinedload(Course.course_type),
            contains_eager(Booking.course).joinedload(Course.venue),
            contains_eager(Booking.course).selectinload(Course.sessions),
        )
        .order_by(Course.starts_at, Booking.id)
    ).unique())


def send_course_reminders(now: datetime) -> int:
    """Queue every due course reminder not sent before; returns how many (the caller commits)."""
    sent = 0
    for booking in due_course_reminders(now):
        if claim(course_reminder_kind(booking.course.sequence), booking.id):
            emails.course_reminder(booking)
            sent += 1
    return sent
