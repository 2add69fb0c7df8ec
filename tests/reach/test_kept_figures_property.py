"""Property: after any sequence of changes, every kept figure equals the bare count over the raw rows.

Random sequences of completions (through the ORM, as the attendance area writes them), imports and
re-imports (the bulk path), area changes, refreshers, revocations, course-type setting changes,
deleted completions and erasures (anonymising name, email and date of birth), checked after every
step on SQLite and on PostgreSQL.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mhfa.attendance.models import Completion, CompletionSource
from mhfa.certificates.models import Certificate
from mhfa.courses.models import CourseType
from mhfa.extensions import db
from mhfa.people.models import AgeBand, Person, Sex
from mhfa.reach import keeping
from mhfa.reach.counts import (
    GROUPINGS,
    Filters,
    bare_counts,
    bare_group_counts,
    kept_all_group_counts,
    kept_counts,
    kept_group_counts,
    kept_month_area,
)
from mhfa.reach.models import BASES, GROUP_DIMENSIONS, ReachFirst, ReachGroupMonth, ReachMonth
from mhfa.timeutil import utcnow
from tests import factories

AREAS = ["Birmingham", "Coventry", "Shropshire", None]
TYPES = ["ADULT_2DAY", "AWARE", "YOUTH_CHAMPION", "REFRESHER"]
PEOPLE = 5
BASE_DAY = date(2020, 1, 1)

person_index = st.integers(0, PEOPLE - 1)
day = st.integers(0, 500)
step = st.one_of(
    st.tuples(st.just("complete"), person_index, st.sampled_from(TYPES), day, st.sampled_from(AREAS), st.booleans()),
    st.tuples(st.just("import"), st.lists(st.tuples(person_index, st.sampled_from(TYPES), day), min_size=1,
                                           max_size=4)),
    st.tuples(st.just("reimport")),
    st.tuples(st.just("area"), person_index, st.sampled_from(["home_council_area", "work_council_area"]),
              st.sampled_from(AREAS)),
    st.tuples(st.just("refresher"), person_index, day),
    st.tuples(st.just("revoke"), st.integers(0, 10)),
    st.tuples(st.just("delete"), st.integers(0, 10)),
    st.tuples(st.just("erase"), person_index),
    st.tuples(st.just("answers"), person_index, st.sampled_from([None, *AgeBand]), st.sampled_from([None, *Sex])),
    st.tuples(st.just("type_setting"), st.sampled_from(["AWARE", "YOUTH_CHAMPION"]), st.booleans(), st.booleans()),
)


def _reset():
    for model in (ReachFirst, ReachMonth, ReachGroupMonth, Certificate, Completion, Person):
        db.session.execute(sa.delete(model))
    for kind in db.session.scalars(sa.select(CourseType)):
        kind.counts_toward_target = kind.code != "REFRESHER"
        kind.is_awareness = kind.code == "AWARE"
    db.session.commit()


def _area(name):
    return factories.area(name) if name else None


class World:
    def __init__(self):
        self.people = [factories.person(f"P{i}", home_council_area=_area(AREAS[i % 4])) for i in range(PEOPLE)]
        self.imported: list[tuple[int, int, date]] = []
        db.session.commit()

    def apply(self, action):
        kind = action[0]
        if kind == "complete":
            _, who, code, offset, delivery, certified = action
            person = self.people[who]
            if self._exists(person.id, code, BASE_DAY + timedelta(offset)):
                return
            completion = Completion(person=person, course_type=factories.course_type(code),
                                    completed_on=BASE_DAY + timedelta(offset),
                                    delivery_council_area_id=_area(delivery).id if delivery else None)
            db.session.add(completion)
            if certified:
                db.session.add(Certificate(
                    number=f"C-{person.id}-{code}-{offset}", verification_token=f"t-{person.id}-{code}-{offset}",
                    completion=completion, person=person, course_type=completion.course_type, title="x",
                    issued_on=completion.completed_on))
        elif kind in ("import", "reimport"):
            rows = action[1] if kind == "import" else []
            batch = [(self.people[w].id, factories.course_type(c).id, BASE_DAY + timedelta(o)) for w, c, o in rows]
            if kind == "reimport":
                batch = list(self.imported)
            self.imported.extend(batch)
            fresh = {b for b in batch if not self._exists_ids(*b)}
            if fresh:
                db.session.execute(sa.insert(Completion), [
                    {"person_id": p, "course_type_id": t, "completed_on": d, "source": CompletionSource.IMPORT,
                     "created_at": utcnow()} for p, t, d in sorted(fresh)])
                keeping.refresh_people(p for p, _, _ in fresh)
        elif kind == "area":
            _, who, field, name = action
            if not self.people[who].is_erased:  # an erased record is frozen for reach (nobody edits it)
                setattr(self.people[who], field, _area(name))
        elif kind == "refresher":
            _, who, offset = action
            self.apply(("complete", who, "REFRESHER", offset, None, True))
        elif kind == "revoke":
            certificates = db.session.scalars(sa.select(Certificate).where(Certificate.revoked_at.is_(None))
                                              .order_by(Certificate.id)).all()
            if certificates:
                certificates[action[1] % len(certificates)].revoked_at = utcnow()
        elif kind == "delete":
            completions = db.session.scalars(sa.select(Completion).order_by(Completion.id)).all()
            if completions:
                doomed = completions[action[1] % len(completions)]
                for certificate in db.session.scalars(sa.select(Certificate).where(
                        Certificate.completion_id == doomed.id)):
                    db.session.delete(certificate)
                db.session.flush()
                self.imported = [b for b in self.imported
                                 if b != (doomed.person_id, doomed.course_type_id, doomed.completed_on)]
                db.session.delete(doomed)
        elif kind == "erase":
            person = self.people[action[1]]
            if not person.is_erased:
                person.first_name, person.last_name = "Erased", "person"
                person.email, person.date_of_birth, person.erased_at = None, None, utcnow()
        elif kind == "answers":
            _, who, age_band, sex = action
            if not self.people[who].is_erased:
                self.people[who].age_band, self.people[who].sex = age_band, sex
        elif kind == "type_setting":
            _, code, counts, awareness = action
            kind_ = factories.course_type(code)
            kind_.counts_toward_target, kind_.is_awareness = counts, awareness
        db.session.commit()

    def _exists(self, person_id, code, on):
        return self._exists_ids(person_id, factories.course_type(code).id, on)

    def _exists_ids(self, person_id, type_id, on):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Completion).where(
            Completion.person_id == person_id, Completion.course_type_id == type_id, Completion.completed_on == on))


def assert_every_figure_is_exact():
    type_ids = frozenset({factories.course_type("ADULT_2DAY").id, factories.course_type("AWARE").id})
    for include in (True, False):
        for basis in BASES:
            for extra in ({}, {"course_type_ids": type_ids, "start_month": 202003, "end_month": 202012}):
                filters = Filters(basis=basis, include_awareness=include, **extra)
                for grouping in GROUPINGS:
                    assert kept_counts(grouping, filters) == bare_counts(grouping, filters), (grouping, filters)
                by_area, by_month = Counter(), Counter()
                for (month, area), n in kept_month_area(filters).items():
                    by_area[area] += n
                    by_month[month] += n
                assert dict(by_area) == bare_counts("area", filters)
                assert dict(by_month) == bare_counts("month", filters)
        filters = Filters(include_awareness=include, area=factories.area("Birmingham").id)
        assert kept_counts("month", filters) == bare_counts("month", filters)
        for dimension in GROUP_DIMENSIONS:
            filters = Filters(include_awareness=include)
            assert kept_group_counts(dimension, filters) == bare_group_counts(dimension, filters), dimension
            assert kept_all_group_counts(filters)[dimension] == bare_group_counts(dimension, filters)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_kept_figures_equal_the_bare_count_after_every_step(app_ctx, steps):
    _reset()
    world = World()
    for action in steps:
        world.apply(action)
        assert_every_figure_is_exact()
    assert keeping.rebuild() == []
    db.session.rollback()
