"""The demo history answers evaluations for about 60% of course completions and follow-ups for fewer."""
import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.extensions import db
from mhfa.outcomes import board
from mhfa.outcomes.models import EVALUATION, OutcomeInvite
from tests.demo.test_demo import history  # noqa: F401  (the shared demo history fixture)


def test_the_demo_history_fills_the_outcomes_section(history):  # noqa: F811
    completions = db.session.scalar(sa.select(sa.func.count(Completion.id)).where(Completion.course_id.is_not(None)))
    invited = db.session.scalar(sa.select(sa.func.count(OutcomeInvite.id)).where(OutcomeInvite.kind == EVALUATION))
    assert invited == completions > 0
    figures = board.summary()
    assert 0.5 < figures.response_rate < 0.7
    lift = figures.scores["confidence_now"].mean - figures.scores["confidence_before"].mean
    assert 2.3 < lift < 3.8, lift
    assert figures.good_share > 0.85
    assert 0 < figures.follow_ups_answered < figures.answered
    assert 0.5 < figures.use_rate < 0.9
    by_type = {row[0]: row for row in board.outcomes_table("course_type").rows if isinstance(row[2], int)}
    lifts = {name: row[7] - row[4] for name, row in by_type.items() if row[4] is not None}
    assert max(lifts.values()) - min(lifts.values()) > 0.5, lifts  # the rise varies by course type
