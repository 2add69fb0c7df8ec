"""Closed-course requests, and bookings the programme team makes for someone (a phone booking).

A contact asks for a course run for their staff alone (type, preferred dates, location). A
coordinator schedules it as a closed course for the organisation (the course form's "Only staff
of …"), then links it to the request: the contact is told and can order its places. Only the
organisation's staff can book a closed course (the bookings rules: a voucher of that employer).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.bookings import services as bookings
from mhfa.bookings.models import Booking, BookingSource
from mhfa.courses.models import Course, CourseStatus, CourseType
from mhfa.employers import lookup
from mhfa.employers.models import ClosedCourseRequest, ClosedCourseRequestStatus, Employer
from mhfa.employers.vouchers import check_member
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.notify.messages import absolute_url, send
from mhfa.people.models import Person, PersonSource


@dataclass
class RequestDetails:
    course_type_id: int | None
    preferred_dates: str
    location: str
    learners: int | None = None
    notes: str = ""


def request_closed_course(employer: Employer, details: RequestDetails, *, by: User) -> ClosedCourseRequest:
    kind = lookup.row(CourseType, details.course_type_id)
    if kind is None or not kind.active:
        raise DomainError("Choose a course from the list", field="course_type")
    dates = " ".join((details.preferred_dates or "").split())
    if not dates:
        raise DomainError("Enter the dates you would prefer, like 'any Tuesday in March'", field="preferred_dates")
    location = " ".join((details.location or "").split())
    if not location:
        raise DomainError("Enter where the course should be, or 'online'", field="location")
    if len(dates) > 500 or len(location) > 500:
        raise DomainError("Keep the dates and the location to 500 characters each", field="location")
    if details.learners is not None and not 1 <= details.learners <= kind.max_learners:
        raise DomainError(f"{kind.name} takes 1 to {kind.max_learners} learners", field="learners")
    request = ClosedCourseRequest(employer=employer, course_type=kind, preferred_dates=dates, location=location,
                                  learners=details.learners, notes=(details.notes or "").strip()[:2000],
                                  requested_by_user_id=by.id)
    db.session.add(request)
    db.session.flush()
    audit.record("employer.closed_course_requested", request, by, employer_id=employer.id, course_type=kind.code)
    return request


def requests_of(employer: Employer) -> list[ClosedCourseRequest]:
    return list(db.session.scalars(sa.select(ClosedCourseRequest).where(ClosedCourseRequest.employer_id == employer.id)
                                   .order_by(ClosedCourseRequest.created_at.desc())))


def open_requests() -> list[ClosedCourseRequest]:
    return list(db.session.scalars(sa.select(ClosedCourseRequest).order_by(
        ClosedCourseRequest.status != ClosedCourseRequestStatus.OPEN, ClosedCourseRequest.created_at).limit(200)))


def courses_for_request(request: ClosedCourseRequest) -> list[Course]:
    """The organisation's closed courses of the requested type that could answer it."""
    return list(db.session.scalars(sa.select(Course).where(
        Course.employer_id == request.employer_id, Course.course_type_id == request.course_type_id,
        Course.status.in_([CourseStatus.DRAFT, CourseStatus.PUBLISHED])).order_by(Course.starts_at)))


def schedule_request(request: ClosedCourseRequest, course_id: int | None, *, by: User) -> ClosedCourseRequest:
    if request.status is not ClosedCourseRequestStatus.OPEN:
        raise Conflict("This request has already been answered")
    course = lookup.row(Course, course_id)
    if course is None or course not in courses_for_request(request):
        raise DomainError(f"Choose a closed course of {request.course_type.name} for {request.employer.name}",
                          field="course")
    request.course = course
    request.status = ClosedCourseRequestStatus.SCHEDULED
    db.session.flush()
    audit.record("employer.closed_course_scheduled", request, by, course_id=course.id)
    for contact in request.employer.contacts:
        if contact.is_confirmed:
            send("employer_closed_course", to=contact.email,
                 subject=f"Your closed course is scheduled: {course.course_type.name}", request=request,
                 course=course, url=absolute_url("employers.new_order"))
    return request


def decline_request(request: ClosedCourseRequest, *, by: User) -> ClosedCourseRequest:
    if request.status is not ClosedCourseRequestStatus.OPEN:
        raise Conflict("This request has already been answered")
    request.status = ClosedCourseRequestStatus.DECLINED
    db.session.flush()
    audit.record("employer.closed_course_declined", request, by)
    return request


# --- booking on someone's behalf ------------------------------------------------------------------

@dataclass
class PhoneBooking:
    first_name: str
    last_name: str
    email: str
    date_of_birth: date | None = None
    voucher_code: str = ""


def book_on_behalf(course: Course, details: PhoneBooking, *, by: User) -> Booking:
    """A coordinator books a named person (found by email, or recorded now) with the usual rules and emails."""
    member = check_member(details.first_name, details.last_name, details.email, details.date_of_birth)
    person = db.session.scalar(sa.select(Person).where(sa.func.lower(Person.email) == member.email))
    if person is None:
        person = Person(first_name=member.first_name, last_name=member.last_name, email=member.email,
                        date_of_birth=details.date_of_birth, source=PersonSource.COORDINATOR)
        db.session.add(person)
        db.session.flush()
    elif person.date_of_birth is None and details.date_of_birth is not None:
        person.date_of_birth = details.date_of_birth
    booking = bookings.book(person, course, voucher_code=details.voucher_code or None, booked_by=by,
                            source=BookingSource.COORDINATOR)
    audit.record("booking.made_for", booking, by, person_id=person.id, course_id=course.id,
                 status=booking.status.value, voucher_id=booking.voucher_id)
    return booking
