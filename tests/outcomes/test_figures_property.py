"""Property: every outcomes figure equals a bare computation over the raw answers, by every dimension.

Random people (areas, equality answers, some erased and unlinked), completions of random course types
on courses of random funding streams, evaluations and follow-ups answered or not with random scores;
``raw.group_figures`` is compared with the figures computed in Python from the rows read plainly,
on SQLite and on PostgreSQL, and the suppression never leaves exactly one group of 1 to 9 hidden.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mhfa.attendance.models import Completion, CompletionSource
from mhfa.courses.models import FundingStream
from mhfa.extensions import db
from mhfa.outcomes import board
from mhfa.outcomes.models import EVALUATION, FOLLOW_UP, OutcomeAnswer, OutcomeInvite
from mhfa.people.models import Person, Sex
from mhfa.reach.dashboard import FEWER_THAN_10
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.timeutil import utcnow
from tests import factories
from tests.outcomes import bare as raw

AREAS = ["Birmingham", "Coventry", None]
TYPES = ["ADULT_2DAY", "AWARE", "YOUTH_CHAMPION"]
STREAMS = list(FundingStream)

answer = st.tuples(st.integers(0, 10), st.integers(0, 10), st.integers(1, 5))
trainee = st.tuples(
    st.sampled_from(AREAS), st.sampled_from([None, *Sex]), st.sampled_from(TYPES), st.sampled_from(STREAMS),
    st.one_of(st.none(), answer),  # the evaluation's answers, or not answered
    st.one_of(st.none(), st.just("unsent"), st.booleans()),  # follow-up: none, sent unanswered, used yes/no
    st.booleans(),  # erased afterwards (unlinked)
)


def _build(trainees) -> None:
    courses = {stream: factories.course(start=None, funding_stream=stream) for stream in STREAMS}
    for i, (area, sex, code, stream, evaluation, follow_up, erased) in enumerate(trainees):
        person = factories.person(f"P{i}", home_council_area=factories.area(area) if area else None, sex=sex)
        completion = Completion(person=person, course_type=factories.course_type(code), course=courses[stream],
                                completed_on=date(2025, 1, 1) + timedelta(days=i), source=CompletionSource.COURSE)
        db.session.add(completion)
        db.session.flush()
        kinds = [(EVALUATION, evaluation)] + ([(FOLLOW_UP, follow_up)] if follow_up is not None else [])
        for kind, answers in kinds:
            invite = OutcomeInvite(kind=kind, completion_id=completion.id, person_id=person.id,
                                   course_id=courses[stream].id, course_type_id=completion.course_type_id,
                                   expires_at=utcnow() + timedelta(days=9))
            db.session.add(invite)
            db.session.flush()
            if kind == EVALUATION and answers is not None:
                invite.answered_at = utcnow()
                for key, value in zip(("confidence_before", "confidence_now", "rating"), answers, strict=True):
                    db.session.add(OutcomeAnswer(invite_id=invite.id, key=key, number=value))
            elif kind == FOLLOW_UP and answers in (True, False):
                invite.answered_at = utcnow()
                db.session.add(OutcomeAnswer(invite_id=invite.id, key="used_skills", number=int(answers)))
        if erased:
            db.session.flush()
            db.session.execute(sa.update(OutcomeInvite).where(OutcomeInvite.person_id == person.id)
                               .values(person_id=None))
    db.session.flush()


def _bare(dimension: str | None) -> dict:
    """The figures computed in Python from every invitation and answer, read plainly."""
    groups: dict = defaultdict(lambda: defaultdict(list))
    for invite in db.session.scalars(sa.select(OutcomeInvite)):
        person = db.session.get(Person, invite.person_id) if invite.person_id else None
        if dimension is None:
            key = "all"
        elif dimension == "area":
            key = person.home_council_area_id if person and person.home_council_area_id else UNKNOWN_AREA
        elif dimension == "course_type":
            key = invite.course_type_id
        elif dimension == "funding_stream":
            key = invite.course.funding_stream.value
        else:
            value = getattr(person, dimension) if person else None
            key = value.value if value is not None else None
        g = groups[key]
        g[f"{invite.kind}:invited"].append(1)
        if invite.answered_at is not None:
            g[f"{invite.kind}:answered"].append(1)
        for a in db.session.scalars(sa.select(OutcomeAnswer).where(OutcomeAnswer.invite_id == invite.id)):
            g[a.key].append(a.number)
    return groups


def _check(dimension: str | None) -> None:
    figures = raw.group_figures(dimension)
    bare = _bare(dimension)
    assert set(figures) == set(bare)
    for key, g in bare.items():
        f = figures[key]
        assert (f.invited, f.answered) == (len(g["evaluation:invited"]), len(g["evaluation:answered"]))
        assert (f.follow_ups, f.follow_ups_answered) == (len(g["follow_up:invited"]), len(g["follow_up:answered"]))
        for score in ("confidence_before", "confidence_now"):
            values = g[score]
            mean = f.scores[score]
            assert mean.n == len(values)
            if values:
                assert math.isclose(mean.mean, sum(values) / len(values))
            if len(values) >= 2:
                m = sum(values) / len(values)
                sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
                low, high = mean.interval
                assert math.isclose(low, m - 1.96 * sd / math.sqrt(len(values)), abs_tol=1e-9)
                assert math.isclose(high, m + 1.96 * sd / math.sqrt(len(values)), abs_tol=1e-9)
        assert (f.rated, f.good) == (len(g["rating"]), sum(1 for v in g["rating"] if v >= 4))
        assert (f.use_answered, f.used) == (len(g["used_skills"]), sum(g["used_skills"]))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(trainees=st.lists(trainee, min_size=1, max_size=25))
def test_every_outcomes_figure_equals_the_bare_computation(app_ctx, trainees):
    try:
        _build(trainees)
        for dimension in (None, *board.DIMENSIONS):
            if dimension in ("age_band", "ethnic_group", "disability"):
                continue  # read the same way as sex (a column of the person's record)
            _check(dimension)
            if dimension is not None:
                shown = [row[2] for row in board.outcomes_table(dimension).rows]
                assert sum(1 for v in shown if v in (FEWER_THAN_10, "hidden")) != 1
    finally:
        db.session.rollback()
