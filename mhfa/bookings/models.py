"""Bookings and the waiting list."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.db_types import UTCDateTime, str_enum
from mhfa.extensions import db
from mhfa.timeutil import utcnow

if TYPE_CHECKING:
    from mhfa.areas.models import CouncilArea
    from mhfa.courses.models import Course, CourseType
    from mhfa.employers.models import PlaceVoucher
    from mhfa.people.models import Person


class BookingStatus(enum.Enum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class BookingSource(enum.Enum):
    SELF = "self"
    EMPLOYER = "employer"
    COORDINATOR = "coordinator"
    IMPORT = "import"

    @property
    def label(self) -> str:
        return {
            BookingSource.SELF: "Booked themselves",
            BookingSource.EMPLOYER: "Employer place voucher",
            BookingSource.COORDINATOR: "Programme team",
            BookingSource.IMPORT: "Imported",
        }[self]


#: How a booking moved to another date is cancelled (``mhfa.bookings.transfers``): "Moved to 21 December 2026".
MOVED_PREFIX = "Moved to "


class Booking(db.Model):
    """A person's place on a course, or their place in its waiting list.

    The waiting list is first in, first out by ``id`` (assigned under the course lock, so it does not
    depend on any host's clock); ``waitlisted_at`` records when, for people to read.
    """

    __tablename__ = "booking"
    __table_args__ = (
        sa.Index(
            "uq_booking_live_person_course",
            "course_id",
            "person_id",
            unique=True,
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        ),
        # A course's places taken and waiting are counted from this index alone on PostgreSQL (the finder, a booking).
        sa.Index("ix_booking_course_status", "course_id", "status", postgresql_include=["offer_expires_at"]),
        sa.Index("uq_booking_answer_token", "answer_token", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus))
    source: Mapped[BookingSource] = mapped_column(str_enum(BookingSource), default=BookingSource.SELF)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("place_voucher.id"), unique=True)
    booked_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    #: The booking this one replaced when its person moved to this date (``mhfa.bookings.transfers``): the
    #: history of a place runs back through these links.
    transferred_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id"), index=True)

    course: Mapped[Course] = relationship()
    person: Mapped[Person] = relationship()
    voucher: Mapped[PlaceVoucher | None] = relationship()
    #: An offer of a seat from the waiting list (``mhfa.bookings.offers``): when made, and until when it holds
    #: the seat while the booking is still waiting.
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The unguessable token of the links that accept or decline an offer, or give back a promoted seat.
    answer_token: Mapped[str | None] = mapped_column(sa.String(64))

    transferred_from: Mapped[Booking | None] = relationship(remote_side=[id], foreign_keys=[transferred_from_id])

    @property
    def moved_to(self) -> str | None:
        """The date this booking was moved to (its place went with its person), or None."""
        reason = self.cancel_reason or ""
        return reason[len(MOVED_PREFIX):] if reason.startswith(MOVED_PREFIX) else None


class CourseInterest(db.Model):
    """"Tell me when there's a course": a person waiting for a course type in a council area (none: online).

    Emailed once, when the first matching course is published (``notified_at``, ``notified_course_id``).
    """

    __tablename__ = "course_interest"
    __table_args__ = (sa.Index("ix_course_interest_waiting", "course_type_id", "council_area_id", "notified_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"))
    council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"))

    person: Mapped[Person] = relationship()
    course_type: Mapped[CourseType] = relationship()
    council_area: Mapped[CouncilArea | None] = relationship()
