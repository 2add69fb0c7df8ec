"""Course types, venues, instructors, courses, sessions and calendar feeds."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.db_types import UTCDateTime, str_enum
from mhfa.extensions import db
from mhfa.timeutil import format_london, utcnow

if TYPE_CHECKING:
    from mhfa.areas.models import CouncilArea
    from mhfa.auth.models import User
    from mhfa.employers.models import Employer
    from mhfa.people.models import Person


course_type_prerequisite = sa.Table(
    "course_type_prerequisite",
    db.metadata,
    sa.Column("course_type_id", sa.ForeignKey("course_type.id"), primary_key=True),
    sa.Column("prerequisite_type_id", sa.ForeignKey("course_type.id"), primary_key=True),
)


class CourseType(db.Model):
    """A course in the MHFA catalogue, with the rules every course of that type follows."""

    __tablename__ = "course_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    sessions_in_person: Mapped[int]
    sessions_online: Mapped[int]
    hours: Mapped[float] = mapped_column(sa.Numeric(4, 1, asdecimal=False))
    max_learners: Mapped[int]
    recommended_min_learners: Mapped[int | None]
    min_age: Mapped[int] = mapped_column(default=16)
    certificate_title: Mapped[str] = mapped_column(sa.String(120))
    certificate_valid_years: Mapped[int | None]
    counts_toward_target: Mapped[bool] = mapped_column(default=True)
    # An awareness course (e.g. Mental Health Aware): every reach figure can be shown with or without them.
    is_awareness: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    requires_prior_certificate: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    prerequisites: Mapped[list[CourseType]] = relationship(
        secondary=course_type_prerequisite,
        primaryjoin=lambda: CourseType.id == course_type_prerequisite.c.course_type_id,
        secondaryjoin=lambda: CourseType.id == course_type_prerequisite.c.prerequisite_type_id,
    )

    def __repr__(self) -> str:
        return f"<CourseType {self.code}>"


class Venue(db.Model):
    __tablename__ = "venue"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(150))
    address_line1: Mapped[str] = mapped_column(sa.String(150))
    address_line2: Mapped[str] = mapped_column(sa.String(150), default="")
    town: Mapped[str] = mapped_column(sa.String(80))
    postcode: Mapped[str] = mapped_column(sa.String(10))
    council_area_id: Mapped[int] = mapped_column(sa.ForeignKey("council_area.id"), index=True)
    step_free_access: Mapped[bool] = mapped_column(default=False)
    access_notes: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)

    council_area: Mapped[CouncilArea] = relationship()

    @property
    def one_line_address(self) -> str:
        parts = [self.name, self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(part for part in parts if part)


class Instructor(db.Model):
    """A person licensed by MHFA England to deliver courses."""

    __tablename__ = "instructor"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), unique=True)
    licence_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    licence_expires_on: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)

    person: Mapped[Person] = relationship()
    #: What the licence covers: one qualification per course type, with the date it was gained.
    qualifications: Mapped[list[InstructorQualification]] = relationship(
        back_populates="instructor", cascade="all, delete-orphan", order_by="InstructorQualification.course_type_id",
        overlaps="course_types")
    #: The same rows as course types (writing here records no date: the services write ``qualifications``).
    course_types: Mapped[list[CourseType]] = relationship(secondary="instructor_course_type",
                                                          order_by="CourseType.name",
                                                          overlaps="qualifications,instructor,course_type")
    development: Mapped[list[InstructorDevelopment]] = relationship(
        back_populates="instructor", cascade="all, delete-orphan",
        order_by="(InstructorDevelopment.done_on.desc(), InstructorDevelopment.id.desc())")

    def licence_valid_on(self, day: date) -> bool:
        return self.active and self.licence_expires_on >= day

    def licensed_for(self, course_type: CourseType) -> bool:
        return any(kind.id == course_type.id for kind in self.course_types)


class InstructorQualification(db.Model):
    """An instructor is qualified for a course type (MHFA England's upskill training) since a date."""

    __tablename__ = "instructor_course_type"
    # Deleting an instructor clears these rows through ``Instructor.course_types`` too: whichever goes first.
    __mapper_args__ = {"confirm_deleted_rows": False}

    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id", ondelete="CASCADE"), primary_key=True)
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"), primary_key=True)
    #: None only for qualifications recorded before their dates were kept.
    qualified_on: Mapped[date | None]

    instructor: Mapped[Instructor] = relationship(back_populates="qualifications", overlaps="course_types")
    course_type: Mapped[CourseType] = relationship(overlaps="course_types")


# The course types an instructor's MHFA England licence covers (Adult, Youth, ... are licensed apart).
instructor_course_type = InstructorQualification.__table__


class InstructorDevelopment(db.Model):
    """A continuing professional development record an instructor keeps: what, when, how long."""

    __tablename__ = "instructor_development"

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(sa.ForeignKey("instructor.id", ondelete="CASCADE"), index=True)
    done_on: Mapped[date]
    activity: Mapped[str] = mapped_column(sa.String(200))
    #: Time spent, in minutes (shown as hours).
    minutes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    instructor: Mapped[Instructor] = relationship(back_populates="development")

    @property
    def hours(self) -> float:
        return self.minutes / 60


class CourseStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class FundingStream(enum.Enum):
    """Who pays for a course or an order's places (reach and spend are shown by stream)."""

    EMPLOYER_PAID = "employer_paid"
    PUBLIC = "public"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {FundingStream.EMPLOYER_PAID: "Employer-paid", FundingStream.PUBLIC: "Publicly funded",
                FundingStream.OTHER: "Other funding"}[self]


def default_course_stream(context) -> FundingStream:
    """A course the programme schedules is publicly funded; a closed course (one employer's) is employer-paid."""
    employer_id = context.get_current_parameters().get("employer_id")
    return FundingStream.PUBLIC if employer_id is None else FundingStream.EMPLOYER_PAID


class DeliveryMode(enum.Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return "In person" if self is DeliveryMode.IN_PERSON else "Online"


course_instructor = sa.Table(
    "course_instructor",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("instructor_id", sa.ForeignKey("instructor.id"), primary_key=True, index=True),
)


class Course(db.Model):
    """One run of a course type, with its sessions, places and instructors."""

    __tablename__ = "course"
    __table_args__ = (
        # The finder's order, holding what its filters test (PostgreSQL): its count reads the index alone.
        sa.Index("ix_course_finder", "status", "starts_at", "id",
                 postgresql_include=["booking_deadline", "employer_id", "council_area_id", "delivery_mode",
                                     "course_type_id", "capacity", "seats_taken"]),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"), index=True)
    status: Mapped[CourseStatus] = mapped_column(str_enum(CourseStatus), default=CourseStatus.DRAFT)
    delivery_mode: Mapped[DeliveryMode] = mapped_column(str_enum(DeliveryMode))
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venue.id"), index=True)
    council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"), index=True)
    joining_url: Mapped[str | None] = mapped_column(sa.String(500))
    capacity: Mapped[int]
    #: Confirmed places and seats held for a waiting-list offer, kept by the database: triggers on ``booking``
    #: (migration 2026_12_07_05) move it with every booking written, however it is written. For filtering in
    #: SQL (the finder's free places); not loaded with the course, as a booking in this session moves it unseen.
    seats_taken: Mapped[int] = mapped_column(server_default="0", deferred=True)
    price_pence: Mapped[int] = mapped_column(default=0)
    employer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employer.id"), index=True)
    funding_stream: Mapped[FundingStream] = mapped_column(
        str_enum(FundingStream), default=default_course_stream, server_default=FundingStream.PUBLIC.value)
    #: What delivering the course cost the programme, recorded by a coordinator (None: not recorded).
    delivery_cost_pence: Mapped[int | None]
    booking_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_cutoff: Mapped[datetime | None] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course_type: Mapped[CourseType] = relationship()
    venue: Mapped[Venue | None] = relationship()
    council_area: Mapped[CouncilArea | None] = relationship()
    employer: Mapped[Employer | None] = relationship()
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", order_by="CourseSession.starts_at", cascade="all, delete-orphan"
    )
    instructors: Mapped[list[Instructor]] = relationship(secondary=course_instructor)

    @property
    def is_closed(self) -> bool:
        """A closed course is run for one employer's staff only."""
        return self.employer_id is not None

    def is_taught_by(self, user) -> bool:
        person_id = getattr(user, "person_id", None)
        return person_id is not None and any(i.person_id == person_id for i in self.instructors)

    @property
    def title(self) -> str:
        return self.course_type.name

    @property
    def location_label(self) -> str:
        """The venue's one-line address, or "Online"."""
        if self.delivery_mode is DeliveryMode.ONLINE or self.venue is None:
            return "Online"
        return self.venue.one_line_address

    @property
    def is_cancelled(self) -> bool:
        return self.status is CourseStatus.CANCELLED

    @property
    def booking_closes_at(self) -> datetime | None:
        """Bookings close at the booking deadline, or when the first session starts if that is sooner."""
        moments = [m for m in (self.booking_deadline, self.starts_at) if m is not None]
        return min(moments) if moments else None

    def booking_refusal_at(self, moment: datetime) -> str | None:
        """Why places cannot be booked at ``moment``, or None when they can.

        The one booking-open rule: the course pages, the API and the booking service all ask it.
        """
        if self.status is CourseStatus.CANCELLED:
            return "this course has been cancelled"
        if self.status is CourseStatus.COMPLETED:
            return "this course has already taken place"
        if self.status is not CourseStatus.PUBLISHED or not self.sessions or self.starts_at is None:
            return "this course is not open for booking"
        closes = self.booking_closes_at
        if moment >= closes:
            return f"bookings for this course closed on {format_london(closes)}"
        return None

    def booking_open_at(self, moment: datetime) -> bool:
        """Whether places can be booked at ``moment`` (see ``booking_refusal_at``)."""
        return self.booking_refusal_at(moment) is None

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.status.value}>"


class CourseSession(db.Model):
    """One sitting of a course: a day in a room or a live online session."""

    __tablename__ = "course_session"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship(back_populates="sessions")

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class FeedKind(enum.Enum):
    INSTRUCTOR = "instructor"
    TRAINEE = "trainee"
    AREA = "area"


class CalendarFeed(db.Model):
    """A private calendar subscription, reached by an unguessable token that its owner can reset.

    Only the token's SHA-256 is stored (in the ``token`` column), like API tokens: a copy of the
    database opens no one's calendar. ``token`` on the object holds the plain token just after a
    reset, to show its address once.
    """

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column("token", sa.String(64), unique=True)
    # Not stored: the plain token, known only right after a reset (set on the instance).
    token = None
    kind: Mapped[FeedKind] = mapped_column(str_enum(FeedKind))
    owner_user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    council_area: Mapped[CouncilArea | None] = relationship()
    owner: Mapped[User] = relationship()
