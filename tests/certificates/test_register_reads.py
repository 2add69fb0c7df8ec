"""Completing reads once for the whole register what it read once per trainee: the completions trainees hold
already, the certificate numbers taken, the status-list indexes taken; each with the rule it had."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion, CompletionSource
from mhfa.certificates import models as certificate_models
from mhfa.certificates import services
from mhfa.certificates.models import Certificate
from mhfa.extensions import db
from tests import factories


def _holding(person_id, course_type_id, day, course_id=None) -> Completion:
    completion = Completion(person_id=person_id, course_type_id=course_type_id, completed_on=day,
                            course_id=course_id,
                            source=CompletionSource.COURSE if course_id else CompletionSource.IMPORT)
    db.session.add(completion)
    return completion


def test_the_completions_held_already_are_read_in_one_query_with_the_rule_per_trainee(app_ctx, count_queries):
    course, teacher, bookings = factories.taught_course(trainees=6)
    factories.mark_everyone(course)
    day = attendance.completed_on(course)
    other_type = factories.course_type("AWARE").id
    that_day, other_day, other_kind, missed, own, both = bookings
    imported = _holding(that_day.person_id, course.course_type_id, day)  # held: of the type, on the last day
    _holding(other_day.person_id, course.course_type_id, day - timedelta(days=30))  # not held: another day
    _holding(other_kind.person_id, other_type, day)  # not held: another course type
    of_course = _holding(own.person_id, course.course_type_id, day - timedelta(days=1), course.id)  # theirs
    _holding(both.person_id, course.course_type_id, day)
    of_course_too = _holding(both.person_id, course.course_type_id, day - timedelta(days=1), course.id)  # first
    missed_held = _holding(missed.person_id, course.course_type_id, day)
    db.session.flush()
    db.session.scalar(sa.select(AttendanceMark).where(
        AttendanceMark.booking_id == missed.id, AttendanceMark.session_id == course.sessions[-1].id)
    ).status = AttendanceStatus.ABSENT
    db.session.commit()

    with count_queries() as statements:
        preview = attendance.completion_preview(course)
    assert sum(1 for s in statements if "FROM completion" in s) == 1
    assert sorted(b.id for b in preview.completing) == sorted([other_day.id, other_kind.id])
    assert {b.id: c.id for b, c in preview.already_completed} == {
        that_day.id: imported.id, own.id: of_course.id, both.id: of_course_too.id}
    assert [b.id for b, _ in preview.not_completing] == [missed.id]
    # One trainee at a time (a register corrected after completion) reads through the same rule.
    held = {b.id: c.id for b, c in preview.already_completed} | {missed.id: missed_held.id}
    for booking in bookings:
        found = attendance.existing_completion(course, booking)
        assert (found.id if found else None) == held.get(booking.id)


def test_numbers_taken_or_drawn_twice_are_drawn_again(app_ctx, monkeypatch, count_queries):
    taken = factories.certificate(factories.person("Taken", "Number")).number
    db.session.commit()
    draws = iter([taken, "MR2026-0000-0001", "MR2026-0000-0001", "MR2026-0000-0002"])
    monkeypatch.setattr(services, "_draw_number", lambda year: next(draws))
    with count_queries() as statements:
        numbers = services.new_numbers(2026, 2)
    assert numbers == ["MR2026-0000-0001", "MR2026-0000-0002"]
    assert len(statements) == 3  # one check a round: a number taken, then one drawn twice, then free


def test_a_register_draws_its_status_indexes_together_and_draws_again_those_taken(app_ctx, monkeypatch,
                                                                                  count_queries):
    held = factories.certificate(factories.person("Index", "Holder")).status_index
    course, teacher, _ = factories.taught_course(trainees=3)
    factories.mark_everyone(course)
    db.session.commit()
    picks = iter([held, 5, 5, 6, 9])  # the first is held by a certificate, the third drawn twice in the register
    monkeypatch.setattr(certificate_models, "random_index", lambda size: next(picks))
    with count_queries() as statements:
        done = services.complete_course_and_issue(course, teacher)
        db.session.flush()
    assert sorted(c.status_index for c in done.certificates) == [5, 6, 9]
    assert sum(1 for s in statements if "max(id)" in s) == 1
    assert sum(1 for s in statements if "status_index IN" in s) == 2  # the three picks, then the one redrawn
    assert sum(1 for s in statements if "certificate.number IN" in s) == 1
    db.session.commit()
    assert len(set(db.session.scalars(sa.select(Certificate.status_index)))) == 4
