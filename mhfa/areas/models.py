"""Council areas and their populations."""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.db_types import str_enum
from mhfa.extensions import db


class Membership(enum.Enum):
    CONSTITUENT = "constituent"
    NON_CONSTITUENT = "non-constituent"
    OUTSIDE = "outside"


class CouncilArea(db.Model):
    """A local authority area, identified by its ONS GSS code."""

    __tablename__ = "council_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    gss_code: Mapped[str] = mapped_column(sa.String(9), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    membership: Mapped[Membership] = mapped_column(str_enum(Membership))
    in_target_region: Mapped[bool] = mapped_column(default=False)

    populations: Mapped[list[AreaPopulation]] = relationship(
        back_populates="council_area", order_by="AreaPopulation.year", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<CouncilArea {self.gss_code} {self.name}>"


class AgeGroup(enum.Enum):
    ALL_AGES = "all"
    AGED_16_PLUS = "16+"


class AreaPopulation(db.Model):
    """A published population figure for an area, for a year and an age group, with its source."""

    __tablename__ = "area_population"
    __table_args__ = (sa.UniqueConstraint("council_area_id", "year", "age_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_area_id: Mapped[int] = mapped_column(sa.ForeignKey("council_area.id"))
    year: Mapped[int]
    age_group: Mapped[AgeGroup] = mapped_column(str_enum(AgeGroup, 5))
    population: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(200))

    council_area: Mapped[CouncilArea] = relationship(back_populates="populations")


class EqualityPopulation(db.Model):
    """A published population figure for an equality group in an area (aged 16 and over), with its source.

    ``dimension`` is one of age_band, sex, ethnic_group, disability and ``value`` the people area's own
    answer code (for example ``25-34``, ``female``, ``asian``, ``yes``), so figures compare directly.
    """

    __tablename__ = "equality_population"
    __table_args__ = (sa.UniqueConstraint("council_area_id", "dimension", "value", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_area_id: Mapped[int] = mapped_column(sa.ForeignKey("council_area.id"))
    dimension: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[str] = mapped_column(sa.String(30))
    year: Mapped[int]
    population: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(200))

    council_area: Mapped[CouncilArea] = relationship()
