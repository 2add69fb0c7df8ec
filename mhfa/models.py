"""Every model, imported once so that metadata (and Alembic) sees the whole schema."""
from mhfa.api.idempotency import IdempotencyKey
from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea, Membership
from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion, CompletionSource, NonCompletion
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role, User, UserRole, UserSession
from mhfa.bookings.models import Booking, BookingSource, BookingStatus, CourseInterest
from mhfa.certificates.models import Certificate, CertificateReissue
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
from mhfa.employers.billing import Invoice, InvoiceCounter
from mhfa.employers.models import (
    ClosedCourseRequest,
    Employer,
    EmployerContact,
    Order,
    OrderStatus,
    PlaceVoucher,
    Sector,
    SizeBand,
    VoucherStatus,
)
from mhfa.forecast.models import ForecastJob, ForecastRun
from mhfa.notify.models import OutboxMessage, OutboxStatus, SentReminder
from mhfa.outcomes.models import OutcomeAnswer, OutcomeCourseType, OutcomeInvite, OutcomeOptOut, Questionnaire
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Person, PersonSource, Sex
from mhfa.reach.models import ProgrammeSettings, ReachFirst, ReachGroupMonth, ReachMonth, ReachRelease
from mhfa.security.ratelimit import RateLimitCounter

__all__ = [
    "AgeBand", "AgeGroup", "AreaPopulation", "AttendanceMark", "AttendanceStatus", "AuditEvent", "Booking",
    "BookingSource", "BookingStatus", "CalendarFeed", "Certificate", "CertificateReissue", "ClosedCourseRequest",
    "Completion", "CompletionSource", "CouncilArea", "Course", "CourseInterest", "CourseSession", "CourseStatus",
    "CourseType", "DeliveryMode", "Disability", "Employer", "EmployerContact", "EthnicGroup", "FeedKind", "ForecastJob",
    "ForecastRun", "IdempotencyKey", "Instructor", "Invoice", "InvoiceCounter", "Membership", "NonCompletion",
    "Order", "OrderStatus", "OutboxMessage", "OutboxStatus", "OutcomeAnswer", "OutcomeCourseType", "OutcomeInvite",
    "OutcomeOptOut", "Person", "PersonSource", "PlaceVoucher", "ProgrammeSettings", "Questionnaire",
    "RateLimitCounter", "ReachFirst", "ReachGroupMonth", "ReachMonth", "ReachRelease", "Role", "Sector",
    "SentReminder", "Sex", "SizeBand", "User", "UserRole", "UserSession", "Venue", "VoucherStatus",
]
