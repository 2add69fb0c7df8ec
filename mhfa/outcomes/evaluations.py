"""The evaluation at the end of a course: invited on completion, answered once through its link, shown in groups.

Completing a course (``mhfa.certificates.services.complete_course_and_issue``) sends the certificates
hook ``course_completed``; :func:`invite_completers` (connected in ``listeners``) writes an invitation per
new completion and queues its email in the same transaction. A course type may require the answer before
the holder downloads the certificate (:func:`download_refusal`); the certificate is issued either way, and
no reach figure reads any of this.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.certificates.models import Certificate
from mhfa.certificates.signals import DownloadRefusal
from mhfa.courses.models import Course, CourseType
from mhfa.errors import Conflict, DomainError, Forbidden, Gone, NotFound
from mhfa.extensions import db
from mhfa.outcomes import emails, questionnaires
from mhfa.outcomes.models import EVALUATION, OutcomeAnswer, OutcomeCourseType, OutcomeInvite, new_token
from mhfa.timeutil import utcnow

#: How long an invitation's link works.
LINK_DAYS = {EVALUATION: 28, "follow_up": 28}
#: A course's results are shown only when at least this many trainees answered (no answer traceable to a person).
MIN_GROUP = 5


# --- inviting ------------------------------------------------------------------------------------------

def invite(completion: Completion, kind: str = EVALUATION, now: datetime | None = None) -> OutcomeInvite | None:
    """An invitation for this completion (made once per kind; None when there is one already)."""
    now = now or utcnow()
    exists = db.session.scalar(sa.select(OutcomeInvite.id).where(
        OutcomeInvite.completion_id == completion.id, OutcomeInvite.kind == kind))
    if exists is not None:
        return None
    invitation = OutcomeInvite(kind=kind, completion_id=completion.id, person_id=completion.person_id,
                               course_id=completion.course_id, course_type_id=completion.course_type_id,
                               created_at=now, expires_at=now + timedelta(days=LINK_DAYS[kind]))
    db.session.add(invitation)
    db.session.flush()
    return invitation


def invite_completers(course: Course, completions: list[Completion] = (), now: datetime | None = None,
                      **_) -> list[str]:
    """Invite each trainee who just completed ``course`` to evaluate it, by email (queued in this transaction).

    The tokens of the invitations made. One query and one multi-row insert for the whole register, however
    many trainees: completing is counted in statements per trainee (``tests/certificates/``
    ``test_completion_statements.py``); each email is one outbox row, written as what to say and rendered by
    the outbox's sender (``emails.evaluation_invite``).
    """
    if not completions:
        return []
    now = now or utcnow()
    db.session.flush()  # the completions' ids
    invited_already = set(db.session.scalars(sa.select(OutcomeInvite.completion_id).where(
        OutcomeInvite.completion_id.in_([c.id for c in completions]), OutcomeInvite.kind == EVALUATION)))
    expires_at = now + timedelta(days=LINK_DAYS[EVALUATION])
    rows = [dict(kind=EVALUATION, completion_id=c.id, person_id=c.person_id, course_id=c.course_id,
                 course_type_id=c.course_type_id, token=new_token(), created_at=now, expires_at=expires_at)
            for c in completions if c.id not in invited_already]
    if not rows:
        return []
    db.session.execute(sa.insert(OutcomeInvite), rows)
    people = {c.person_id: c.person for c in completions}
    for row in rows:
        person = people[row["person_id"]]
        if person.erased_at is None:
            emails.evaluation_invite(person, course.course_type, row["completion_id"])
    return [row["token"] for row in rows]


# --- answering -----------------------------------------------------------------------------------------

def by_token(token: str, kind: str = EVALUATION) -> OutcomeInvite:
    """The invitation behind a link, or NotFound."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise NotFound("This link is not recognised: check it was copied in full from the email")
    invitation = db.session.scalar(sa.select(OutcomeInvite).where(OutcomeInvite.token == token,
                                                                  OutcomeInvite.kind == kind))
    if invitation is None or invitation.person_id is None:
        raise NotFound("This link is not recognised: check it was copied in full from the email")
    return invitation


def refusal(invitation: OutcomeInvite, user, now: datetime | None = None) -> DomainError | None:
    """Why this link cannot be answered now by ``user`` (None: it can)."""
    now = now or utcnow()
    person_id = getattr(user, "person_id", None) if getattr(user, "is_authenticated", False) else None
    if person_id is not None and person_id != invitation.person_id:
        return Forbidden("This link was sent to another trainee: only they can answer it. If you were sent "
                         "your own link, open that one.")
    if invitation.answered_at is not None:
        return Conflict("This has already been answered, so it cannot be answered again. Thank you for your answers.")
    if invitation.expires_at <= now:
        return Gone("This link has expired: answers are collected for "
                    f"{LINK_DAYS[invitation.kind]} days after the email is sent.")
    return None


