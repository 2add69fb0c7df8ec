"""The six-month follow-up: sent once by the reminders command, never to erased or opted-out people."""
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa import reminders
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.outcomes import evaluations, followups
from mhfa.outcomes.models import FOLLOW_UP, OutcomeInvite
from tests import factories
from tests.outcomes.helpers import completed_course


def _six_months_on(course) -> datetime:
    """Noon (UTC) on the day six months after the course's completion date."""
    done_on = course.sessions[-1].ends_at.date()
    year, month = divmod(done_on.year * 12 + done_on.month - 1 + 6, 12)
    day = date(year, month + 1, min(done_on.day, 28))
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=12)


def _follow_ups():
    return list(db.session.scalars(sa.select(OutcomeInvite).where(OutcomeInvite.kind == FOLLOW_UP)))


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 8, 31), 6, date(2026, 2, 28)), (date(2024, 8, 31), 6, date(2024, 2, 29)),
    (date(2026, 1, 15), 6, date(2025, 7, 15)), (date(2026, 12, 31), 6, date(2026, 6, 30)),
])
def test_months_before(day, months, expected):
    assert followups.months_before(day, months) == expected


def test_the_follow_up_goes_once_six_months_after_completion(smtp):
    course, _, (a, b), _ = completed_course(trainees=2)
    moment = _six_months_on(course)
    assert reminders.send_due_reminders(moment - timedelta(days=7))["follow_up"] == 0
    assert reminders.send_due_reminders(moment)["follow_up"] == 2
    db.session.commit()
    assert reminders.send_due_reminders(moment)["follow_up"] == 0
    assert reminders.send_due_reminders(moment + timedelta(days=3))["follow_up"] == 0
    db.session.commit()
    invitation = next(i for i in _follow_ups() if i.person_id == a.person_id)
    [message] = [m for m in smtp.to(a.person.email) if m["Subject"].startswith("Six months on")]
    text = smtp.text(message)
    assert f"/follow-up/{invitation.token}" in text and f"/follow-up/{invitation.token}/stop" in text


def test_never_to_erased_people_or_those_who_opted_out(app_ctx):
    course, _, (a, b, c), _ = completed_course(trainees=3)
    from mhfa.people.models import Person
    db.session.get(Person, a.person_id).erased_at = datetime.now(UTC)
    evaluation = next(i for i in db.session.scalars(sa.select(OutcomeInvite)) if i.person_id == b.person_id)
    followups.opt_out(evaluation)
    db.session.commit()
    assert reminders.send_due_reminders(_six_months_on(course))["follow_up"] == 1
    assert [i.person_id for i in _follow_ups()] == [c.person_id]


def test_imported_history_is_never_followed_up(app_ctx):
    person = factories.person("Old", "Import", email="old@example.org")
    factories.certificate(person, issued_on=date.today() - timedelta(days=190))
    db.session.commit()
    assert reminders.send_due_reminders()["follow_up"] == 0


def test_follow_up_answers_no_drops_the_details_and_yes_keeps_them(app_ctx):
    course, *_ = completed_course(trainees=2)
    reminders.send_due_reminders(_six_months_on(course))
    db.session.commit()
    first, second = _follow_ups()
    now = _six_months_on(course)
    evaluations.answer(first, {"used_skills": "no", "times_used": 3, "actions": ["listened"]}, None, now)
    evaluations.answer(second, {"used_skills": "yes", "times_used": 3, "actions": ["listened", "crisis"]}, None, now)
    assert [a.key for a in first.answers] == ["used_skills"]
    assert second.answer("times_used") == 3 and second.answer("actions:listened") == 1
    assert second.answer("actions:crisis") == 1 and second.answer("actions:other") == 0


@pytest.mark.parametrize("raw, message", [
    ({"used_skills": "maybe"}, "options given"), ({"used_skills": "yes", "times_used": 0}, "from 1 to 999"),
    ({"used_skills": "yes", "actions": ["hugged"]}, "options given"), ({}, "Answer the question"),
])
def test_bad_follow_up_answers_are_refused(app_ctx, raw, message):
    course, *_ = completed_course(trainees=1)
    reminders.send_due_reminders(_six_months_on(course))
    db.session.commit()
    [invitation] = _follow_ups()
    with pytest.raises(DomainError, match=message):
        evaluations.answer(invitation, raw, None, _six_months_on(course))


def test_the_follow_up_page_and_the_one_click_opt_out(client, post_form):
    course, *_ = completed_course(trainees=1)
    reminders.send_due_reminders(_six_months_on(course))
    db.session.commit()
    [invitation] = _follow_ups()
    page = client.get(f"/follow-up/{invitation.token}")
    assert page.status_code == 200
    assert "Have you used your Mental Health First Aid skills" in page.get_data(as_text=True)
    response = post_form(f"/follow-up/{invitation.token}", {"used_skills": "yes", "times_used": "2",
                                                             "actions": ["signposted"]})
    assert response.status_code == 302
    assert client.get(f"/follow-up/{invitation.token}").status_code == 409
    stop = f"/follow-up/{invitation.token}/stop"
    assert "Stop follow-up emails" in client.get(stop).get_data(as_text=True)
    done = post_form(stop, {})
    assert done.status_code == 200 and "no more follow-up emails" in done.get_data(as_text=True)
    assert followups.is_opted_out(invitation.person_id)
    assert client.get(f"/follow-up/{'z' * 43}/stop").status_code == 404
    assert client.get(f"/evaluation/{invitation.token}").status_code == 404  # a follow-up link is not an evaluation's
