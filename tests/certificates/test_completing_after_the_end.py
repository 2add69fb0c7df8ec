"""Registers from a session's start, completing after the last session's end; the trainee is emailed the
certificate and sees it at once; the pages lead on from the last register and list what was issued."""
from datetime import datetime, timedelta

import pytest

from mhfa.attendance import services as attendance
from mhfa.attendance import teaching
from mhfa.attendance.models import AttendanceStatus
from mhfa.auth.models import Role
from mhfa.certificates import services
from mhfa.courses.models import CourseStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories


def _running_course():
    """A one-session course that started an hour ago and ends in three, with two trainees booked."""
    start = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    teacher = factories.user(Role.INSTRUCTOR, first_name="Ines", last_name="Teacher")
    course = factories.course("AWARE", start=start, instructors=[factories.instructor(teacher.person)],
                              session_times=[(start, start + timedelta(hours=4))])
    bookings = [factories.booking_on(course, factories.person(f"Tia{i}", f"Trainee{i}")) for i in range(2)]
    db.session.commit()
    return course, teacher, bookings


def test_the_register_is_taken_from_the_start_but_completing_waits_for_the_end(app_ctx):
    course, teacher, bookings = _running_course()
    [session] = course.sessions
    assert attendance.marking_refusal(session) is None, "the register can be taken once the session starts"
    attendance.mark_register(session, {b.id: AttendanceStatus.PRESENT for b in bookings}, teacher)
    with pytest.raises(DomainError, match="complete it once its last session has ended"):
        services.complete_course_and_issue(course, teacher)
    assert course.status is CourseStatus.PUBLISHED
    done = services.complete_course_and_issue(course, teacher, now=session.ends_at + timedelta(minutes=1))
    assert len(done.certificates) == 2 and course.status is CourseStatus.COMPLETED


def test_each_trainee_is_emailed_their_certificate_with_its_page_pdf_and_badge(app_ctx, smtp):
    course, teacher, bookings = factories.taught_course("AWARE", trainees=2)
    factories.mark_everyone(course)
    done = services.complete_course_and_issue(course, teacher)
    db.session.commit()
    for certificate in done.certificates:
        [message] = [m for m in smtp.to(certificate.person.email) if m["Subject"].startswith("Your certificate")]
        text = smtp.text(message)
        assert message["Subject"] == f"Your certificate: {certificate.title}"
        assert "Mental Health Aware (half day)" in text and certificate.number in text
        assert f"/verify/{certificate.verification_token}" in text
        assert f"/certificates/{certificate.id}.pdf" in text and f"/certificates/{certificate.id}/badge.json" in text


def test_no_email_when_the_completion_is_refused(app_ctx, smtp):
    course, teacher, _bookings = factories.taught_course("AWARE", trainees=2)
    with pytest.raises(DomainError):
        services.complete_course_and_issue(course, teacher)  # registers not marked
    db.session.rollback()
    assert smtp.subjects() == []


def test_my_courses_shows_the_certificate_at_once_and_the_course_as_past(app_ctx, client, auth):
    course, teacher, bookings = factories.taught_course("AWARE", trainees=1)
    trainee = factories.user(Role.TRAINEE, person_=bookings[0].person)
    factories.mark_everyone(course)
    services.complete_course_and_issue(course, teacher)
    db.session.commit()
    auth.login(trainee)
    html = client.get("/my-courses").get_data(as_text=True)
    upcoming = html.split("Past courses")[0]
    assert "Mental Health Aware" not in upcoming.split("<h2 class=\"govuk-heading-m\">Upcoming</h2>")[1]
    assert "Download PDF" in html


def test_the_last_register_leads_on_to_check_and_complete_and_completing_lists_the_certificates(
        app_ctx, client, auth, post_form):
    course, teacher, bookings = factories.taught_course("ADULT_2DAY", trainees=2)
    first, last = course.sessions
    attendance.mark_register(first, {b.id: AttendanceStatus.PRESENT for b in bookings}, teacher)
    db.session.commit()
    auth.login(teacher)
    page = f"/teaching/sessions/{last.id}/register"
    assert "Check and complete the course" not in client.get(page).get_data(as_text=True)
    saved = post_form(page, {f"mark-{b.id}": "present" for b in bookings}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "Every register of this course is marked" in html
    assert f'href="/teaching/courses/{course.id}/complete"' in html
    completed = post_form(f"/teaching/courses/{course.id}/complete", {}, follow_redirects=True)
    html = completed.get_data(as_text=True)
    assert "Certificates issued" in html and 'id="issued"' in html
    for b in bookings:
        assert b.person.full_name in html


def test_the_complete_page_says_when_the_course_can_be_completed(app_ctx, client, auth):
    course, teacher, bookings = _running_course()
    factories.mark_everyone(course)
    db.session.commit()
    auth.login(teacher)
    html = client.get(f"/teaching/courses/{course.id}/complete").get_data(as_text=True)
    assert "complete it once its last session has ended" in html
    assert "Confirm the registers and complete the course" not in html
    assert course.ends_at > utcnow()


def test_my_teaching_and_the_home_page_show_what_is_waiting(app_ctx, client, auth):
    course, teacher, _bookings = factories.taught_course("AWARE", trainees=2)
    db.session.commit()
    auth.login(teacher)
    assert teaching.teaching(teacher).to_do == [(course, "registers")]
    html = client.get("/teaching").get_data(as_text=True)
    assert "Waiting for you" in html and "Registers to take" in html
    assert "1 course with registers to take" in client.get("/").get_data(as_text=True)
    factories.mark_everyone(course)
    db.session.commit()
    assert teaching.teaching(teacher).to_do == [(course, "complete")]
    assert f'href="/teaching/courses/{course.id}/complete"' in client.get("/teaching").get_data(as_text=True)
    assert "1 course ready to complete" in client.get("/").get_data(as_text=True)
