"""The outcomes emails: the evaluation after a course, the six-month follow-up."""
from __future__ import annotations

from datetime import datetime

from mhfa.courses.models import CourseType
from mhfa.notify.messages import send
from mhfa.outcomes.models import OutcomeInvite
from mhfa.people.models import Person


def evaluation_invite(person: Person, course_type: CourseType, token: str, expires_at: datetime) -> None:
    send("outcomes_evaluation", to=person.email, subject=f"How was your {course_type.name} course?",
         person=person, course_type=course_type, token=token, expires_at=expires_at)


def follow_up_invite(invite: OutcomeInvite) -> None:
    send("outcomes_follow_up", to=invite.person.email,
         subject="Six months on: have you used your Mental Health First Aid skills?", invite=invite)
