"""The demo logins: one account per role, linked to fitting people of the history."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from mhfa.auth.models import Role, User
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.courses.models import Course, CourseStatus
from mhfa.employers.models import EmployerContact
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.timeutil import utcnow

DEMO_PASSWORD = "reach-demo-2017"  # noqa: S105  (printed for everyone: demo accounts only)
DEMO_DOMAIN = "example.org"


def demo_logins() -> list[tuple[str, str]]:
    return [(role.value, f"{role.value}@{DEMO_DOMAIN}") for role in Role]


def demo_accounts(builder) -> list[tuple[str, str]]:
    """One login per role, linked to fitting people of the history."""
    trainee = _pick_demo_trainee(builder)
    instructor_person = _pick_demo_instructor(builder)
    employer_id = builder.top_employer
    # The accounts are made "now", but never after --today: the history ends there.
    stamp = min(utcnow(), datetime.combine(builder.today, datetime.min.time(), tzinfo=UTC) - timedelta(hours=1))
    logins = []
    for role in Role:
        email = f"{role.value}@{DEMO_DOMAIN}"
        if role is Role.TRAINEE and trainee is not None:
            person = db.session.get(Person, trainee)
            if person.date_of_birth is None:  # the age rules need one: the demo trainee can book at once
                person.date_of_birth = date.fromisoformat(str(builder.dob[trainee - 1].astype("datetime64[D]")))
        elif role is Role.INSTRUCTOR and instructor_person is not None:
            person = db.session.get(Person, instructor_person)
        else:
            first, last = {
                Role.EMPLOYER: ("Erin", "Employer"), Role.COORDINATOR: ("Cara", "Coordinator"),
                Role.BOARD: ("Bola", "Board"), Role.ADMIN: ("Adam", "Admin"), Role.TRAINEE: ("Tara", "Trainee"),
                Role.INSTRUCTOR: ("Ivan", "Instructor"),
            }[role]
            person = Person(first_name=first, last_name=last)
            db.session.add(person)
            if role is Role.EMPLOYER:
                person.employer_id = employer_id
                contact = EmployerContact(employer_id=employer_id, email=email, confirmed_at=utcnow())
                db.session.add(contact)
        person.email = email
        user = User(email=email, person=person, created_at=stamp)
        if person.created_at is None or person.created_at > stamp:
            person.created_at = stamp
        user.set_password(DEMO_PASSWORD)
        user.grant(role)
        user.email_confirmed_at = stamp
        db.session.add(user)
        if role is Role.EMPLOYER:
            contact.user = user
        logins.append((role.value, email))
    db.session.flush()
    if trainee is not None:
        ref = builder.ref
        preferred = [int(ref.type_ids[ref.type_index(code)]) for code in ("REFRESHER", "AWARE", "ADULT_CHAMPION")]
        _book_ahead(trainee, preferred, builder.today, stamp)
    return logins


def _book_ahead(person_id: int, course_type_ids: list[int], today: date, stamp: datetime) -> None:
    """Give the demo trainee a place ahead: the first open course with room, of the first type that has one."""
    after = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    booked_ahead = db.session.scalar(
        sa.select(sa.func.count(Booking.id)).join(Course)
        .where(Booking.person_id == person_id, Booking.status != BookingStatus.CANCELLED, Course.ends_at > after)
    )
    if booked_ahead:
        return
    confirmed = (
        sa.select(sa.func.count(Booking.id))
        .where(Booking.course_id == Course.id, Booking.status == BookingStatus.CONFIRMED)
        .scalar_subquery()
    )
    for course_type_id in course_type_ids:
        course = db.session.scalar(
            sa.select(Course)
            .where(Course.course_type_id == course_type_id, Course.status == CourseStatus.PUBLISHED,
                   Course.employer_id.is_(None), Course.starts_at > after, confirmed < Course.capacity)
            .order_by(Course.starts_at)
            .limit(1)
        )
        if course is not None:
            db.session.add(Booking(course_id=course.id, person_id=person_id, status=BookingStatus.CONFIRMED,
                                   source=BookingSource.SELF, created_at=stamp, confirmed_at=stamp))
            return


def _pick_demo_trainee(builder) -> int | None:
    """A person holding a two-day certificate (the most recent such completion)."""
    ref = builder.ref
    two_day = builder.completed_type == ref.type_index("ADULT_2DAY")
    if not two_day.any():
        return None
    return int(builder.completed_person[np.flatnonzero(two_day)[-1]]) + 1


def _pick_demo_instructor(builder) -> int | None:
    """The instructor teaching the first published course ahead."""
    ahead = np.flatnonzero(builder.course_status == "published")
    for course_index in ahead[np.argsort(builder.course_first_start[ahead], kind="stable")]:
        instructor = builder.course_instructors.get(int(course_index) + 1)
        if instructor is not None:
            return int(builder.instructor_person[int(instructor) - 1])
    return None
