"""Employers, their contacts, group orders, place vouchers and closed-course requests.

An order's invoices and credit notes are ``mhfa.employers.billing``; the wellbeing award, ``mhfa.employers.awards``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mhfa.courses.models import FundingStream
from mhfa.db_types import UTCDateTime, str_enum
from mhfa.employers.awards import WellbeingCommitment
from mhfa.employers.billing import CreditNote, Invoice, vat_on
from mhfa.extensions import db
from mhfa.timeutil import to_london, utcnow

if TYPE_CHECKING:
    from mhfa.areas.models import CouncilArea
    from mhfa.auth.models import User
    from mhfa.courses.models import Course, CourseType
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


class EmployerStatus(enum.Enum):
    """A registration waits for the programme team's approval before the organisation can buy places."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {EmployerStatus.PENDING: "Waiting for approval", EmployerStatus.APPROVED: "Approved",
                EmployerStatus.REJECTED: "Not approved"}[self]


class Employer(db.Model):
    __tablename__ = "employer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    sector: Mapped[Sector] = mapped_column(str_enum(Sector))
    size_band: Mapped[SizeBand] = mapped_column(str_enum(SizeBand))
    council_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("council_area.id"), index=True)
    wellbeing_commitment_signatory: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[EmployerStatus] = mapped_column(str_enum(EmployerStatus), default=EmployerStatus.APPROVED,
                                                   server_default=EmployerStatus.APPROVED.value)
    headcount: Mapped[int | None]
    #: "No PO, no pay": the organisation's orders are refused without a purchase-order number.
    requires_purchase_order: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    billing_address: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    council_area: Mapped[CouncilArea | None] = relationship()
    orders: Mapped[list[Order]] = relationship(back_populates="employer", order_by="Order.ordered_at")
    contacts: Mapped[list[EmployerContact]] = relationship(back_populates="employer",
                                                           order_by="EmployerContact.id")
    commitment: Mapped[WellbeingCommitment | None] = relationship(back_populates="employer", uselist=False)

    @property
    def is_approved(self) -> bool:
        return self.status is EmployerStatus.APPROVED


