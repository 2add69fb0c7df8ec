"""Test helpers: a course completed through the real services, and answering its evaluations."""
from __future__ import annotations

from mhfa.certificates import services as certificates
from mhfa.extensions import db
from mhfa.outcomes import evaluations
from mhfa.outcomes.models import OutcomeInvite
from tests import factories

GOOD = {"confidence_before": "4", "confidence_now": "8", "signposting_before": "3", "signposting_now": "9",
        "rating": "5", "comment": ""}


def completed_course(trainees: int = 2, code: str = "ADULT_2DAY", **fields):
    """A course whose trainees all attended, completed by its instructor: (course, teacher, bookings, done)."""
    course, teacher, bookings = factories.taught_course(code, trainees=trainees, **fields)
    factories.mark_everyone(course, by=teacher)
    done = certificates.complete_course_and_issue(course, teacher)
    db.session.commit()
    return course, teacher, bookings, done


def answered_in_areas(*areas: tuple[str, int]) -> None:
    """Per (area name, trainees): a completed course of that many trainees living there, every one answering."""
    for name, trainees in areas:
        course, _, bookings, _ = completed_course(trainees)
        for booking in bookings:
            booking.person.home_council_area = factories.area(name)
        db.session.commit()
        answer_all(course, GOOD)


def invites_of(course) -> list[OutcomeInvite]:
    return list(db.session.scalars(db.select(OutcomeInvite).where(OutcomeInvite.course_id == course.id)
                                   .order_by(OutcomeInvite.id)))


def answer_all(course, answers=None, count: int | None = None) -> None:
    for invitation in [i for i in invites_of(course) if i.answered_at is None][:count]:
        evaluations.answer(invitation, dict(answers or GOOD), None)
    db.session.commit()
