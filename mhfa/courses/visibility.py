"""Who may see a course: open, closed (one employer's), draft and cancelled courses, and the joining link.

Published (and completed) courses are public; closed ones only to the people ``closed_course_access``
names; drafts to coordinators and the course's instructors; cancelled ones also to people booked on them.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from mhfa.auth.models import Role
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import (
    Course,
    CourseStatus,
    Instructor,
    course_instructor,
)
from mhfa.employers.models import USABLE_ORDER_STATUSES, EmployerContact, Order, PlaceVoucher, VoucherStatus
from mhfa.errors import NotFound
from mhfa.extensions import db


def is_staff(user) -> bool:
    """Coordinators see every course, closed and draft ones included."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.COORDINATOR)


def person_id_of(user) -> int | None:
    return getattr(user, "person_id", None) if getattr(user, "is_authenticated", False) else None


def _contact_employer_id(user) -> int | None:
    """The employer an employer contact speaks for: their confirmed ``EmployerContact`` row (set by the
    programme team or an invitation they confirmed), never the employer they pick on their profile."""
    if not getattr(user, "is_authenticated", False) or not user.has_role(Role.EMPLOYER):
        return None
    return db.session.scalar(sa.select(EmployerContact.employer_id).where(
        EmployerContact.user_id == user.id, EmployerContact.confirmed_at.is_not(None)))


def closed_course_access(user):
    """Which closed (one-employer) courses ``user`` may see, as a condition on ``Course``.

    Their employer's contacts, the course's instructors, people with a live booking on it and people
    holding a usable place voucher of that employer (available or assigned to them, on a confirmed
    order). Never the employer a trainee declares on their own profile: anyone can choose that.
    Coordinators are not limited at all (see ``is_staff``).
    """
    conditions = []
    employer_id = _contact_employer_id(user)
    if employer_id is not None:
        conditions.append(Course.employer_id == employer_id)
    person_id = person_id_of(user)
    if person_id is not None:
        conditions += [
            sa.exists().where(
                course_instructor.c.course_id == Course.id,
                course_instructor.c.instructor_id == Instructor.id,
                Instructor.person_id == person_id,
            ),
            sa.exists().where(
                Booking.course_id == Course.id,
                Booking.person_id == person_id,
                Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]),
            ),
            sa.exists().where(
                PlaceVoucher.order_id == Order.id,
                Order.employer_id == Course.employer_id,
                Order.status.in_(USABLE_ORDER_STATUSES),
                PlaceVoucher.status.in_([VoucherStatus.AVAILABLE, VoucherStatus.ASSIGNED]),
                PlaceVoucher.assigned_person_id == person_id,
            ),
        ]
    return sa.or_(*conditions) if conditions else sa.false()


def visible_in_lists(user):
    """Open courses, and the closed ones ``user`` may see."""
    if is_staff(user):
        return sa.true()
    return sa.or_(Course.employer_id.is_(None), closed_course_access(user))


def viewer_booking(course: Course, user) -> Booking | None:
    """The viewer's booking on the course: the live one if any, else the latest cancelled one."""
    person_id = person_id_of(user)
    if person_id is None:
        return None
    return db.session.scalar(
        sa.select(Booking)
        .where(Booking.course_id == course.id, Booking.person_id == person_id)
        .order_by((Booking.status == BookingStatus.CANCELLED).asc(), Booking.id.desc())
        .limit(1)
    )


def can_view_course(course: Course, user, booking: Booking | None = None) -> bool:
    """Published (and completed) courses are public, except closed ones (see ``closed_course_access``);
    drafts only staff and the course's instructors; cancelled ones also people booked on them."""
    if is_staff(user) or course.is_taught_by(user):
        return True
    if course.status is CourseStatus.DRAFT:
        return False
    if course.status is CourseStatus.CANCELLED:
        return booking is not None
    if course.is_closed:
        if booking is not None and booking.status is not BookingStatus.CANCELLED:
            return True
        return db.session.scalar(
            sa.select(Course.id).where(Course.id == course.id, closed_course_access(user))
        ) is not None
    return True


def can_see_joining_url(course: Course, user, booking: Booking | None = None) -> bool:
    """The joining link of an online course: its confirmed trainees, its instructors and coordinators."""
    if not course.joining_url:
        return False
    if is_staff(user) or course.is_taught_by(user):
        return True
    return booking is not None and booking.status is BookingStatus.CONFIRMED


def course_for_viewer(course_id: int, user) -> tuple[Course, Booking | None]:
    """The course and the viewer's booking on it; NotFound when the viewer may not see it."""
    course = db.session.get(
        Course, course_id,
        options=[joinedload(Course.course_type), joinedload(Course.venue), selectinload(Course.sessions),
                 selectinload(Course.instructors)],
    )
    if course is None:
        raise NotFound("There is no such course.")
    booking = viewer_booking(course, user)
    if not can_view_course(course, user, booking):
        raise NotFound("There is no such course.")
    return course, booking