class EmployerContact(db.Model):
    """A person who speaks for an organisation: buys its places and hands them to its staff.

    This relation (set by the programme team, or by an invitation the invitee confirmed) is the only
    thing that says which organisation a contact speaks for; the employer a person picks on their
    own profile never does. An invitation has an email and a token digest and no user until accepted.
    """

    __tablename__ = "employer_contact"
    __table_args__ = (sa.UniqueConstraint("employer_id", "email", name="uq_employer_contact_employer_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(sa.ForeignKey("employer.id"), index=True)
    #: One organisation per contact account.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    token_digest: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invited_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    employer: Mapped[Employer] = relationship(back_populates="contacts")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None and self.user_id is not None


class OrderStatus(enum.Enum):
    PENDING = "pending"      # placed by the contact, waiting for the programme team to invoice it
    INVOICED = "invoiced"    # invoice issued: the places can be used
    PAID = "paid"            # a coordinator recorded the payment
    CANCELLED = "cancelled"  # unused places released

    @property
    def label(self) -> str:
        return {OrderStatus.PENDING: "Waiting for invoice", OrderStatus.INVOICED: "Invoiced",
                OrderStatus.PAID: "Paid", OrderStatus.CANCELLED: "Cancelled"}[self]


#: The order states whose place vouchers pay for bookings.
USABLE_ORDER_STATUSES = (OrderStatus.INVOICED, OrderStatus.PAID)


class OrderKind(enum.Enum):
    COURSE_TYPE = "course_type"      # N places on any public course of a type
    COURSE = "course"                # N places on one course
    CLOSED_COURSE = "closed_course"  # every place of a course run for the organisation alone

    @property
    def label(self) -> str:
        return {OrderKind.COURSE_TYPE: "Places on any public course of a type",
                OrderKind.COURSE: "Places on one course",
                OrderKind.CLOSED_COURSE: "A whole closed course for your staff"}[self]


class Order(db.Model):
    """A block of places bought by an employer: on a course type, on one course, or a whole closed course."""

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
    kind: Mapped[OrderKind] = mapped_column(str_enum(OrderKind), default=OrderKind.COURSE_TYPE,
                                            server_default=OrderKind.COURSE_TYPE.value)
    #: The course the places are for (kinds COURSE and CLOSED_COURSE); None: any public course of the type.
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"), index=True)
    billing_address: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: VAT rate in basis points (2000 = 20%), fixed when the order is placed.
    vat_rate_bp: Mapped[int] = mapped_column(default=2000, server_default="2000")
    invoiced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    funding_stream: Mapped[FundingStream] = mapped_column(
        str_enum(FundingStream), default=FundingStream.EMPLOYER_PAID, server_default=FundingStream.EMPLOYER_PAID.value)

    employer: Mapped[Employer] = relationship(back_populates="orders")
    course_type: Mapped[CourseType] = relationship()
    course: Mapped[Course | None] = relationship()
    invoices: Mapped[list[Invoice]] = relationship(back_populates="order", order_by="Invoice.id")
    credit_notes: Mapped[list[CreditNote]] = relationship(back_populates="order", order_by="CreditNote.id")
    vouchers: Mapped[list[PlaceVoucher]] = relationship(back_populates="order", order_by="PlaceVoucher.id")

    @property
    def places_usable(self) -> bool:
        """Whether the order's vouchers pay for places (it has been invoiced, and not cancelled)."""
        return self.status in USABLE_ORDER_STATUSES

    @property
    def net_pence(self) -> int:
        return self.places * self.price_per_place_pence

    @property
    def vat_pence(self) -> int:
        return vat_on(self.net_pence, self.vat_rate_bp)

    @property
    def total_pence(self) -> int:
        return self.net_pence + self.vat_pence

    @property
    def invoice(self) -> Invoice | None:
        return self.invoices[-1] if self.invoices else None


class VoucherStatus(enum.Enum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"


class OfferState(enum.Enum):
    """A place given to an address that already has an account is an offer, until its owner answers."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {OfferState.OFFERED: "Offered: waiting for them to accept or decline",
                OfferState.ACCEPTED: "Accepted", OfferState.DECLINED: "Declined"}[self]


class PlaceVoucher(db.Model):
    """One paid place, handed by an employer to a member of staff through an unguessable code.

    ``given_*`` hold the name and address the contact typed when giving it: the employer's pages show
    those, never the name on the record they matched. ``offer`` is set when the address already had an
    account: nothing may be booked with the place until its owner accepts it (``mhfa.employers.vouchers``).
    """

    __tablename__ = "place_voucher"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("employer_order.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[VoucherStatus] = mapped_column(str_enum(VoucherStatus), default=VoucherStatus.AVAILABLE)
    assigned_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_on: Mapped[date | None]
    #: When the member of staff was last emailed the link to claim the place.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_first_name: Mapped[str | None] = mapped_column(sa.String(100))
    given_last_name: Mapped[str | None] = mapped_column(sa.String(100))
    given_email: Mapped[str | None] = mapped_column(sa.String(254))
    offer: Mapped[OfferState | None] = mapped_column(str_enum(OfferState))
    offer_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="vouchers")
    assigned_person: Mapped[Person | None] = relationship()

    @property
    def given_name(self) -> str:
        """The name the contact typed for the place (what the employer's pages show)."""
        return f"{self.given_first_name or ''} {self.given_last_name or ''}".strip()

    @property
    def waiting_for_answer(self) -> bool:
        return self.offer is OfferState.OFFERED and self.status is VoucherStatus.ASSIGNED

    @property
    def usable_by_employer(self) -> bool:
        """Whether the contact may book with it: given to someone who needs no consent, or who accepted."""
        return self.assigned_person_id is not None and self.offer in (None, OfferState.ACCEPTED)

    # --- its state changes here, and only here ---------------------------------------------------------

    def give(self, person: Person | None, now: datetime) -> None:
        """Hand the place to a member of staff: theirs, unspent, until a booking uses it."""
        self.status = VoucherStatus.ASSIGNED
        self.assigned_person = person
        self.assigned_at = now

    def take_back(self) -> None:
        """The place goes back to its organisation unused (an offer declined), to give to someone else."""
        self.status = VoucherStatus.AVAILABLE
        self.assigned_person = None
        self.assigned_at = None

    def use(self, *, seat: bool, person_id: int, now: datetime) -> None:
        """A booking uses the place: a seat spends it; a waiting-list place holds it until promoted."""
        self.status = VoucherStatus.REDEEMED if seat else VoucherStatus.ASSIGNED
        if self.assigned_person_id is None:
            self.assigned_person_id, self.assigned_at = person_id, now

    def spend(self) -> None:
        """The waiting-list place holding it became a seat: the place is spent."""
        if self.status is VoucherStatus.ASSIGNED:
            self.status = VoucherStatus.REDEEMED

    def give_back(self) -> None:
        """Its booking ended without using it: the place is its holder's again (a cancelled one stays so)."""
        if self.status in (VoucherStatus.ASSIGNED, VoucherStatus.REDEEMED):
            self.status = VoucherStatus.ASSIGNED

    def cancel(self) -> None:
        """Its order was cancelled before the place was used."""
        self.status = VoucherStatus.CANCELLED

    def refusal(self, person: Person, course: Course, now: datetime | None = None) -> VoucherRefusal | None:
        """Why this place cannot pay for ``person``'s place on ``course``, or None when it can.

        The voucher's own answer; a place held by a waiting-list booking is the bookings area's to refuse
        (``mhfa.bookings.vouchers.usable_voucher``), as only it knows whether that place can still move.
        """
        order = self.order
        if self.status is VoucherStatus.REDEEMED:
            return VoucherRefusal("that place voucher has already been used", taken=True)
        if self.status is VoucherStatus.CANCELLED or order.status is OrderStatus.CANCELLED:
            return VoucherRefusal("that place voucher has been cancelled")
        if not order.places_usable:
            return VoucherRefusal("that place voucher cannot be used yet: your employer's order for it has not been "
                                  "confirmed")
        if order.course_id is not None and order.course_id != course.id:
            return VoucherRefusal("that place voucher is for another course: use it on the course your employer chose")
        if self.expires_on is not None and self.expires_on < to_london(course.starts_at).date():
            return VoucherRefusal(f"that place voucher expires on {self.expires_on:%-d %B %Y}, before this course")
        if course.employer_id is not None and order.employer_id != course.employer_id:
            return VoucherRefusal("that place voucher is not for this course: it belongs to another employer")
        if order.course_type_id != course.course_type_id:
            return VoucherRefusal(f"that place voucher is for {order.course_type.name}, not this course")
        if self.assigned_person_id is not None and self.assigned_person_id != person.id:
            return VoucherRefusal("that place voucher has been given to someone else")
        return None


@dataclass(frozen=True)
class VoucherRefusal:
    """Why a place voucher cannot be used; ``taken``: it was used already (a conflict, not a rule)."""

    message: str
    taken: bool = False


class ClosedCourseRequestStatus(enum.Enum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {ClosedCourseRequestStatus.OPEN: "Waiting to be scheduled",
                ClosedCourseRequestStatus.SCHEDULED: "Scheduled",
                ClosedCourseRequestStatus.DECLINED: "Declined"}[self]


class ClosedCourseRequest(db.Model):
    """An organisation asks for a course run for its staff alone; the programme team schedules it."""

    __tablename__ = "closed_course_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(sa.ForeignKey("employer.id"), index=True)
    course_type_id: Mapped[int] = mapped_column(sa.ForeignKey("course_type.id"))
    preferred_dates: Mapped[str] = mapped_column(sa.String(500))
    location: Mapped[str] = mapped_column(sa.String(500))
    learners: Mapped[int | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[ClosedCourseRequestStatus] = mapped_column(
        str_enum(ClosedCourseRequestStatus), default=ClosedCourseRequestStatus.OPEN,
        server_default=ClosedCourseRequestStatus.OPEN.value)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"))
    requested_by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employer: Mapped[Employer] = relationship()
    course_type: Mapped[CourseType] = relationship()
    course: Mapped[Course | None] = relationship()
