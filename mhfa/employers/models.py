"""Employers, their group orders, invoices and place vouchers."""
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
    from mhfa.courses.models import CourseType
    from mhfa.people.models import Person


class Sector(enum.Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    VOLUNTARY = "voluntary"
    EDUCATION = "education"
    HEALTH = "health"

    @property
    def label(self) -> str:
        return {
            Sector.PUBLIC: "Public sector",
            Sector.PRIVATE: "Private sector",
            Sector.VOLUNTARY: "Voluntary and community sector",
            Sector.EDUCATION: "Education",
            Sector.HEALTH: "Health and care",
        }[self]


class SizeBand(enum.Enum):
    """Employer size by staff headcount, in the ONS bands."""

    MICRO = "micro"  # 0-9
    SMALL = "small"  # 10-49
    MEDIUM = "medium"  # 50-249
    LARGE = "large"  # 250+

    @property
    def label(self) -> str:
        return {
            SizeBand.MICRO: "Micro (fewer than 10 staff)",
            SizeBand.SMALL: "Small (10 to 49 staff)",
            SizeBand.MEDIUM: "Medium (50 to 249 staff)",
            SizeBand.LARGE: "Large (250 or more staff)",
        }[self]


class Employer(db.Model):
    __tablename__ = "employer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    sector: Mapped[Sector] = mapped_column(str_enum(Sector))
    size_band: Mapped[SizeBand] = mapped_column(str_enum(SizeBand))
    council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"), index=True)
    wellbeing_commitment_signatory: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    council_area: Mapped[CouncilArea | None] = relationship()
    orders: Mapped[list[Order]] = relationship(back_populates="employer", order_by="Order.ordered_at")


class OrderStatus(enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Order(db.Model):
    """A block of places on one course type bought by an employer."""

    __tablename__ = "employer_order"
    __table_args__ = (sa.CheckConstraint("places > 0", name="places_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(sa.ForeignKey("employer.id"), index=True)
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"))
    purchase_order_ref: Mapped[str] = mapped_column(sa.String(60), default="")
    places: Mapped[int]
    price_per_place_pence: Mapped[int]
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.PENDING)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    employer: Mapped[Employer] = relationship(back_populates="orders")
    course_type: Mapped[CourseType] = relationship()
    invoices: Mapped[list[Invoice]] = relationship(back_populates="order")
    vouchers: Mapped[list[PlaceVoucher]] = relationship(back_populates="order")

    @property
    def total_pence(self) -> int:
        return self.places * self.price_per_place_pence


class Invoice(db.Model):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("employer_order.id"), index=True)
    amount_pence: Mapped[int]
    issued_on: Mapped[date]
    due_on: Mapped[date]
    paid_on: Mapped[date | None]

    order: Mapped[Order] = relationship(back_populates="invoices")


class VoucherStatus(enum.Enum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"


class PlaceVoucher(db.Model):
    """One paid place, handed by an employer to a member of staff through an unguessable code."""

    __tablename__ = "place_voucher"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("employer_order.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[VoucherStatus] = mapped_column(str_enum(VoucherStatus), default=VoucherStatus.AVAILABLE)
    assigned_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_on: Mapped[date | None]

    order: Mapped[Order] = relationship(back_populates="vouchers")
    assigned_person: Mapped[Person | None] = relationship()
