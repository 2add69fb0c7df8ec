"""The instructor's pages through the browser's eyes: my teaching, the register, completing the course."""
import re

import sqlalchemy as sa

from mhfa.attendance.models import AttendanceMark, AttendanceStatus, Completion, CompletionSource
from mhfa.attendance.services import completed_on
from mhfa.auth.models import Role
from mhfa.certificates.models import Certificate
from mhfa.courses.models import CourseStatus
from mhfa.extensions import db
from tests import factories


def _statuses():
    return {(m.booking_id, m.session_id): m.status for m in db.session.scalars(sa.select(AttendanceMark))}


def test_my_teaching_links_to_the_registers_and_the_calendar(client, auth):
    course, teacher, _ = factories.taught_course()
    db.session.commit()
    auth.login(teacher)
    html = client.get("/teaching").get_data(as_text=True)
    assert f"/teaching/courses/{course.id}" in html and "/calendar/teaching" in html
    page = client.get(f"/teaching/courses/{course.id}").get_data(as_text=True)
    assert f"/teaching/sessions/{course.sessions[0].id}/register" in page


def test_an_instructor_takes_both_registers_and_completes_the_course(client, auth, post_form):
    course, teacher, (a, b) = factories.taught_course()
    db.session.commit()
    auth.login(teacher)
    first, second = course.sessions
    url = f"/teaching/sessions/{first.id}/register"
    page = client.get(url).get_data(as_text=True)
    assert a.person.full_name in page and "Mark everyone present" in page
    response = post_form(f"/teaching/sessions/{first.id}/register/all-present", {}, page=url)
    assert response.status_code == 302
    url2 = f"/teaching/sessions/{second.id}/register"
    response = post_form(url2, {f"mark-{a.id}": "present", f"mark-{b.id}": "absent"})
    assert response.status_code == 302
    assert _statuses()[(b.id, second.id)] is AttendanceStatus.ABSENT
    preview = client.get(f"/teaching/courses/{course.id}/complete").get_data(as_text=True)
    assert "Will not complete (1)" in preview and b.person.full_name in preview
    response = post_form(f"/teaching/courses/{course.id}/complete", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert course.status is CourseStatus.COMPLETED
    assert [c.person_id for c in db.session.scalars(sa.select(Certificate))] == [a.person_id]
    # Twice: nothing changes, and the page says so.
    response = post_form(f"/teaching/courses/{course.id}/complete", {}, follow_redirects=True)
    assert "already completed" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1


def test_the_preview_says_a_trainee_with_an_imported_completion_that_day_gets_no_new_certificate(client, auth,
                                                                                                   post_form):
    course, teacher, (a, b) = factories.taught_course()
    factories.mark_everyone(course)
    db.session.add(Completion(person_id=b.person_id, course_type_id=course.course_type_id,
                              completed_on=completed_on(course), source=CompletionSource.IMPORT))
    db.session.commit()
    auth.login(teacher)
    preview = client.get(f"/teaching/courses/{course.id}/complete").get_data(as_text=True)
    assert "Will complete and get a certificate (1)" in preview
    completing = preview.split('id="completing"')[1].split("</ul>")[0]
    assert a.person.full_name in completing and b.person.full_name not in completing
    already = preview.split('id="already-completed"')[1].split("</ul>")[0]
    assert b.person.full_name in already and "(imported), no new certificate" in already
    assert post_form(f"/teaching/courses/{course.id}/complete", {}).status_code == 302
    assert [c.person_id for c in db.session.scalars(sa.select(Certificate))] == [a.person_id]


def test_a_bad_mark_is_refused_with_a_message_and_nothing_changes(client, auth, post_form):
    course, teacher, (a, b) = factories.taught_course()
    db.session.commit()
    auth.login(teacher)
    url = f"/teaching/sessions/{course.sessions[0].id}/register"
    response = post_form(url, {f"mark-{a.id}": "present", "mark-999999": "present"})
    assert response.status_code == 422
    assert "does not have a confirmed place" in response.get_data(as_text=True)
    response = post_form(url, {f"mark-{a.id}": "maybe"})
    assert response.status_code == 422 and "Choose present or absent" in response.get_data(as_text=True)
    assert _statuses() == {}


def test_a_future_session_cannot_be_marked(client, auth, post_form):
    course, teacher, (a, _) = factories.taught_course(days_ago=-7)
    db.session.commit()
    auth.login(teacher)
    url = f"/teaching/sessions/{course.sessions[0].id}/register"
    assert "has not started yet" in client.get(url).get_data(as_text=True)
    response = post_form(url, {f"mark-{a.id}": "present"})
    assert response.status_code == 422 and "has not started yet" in response.get_data(as_text=True)
    assert _statuses() == {}


def test_registers_are_open_only_to_the_courses_instructors_and_coordinators(client, auth):
    course, teacher, _ = factories.taught_course()
    someone_else = factories.user(Role.INSTRUCTOR)
    factories.instructor(someone_else.person)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    session_id = course.sessions[0].id
    urls = [f"/teaching/courses/{course.id}", f"/teaching/sessions/{session_id}/register",
            f"/teaching/courses/{course.id}/complete"]
    for user, allowed in ((teacher, True), (coordinator, True), (someone_else, False)):
        auth.login(user)
        for url in urls:
            assert (client.get(url).status_code == 200) is allowed, (user, url)
        auth.logout()


def test_the_register_has_large_radios_and_no_table(client, auth):
    course, teacher, _ = factories.taught_course()
    db.session.commit()
    auth.login(teacher)
    html = client.get(f"/teaching/sessions/{course.sessions[0].id}/register").get_data(as_text=True)
    assert "govuk-radios--small" not in html and "<table" not in html
    assert html.count('type="radio"') == 6  # present, absent or withdrew, for each of the two trainees


def test_the_register_and_my_teaching_do_not_query_per_trainee_or_course(client, auth, count_queries):
    small, teacher, _ = factories.taught_course(trainees=2)
    big = factories.course(start=small.sessions[0].starts_at.replace(tzinfo=None), instructors=small.instructors)
    for _ in range(12):
        factories.booking_on(big)
    db.session.commit()
    auth.login(teacher)
    counts = []
    client.get(f"/teaching/sessions/{big.sessions[1].id}/register")  # warm up (the user, the layout)
    for course in (small, big):
        db.session.expire_all()
        with count_queries() as queries:
            assert client.get(f"/teaching/sessions/{course.sessions[0].id}/register").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12, counts
    db.session.expire_all()
    with count_queries() as few:
        client.get("/teaching")
    for _ in range(5):
        factories.course(instructors=small.instructors)
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        client.get("/teaching")
    assert len(many) == len(few)


def test_the_registers_page_shows_which_registers_are_taken_and_which_are_left(client, auth, post_form):
    course, teacher, (a, b, c) = factories.taught_course(trainees=3)
    later, _, _ = factories.taught_course(days_ago=-7)
    later.instructors = course.instructors
    first, second = course.sessions
    factories.mark_everyone(course)
    db.session.execute(sa.delete(AttendanceMark).where(AttendanceMark.session_id == second.id,
                                                       AttendanceMark.booking_id != a.id))
    db.session.commit()
    auth.login(teacher)
    page = client.get(f"/teaching/courses/{course.id}").get_data(as_text=True)
    state = {n: re.search(rf'id="register-state-{n}">(.*?)</span>', page).group(1) for n in (1, 2)}
    assert "Taken</strong> 3 of 3 marked" in state[1] and "Change the register<span" in page
    assert "Partly taken</strong> 1 of 3 marked" in state[2] and "Finish the register<span" in page
    assert "Take the register<span" not in page
    fresh = client.get(f"/teaching/courses/{later.id}").get_data(as_text=True)
    assert "Not taken yet" in fresh and "See the register<span" in fresh  # not started: nothing to take yet
    db.session.execute(sa.delete(AttendanceMark).where(AttendanceMark.session_id == second.id))
    db.session.commit()
    page = client.get(f"/teaching/courses/{course.id}").get_data(as_text=True)
    assert re.search(r'id="register-state-2">[^<]*<strong class="govuk-tag govuk-tag--grey">Not taken yet', page)
    assert "Take the register<span class=\"govuk-visually-hidden\"> for session 2" in page
