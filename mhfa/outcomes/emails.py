"""The outcomes emails: the evaluation after a course, the six-month follow-up.

The evaluation invitation is written to the outbox as what to say (the completion it is about) when a
course is completed, and rendered by the outbox's sender (``_render_evaluation``), so the completing request
renders no email (see ``mhfa.notify.services.queue_later``). The payload holds no token: the renderer reads
the invitation's link from its row.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mhfa.courses.models import CourseType
from mhfa.notify.messages import compose, send
from mhfa.notify.services import Message, queue_later, renderer
from mhfa.outcomes.models import EVALUATION, OutcomeInvite
from mhfa.people.models import Person


def evaluation_invite(person: Person, course_type: CourseType, completion_id: int) -> None:
    """Invite ``person`` to evaluate the course of their completion ``completion_id`` (its invitation is written
    in this transaction). Written as what to say (the completion, and the person so erasing them finds the row);
    rendered when sent, with the invitation's link and expiry (``_render_evaluation``)."""
    queue_later("evaluation_invite", {"completion_id": completion_id, "person_id": person.id},
                to=person.email, subject=_evaluation_subject(course_type))


def _evaluation_subject(course_type: CourseType) -> str:
    return f"How was your {course_type.name} course?"


@renderer("evaluation_invite")
def _render_evaluation(session: Session, payload: dict, to: str) -> Message | None:
    """The invitation email as it is when sent, or None when there is nothing to ask any more: the invitation is
    gone, it no longer names a person or its person's record has been erased (their pending mail must not go
    out), or it has been answered already (its link would only say so). An invitation past its expiry is still
    sent, as it was when the email was built in the request: the sender is never that late in practice."""
    invitation = session.scalar(sa.select(OutcomeInvite).where(
        OutcomeInvite.completion_id == payload.get("completion_id"), OutcomeInvite.kind == EVALUATION))
    if invitation is None or invitation.answered_at is not None:
        return None
    person = invitation.person
    if person is None or person.is_erased:
        return None
    course_type = invitation.course_type
    return compose("outcomes_evaluation", to=to, subject=_evaluation_subject(course_type), person=person,
                   course_type=course_type, token=invitation.token, expires_at=invitation.expires_at)


def follow_up_invite(invite: OutcomeInvite) -> None:
    send("outcomes_follow_up", to=invite.person.email,
         subject="Six months on: have you used your Mental Health First Aid skills?", invite=invite)
