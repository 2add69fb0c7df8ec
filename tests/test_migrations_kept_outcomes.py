"""Migrating a database with rows in it: 2026_12_07_97 refills the kept first aiders without awareness courses'
certificates of attendance and the kept evaluations' funding stream with their place's (the order's for a
place paid with a voucher), so a fresh count finds no difference afterwards; its downgrade restores the earlier
rules. Both backends."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from mhfa.attendance.models import Completion, CompletionSource
from mhfa.courses.models import FundingStream
from mhfa.extensions import db
from mhfa.outcomes import board, evaluations, firstaiders, keeping
from mhfa.outcomes.models import EVALUATION
from mhfa.timeutil import london_today
from tests import factories
from tests.test_migrations_status_index import fresh_database_url, migrating_app  # noqa: F401 (a fixture)


def _streams() -> dict:
    return {key: f.invited for key, f in board.kept_group_figures("funding_stream").items() if f.invited}


def test_the_kept_first_aiders_and_place_streams_are_refilled_by_the_new_rules(fresh_database_url, tmp_path):  # noqa: F811
    with migrating_app(fresh_database_url, tmp_path):
        upgrade()  # the rows are written by today's listeners, which keep tables later revisions add
        factories.load_reference()
        today = london_today()
        factories.certificate(factories.person("Ada"), "AWARE", issued_on=today - timedelta(days=30))
        factories.certificate(factories.person("Bo"), "ADULT_2DAY", issued_on=today - timedelta(days=60))
        course = factories.course(start=None)
        trainee = factories.person("Cy")
        booking = factories.booking_on(course, trainee, voucher_id=factories.voucher(factories.employer("Acme")).id)
        completion = Completion(person=trainee, course_type=course.course_type, course=course, booking_id=booking.id,
                                completed_on=today - timedelta(days=5), source=CompletionSource.COURSE)
        db.session.add(completion)
        db.session.flush()
        evaluations.invite(completion, EVALUATION)
        db.session.commit()
        assert firstaiders.kept_current_total() == 1 and _streams() == {FundingStream.EMPLOYER_PAID.value: 1}

        db.session.remove()  # its reads hold locks a migration's index change waits for
        downgrade(revision="2026_12_06_96")  # the earlier rules: the awareness certificate, the course's stream
        db.session.remove()
        # Read from the kept rows themselves: today's reader also reads first_aider_day, which 96 does not have.
        current_rows = db.session.scalar(sa.text("SELECT COUNT(*) FROM first_aider_kept WHERE expires_on >= :day"),
                                         {"day": today})
        assert current_rows == 2 and _streams() == {FundingStream.PUBLIC.value: 1}
        assert firstaiders.current_total() == 1  # today's rule, counted from the raw rows: the kept figure is off
        db.session.remove()

        upgrade()
        db.session.remove()
        assert firstaiders.kept_current_total() == 1 and _streams() == {FundingStream.EMPLOYER_PAID.value: 1}
        assert firstaiders.trend(3) == firstaiders.counted_trend(3)
        assert keeping.rebuild() == []
        db.session.rollback()


def test_the_first_aiders_per_day_are_filled_from_the_kept_people(fresh_database_url, tmp_path):  # noqa: F811
    with migrating_app(fresh_database_url, tmp_path):
        upgrade()
        factories.load_reference()
        today = london_today()
        home, away = factories.area("Birmingham"), factories.area("Coventry")
        birmingham, coventry = home.id, away.id
        # One expiring later this month (or today, on the month's last day), one in three years, one working elsewhere.
        factories.certificate(factories.person("Ada", home_council_area=home), "ADULT_2DAY",
                              issued_on=today - timedelta(days=30), expires_on=today)
        factories.certificate(factories.person("Bo", home_council_area=home), "ADULT_2DAY",
                              issued_on=today - timedelta(days=60))
        factories.certificate(factories.person("Cy", home_council_area=away,
                                               work_council_area=home), "ADULT_2DAY",
                              issued_on=today - timedelta(days=90))
        db.session.commit()
        expected = {basis: firstaiders.current_by_area(basis=basis) for basis in ("home", "work")}
        db.session.remove()

        downgrade(revision="2026_12_07_03")
        db.session.remove()
        upgrade()
        db.session.remove()
        assert {basis: firstaiders.kept_current_by_area(basis=basis) for basis in ("home", "work")} == expected
        assert expected["home"] == {birmingham: 2, coventry: 1}
        assert keeping.rebuild() == []
        db.session.rollback()
