"""People: everyone the programme knows about, with or without an account."""
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
    from mhfa.areas.models import CouncilArea
    from mhfa.employers.models import Employer


class AgeBand(enum.Enum):
    AGE_16_24 = "16-24"
    AGE_25_34 = "25-34"
    AGE_35_44 = "35-44"
    AGE_45_54 = "45-54"
    AGE_55_64 = "55-64"
    AGE_65_PLUS = "65+"
    PREFER_NOT_TO_SAY = "prefer-not-to-say"


class Sex(enum.Enum):
    FEMALE = "female"
    MALE = "male"
    PREFER_NOT_TO_SAY = "prefer-not-to-say"


class EthnicGroup(enum.Enum):
    """The five high-level ethnic groups of the ONS Census 2021 classification."""

    ASIAN = "asian"
    BLACK = "black"
    MIXED = "mixed"
    WHITE = "white"
    OTHER = "other"
    PREFER_NOT_TO_SAY = "prefer-not-to-say"


class Disability(enum.Enum):
    YES = "yes"
    NO = "no"
    PREFER_NOT_TO_SAY = "prefer-not-to-say"


class PersonSource(enum.Enum):
    REGISTRATION = "registration"
    EMPLOYER = "employer"
    IMPORT = "import"
    COORDINATOR = "coordinator"
    DEMO = "demo"


class Person(db.Model):
    """A trainee, employee, instructor or staff member: anyone who can be trained or reached."""

    __tablename__ = "person"
    __table_args__ = (
        sa.Index("ix_person_identity", "last_name", "first_name", "date_of_birth"),
        # Addresses are matched however they were capitalised (staff lists, imports, invitations).
        sa.Index("ix_person_email_lower", sa.func.lower(sa.column("email"))),
        # The few erased records, read by every revocation list (their certificates' bits are set).
        sa.Index("ix_person_erased", "erased_at", postgresql_where=sa.text("erased_at IS NOT NULL"),
                 sqlite_where=sa.text("erased_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    date_of_birth: Mapped[date | None]
    postcode: Mapped[str | None] = mapped_column(sa.String(10))
    home_council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"), index=True)
    work_council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employer.id"), index=True)
    age_band: Mapped[AgeBand | None] = mapped_column(str_enum(AgeBand))
    sex: Mapped[Sex | None] = mapped_column(str_enum(Sex))
    ethnic_group: Mapped[EthnicGroup | None] = mapped_column(str_enum(EthnicGroup))
    disability: Mapped[Disability | None] = mapped_column(str_enum(Disability))
    source: Mapped[PersonSource] = mapped_column(str_enum(PersonSource), default=PersonSource.REGISTRATION)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    home_council_area: Mapped[CouncilArea | None] = relationship(foreign_keys=[home_council_area_id])
    work_council_area: Mapped[CouncilArea | None] = relationship(foreign_keys=[work_council_area_id])
    employer: Mapped[Employer | None] = relationship(foreign_keys=[employer_id])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.full_name}>"
