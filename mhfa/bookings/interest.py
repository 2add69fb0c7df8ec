""""Tell me when there's a course": interest in a course type in a council area (or online), without a date.

A signed-in person registers interest (once per course type and place); the programme team sees the
demand by area and type; when a matching course is published (an in-person course in that area, or an
online course for "online"), everyone waiting for it is emailed once (``notify_interested``, connected
to the course-published hook). "Once" holds under concurrency: each interest is claimed by an UPDATE
that only succeeds while it is still unanswered, so two courses published at the same moment never
email the same person twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from mhfa.areas.models import CouncilArea
from mhfa.bookings import emails
from mhfa.bookings.models import CourseInterest
from mhfa.courses.models import Course, CourseStatus, CourseType, DeliveryMode
from mhfa.db_types import MAX_ID
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from mhfa.locks import lock_person
from mhfa.people.models import Person
from mhfa.timeutil import utcnow

#: The "where" choice meaning an online course.
ONLINE = 0


def _an_id(value) -> bool:
    """A whole number the database's id columns can hold (anything else is never looked up)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def choices() -> tuple[list[CourseType], list[CouncilArea]]:
    """The course types people can ask for, and the council areas (the target region's first)."""
    types = list(db.session.scalars(sa.select(CourseType).order_by(CourseType.name)))
    areas = list(db.session.scalars(sa.select(CouncilArea).order_by(CouncilArea.in_target_region.desc(),
                                                                     CouncilArea.name)))
    return types, areas


def register_interest(person: Person | None, course_type_id: int | None, area_id: int | None) -> CourseInterest:
    """Ask to be told when a course of this type is published in this area (``ONLINE``: an online course)."""
    if person is None or person.is_erased:
        raise DomainError("confirm your email address first: use the link we emailed you", field="course_type_id")
    kind = db.session.get(CourseType, course_type_id) if _an_id(course_type_id) else None
    if kind is None:
        raise DomainError("Choose the course you are interested in", field="course_type_id")
    area = None
    if area_id != ONLINE:
        area = db.session.get(CouncilArea, area_id) if _an_id(area_id) else None
        if area is None:
            raise DomainError("Choose a council area, or online", field="council_area_id")
    lock_person(person)  # two submits at once: the second finds the first
    waiting = db.session.scalar(sa.select(CourseInterest).where(
        CourseInterest.person_id == person.id, CourseInterest.course_type_id == kind.id,
        CourseInterest.council_area_id.is_(None) if area is None else CourseInterest.council_area_id == area.id,
        CourseInterest.notified_at.is_(None)))
    if waiting is not None:
        raise Conflict(f"you have already asked to be told about {kind.name} {where(waiting)}",
                       field="course_type_id")
    interest = CourseInterest(person_id=person.id, course_type=kind, council_area=area)
    db.session.add(interest)
    db.session.flush()
    return interest


def where(interest: CourseInterest) -> str:
    return "online" if interest.council_area is None else f"in {interest.council_area.name}"


def interests_of(person: Person | None) -> list[CourseInterest]:
    if person is None:
        return []
    return list(db.session.scalars(
        sa.select(CourseInterest).where(CourseInterest.person_id == person.id)
        .options(joinedload(CourseInterest.course_type), joinedload(CourseInterest.council_area))
        .order_by(CourseInterest.notified_at.is_not(None), CourseInterest.id.desc())))


def withdraw_interest(person: Person | None, interest_id: int) -> CourseInterest:
    """Stop asking (your own interest only; another person's is not revealed to exist)."""
    interest = db.session.get(CourseInterest, interest_id) if _an_id(interest_id) else None
    if interest is None or person is None or interest.person_id != person.id:
        raise NotFound("that request was not found")
    db.session.delete(interest)
    db.session.flush()
    return interest


def notify_interested(course: Course, now: datetime | None = None) -> int:
    """A course was published: email everyone waiting for its type there, once each; how many were told.

    A closed course (for one employer's staff) tells nobody."""
    if course.status is not CourseStatus.PUBLISHED or course.is_closed:
        return 0
    now = now or utcnow()
    if course.delivery_mode is DeliveryMode.ONLINE:
        place = CourseInterest.council_area_id.is_(None)
    else:
        if course.council_area_id is None:
            return 0
        place = CourseInterest.council_area_id == course.council_area_id
    waiting = list(db.session.scalars(
        sa.select(CourseInterest.id).where(CourseInterest.course_type_id == course.course_type_id, place,
                                           CourseInterest.notified_at.is_(None)).order_by(CourseInterest.id)))
    told = 0
    for interest_id in waiting:
        claimed = db.session.execute(
            sa.update(CourseInterest).where(CourseInterest.id == interest_id, CourseInterest.notified_at.is_(None))
            .values(notified_at=now, notified_course_id=course.id)
            .execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            interest = db.session.get(CourseInterest, interest_id)
            db.session.refresh(interest)
            if not interest.person.is_erased:
                emails.course_for_interest(interest, course)
            told += 1
    return told


@dataclass(frozen=True)
class DemandRow:
    area: str
    course_type: str
    waiting: int
    told: int


def demand() -> list[DemandRow]:
    """Interest by area (online as its own row) and course type: still waiting, and already told of a course."""
    waiting = sa.func.count(CourseInterest.id).filter(CourseInterest.notified_at.is_(None))
    told = sa.func.count(CourseInterest.id).filter(CourseInterest.notified_at.is_not(None))
    rows = db.session.execute(
        sa.select(CouncilArea.name, CourseType.name, waiting, told)
        .select_from(CourseInterest)
        .join(CourseType, CourseType.id == CourseInterest.course_type_id)
        .outerjoin(CouncilArea, CouncilArea.id == CourseInterest.council_area_id)
        .group_by(CouncilArea.name, CourseType.name))
    found = [DemandRow(area or "Online", kind, waiting, told) for area, kind, waiting, told in rows]
    return sorted(found, key=lambda row: (-row.waiting, row.area, row.course_type))
