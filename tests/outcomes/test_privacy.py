"""Answers are personal data: exported, unlinked and stripped of comments on erasure and by retention."""
from datetime import timedelta

import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.outcomes import board, followups
from mhfa.outcomes.models import OutcomeAnswer, OutcomeInvite, OutcomeOptOut
from mhfa.privacy import services as privacy
from mhfa.timeutil import utcnow
from tests import factories
from tests.outcomes.helpers import GOOD, answer_all, completed_course, invites_of


def test_the_export_includes_the_answers_but_never_the_link_token(app_ctx):
    course, _, (booking,), _ = completed_course(trainees=1)
    answer_all(course, dict(GOOD, comment="Kind trainer"))
    data = privacy.export_json(booking.person, factories.user(Role.COORDINATOR), "subject access request")
    dumped = repr(data)
    assert "outcome_invite" in dumped and "outcome_answer" in dumped and "Kind trainer" in dumped
    [invitation] = invites_of(course)
    assert invitation.token not in dumped


def test_erasure_removes_the_comment_and_unlinks_the_answers_but_the_scores_stay(app_ctx):
    course, _, bookings, _ = completed_course(trainees=11)
    answer_all(course, dict(GOOD, comment="Loved it"))
    person = bookings[0].person
    [invitation] = [i for i in invites_of(course) if i.person_id == person.id]
    followups.opt_out(invitation)
    before = board.summary()
    privacy.erase_person(person, factories.user(Role.COORDINATOR), "request 42")
    db.session.commit()
    db.session.refresh(invitation)
    assert invitation.person_id is None and invitation.answer("comment") is None
    assert invitation.answer("confidence_now") == 8
    assert db.session.get(OutcomeOptOut, person.id) is None
    after = board.summary()
    assert after.answered == before.answered
    assert after.scores["confidence_now"].mean == before.scores["confidence_now"].mean
    comments = db.session.scalars(sa.select(OutcomeAnswer.text).where(OutcomeAnswer.text.is_not(None))).all()
    assert len(comments) == 10
    # What stays is what reach keeps: the (anonymised) completion, and through it the unlinked scores.
    held = privacy.personal_data(person)
    assert all(row["person_id"] is None for row in held.get("outcome_invite", []))
    assert "Loved it" not in repr(held)


def test_retention_unlinks_answers_older_than_the_period(app_ctx):
    course, *_ = completed_course(trainees=2)
    answer_all(course, dict(GOOD, comment="Old comment"))
    old, recent = invites_of(course)
    old.answered_at = utcnow() - timedelta(days=round(365.25 * 7) + 1)
    db.session.commit()
    dry = privacy.apply_retention(years=7, outbox_days=90, session_days=30, dry_run=True)
    assert dry.outcome_answers_unlinked == 1 and old.person_id is not None
    report = privacy.apply_retention(years=7, outbox_days=90, session_days=30)
    db.session.commit()
    assert report.outcome_answers_unlinked == 1 and any("answers past the retention" in line for line in report.lines())
    db.session.refresh(old)
    db.session.refresh(recent)
    assert old.person_id is None and old.answer("comment") is None and old.answer("rating") == 5
    assert recent.person_id is not None and recent.answer("comment") == "Old comment"
    assert db.session.scalar(sa.select(sa.func.count(OutcomeInvite.id))) == 2
