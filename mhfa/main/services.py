"""What each role's home page shows: a short summary of the work waiting for them."""
from __future__ import annotations

import sqlalchemy as sa

from mhfa.attendance import teaching
from mhfa.auth.models import Role, User, UserRole
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses import listings
from mhfa.courses.listings import ManageFilters
from mhfa.courses.models import Course, CourseStatus, Instructor, course_instructor
from mhfa.employers import coverage, organisations, reports
from mhfa.employers.models import (
    Employer,
    EmployerStatus,
    Order,
    OrderStatus,
)
from mhfa.extensions import db
from mhfa.timeutil import utcnow


def database_answers() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return False


def trainee_summary(user: User) -> dict:
    now = utcnow()
    upcoming = db.session.scalars(
        sa.select(Booking)
        .join(Course)
        .where(Booking.person_id == user.person_id, Booking.status != BookingStatus.CANCELLED, Course.ends_at >= now)
        .order_by(Course.starts_at)
        .limit(5)
    ).all()
    certificates = db.session.scalars(
        sa.select(Certificate)
        .where(Certificate.person_id == user.person_id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.issued_on.desc())
    ).all()
    return {"upcoming": upcoming, "certificates": certificates}


def instructor_summary(user: User) -> dict:
    now = utcnow()
    courses = db.session.scalars(
        sa.select(Course)
        .join(course_instructor)
        .join(Instructor)
        .where(Instructor.person_id == user.person_id, Course.ends_at >= now, Course.status == CourseStatus.PUBLISHED)
        .order_by(Course.starts_at)
        .limit(5)
    ).all()
    instructor = db.session.scalar(sa.select(Instructor).where(Instructor.person_id == user.person_id))
    started = db.session.scalars(
        sa.select(Course).join(course_instructor).join(Instructor)
        .where(Instructor.person_id == user.person_id, Course.status == CourseStatus.PUBLISHED,
               Course.starts_at <= now)
    ).all()
    return {"courses": courses, "instructor": instructor, "to_do": teaching.work_left(list(started), now)}


def employer_summary(user: User) -> dict:
    """The organisation the contact speaks for (the contact relation, never the employer on their profile)."""
    row = organisations.contact_row(user)
    if row is None:
        return {"employer": None, "pending": None}
    employer = row.employer
    if not employer.is_approved:
        return {"employer": None, "pending": employer}
    orders = db.session.scalars(
        sa.select(Order).where(Order.employer_id == employer.id).order_by(Order.ordered_at.desc()).limit(5)
    ).all()
    return {"employer": employer, "orders": orders, "places": reports.places(employer),
            "first_aiders": coverage.first_aiders(employer, months=1).current}


#: The coordinator's cards of courses, each the course list with these filters: its count is the list's length.
COORDINATOR_COURSE_CARDS = {
    "published_next_4_weeks": ManageFilters(status=CourseStatus.PUBLISHED, starting="next-4-weeks"),
    "without_instructor": ManageFilters(starting="upcoming", needs_instructor=True),
    "drafts": ManageFilters(status=CourseStatus.DRAFT),
}


def coordinator_summary() -> dict:
    """The programme team's figures; each card of courses counts the course list its link opens
    (``course_filters``: the list's filters by card)."""
    now = utcnow()
    courses = {key: listings.count_courses(filters, now) for key, filters in COORDINATOR_COURSE_CARDS.items()}
    pending_employers = db.session.scalar(
        sa.select(sa.func.count(Employer.id)).where(Employer.status == EmployerStatus.PENDING)
    )
    pending_orders = db.session.scalar(
        sa.select(sa.func.count(Order.id)).where(Order.status == OrderStatus.PENDING)
    )
    return {
        **courses,
        "course_filters": {key: filters.as_query() for key, filters in COORDINATOR_COURSE_CARDS.items()},
        "pending_orders": pending_orders,
        "pending_employers": pending_employers,
        "employers": db.session.scalar(sa.select(sa.func.count(Employer.id))),
    }


def admin_summary() -> dict:
    counts = db.session.execute(
        sa.select(UserRole.role, sa.func.count()).group_by(UserRole.role)
    ).all()
    by_role = {role: count for role, count in counts}
    return {"users": db.session.scalar(sa.select(sa.func.count(User.id))),
            "by_role": [(role, by_role.get(role, 0)) for role in Role]}
