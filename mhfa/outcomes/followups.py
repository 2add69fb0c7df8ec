"""The six-month follow-up: one email six months after a completion, sent once by ``flask mhfa send-reminders``.

Who gets it: a trainee invited to evaluate a course (so completions through this system, never the
imported history) whose completion was six months ago (or up to ``CATCH_UP_DAYS`` more, so a cron job
that missed a few days still sends it), not erased, with an email address and not opted out. Each
completion's follow-up is claimed in ``sent_reminder`` first, so two runs at once send it once. One
click (a page with one button, from the email's link) opts the person out of every follow-up.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from mhfa.attendance.models import Completion
from mhfa.extensions import db
from mhfa.notify.reminders import claim, not_sent
from mhfa.outcomes import emails
from mhfa.outcomes.evaluations import invite
from mhfa.outcomes.models import EVALUATION, FOLLOW_UP, OutcomeInvite, OutcomeOptOut
from mhfa.people.models import Person
from mhfa.timeutil import LONDON

REMINDER_KIND = "outcome-follow-up"
MONTHS = 6
CATCH_UP_DAYS = 60


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def due_follow_ups(today: date) -> list[Completion]:
    """Completions whose follow-up is due today and was never sent."""
    latest = months_before(today, MONTHS)
    evaluation = aliased(OutcomeInvite)
    return list(db.session.scalars(
        sa.select(Completion)
        .join(Person, Person.id == Completion.person_id)
        .join(evaluation, sa.and_(evaluation.completion_id == Completion.id, evaluation.kind == EVALUATION))
        .where(
            Completion.completed_on <= latest,
            Completion.completed_on > latest - timedelta(days=CATCH_UP_DAYS),
            Person.erased_at.is_(None),
            Person.email.is_not(None),
            ~sa.exists().where(OutcomeOptOut.person_id == Completion.person_id),
            not_sent(REMINDER_KIND, Completion.id),
        )
        .order_by(Completion.completed_on, Completion.id)
    ))


def send_follow_ups(now: datetime) -> int:
    """Queue every due follow-up not sent before; how many (the caller commits)."""
    sent = 0
    for completion in due_follow_ups(now.astimezone(LONDON).date()):
        if claim(REMINDER_KIND, completion.id):
            invitation = invite(completion, FOLLOW_UP, now)
            if invitation is not None:
                emails.follow_up_invite(invitation)
                sent += 1
    return sent


def is_opted_out(person_id: int) -> bool:
    return db.session.get(OutcomeOptOut, person_id) is not None


def opt_out(invitation: OutcomeInvite) -> bool:
    """Stop every follow-up email to the invitation's person; False if they had opted out already."""
    if invitation.person_id is None or is_opted_out(invitation.person_id):
        return False
    db.session.add(OutcomeOptOut(person_id=invitation.person_id))
    db.session.flush()
    return True
