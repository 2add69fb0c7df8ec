"""Outcome answers as personal data: erasure and retention (the export reads them by walking the schema).

Erasing a person removes their free-text answers (comments) and unlinks their invitations from them
(``person_id`` NULL): the anonymous scores stay in every aggregate, as reach keeps an erased person's
count. Their follow-up opt-out goes too (they are never emailed again: the record has no address).
Retention does the same for answers older than the retention period, whoever gave them.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from mhfa.extensions import db
from mhfa.outcomes.models import OutcomeAnswer, OutcomeInvite, OutcomeOptOut
from mhfa.people.models import Person


def _forget(invites) -> int:
    """Remove the text answers of these invitations and unlink them from their person; how many were linked."""
    db.session.execute(sa.update(OutcomeAnswer)
                       .where(OutcomeAnswer.invite_id.in_(invites), OutcomeAnswer.text.is_not(None))
                       .values(text=None).execution_options(synchronize_session="fetch"))
    return db.session.execute(sa.update(OutcomeInvite).where(OutcomeInvite.id.in_(invites),
                                                             OutcomeInvite.person_id.is_not(None))
                              .values(person_id=None).execution_options(synchronize_session="fetch")).rowcount


def forget_person(person: Person) -> int:
    """On erasure: the person's comments removed, their answers unlinked (scores kept); how many invitations."""
    db.session.execute(sa.delete(OutcomeOptOut).where(OutcomeOptOut.person_id == person.id))
    return _forget(sa.select(OutcomeInvite.id).where(OutcomeInvite.person_id == person.id).scalar_subquery())


def forget_answered_before(cutoff: datetime) -> int:
    """Retention: answers given before ``cutoff`` lose their comments and their link to the person."""
    return _forget(sa.select(OutcomeInvite.id).where(OutcomeInvite.answered_at < cutoff,
                                                     OutcomeInvite.person_id.is_not(None)).scalar_subquery())


def answers_to_forget(cutoff: datetime) -> int:
    return db.session.scalar(sa.select(sa.func.count(OutcomeInvite.id)).where(
        OutcomeInvite.answered_at < cutoff, OutcomeInvite.person_id.is_not(None))) or 0
