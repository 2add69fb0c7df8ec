"""The Workplace Wellbeing Commitment award's levels and table (its rules are ``mhfa.employers.commitments``)."""
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
    from mhfa.auth.models import User
    from mhfa.employers.models import Employer


class CommitmentLevel(enum.Enum):
    """The Thrive at Work Workplace Wellbeing Commitment's award levels, lowest first."""

    FOUNDATION = "foundation"
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def label(self) -> str:
        return self.name.title()

    @property
    def rank(self) -> int:
        return list(CommitmentLevel).index(self)


class WellbeingCommitment(db.Model):
    """An organisation's Workplace Wellbeing Commitment award: its level, when it was awarded and until when.

    One per organisation, changed in place (every change is in the audit log). A contact may record it
    (then it waits for the programme team's check); a coordinator records, verifies or changes it. Only a
    verified award that has not expired counts, on the board's dashboard and the public list.
    """

    __tablename__ = "wellbeing_commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(sa.ForeignKey("employer.id", ondelete="CASCADE"), unique=True)
    level: Mapped[CommitmentLevel] = mapped_column(str_enum(CommitmentLevel))
    awarded_on: Mapped[date]
    expires_on: Mapped[date] = mapped_column(index=True)
    #: The programme's reference for the award (Thrive at Work's own).
    reference: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    verified_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Opt-in: shown on the public list of committed employers.
    listed_publicly: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employer: Mapped[Employer] = relationship(back_populates="commitment")
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_user_id])

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def current_on(self, day: date) -> bool:
        return self.awarded_on <= day <= self.expires_on
