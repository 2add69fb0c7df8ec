"""Two coordinators assigning one instructor to clashing courses at the same instant: only one wins."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa.courses import instructors as services
from mhfa.courses.models import Course, Instructor, course_instructor
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories

pytestmark = pytest.mark.slow
ROUNDS = 6


def _clashing_courses(day: date) -> tuple[int, int, int]:
    start = datetime.combine(day, datetime.min.time()).replace(hour=9)
    instructor = factories.instructor()
    first = factories.course(start=start, instructors=[])
    second = factories.course(start=start + timedelta(hours=1), instructors=[])
    db.session.commit()
    return instructor.id, first.id, second.id


def test_clashing_assignments_at_the_same_instant_never_both_succeed(app_ctx):
    app = app_ctx
    rounds = [_clashing_courses(date.today() + timedelta(days=30 + 7 * n)) for n in range(ROUNDS)]
    for instructor_id, *course_ids in rounds:
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def assign(course_id: int, instructor_id=instructor_id, barrier=barrier, outcomes=outcomes) -> None:
            with app.app_context():
                course = db.session.get(Course, course_id)
                instructor = db.session.get(Instructor, instructor_id)
                _ = list(course.sessions), instructor.person  # loaded before the race, as a view would
                barrier.wait()
                try:
                    services.assign_instructor(course, instructor)
                    db.session.commit()
                    outcomes.append("assigned")
                except DomainError as error:
                    db.session.rollback()
                    outcomes.append(error.message)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=assign, args=(course_id,)) for course_id in course_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert outcomes.count("assigned") == 1, outcomes
        [refusal] = [o for o in outcomes if o != "assigned"]
        assert "is already teaching" in refusal and "at the same time" in refusal
        db.session.expire_all()
        assigned = db.session.scalar(sa.select(sa.func.count()).select_from(course_instructor).where(
            course_instructor.c.instructor_id == instructor_id))
        assert assigned == 1
