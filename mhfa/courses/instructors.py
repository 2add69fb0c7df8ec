"""Instructors: their licences, and putting them on (or taking them off) courses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa import dates, names
from mhfa.audit import services as audit
from mhfa.auth.models import User
from mhfa.auth.services import normalise_email, person_with_email
from mhfa.courses.models import (
    Course,
    CourseType,
    Instructor,
    InstructorQualification,
    course_instructor,
    instructor_course_type,
)
from mhfa.courses.rules import instructor_problem
from mhfa.courses.scheduling import delete_unless_on_courses, refuse_if_closed_for_changes
from mhfa.courses.visibility import person_id_of
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
from mhfa.locks import lock_instructor
from mhfa.people.models import Person
from mhfa.timeutil import london_today, to_london


def assign_instructor(course: Course, instructor: Instructor, actor: User | None = None) -> Course:
    """Put a licensed instructor on a course, unless their licence or another course gets in the way."""
    refuse_if_closed_for_changes(course)
    lock_instructor(instructor)  # before the clash check, so two assignments at once cannot both pass it
    if instructor in course.instructors:
        raise DomainError(f"{instructor.person.full_name} is already teaching this course.", field="instructor")
    problem = instructor_problem(instructor, list(course.sessions), exclude_course=course,
                                 course_type=course.course_type)
    if problem:
        raise DomainError(problem, field="instructor")
    course.instructors.append(instructor)
    db.session.flush()
    audit.record("course.instructor_assigned", course, actor, instructor_id=instructor.id,
                 licence_number=instructor.licence_number)
    return course


def remove_instructor(course: Course, instructor: Instructor, actor: User | None = None) -> Course:
    refuse_if_closed_for_changes(course)
    if instructor not in course.instructors:
        raise NotFound("That instructor is not on this course.")
    course.instructors.remove(instructor)
    db.session.flush()
    audit.record("course.instructor_removed", course, actor, instructor_id=instructor.id,
                 licence_number=instructor.licence_number)
    return course


def instructors_available_for(course: Course) -> list[Instructor]:
    """Active instructors not yet on the course whose licence lasts until it ends, by name (the list to choose from)."""
    assigned = {i.id for i in course.instructors}
    last_day = max(london_today(), to_london(course.ends_at).date()) if course.ends_at else london_today()
    rows = db.session.scalars(
        sa.select(Instructor).join(Person, Person.id == Instructor.person_id)
        .join(instructor_course_type, instructor_course_type.c.instructor_id == Instructor.id)
        .where(Instructor.active.is_(True), Instructor.licence_expires_on >= last_day,
               instructor_course_type.c.course_type_id == course.course_type_id)
        .order_by(Person.last_name, Person.first_name)
        .options(joinedload(Instructor.person))
    )
    return [i for i in rows if i.id not in assigned]


@dataclass
class InstructorDetails:
    first_name: str
    last_name: str
    email: str
    licence_number: str
    licence_expires_on: date
    active: bool = True
    course_types: list[CourseType] | None = None   # None: every active course type (new), unchanged (update)
    #: When the instructor qualified for the course types newly ticked (and those with no date yet);
    #: None: today.
    qualified_on: date | None = None


def _licensed_types(details: InstructorDetails, instructor: Instructor | None) -> list[CourseType]:
    if details.course_types is None:
        if instructor is not None:
            return list(instructor.course_types)
        return list(db.session.scalars(sa.select(CourseType).where(CourseType.active.is_(True))))
    if not details.course_types:
        raise DomainError("Choose the courses the licence covers", field="licensed_types")
    return list({kind.id: kind for kind in details.course_types}.values())


def _qualify(instructor: Instructor, kinds: list[CourseType], details: InstructorDetails) -> list[dict]:
    """Make the instructor's qualifications exactly ``kinds``: a kind newly added (or with no date yet) gets
    ``details.qualified_on``; the others keep their dates. Returns the qualifications for the audit log."""
    day = _qualified_on(details)
    held = {q.course_type_id: q for q in instructor.qualifications}
    wanted = {kind.id for kind in kinds}
    for kind_id, qualification in list(held.items()):
        if kind_id not in wanted:
            instructor.qualifications.remove(qualification)
    for kind in kinds:
        if kind.id not in held:
            instructor.qualifications.append(InstructorQualification(course_type=kind, qualified_on=day))
        elif held[kind.id].qualified_on is None and details.qualified_on is not None:
            held[kind.id].qualified_on = day
    db.session.flush()
    if sa.inspect(instructor).persistent:
        db.session.expire(instructor, ["course_types"])  # the same rows, read again
    return [{"course_type": q.course_type.code,
             "qualified_on": q.qualified_on.isoformat() if q.qualified_on else None}
            for q in instructor.qualifications]


def _qualified_on(details: InstructorDetails) -> date:
    day = details.qualified_on or london_today()
    return dates.PROGRAMME.up_to_today().check(day, "The date qualified", field="qualified_on")


def _licence_number(text: str) -> str:
    number = re.sub(r"\s+", "", text or "").upper()
    if not number:
        raise DomainError("Enter the licence number", field="licence_number")
    return number


def _check_licence_unique(number: str, instructor: Instructor | None) -> None:
    other = db.session.scalar(sa.select(Instructor).where(sa.func.upper(Instructor.licence_number) == number))
    if other is not None and other is not instructor:
        raise DomainError(f"Licence number {number} belongs to {other.person.full_name} already",
                          field="licence_number")


def _check_licence_expiry(day: date) -> None:
    dates.PROGRAMME.check(day, "The licence expiry date", field="licence_expires_on")
    if day < london_today():
        raise DomainError("The licence expiry date must be today or in the future", field="licence_expires_on")


def create_instructor(details: InstructorDetails, actor: User | None = None) -> Instructor:
    """A licensed instructor; the person is found by email address, or added."""
    number = _licence_number(details.licence_number)
    _qualified_on(details)
    _check_licence_unique(number, None)
    _check_licence_expiry(details.licence_expires_on)
    email = normalise_email(details.email)
    person = person_with_email(email)  # however an import or an employer capitalised it
    if person is not None and db.session.scalar(sa.select(Instructor).where(Instructor.person_id == person.id)):
        raise DomainError(f"{person.full_name} ({email}) is already an instructor", field="email")
    if person is None:
        person = Person(first_name=names.check(details.first_name, "First name", field="first_name"),
                        last_name=names.check(details.last_name, "Last name", field="last_name"), email=email)
        db.session.add(person)
    kinds = _licensed_types(details, None)
    instructor = Instructor(person=person, licence_number=number, licence_expires_on=details.licence_expires_on,
                            active=details.active)
    db.session.add(instructor)
    db.session.flush()
    qualifications = _qualify(instructor, kinds, details)
    audit.record("instructor.created", instructor, actor, licence_number=number,
                 licence_expires_on=details.licence_expires_on.isoformat(),
                 course_types=[kind.code for kind in instructor.course_types], qualifications=qualifications)
    return instructor


def update_instructor(instructor: Instructor, details: InstructorDetails, actor: User | None = None) -> Instructor:
    number = _licence_number(details.licence_number)
    _qualified_on(details)
    _check_licence_unique(number, instructor)
    dates.PROGRAMME.check(details.licence_expires_on, "The licence expiry date", field="licence_expires_on")
    person = instructor.person
    email = normalise_email(details.email)
    if email != normalise_email(person.email or ""):
        if db.session.scalar(sa.select(User.id).where(User.person_id == person.id)) is not None:
            raise DomainError(f"{person.full_name} signs in to MHFA Reach as {person.email}, so their email "
                              "address cannot be changed here", field="email")
        other = db.session.scalar(
            sa.select(Person).where(sa.func.lower(Person.email) == email, Person.id != person.id).limit(1))
        if other is not None:
            raise DomainError(f"{email} is the email address of {other.full_name}", field="email")
        person.email = email
    person.first_name = names.check(details.first_name, "First name", field="first_name")
    person.last_name = names.check(details.last_name, "Last name", field="last_name")
    qualifications = _qualify(instructor, _licensed_types(details, instructor), details)
    instructor.licence_number = number
    instructor.licence_expires_on = details.licence_expires_on
    instructor.active = details.active
    db.session.flush()
    audit.record("instructor.updated", instructor, actor, licence_number=number,
                 licence_expires_on=details.licence_expires_on.isoformat(), active=details.active,
                 course_types=[kind.code for kind in instructor.course_types], qualifications=qualifications)
    return instructor


def delete_instructor(instructor: Instructor, actor: User | None = None) -> None:
    used = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(course_instructor)
        .where(course_instructor.c.instructor_id == instructor.id)
    )
    delete_unless_on_courses(instructor, used, f"{instructor.person.full_name} is on {used} "
                             f"course{'s' if used != 1 else ''}, so cannot be deleted. "
                             "Mark them as not active instead.",
                             "instructor.deleted", actor, licence_number=instructor.licence_number)


def active_course_types() -> list[CourseType]:
    """The course types an instructor's licence can cover (the active ones), by name."""
    return list(db.session.scalars(sa.select(CourseType).where(CourseType.active.is_(True))
                                   .order_by(CourseType.name)))


def list_instructors() -> list[Instructor]:
    return list(db.session.scalars(
        sa.select(Instructor).join(Person, Person.id == Instructor.person_id)
        .options(joinedload(Instructor.person)).order_by(Instructor.active.desc(), Person.last_name, Person.first_name)
    ))


def instructor_for(user) -> Instructor | None:
    person_id = person_id_of(user)
    if person_id is None:
        return None
    return db.session.scalar(sa.select(Instructor).where(Instructor.person_id == person_id))
