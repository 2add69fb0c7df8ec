"""Registers (attendance per booking and session) and course completions."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.db_types import UTCDateTime, str_enum
from mhfa.extensions import db
from mhfa.timeutil import utcnow

if TYPE_CHECKING:
    from mhfa.bookings.models import Booking
    from mhfa.courses.models import Course, CourseSession, CourseType
    from mhfa.people.models import Person


class AttendanceStatus(enum.Enum):
    PRESENT = "present"
    ABSENT = "absent"


class AttendanceMark(db.Model):
    """Whether a booked trainee attended one session, as the instructor marked it."""

    __tablename__ = "attendance_mark"
    __table_args__ = (sa.UniqueConstraint("booking_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("booking.id"))
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("course_session.id"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus))
    marked_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking] = relationship()
    session: Mapped[CourseSession] = relationship()


class CompletionSource(enum.Enum):
    COURSE = "course"
    IMPORT = "import"


class Completion(db.Model):
    """A person completed a course of a type on a date: the fact reach is counted from."""

    __tablename__ = "completion"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "course_type_id", "completed_on"),
        sa.Index("ix_completion_reach", "course_type_id", "completed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id"), unique=True)
    completed_on: Mapped[date]
    delivery_council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"))
    source: Mapped[CompletionSource] = mapped_column(str_enum(CompletionSource), default=CompletionSource.COURSE)
    import_batch: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    course_type: Mapped[CourseType] = relationship()
    course: Mapped[Course | None] = relationship()


class NonCompletion(db.Model):
    """A confirmed trainee who did not complete a course, with the sessions they missed (recorded on completion)."""

    __tablename__ = "non_completion"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("booking.id"), unique=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    missed_session_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking: Mapped[Booking] = relationship()
    person: Mapped[Person] = relationship()
