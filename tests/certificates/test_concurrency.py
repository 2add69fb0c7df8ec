"""Completing a course from two places at the same moment issues each certificate once.

Both threads run ``complete_course_and_issue`` in their own app context, session and connection; the
course lock (``lock_course``) makes the second wait, re-read the course as completed and change nothing.
A mark sent while the course is being completed waits for the lock too, then is refused. Revoking and
reissuing take the certificate's row lock (``lock_certificate``): two at once go one after the other.
"""
from __future__ import annotations

import contextlib
import threading

import pytest
import sqlalchemy as sa

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus, Completion
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role, User
from mhfa.certificates import services
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseSession
from mhfa.extensions import db
from tests import factories, races

pytestmark = pytest.mark.slow


@pytest.fixture()
def second_app(app_ctx):
    with races.app_beside(app_ctx) as application:
        yield application


def _race(application, jobs):
    """What each job returned, or "refused: …" for a refusal; any other error fails the test."""
    outcomes = races.race(application, jobs)
    assert races.of_kind(outcomes, "error") == [], outcomes
    return [value if kind == "ok" else f"refused: {value}" for kind, value in outcomes]


def _certificate_and_coordinator(**holder) -> tuple[int, int]:
    """A trainee's certificate and a coordinator to change it, committed; their ids."""
    certificate = factories.certificate(factories.user(Role.TRAINEE, **holder).person)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    return certificate.id, coordinator.id


def test_two_completions_at_once_issue_each_certificate_once(app_ctx, second_app):
    course, teacher, bookings = factories.taught_course(trainees=5)
    factories.mark_everyone(course)
    db.session.commit()
    course_id, teacher_id = course.id, teacher.id

    def complete():
        done = services.complete_course_and_issue(db.session.get(Course, course_id), db.session.get(User, teacher_id))
        return "already" if done.result.already_completed else f"issued {len(done.certificates)}"

    outcomes = _race(second_app, [complete, complete])
    assert sorted(outcomes) == ["already", "issued 5"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 5


def test_a_mark_racing_the_completion_is_either_before_it_or_refused(app_ctx, second_app):
    course, teacher, (a, b) = factories.taught_course(trainees=2)
    factories.mark_everyone(course)
    db.session.commit()
    course_id, teacher_id, session_id, b_id = course.id, teacher.id, course.sessions[-1].id, b.id

    def complete():
        services.complete_course_and_issue(db.session.get(Course, course_id), db.session.get(User, teacher_id))
        return "completed"

    def mark_absent():
        attendance.mark_register(db.session.get(CourseSession, session_id), {b_id: AttendanceStatus.ABSENT},
                                 db.session.get(User, teacher_id))
        return "marked"

    outcomes = _race(second_app, [complete, mark_absent])
    db.session.expire_all()
    holders = set(db.session.scalars(sa.select(Certificate.person_id)))
    if "marked" in outcomes:  # the mark got the lock first: b missed the last session
        assert b.person_id not in holders
    else:
        assert any(o.startswith("refused: This course has been completed") for o in outcomes)
        assert b.person_id in holders
    assert a.person_id in holders


def test_two_revocations_at_once_revoke_once(app_ctx, second_app):
    certificate_id, coordinator_id = _certificate_and_coordinator()

    def revoke(reason):
        def job():
            services.revoke(db.session.get(Certificate, certificate_id), reason, db.session.get(User, coordinator_id))
            return "revoked"
        return job

    outcomes = _race(second_app, [revoke("Issued in error"), revoke("Duplicate record")])
    assert sorted(outcomes) == ["refused: This certificate has already been revoked", "revoked"]
    db.session.expire_all()
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "certificate.revoked",
                                                                 AuditEvent.entity_id == certificate_id)))
    assert len(events) == 1
    assert db.session.get(Certificate, certificate_id).revoked_reason == events[0].details["reason"]


def test_two_reissues_at_once_each_get_their_own_revision(app_ctx, second_app):
    certificate_id, coordinator_id = _certificate_and_coordinator(first_name="Jo", last_name="Smyth")

    def reissue(last_name):
        def job():
            done = services.reissue(db.session.get(Certificate, certificate_id), "Jo", last_name, "Name misspelt",
                                    db.session.get(User, coordinator_id))
            return done.revision
        return job

    outcomes = _race(second_app, [reissue("Smith"), reissue("Smithe")])
    assert sorted(outcomes) == [2, 3]
    db.session.expire_all()
    certificate = db.session.get(Certificate, certificate_id)
    assert certificate.revision == 3
    assert [r.revision for r in certificate.reissues] == [2, 3]
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "certificate.reissued")
                                     .order_by(AuditEvent.id)))
    # The second reissue saw the first one's name as its "before": nothing was lost between them.
    assert events[1].details["before"]["last_name"] == events[0].details["after"]["last_name"]
    assert events[1].details["before"]["revision"] == 2


def test_two_courses_completed_at_once_never_give_two_certificates_one_status_index(app_ctx, second_app,
                                                                                     monkeypatch):
    from mhfa.certificates import models as certificate_models

    courses = []
    for code in ("ADULT_2DAY", "ADULT_CHAMPION"):  # different types: their reach figures are different rows
        course, teacher, _ = factories.taught_course(code, trainees=1)
        factories.mark_everyone(course)
        courses.append((course.id, teacher.id))
    db.session.commit()
    both_picked = threading.Barrier(2, timeout=3)
    picked = threading.local()
    draw = certificate_models.random_index

    def same_first_pick(size):
        """Each thread's first draw is 777, and it waits (a moment) for the other to draw too."""
        if getattr(picked, "once", False):
            return draw(size)
        picked.once = True
        with contextlib.suppress(threading.BrokenBarrierError):  # the other waits for the status-index lock
            both_picked.wait()
        return 777

    monkeypatch.setattr(certificate_models, "random_index", same_first_pick)

    def completing(course_id, teacher_id):
        def complete():
            done = services.complete_course_and_issue(db.session.get(Course, course_id),
                                                      db.session.get(User, teacher_id))
            return f"issued {len(done.certificates)}"
        return complete

    outcomes = _race(second_app, [completing(*pair) for pair in courses])
    assert outcomes == ["issued 1", "issued 1"]
    db.session.expire_all()
    indexes = list(db.session.scalars(sa.select(Certificate.status_index)))
    assert len(indexes) == 2 and 777 in indexes and len(set(indexes)) == 2
