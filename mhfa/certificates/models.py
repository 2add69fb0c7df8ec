"""Certificates issued on completion, verifiable by a public code."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.db_types import UTCDateTime
from mhfa.extensions import db
from mhfa.timeutil import utcnow

if TYPE_CHECKING:
    from mhfa.attendance.models import Completion
    from mhfa.courses.models import CourseType
    from mhfa.people.models import Person


class Certificate(db.Model):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    verification_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    completion_id: Mapped[int] = mapped_column(sa.ForeignKey("completion.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"))
    title: Mapped[str] = mapped_column(sa.String(120))
    issued_on: Mapped[date]
    expires_on: Mapped[date | None] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.Text)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificate.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    completion: Mapped[Completion] = relationship()
    person: Mapped[Person] = relationship()
    course_type: Mapped[CourseType] = relationship()

    def is_valid_on(self, day: date) -> bool:
        return self.revoked_at is None and (self.expires_on is None or self.expires_on >= day)
