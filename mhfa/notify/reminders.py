"""Reminders sent by ``flask mhfa send-reminders`` (cron): each one once, however often the job runs.

Before a reminder is queued, a ``SentReminder`` row (kind, subject id) is written in the same
transaction. The row's unique constraint makes a second run (even one running at the same time)
skip it; the email goes out only when the transaction commits, together with its row.

A course reminder is once per booking *and per version of the course*: its kind carries the
course's calendar SEQUENCE (``course-reminder-<sequence>``), which goes up when the course is moved,
so a course moved after its reminder went out gets a reminder for the new dates.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, contains_eager

from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseStatus, course_type_prerequisite
from mhfa.extensions import db
from mhfa.notify import messages
from mhfa.notify.models import SentReminder
from mhfa.people.models import Person
from mhfa.timeutil import LONDON, utcnow

COURSE_REMINDER_BEFORE = timedelta(days=2)
COURSE_REMINDER = "course-reminder"  # + "-<course sequence>"; alone, a row written before the sequence was part of it
CERTIFICATE_EXPIRY = "certificate-expiry"


def course_reminder_kind(sequence: int) -> str:
    """The ``SentReminder.kind`` of the reminder for one version (calendar SEQUENCE) of a course."""
    return f"{COURSE_REMINDER}-{sequence}"


def _not_sent(kind, subject_id):
    return ~sa.exists().where(SentReminder.kind == kind, SentReminder.subject_id == subject_id)


def _claim(kind: str, subject_id: int) -> bool:
    """Record that this reminder is being sent; False if it already was (or another run has it).

    ``INSERT … ON CONFLICT DO NOTHING`` rather than a savepoint: on PostgreSQL it waits for a run
    that inserted the same row to finish, and on SQLite a savepoint opened before any other write
    would commit on release (pysqlite starts transactions only at the first INSERT/UPDATE).
    """
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    statement = (
        insert(SentReminder.__table__)
        .values(kind=kind, subject_id=subject_id, sent_at=utcnow())
        .on_conflict_do_nothing(index_elements=["kind", "subject_id"])
        .returning(SentReminder.__table__.c.id)
    )
    return db.session.execute(statement).first() is not None


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
            _not_sent(this_version, Booking.id),
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


def due_expiry_reminders(today: date, days_before: int) -> list[Certificate]:
    """Valid certificates expiring within ``days_before`` days whose holder has not renewed them since."""
    later = aliased(Certificate)
    refresher_of_this = sa.select(course_type_prerequisite.c.course_type_id).where(
        course_type_prerequisite.c.prerequisite_type_id == Certificate.course_type_id
    )
    renewed = sa.exists().where(
        later.person_id == Certificate.person_id,
        later.id != Certificate.id,
        later.revoked_at.is_(None),
        later.issued_on > Certificate.issued_on,
        sa.or_(later.course_type_id == Certificate.course_type_id, later.course_type_id.in_(refresher_of_this)),
    )
    return list(db.session.scalars(
        sa.select(Certificate)
        .join(Person, Person.id == Certificate.person_id)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.expires_on >= today,
            Certificate.expires_on <= today + timedelta(days=days_before),
            Person.erased_at.is_(None),
            Person.email.is_not(None),
            ~renewed,
            _not_sent(CERTIFICATE_EXPIRY, Certificate.id),
        )
        .order_by(Certificate.expires_on, Certificate.id)
    ))


def send_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """Queue every due reminder not sent before; the caller commits (and the emails then go)."""
    now = now or utcnow()
    counts = {"course": 0, "certificate": 0}
    for booking in due_course_reminders(now):
        if _claim(course_reminder_kind(booking.course.sequence), booking.id):
            messages.course_reminder(booking)
            counts["course"] += 1
    days = current_app.config["MHFA_EXPIRY_REMINDER_DAYS"]
    for certificate in due_expiry_reminders(now.astimezone(LONDON).date(), days):
        if _claim(CERTIFICATE_EXPIRY, certificate.id):
            messages.certificate_expiring(certificate)
            counts["certificate"] += 1
    return counts
