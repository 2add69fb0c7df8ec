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
    WITHDREW = "withdrew"  # came, then left part-way (the mark carries the reason)

    @property
    def label(self) -> str:
        return {AttendanceStatus.PRESENT: "Present", AttendanceStatus.ABSENT: "Absent",
                AttendanceStatus.WITHDREW: "Withdrew"}[self]


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
    #: Why the trainee left part-way (a "withdrew" mark only).
    reason: Mapped[str | None] = mapped_column(sa.String(200))

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


class NonCompletionReason(enum.Enum):
    """Why a booking ended without completion."""

    DID_NOT_ATTEND = "did_not_attend"  # absent from every session
    WITHDREW = "withdrew"  # left part-way (a "withdrew" mark, with its reason)
    ABSENT_FROM_SESSION = "absent_from_session"  # missed some sessions
    COURSE_CANCELLED = "course_cancelled"

    @property
    def label(self) -> str:
        return {NonCompletionReason.DID_NOT_ATTEND: "Did not attend",
                NonCompletionReason.WITHDREW: "Withdrew part-way",
                NonCompletionReason.ABSENT_FROM_SESSION: "Absent from a session",
                NonCompletionReason.COURSE_CANCELLED: "Course cancelled"}[self]


class NonCompletion(db.Model):
    """A confirmed trainee who did not complete a course: why, and the sessions they missed (recorded on
    completion, or when the course is cancelled)."""

    __tablename__ = "non_completion"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("booking.id"), unique=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    missed_session_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: None on records made before reasons were kept (read them with ``why``).
    reason: Mapped[NonCompletionReason | None] = mapped_column(str_enum(NonCompletionReason))
    #: The reason a trainee gave for withdrawing.
    detail: Mapped[str | None] = mapped_column(sa.String(200))
    #: An employer's place left unused by a no-show: returned to the employer (True) or spent (False); None
    #: when no employer's place was involved.
    place_returned: Mapped[bool | None]
    #: That employer's place (kept when it went back, as the booking then no longer holds it).
    voucher_id: Mapped[int | None] = mapped_column(index=True)

    booking: Mapped[Booking] = relationship()
    person: Mapped[Person] = relationship()


def why(record: NonCompletion) -> NonCompletionReason:
    """The record's reason; for one made before reasons were kept, absent from the sessions it lists."""
    return record.reason or NonCompletionReason.ABSENT_FROM_SESSION
