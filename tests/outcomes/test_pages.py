"""The evaluation page from its email link, the certificate that waits for it, a course's results, the settings."""
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.outcomes import evaluations
from mhfa.outcomes.models import OutcomeAnswer
from tests import factories
from tests.conftest import csrf_token
from tests.outcomes.helpers import GOOD, answer_all, completed_course, invites_of


def _answers():
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutcomeAnswer))


def test_the_evaluation_page_is_answered_once_from_its_link(client, post_form):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    page = client.get(f"/evaluation/{invitation.token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "How was your Mental Health First Aid course?" in html and "Before the course, how confident" in html
    response = post_form(f"/evaluation/{invitation.token}", dict(GOOD, comment="Clear and kind"))
    assert response.status_code == 302 and "/answered/evaluation/" in response.headers["Location"]
    assert "Thank you for your answers" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.answered_at is not None and invitation.answer("comment") == "Clear and kind"
    again = client.get(f"/evaluation/{invitation.token}")
    assert again.status_code == 409 and "already been answered" in again.get_data(as_text=True)


def test_an_out_of_range_score_is_shown_on_its_question_and_changes_nothing(client, post_form):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    response = post_form(f"/evaluation/{invitation.token}", dict(GOOD, confidence_now="11", rating="9"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and 'href="#confidence_now' in html
    assert _answers() == 0


def test_an_expired_or_unknown_link_says_so(client):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    invitation.expires_at = invitation.created_at
    db.session.commit()
    response = client.get(f"/evaluation/{invitation.token}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert client.get("/evaluation/" + "b" * 43).status_code == 404


def test_someone_elses_link_is_refused_to_a_signed_in_trainee(client, auth, post_form):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    other = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(other)
    assert client.get(f"/evaluation/{invitation.token}").status_code == 403
    response = client.post(f"/evaluation/{invitation.token}", data=dict(GOOD, csrf_token=csrf_token(client, "/")))
    assert response.status_code == 403 and _answers() == 0


def test_the_certificate_download_waits_for_the_evaluation_when_required(client, auth):
    course, _, (booking,), done = completed_course(trainees=1)
    [certificate] = done.certificates
    holder = factories.user(Role.TRAINEE, person_=booking.person)
    evaluations.set_evaluation_required({course.course_type_id})
    db.session.commit()
    auth.login(holder)
    refused = client.get(f"/certificates/{certificate.id}.pdf")
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    [invitation] = invites_of(course)
    assert "Answer the evaluation" in html and f"/evaluation/{invitation.token}" in html
    answer_all(course)
    assert client.get(f"/certificates/{certificate.id}.pdf").status_code == 200


def test_the_instructor_sees_results_from_the_fifth_answer_and_other_instructors_never(client, auth):
    course, teacher, *_ = completed_course(trainees=6)
    answer_all(course, dict(GOOD, comment="Loved the role play"), count=4)
    auth.login(teacher)
    page = client.get(f"/teaching/courses/{course.id}/evaluation").get_data(as_text=True)
    assert "4 of 6 trainees invited have answered" in page and "at least 5 trainees" in page
    assert "Loved the role play" not in page
    answer_all(course, count=1)
    page = client.get(f"/teaching/courses/{course.id}/evaluation").get_data(as_text=True)
    assert "Loved the role play" in page and "Very good" in page
    names = [i.person.last_name for i in invites_of(course)]
    assert not any(name in page for name in names)
    _, other_teacher, *_ = completed_course(trainees=1)
    auth.logout()
    auth.login(other_teacher)
    assert client.get(f"/teaching/courses/{course.id}/evaluation").status_code == 403


def test_coordinators_choose_which_course_types_wait_for_the_evaluation(client, auth, post_form):
    auth.login(factories.user(Role.COORDINATOR))
    kind = factories.course_type("ADULT_2DAY")
    db.session.commit()
    response = post_form("/manage/outcomes/settings", {"required": [str(kind.id)]})
    assert response.status_code == 302
    assert evaluations.evaluation_required() == {kind.id}
    bad = post_form("/manage/outcomes/settings", {"required": ["999999"]})
    assert bad.status_code == 422 and "Choose course types from the list" in bad.get_data(as_text=True)
    assert evaluations.evaluation_required() == {kind.id}
