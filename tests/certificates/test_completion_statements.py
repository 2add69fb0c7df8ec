"""The SQL completing a course costs: the reach figures move once for the whole transaction, not per trainee."""
from flask import current_app

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus
from mhfa.certificates import services
from mhfa.extensions import db
from tests import factories


def _completing(count_queries, trainees: int) -> list[str]:
    course, teacher, bookings = factories.taught_course("ADULT_2DAY", trainees=trainees)
    for session in course.sessions:
        attendance.mark_register(session, {b.id: AttendanceStatus.PRESENT for b in bookings}, teacher)
    db.session.commit()
    current_app.config["MHFA_DELIVER_AFTER_COMMIT"] = False  # the request's statements, not the mail sender's
    try:
        with count_queries() as statements:
            done = services.complete_course_and_issue(course, teacher)
            assert len(done.certificates) == trainees
            db.session.commit()
    finally:
        current_app.config["MHFA_DELIVER_AFTER_COMMIT"] = True
    return statements


def test_a_register_of_twelve_recounts_reach_as_often_as_a_register_of_two(app_ctx, count_queries):
    two = _completing(count_queries, 2)
    twelve = _completing(count_queries, 12)

    def recounts(statements):
        return sum(1 for s in statements if "INSERT INTO REACH_FIRST" in s.upper())

    assert recounts(twelve) == recounts(two) == 1
    per_trainee = (len(twelve) - len(two)) / 10
    # 11 on SQLite on 2026-12-01; 13 since each trainee is emailed their certificate and the evaluation link
    # (two outbox rows each); 6 on SQLite and 1 on PostgreSQL since the register's held completions, numbers
    # and status-list indexes are read in one query each (SQLite inserts a row per statement: the completion,
    # certificate, audit entry and two outbox rows, and one course type read). The half leaves room for a
    # number or index drawn again (one statement for the whole register).
    assert per_trainee <= 6.5, f"{per_trainee:.1f} statements per trainee"
