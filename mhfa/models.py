"""Every model, imported once so that metadata (and Alembic) sees the whole schema."""
from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea, Membership
from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion, CompletionSource
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role, User, UserRole
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import (
    CalendarFeed,
    Course,
    CourseSession,
    CourseStatus,
    CourseType,
    DeliveryMode,
    FeedKind,
    Instructor,
    Venue,
)
from mhfa.employers.models import Employer, Invoice, Order, OrderStatus, PlaceVoucher, Sector, SizeBand, VoucherStatus
from mhfa.forecast.models import ForecastRun
from mhfa.notify.models import SentReminder
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Person, PersonSource, Sex
from mhfa.reach.models import ProgrammeSettings, ReachFirst, ReachGroupMonth, ReachMonth

__all__ = [
    "AgeBand", "AgeGroup", "AreaPopulation", "AttendanceMark", "AttendanceStatus", "AuditEvent",
    "Booking", "BookingSource", "BookingStatus", "CalendarFeed", "Certificate", "Completion",
    "CompletionSource", "CouncilArea", "Course", "CourseSession", "CourseStatus", "CourseType",
    "DeliveryMode", "Disability", "Employer", "EthnicGroup", "FeedKind", "ForecastRun", "Instructor",
    "Invoice", "Membership", "Order", "OrderStatus", "Person", "PersonSource", "PlaceVoucher",
    "ProgrammeSettings", "ReachFirst", "ReachGroupMonth", "ReachMonth",
    "Role", "SentReminder", "Sector", "Sex", "SizeBand", "User", "UserRole", "Venue", "VoucherStatus",
]
