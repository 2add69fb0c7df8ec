"""The end-of-course evaluation: invited on completion, answered once, checked, shown from five answers."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.certificates import services as certificates
from mhfa.errors import Conflict, DomainError, Forbidden, Gone, NotFound
from mhfa.extensions import db
from mhfa.outcomes import evaluations, questionnaires
from mhfa.outcomes.models import OutcomeAnswer, OutcomeInvite, Questionnaire
from mhfa.reach.models import ReachFirst
from mhfa.timeutil import utcnow
from tests import factories
from tests.outcomes.helpers import GOOD, answer_all, completed_course, invites_of


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_completing_invites_each_completer_by_email_with_an_unguessable_link(smtp):
    course, _, bookings, done = completed_course(trainees=2)
    invites = invites_of(course)
    assert {i.person_id for i in invites} == {b.person_id for b in bookings}
    assert all(len(i.token) >= 40 and i.answered_at is None for i in invites)
    assert len({i.token for i in invites}) == 2
    for invitation in invites:
        [message] = [m for m in smtp.to(invitation.person.email) if m["Subject"].startswith("How was your")]
        assert f"/evaluation/{invitation.token}" in smtp.text(message)


def test_the_invitations_and_emails_roll_back_with_the_completion(smtp):
    course, teacher, _ = factories.taught_course(trainees=2)
    factories.mark_everyone(course, by=teacher)
    certificates.complete_course_and_issue(course, teacher)
    db.session.rollback()
    assert _count(OutcomeInvite) == 0 and smtp.messages == []


def test_completing_twice_invites_nobody_again(app_ctx):
    course, teacher, _, _ = completed_course()
    certificates.complete_course_and_issue(course, teacher)
    assert len(invites_of(course)) == 2


def test_answers_are_stored_with_their_questionnaire_version(app_ctx):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    evaluations.answer(invitation, dict(GOOD, comment="  Very useful  "), None)
    db.session.commit()
    assert invitation.answered_at is not None and invitation.questionnaire.version == 1
    assert invitation.answer("confidence_before") == 4 and invitation.answer("confidence_now") == 8
    assert invitation.answer("rating") == 5 and invitation.answer("comment") == "Very useful"


@pytest.mark.parametrize("change, message", [
    ({"confidence_now": "11"}, "choose a whole number from 0 to 10"),
    ({"confidence_before": "-1"}, "choose a whole number from 0 to 10"),
    ({"signposting_now": "7.5"}, "choose a whole number from 0 to 10"),
    ({"rating": "6"}, "choose one of the options given"),
    ({"rating": ""}, "Answer the question"),
    ({"comment": "x" * 1001}, "1000 characters or fewer"),
])
def test_bad_answers_are_refused_and_change_nothing(app_ctx, change, message):
    course, *_ = completed_course(trainees=1)
    [invitation] = invites_of(course)
    with pytest.raises(DomainError, match=message):
        evaluations.answer(invitation, dict(GOOD, **change), None)
    db.session.rollback()
    assert invitation.answered_at is None and _count(OutcomeAnswer) == 0


def test_a_link_answers_once_only_before_it_expires_and_only_for_its_owner(app_ctx):
    course, *_ = completed_course(trainees=3)
    first, second, third = invites_of(course)
    evaluations.answer(first, GOOD, None)
    db.session.commit()
    with pytest.raises(Conflict, match="already been answered"):
        evaluations.answer(first, GOOD, None)
    db.session.rollback()
    someone_else = factories.user(Role.TRAINEE)
    with pytest.raises(Forbidden, match="sent to another trainee"):
        evaluations.answer(second, GOOD, someone_else)
    db.session.rollback()
    with pytest.raises(Gone, match="expired"):
        evaluations.answer(third, GOOD, None, now=third.expires_at + timedelta(seconds=1))
    db.session.rollback()
    assert _count(OutcomeAnswer) == len([k for k, v in GOOD.items() if v])
    assert second.answered_at is None and third.answered_at is None


def test_unknown_or_malformed_tokens_are_not_found(app_ctx):
    for token in ("", "short", "x" * 200, "a" * 43):
        with pytest.raises(NotFound):
            evaluations.by_token(token)


def test_a_new_questionnaire_version_is_sent_and_old_answers_keep_theirs(app_ctx):
    course, *_ = completed_course(trainees=2)
    old, new = invites_of(course)
    evaluations.answer(old, GOOD, None)
    questions = [q for q in questionnaires.EVALUATION_V1 if q["key"] != "comment"] + [
        {"key": "recommend", "type": "yesno", "label": "Would you recommend the course?", "required": True}]
    version = questionnaires.add_version("evaluation", "Tell us about the course", questions)
    db.session.commit()
    assert version.version == 2 and questionnaires.current("evaluation") is version
    with pytest.raises(DomainError, match="recommend"):
        evaluations.answer(new, GOOD, None)
    db.session.rollback()
    evaluations.answer(new, dict(GOOD, recommend="yes"), None)
    db.session.commit()
    assert old.questionnaire.version == 1 and new.questionnaire.version == 2 and new.answer("recommend") == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Questionnaire.kind == "evaluation")) == 2


@pytest.mark.parametrize("questions, message", [
    ([], "at least one question"),
    ([{"key": "bad key", "type": "scale", "label": "x", "min": 0, "max": 10}], "short name"),
    ([{"key": "a", "type": "slider", "label": "x"}], "type must be one of"),
    ([{"key": "a", "type": "scale", "label": "x", "min": 5, "max": 1}], "min < max"),
    ([{"key": "a", "type": "yesno", "label": "x"}, {"key": "a", "type": "yesno", "label": "y"}], "its own key"),
])
def test_a_malformed_questionnaire_version_is_refused(app_ctx, questions, message):
    with pytest.raises(DomainError, match=message):
        questionnaires.add_version("evaluation", "", questions)


def test_course_results_are_shown_from_five_answers_with_comments_and_no_names(app_ctx):
    course, *_ = completed_course(trainees=6)
    answer_all(course, dict(GOOD, comment="Zebra crossing example helped"), count=4)
    results = evaluations.course_results(course)
    assert (results.invited, results.answered, results.shown) == (6, 4, False)
    assert results.means == {} and results.comments == []
    answer_all(course, dict(GOOD, confidence_before="9", comment="Apt"), count=None)  # the 5th and 6th answer
    results = evaluations.course_results(course)
    assert (results.answered, results.shown) == (6, True)
    assert results.means["confidence_before"] == round((4 * 4 + 9 * 2) / 6, 1)
    assert results.ratings[0] == ("Very good", 6)
    assert results.comments == ["Apt", "Apt", "Zebra crossing example helped", "Zebra crossing example helped",
                                "Zebra crossing example helped", "Zebra crossing example helped"]


def test_the_certificate_waits_for_the_evaluation_only_where_the_course_type_says_so(app_ctx):
    course, _, (booking,), done = completed_course(trainees=1)
    [certificate] = done.certificates
    holder = factories.user(Role.TRAINEE, person_=booking.person)
    assert certificates.download_refusal(certificate, holder) is None  # off by default
    evaluations.set_evaluation_required({course.course_type_id})
    refusal = certificates.download_refusal(certificate, holder)
    assert refusal is not None and refusal.endpoint == "outcomes.evaluate"
    assert certificates.download_refusal(certificate, factories.user(Role.COORDINATOR)) is None
    [invitation] = invites_of(course)
    evaluations.answer(invitation, GOOD, holder)
    assert certificates.download_refusal(certificate, holder) is None


def test_an_expired_evaluation_never_withholds_the_certificate(app_ctx):
    course, _, (booking,), done = completed_course(trainees=1)
    evaluations.set_evaluation_required({course.course_type_id})
    [invitation] = invites_of(course)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    holder = factories.user(Role.TRAINEE, person_=booking.person)
    assert certificates.download_refusal(done.certificates[0], holder) is None


def test_reach_never_depends_on_the_evaluation(app_ctx):
    course, *_ = completed_course(trainees=2)
    evaluations.set_evaluation_required({course.course_type_id})
    reached = _count(ReachFirst)
    assert reached >= 2
    answer_all(course, count=1)
    assert _count(ReachFirst) == reached


def test_a_trainee_completed_by_a_corrected_register_is_invited_too(app_ctx):
    from mhfa.attendance.models import AttendanceMark, AttendanceStatus

    course, teacher, (a, b) = factories.taught_course(trainees=2)
    for session in course.sessions:
        for booking in (a, b):
            missed = booking is b and session is course.sessions[-1]
            status = AttendanceStatus.ABSENT if missed else AttendanceStatus.PRESENT
            db.session.add(AttendanceMark(booking_id=booking.id, session_id=session.id, status=status))
    db.session.flush()
    certificates.complete_course_and_issue(course, teacher)
    assert [i.person_id for i in invites_of(course)] == [a.person_id]
    coordinator = factories.user(Role.COORDINATOR)
    certificates.correct_mark(course.sessions[-1], b.id, AttendanceStatus.PRESENT, coordinator, "came after lunch")
    assert sorted(i.person_id for i in invites_of(course)) == sorted([a.person_id, b.person_id])
