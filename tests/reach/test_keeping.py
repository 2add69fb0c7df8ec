"""The kept figures move with each change in the same transaction, by the documented rules."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.extensions import db
from mhfa.reach.counts import Filters, kept_counts
from mhfa.reach.keeping import rebuild
from mhfa.timeutil import utcnow
from tests import factories


def by_area(**filters):
    return kept_counts("area", Filters(**filters))


def test_a_revoked_certificate_stops_counting_and_a_reissued_one_counts_again(app_ctx):
    person = factories.person()
    certificate = factories.certificate(person, issued_on=date(2023, 5, 1))
    birmingham = factories.area().id
    assert by_area() == {birmingham: 1}
    certificate.revoked_at = utcnow()
    db.session.flush()
    assert by_area() == {}
    db.session.add(type(certificate)(number="MHFA-R1", verification_token="reissued", completion=certificate.completion,
                                     person=person, course_type=certificate.course_type, title="x",
                                     issued_on=date(2023, 6, 1), replaces_id=certificate.id))
    db.session.flush()
    assert by_area() == {birmingham: 1}


def test_erasure_that_clears_the_record_does_not_move_reach(app_ctx):
    person = factories.person(work_council_area=factories.area("Coventry"))
    db.session.add(Completion(person=person, course_type=factories.course_type(), completed_on=date(2022, 1, 3)))
    db.session.commit()
    before = (by_area(), by_area(basis="work"))
    person.first_name, person.last_name, person.email, person.date_of_birth = "Erased", "", None, None
    person.home_council_area = person.work_council_area = None
    person.erased_at = utcnow()
    db.session.commit()
    assert (by_area(), by_area(basis="work")) == before
    rebuild()
    assert (by_area(), by_area(basis="work")) == before


def test_refresher_never_adds_a_person_and_area_changes_move_them(app_ctx):
    person = factories.person()
    db.session.add(Completion(person=person, course_type=factories.course_type("REFRESHER"),
                              completed_on=date(2022, 1, 3)))
    db.session.flush()
    assert by_area() == {}
    db.session.add(Completion(person=person, course_type=factories.course_type("AWARE"), completed_on=date(2022, 2, 3)))
    db.session.flush()
    assert by_area() == {factories.area().id: 1} and by_area(include_awareness=False) == {}
    person.home_council_area = factories.area("Dudley")
    db.session.flush()
    assert by_area() == {factories.area("Dudley").id: 1}
    factories.course_type("AWARE").counts_toward_target = False
    db.session.flush()
    assert by_area() == {}


def _recounts(statements: list[str]) -> int:
    return sum(1 for s in statements if "INSERT INTO REACH_FIRST" in s.upper())


def test_many_flushes_in_one_transaction_recount_reach_once_at_commit(app_ctx, count_queries):
    kind = factories.course_type()
    people = [factories.person(home_council_area=factories.area()) for _ in range(3)]
    db.session.commit()
    with count_queries() as statements:
        for person in people:
            db.session.add(Completion(person=person, course_type=kind, completed_on=date(2022, 1, 3)))
            db.session.flush()
        assert _recounts(statements) == 0
        db.session.commit()
    assert _recounts(statements) == 1
    assert sum(by_area().values()) == 3
    assert rebuild() == []


def test_a_read_of_the_kept_figures_inside_the_transaction_sees_its_own_changes(app_ctx):
    person = factories.person(home_council_area=factories.area())
    db.session.commit()
    db.session.add(Completion(person=person, course_type=factories.course_type(), completed_on=date(2022, 1, 3)))
    assert sum(by_area().values()) == 1  # the completion is flushed and counted before the read


def test_a_rolled_back_change_leaves_nothing_to_recount(app_ctx, count_queries):
    person = factories.person(home_council_area=factories.area())
    db.session.commit()
    db.session.add(Completion(person=person, course_type=factories.course_type(), completed_on=date(2022, 1, 3)))
    db.session.flush()
    db.session.rollback()
    with count_queries() as statements:
        db.session.commit()
    assert _recounts(statements) == 0
    assert by_area() == {}


def test_a_rebuild_without_comparing_mends_the_kept_figures_and_reports_nothing(app_ctx):
    person = factories.person(home_council_area=factories.area())
    db.session.add(Completion(person=person, course_type=factories.course_type(), completed_on=date(2022, 1, 3)))
    db.session.commit()
    right = by_area()
    db.session.execute(sa.text("UPDATE reach_month SET people = people + 5"))
    assert by_area() != right
    assert rebuild(compare=False) == []
    assert by_area() == right
    assert rebuild() == []
