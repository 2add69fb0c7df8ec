"""Hostile input on the register: it gets a clear 4xx and changes nothing, on both databases."""
import sqlalchemy as sa

from mhfa.attendance.models import AttendanceMark
from mhfa.extensions import db
from tests import factories


def _marks():
    return db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark))


def test_a_booking_id_too_large_for_the_database_is_refused_not_a_500(client, auth, post_form):
    course, teacher, (a, _) = factories.taught_course()
    db.session.commit()
    auth.login(teacher)
    url = f"/teaching/sessions/{course.sessions[0].id}/register"
    for huge in ("9" * 30, str(2**63), "-1", "0"):
        response = post_form(url, {f"mark-{a.id}": "present", f"mark-{huge}": "present"})
        assert response.status_code == 422, huge
        assert "does not have a confirmed place" in response.get_data(as_text=True)
    assert _marks() == 0


def test_a_withdrew_mark_without_a_reason_or_with_a_huge_one_is_refused(client, auth, post_form):
    course, teacher, (a, _) = factories.taught_course()
    db.session.commit()
    auth.login(teacher)
    url = f"/teaching/sessions/{course.sessions[0].id}/register"
    for reason in ("", "   ", "x" * 201):
        response = post_form(url, {f"mark-{a.id}": "withdrew", f"reason-{a.id}": reason})
        assert response.status_code == 422, reason
        assert "withdr" in response.get_data(as_text=True)
    for reason in ("\x00 left", "<script>alert(1)</script>", "🙂" * 60):
        response = post_form(url, {f"mark-{a.id}": "withdrew", f"reason-{a.id}": reason, f"reason-{2**70}": "x",
                                   "reason-x": "y"})
        assert response.status_code in (302, 400, 422), reason  # a NUL byte: 400, as everywhere
    assert _marks() <= 1
