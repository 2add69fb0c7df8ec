"""An instructor's teaching: the courses they teach, upcoming first then past, and of those that have
started, what is left to do (a register to take, or the course to complete)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from mhfa.attendance.services import completion_preview, too_early_to_complete
from mhfa.auth.models import User
from mhfa.courses.models import Course, CourseStatus, Instructor, course_instructor
from mhfa.extensions import db
from mhfa.timeutil import utcnow


@dataclass
class Teaching:
    upcoming: list[Course]
    past: list[Course]
    # Courses that have started and are not completed: (course, what is left: "registers" or "complete").
    to_do: list[tuple[Course, str]] = field(default_factory=list)


def teaching(user: User, now: datetime | None = None) -> Teaching:
    """The published, completed (and cancelled) courses the user teaches: what is left to do, upcoming, then past
    (a past course with work left is listed once, under what is left to do)."""
    now = now or utcnow()
    if user.person_id is None:
        return Teaching([], [])
    courses = list(db.session.scalars(
        sa.select(Course)
        .join(course_instructor, course_instructor.c.course_id == Course.id)
        .join(Instructor, Instructor.id == course_instructor.c.instructor_id)
        .where(Instructor.person_id == user.person_id, Course.status != CourseStatus.DRAFT)
        .order_by(Course.starts_at)
        .options(joinedload(Course.course_type), joinedload(Course.venue), selectinload(Course.sessions))
    ).unique())
    upcoming = [c for c in courses if c.ends_at is None or c.ends_at >= now]
    to_do = work_left(courses, now)
    waiting = {course.id for course, _ in to_do}
    past = [c for c in reversed(courses) if c not in upcoming and c.id not in waiting]
    return Teaching(upcoming, past, to_do)


def work_left(courses: list[Course], now: datetime | None = None) -> list[tuple[Course, str]]:
    """Of these courses, those that have started and are not completed, oldest first, each with what is
    left: ``"registers"`` (a register to take) or ``"complete"`` (every register taken, the course ended)."""
    now = now or utcnow()
    left = []
    for course in sorted(courses, key=lambda c: c.starts_at or now):
        if course.status is not CourseStatus.PUBLISHED or course.starts_at is None or course.starts_at > now:
            continue
        if not completion_preview(course).ready:
            left.append((course, "registers"))
        elif too_early_to_complete(course, now) is None:
            left.append((course, "complete"))
    return left
