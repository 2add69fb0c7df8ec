"""Instructors who stay qualified: qualifications with their dates, courses delivered, development records,
the at-risk list, the instructor's own page and the licence-expiry reminders."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa import reminders
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.courses import instructors, scheduling, standing
from mhfa.courses.instructors import InstructorDetails
from mhfa.courses.models import CourseStatus, Instructor, InstructorDevelopment
from mhfa.courses.standing import DevelopmentDetails
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
from mhfa.timeutil import london_today, utcnow
from tests import factories


def details(**overrides) -> InstructorDetails:
    values = dict(first_name="Nia", last_name="New", email="nia@example.org", licence_number="MHFA-77",
                  licence_expires_on=date.today() + timedelta(days=400),
                  course_types=[factories.course_type("ADULT_2DAY")], qualified_on=date(2024, 5, 1))
    values.update(overrides)
    return InstructorDetails(**values)


def delivered(instructor: Instructor, count: int, *, days_ago: int = 30) -> None:
    for n in range(count):
        start = datetime.combine(date.today() - timedelta(days=days_ago + n * 7), datetime.min.time()).replace(hour=9)
        factories.course("AWARE", start=start, instructors=[instructor], status=CourseStatus.COMPLETED)


# --- qualifications ----------------------------------------------------------------------------------

def test_each_qualification_is_recorded_with_its_date_and_kept_when_others_are_added(app_ctx):
    made = instructors.create_instructor(details())
    assert [(q.course_type.code, q.qualified_on) for q in made.qualifications] == [("ADULT_2DAY", date(2024, 5, 1))]
    youth = factories.course_type("YOUTH_2DAY")
    instructors.update_instructor(made, details(course_types=[factories.course_type("ADULT_2DAY"), youth],
                                                qualified_on=date(2025, 9, 12)))
    dated = {q.course_type.code: q.qualified_on for q in made.qualifications}
    assert dated == {"ADULT_2DAY": date(2024, 5, 1), "YOUTH_2DAY": date(2025, 9, 12)}
    assert made.licensed_for(youth)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "instructor.updated")).one()
    assert {"course_type": "YOUTH_2DAY", "qualified_on": "2025-09-12"} in event.details["qualifications"]
    instructors.update_instructor(made, details(course_types=[youth]))
    assert [q.course_type.code for q in made.qualifications] == ["YOUTH_2DAY"]


def test_a_qualification_date_in_the_future_is_refused(app_ctx):
    with pytest.raises(DomainError, match="The date qualified must be today or earlier"):
        instructors.create_instructor(details(qualified_on=date.today() + timedelta(days=1)))
    assert db.session.scalar(sa.select(sa.func.count(Instructor.id))) == 0


def test_scheduling_and_publishing_refuse_an_instructor_not_qualified_naming_the_reason(app_ctx):
    adult_only = instructors.create_instructor(details())
    youth = factories.course("YOUTH_2DAY", status=CourseStatus.DRAFT, instructors=[])
    with pytest.raises(DomainError, match=r"Nia New's licence does not cover Youth MHFA \(two day\): they have "
                                          "no qualification recorded") as refused:
        instructors.assign_instructor(youth, adult_only)
    assert refused.value.field == "instructor" and youth.instructors == []
    youth.instructors.append(adult_only)  # put there before the licence was narrowed
    db.session.flush()
    with pytest.raises(DomainError, match=r"does not cover Youth MHFA \(two day\): they have no qualification"):
        scheduling.publish_course(youth)
    assert youth.status is CourseStatus.DRAFT


# --- standing ----------------------------------------------------------------------------------------

def test_courses_delivered_count_completed_courses_of_the_last_twelve_months(app_ctx):
    teacher = factories.instructor()
    delivered(teacher, 2)
    delivered(teacher, 1, days_ago=400)  # more than a year ago
    start = datetime.combine(date.today() + timedelta(days=20), datetime.min.time()).replace(hour=9)
    factories.course("AWARE", start=start, instructors=[teacher])  # not delivered yet
    found = standing.standing_of(teacher)
    assert found.courses_last_year == 2 and not found.at_risk


def test_the_at_risk_list_names_lapsing_licences_and_too_few_courses(app_ctx):
    fine = factories.instructor(factories.person("Fay", "Fine"), expires_on=date.today() + timedelta(days=400))
    delivered(fine, 2)
    lapsing = factories.instructor(factories.person("Lee", "Lapsing"), expires_on=date.today() + timedelta(days=100))
    delivered(lapsing, 3)
    quiet = factories.instructor(factories.person("Quinn", "Quiet"), expires_on=date.today() + timedelta(days=500))
    delivered(quiet, 1)
    retired = factories.instructor(factories.person("Rae", "Retired"))
    retired.active = False
    db.session.flush()
    risky = standing.at_risk()
    assert [s.instructor.person.last_name for s in risky] == ["Lapsing", "Quiet"]
    assert "Licence expires on" in risky[0].reasons[0]
    assert risky[1].reasons == ["Delivered 1 course in the last twelve months (MHFA England asks for at least 2)"]


def test_an_instructor_adds_and_removes_development_records(app_ctx):
    teacher = factories.instructor()
    user = factories.user(Role.INSTRUCTOR)
    record = standing.add_development(teacher, DevelopmentDetails(date.today() - timedelta(days=3),
                                                                  "  MHFA England   webinar ", 1.5), user)
    assert (record.activity, record.minutes) == ("MHFA England webinar", 90)
    standing.add_development(teacher, DevelopmentDetails(date.today() - timedelta(days=500), "Old course", 7), user)
    assert standing.standing_of(teacher).development_hours_last_year == 1.5
    other = factories.instructor(factories.person("Oth", "Er"))
    with pytest.raises(NotFound):
        standing.remove_development(other, record.id, user)
    standing.remove_development(teacher, record.id, user)
    assert db.session.get(InstructorDevelopment, record.id) is None
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"instructor.development_added", "instructor.development_removed"} <= actions


@pytest.mark.parametrize("entry, field, message", [  # made on the day the test runs (never at collection)
    (lambda today: DevelopmentDetails(None, "Webinar", 1), "done_on", "Enter the date"),
    (lambda today: DevelopmentDetails(today + timedelta(days=1), "Webinar", 1), "done_on", "today or earlier"),
    (lambda today: DevelopmentDetails(date(1999, 1, 1), "Webinar", 1), "done_on", "on or after"),
    (lambda today: DevelopmentDetails(today, "   ", 1), "activity", "Say what the activity was"),
    (lambda today: DevelopmentDetails(today, "x" * 201, 1), "activity", "200 characters"),
    (lambda today: DevelopmentDetails(today, "Webinar", None), "hours", "Enter the hours"),
    (lambda today: DevelopmentDetails(today, "Webinar", float("nan")), "hours", "Enter the hours"),
    (lambda today: DevelopmentDetails(today, "Webinar", 0.1), "hours", "quarter of an hour"),
    (lambda today: DevelopmentDetails(today, "Webinar", -3), "hours", "quarter of an hour"),
    (lambda today: DevelopmentDetails(today, "Webinar", 1e9), "hours", "at most 100 hours"),
])
def test_a_bad_development_record_is_refused_on_its_field(app_ctx, entry, field, message):
    teacher = factories.instructor()
    with pytest.raises(DomainError, match=message) as refused:
        standing.add_development(teacher, entry(london_today()), factories.user(Role.INSTRUCTOR))
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(InstructorDevelopment.id))) == 0


# --- reminders --------------------------------------------------------------------------------------------

def test_licence_reminders_go_six_and_three_months_before_each_once_to_instructor_and_team(app_ctx, smtp):
    from tests.outbox import deliver_outbox

    teacher = factories.instructor(factories.person("Lee", "Lapsing", email="lee@example.org"),
                                   expires_on=london_today() + timedelta(days=200))
    db.session.commit()
    assert reminders.send_due_reminders()["instructor_licence"] == 0  # 200 days: not yet
    six = utcnow() + timedelta(days=20)   # 180 days before
    assert reminders.send_due_reminders(six)["instructor_licence"] == 1
    db.session.commit()
    assert reminders.send_due_reminders(six)["instructor_licence"] == 0
    three = utcnow() + timedelta(days=110)  # 90 days before
    assert reminders.send_due_reminders(three)["instructor_licence"] == 1
    db.session.commit()
    assert reminders.send_due_reminders(three)["instructor_licence"] == 0
    db.session.commit()
    deliver_outbox()
    assert len(smtp.subjects("lee@example.org")) == 2
    team = app_ctx.config["MHFA_CONTACT_EMAIL"]
    assert sum("Instructor licence expiring: Lee Lapsing" in s for s in smtp.subjects(team)) == 2
    # A renewed licence is reminded about again when its time comes.
    teacher.licence_expires_on = london_today() + timedelta(days=150)
    db.session.commit()
    assert reminders.send_due_reminders()["instructor_licence"] == 1


def test_a_licence_first_seen_inside_three_months_gets_one_reminder(app_ctx, smtp):
    factories.instructor(expires_on=london_today() + timedelta(days=60))
    db.session.commit()
    assert reminders.send_due_reminders()["instructor_licence"] == 1
    db.session.commit()
    assert reminders.send_due_reminders()["instructor_licence"] == 0


# --- the pages -------------------------------------------------------------------------------------------

def test_the_instructor_sees_their_standing_and_adds_development(client, auth, app_ctx, post_form):
    user = factories.user(Role.INSTRUCTOR, first_name="Ines", last_name="Teacher")
    teacher = factories.instructor(user.person, expires_on=date.today() + timedelta(days=90))
    db.session.commit()
    auth.login(user)
    page = client.get("/teaching/standing")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "At risk of lapsing" in text and "Licence expires on" in text
    refused = post_form("/teaching/standing", {"done_on": "2026-02-30", "activity": "", "hours": "lots"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "real date" in text and "Say what the activity was" in text and "Enter the hours as a number" in text
    added = post_form("/teaching/standing", {"done_on": (date.today() - timedelta(days=2)).isoformat(),
                                             "activity": "Supervision session", "hours": "2"})
    assert added.status_code == 302
    assert "Supervision session" in client.get("/teaching/standing").get_data(as_text=True)
    record = db.session.scalar(sa.select(InstructorDevelopment))
    assert record.instructor_id == teacher.id and record.minutes == 120
    assert post_form(f"/teaching/standing/development/{record.id}/remove", {},
                     page="/teaching/standing").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(InstructorDevelopment.id))) == 0


def test_a_user_with_the_role_but_no_instructor_record_gets_404(client, auth, app_ctx):
    user = factories.user(Role.INSTRUCTOR)
    db.session.commit()
    auth.login(user)
    assert client.get("/teaching/standing").status_code == 404


def test_coordinators_see_the_at_risk_list_and_each_standing_with_development(client, auth, app_ctx):
    lapsing = factories.instructor(factories.person("Lee", "Lapsing"), expires_on=date.today() + timedelta(days=60))
    standing.add_development(lapsing, DevelopmentDetails(date.today(), "Webinar on self-harm", 1.25),
                             factories.user(Role.INSTRUCTOR))
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    listed = client.get("/manage/instructors/at-risk").get_data(as_text=True)
    assert "Lee Lapsing" in listed and f"/manage/instructors/{lapsing.id}" in listed
    page = client.get(f"/manage/instructors/{lapsing.id}").get_data(as_text=True)
    assert "Webinar on self-harm" in page and "1.25" in page and "Adult MHFA" in page
    assert client.get("/manage/instructors/999999").status_code == 404


def test_the_instructor_form_records_the_qualification_date(client, auth, app_ctx, post_form):
    coordinator = factories.user(Role.COORDINATOR)
    youth = factories.course_type("YOUTH_2DAY")
    db.session.commit()
    auth.login(coordinator)
    data = {"first_name": "Nia", "last_name": "New", "email": "nia@example.org", "licence_number": "MHFA 1",
            "licence_expires_on": (date.today() + timedelta(days=400)).isoformat(), "licensed_types": [youth.id]}
    refused = post_form("/manage/instructors/new", {**data, "qualified_on": "2099-01-01"})
    assert refused.status_code == 422
    assert "The date qualified must be today or earlier" in refused.get_data(as_text=True)
    assert post_form("/manage/instructors/new", {**data, "qualified_on": "2025-09-12"}).status_code == 302
    nia = db.session.scalar(sa.select(Instructor))
    assert [(q.course_type.code, q.qualified_on) for q in nia.qualifications] == [("YOUTH_2DAY", date(2025, 9, 12))]