def answer(invitation: OutcomeInvite, raw: dict, user, now: datetime | None = None) -> OutcomeInvite:
    """Store the answers (checked against the current questionnaire): once, before the link expires, by its owner."""
    now = now or utcnow()
    db.session.refresh(invitation)
    problem = refusal(invitation, user, now)
    if problem is not None:
        raise problem
    questionnaire = questionnaires.current(invitation.kind)
    stored = questionnaires.check_answers(questionnaire, raw)
    if invitation.kind != EVALUATION and stored.get("used_skills", (None,))[0] == 0:
        stored = {"used_skills": stored["used_skills"]}  # "no": how many times and what do not apply
    # Answered once: the update only matches an unanswered row, so of two simultaneous answers one wins.
    claimed = db.session.execute(sa.update(OutcomeInvite).where(
        OutcomeInvite.id == invitation.id, OutcomeInvite.answered_at.is_(None)).values(
        answered_at=now, questionnaire_id=questionnaire.id))
    if claimed.rowcount != 1:
        raise Conflict("This has already been answered, so it cannot be answered again. Thank you for your answers.")
    db.session.add_all(OutcomeAnswer(invite_id=invitation.id, key=key, number=number, text=text)
                       for key, (number, text) in stored.items())
    db.session.flush()
    db.session.refresh(invitation)
    return invitation


# --- the certificate download ----------------------------------------------------------------------

def settings_of(course_type: CourseType) -> OutcomeCourseType:
    return db.session.get(OutcomeCourseType, course_type.id) or OutcomeCourseType(
        course_type_id=course_type.id, evaluation_before_download=False)


def evaluation_required() -> set[int]:
    """The course types whose certificate waits for the evaluation."""
    return set(db.session.scalars(sa.select(OutcomeCourseType.course_type_id).where(
        OutcomeCourseType.evaluation_before_download.is_(True))))


def set_evaluation_required(required_ids: set[int]) -> int:
    """Make exactly these course types wait for the evaluation before download; how many changed."""
    types = list(db.session.scalars(sa.select(CourseType).order_by(CourseType.name)))
    known = {t.id for t in types}
    if not set(required_ids) <= known:
        raise DomainError("Choose course types from the list", field="required")
    changed = 0
    for course_type in types:
        setting = db.session.get(OutcomeCourseType, course_type.id)
        want = course_type.id in required_ids
        if setting is None:
            if not want:
                continue
            setting = OutcomeCourseType(course_type_id=course_type.id, evaluation_before_download=False)
            db.session.add(setting)
        if setting.evaluation_before_download != want:
            setting.evaluation_before_download = want
            changed += 1
    db.session.flush()
    return changed


def download_refusal(certificate: Certificate, user=None, **_) -> DownloadRefusal | None:
    """The holder must answer first when the course type says so and the evaluation is open (coordinators never)."""
    if user is None or getattr(user, "person_id", None) != certificate.person_id:
        return None
    if not settings_of(certificate.course_type).evaluation_before_download:
        return None
    invitation = db.session.scalar(sa.select(OutcomeInvite).where(
        OutcomeInvite.completion_id == certificate.completion_id, OutcomeInvite.kind == EVALUATION))
    if invitation is None or invitation.answered_at is not None or invitation.expires_at <= utcnow():
        return None  # nothing to answer (an imported completion, or a link that expired): never withheld for ever
    return DownloadRefusal("Answer the short evaluation of your course first: your certificate is ready and "
                           "can be downloaded as soon as you have answered.",
                           "outcomes.evaluate", {"token": invitation.token}, "Answer the evaluation")


# --- a course's results ----------------------------------------------------------------------------

@dataclass
class CourseResults:
    invited: int
    answered: int
    shown: bool  # at least MIN_GROUP answered
    means: dict[str, float] = field(default_factory=dict)
    ratings: list[tuple[str, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def course_results(course: Course) -> CourseResults:
    """How the course's trainees answered: counts always; means, ratings and comments (no names) from 5 answers."""
    invited, answered = db.session.execute(sa.select(
        sa.func.count(OutcomeInvite.id), sa.func.count(OutcomeInvite.answered_at)).where(
        OutcomeInvite.course_id == course.id, OutcomeInvite.kind == EVALUATION)).one()
    results = CourseResults(invited, answered, answered >= MIN_GROUP)
    if not results.shown:
        return results
    answered_here = sa.select(OutcomeInvite.id).where(
        OutcomeInvite.course_id == course.id, OutcomeInvite.kind == EVALUATION,
        OutcomeInvite.answered_at.is_not(None))
    rows = db.session.execute(sa.select(OutcomeAnswer.key, sa.func.avg(OutcomeAnswer.number),
                                        sa.func.count(OutcomeAnswer.number))
                              .where(OutcomeAnswer.invite_id.in_(answered_here), OutcomeAnswer.number.is_not(None))
                              .group_by(OutcomeAnswer.key)).all()
    results.means = {key: round(float(mean), 1) for key, mean, _ in rows if key != "rating"}
    counts = dict(db.session.execute(sa.select(OutcomeAnswer.number, sa.func.count()).where(
        OutcomeAnswer.invite_id.in_(answered_here), OutcomeAnswer.key == "rating")
        .group_by(OutcomeAnswer.number)).all())
    results.ratings = [(label, counts.get(number, 0)) for number, label in reversed(questionnaires.RATING_CHOICES)]
    results.comments = sorted(db.session.scalars(sa.select(OutcomeAnswer.text).where(
        OutcomeAnswer.invite_id.in_(answered_here), OutcomeAnswer.key == "comment", OutcomeAnswer.text.is_not(None))))
    return results
