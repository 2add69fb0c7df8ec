"""One date rule everywhere: people born 1900 to today, programme and course dates 2000 to 2100.

Every entry point refuses a date outside its range on the field (settings, profile, staff form and
file, phone booking, imports, course and finder forms, the API, the command line), and every page
that formats dates still answers with the extremes the rules allow, or with a value stored before
the rules (a programme that starts in year 1).
"""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa import dates
from mhfa.attendance.models import Completion
from mhfa.auth.models import Role
from mhfa.courses.models import CourseStatus, DeliveryMode
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.forecast.series import parse_month
from mhfa.people.models import Person
from mhfa.reach import importing
from mhfa.reach.models import ProgrammeSettings
from mhfa.reach.settings import current_settings
from mhfa.timeutil import london_today
from tests import factories


def _signed_in(auth, *roles, **person_fields):
    user = factories.user(*roles, person_=factories.person(**person_fields) if person_fields else None)
    db.session.commit()
    auth.login(user)
    return user


def _settings_form(start: str, end: str) -> dict:
    return {"target_people": "1000", "start_on": start, "end_on": end,
            "region": [str(factories.area("Birmingham").id)]}


# --- the rule itself ---------------------------------------------------------------------------------

def test_the_ranges_and_their_messages():
    today = london_today()
    assert dates.BIRTH.problem(date(1900, 1, 1), "Date of birth") is None
    assert dates.BIRTH.problem(today, "Date of birth") is None
    assert dates.BIRTH.problem(date(1899, 12, 31), "Date of birth") == \
        "Date of birth must be on or after 1 January 1900"
    assert dates.BIRTH.problem(today + timedelta(days=1), "Date of birth") == "Date of birth must be in the past"
    assert dates.PROGRAMME.problem(date(2000, 1, 1), "Start date") is None
    assert dates.PROGRAMME.problem(date(2100, 12, 31), "Start date") is None
    assert dates.PROGRAMME.problem(date(1, 1, 1), "Start date") == "Start date must be on or after 1 January 2000"
    assert dates.PROGRAMME.problem(date(9999, 12, 31), "End date") == \
        "End date must be on or before 31 December 2100"
    assert dates.PROGRAMME.up_to_today().problem(today + timedelta(days=1), "Paid") == "Paid must be today or earlier"
    assert dates.parse("31/12/2100") == date(2100, 12, 31) and dates.parse("2027-02-30") is None
    assert dates.parse("0001-01-01") == date(1, 1, 1) and dates.parse("1/1/1") is None
    assert dates.parse_month("2100-12") == (2100, 12)
    assert dates.parse_month("1999-12") is None and dates.parse_month("9999-01") is None
    assert dates.parse_month("0000-01") is None


# --- settings: the public pages cannot be broken ---------------------------------------------------

@pytest.mark.parametrize("start,end", [("0001-01-01", "2027-01-31"), ("1000-01-01", "2027-01-31"),
                                       ("1999-12-31", "2027-01-31"), ("2017-01-31", "2101-01-01"),
                                       ("2017-01-31", "9999-12-31")])
def test_settings_refuse_dates_outside_the_programme_range(client, auth, post_form, start, end):
    _signed_in(auth, Role.COORDINATOR)
    response = post_form("/reach/settings", _settings_form(start, end))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "must be on or after 1 January 2000" in html or "must be on or before 31 December 2100" in html
    assert current_settings().start_on == date(2017, 1, 31)


def test_settings_service_refuses_them_too(app_ctx):
    from mhfa.reach.settings import SettingsChanges, update_settings

    changes = SettingsChanges(1000, date(1, 1, 1), date(2027, 1, 31), {factories.area().id}, set(), set())
    with pytest.raises(DomainError, match="Start date must be on or after 1 January 2000"):
        update_settings(changes)


def test_every_reach_page_answers_with_the_extreme_programme_dates(client, auth, post_form):
    db.session.add(Completion(person=factories.person(home_council_area=factories.area("Coventry")),
                              course_type=factories.course_type("AWARE"), completed_on=date(2000, 1, 1)))
    _signed_in(auth, Role.COORDINATOR, Role.BOARD)
    assert post_form("/reach/settings", _settings_form("2000-01-01", "2100-12-31")).status_code == 302
    for page in ("/", "/reach", "/reach?from=2000-01&to=2100-12", "/progress", "/progress/data/trajectory.csv",
                 "/progress/data/areas.csv", "/progress/data/progress.json", "/progress/data/outcomes.csv",
                 "/reach/settings", "/reach/download/trajectory.csv", "/reach/download/all.xlsx",
                 "/forecast/method"):
        assert client.get(page).status_code == 200, page
    assert client.get("/reach?from=1999-12").status_code == 400


def test_a_stored_start_date_before_the_rule_does_not_break_the_pages(client, auth):
    """A value saved before the rule (year 1, not zero-padded by strftime) still draws."""
    db.session.add(ProgrammeSettings(target_people=1000, start_on=date(1, 1, 1), end_on=date(2027, 1, 31), note=""))
    _signed_in(auth, Role.BOARD)
    assert client.get("/progress").status_code == 200
    assert client.get("/reach").status_code == 200


# --- dates of birth --------------------------------------------------------------------------------

def _profile(**changes) -> dict:
    form = {"first_name": "Grace", "last_name": "Hopper", "date_of_birth-day": "1", "date_of_birth-month": "1",
            "date_of_birth-year": "1900", "home_council_area": "", "work_council_area": "", "postcode": "",
            "employer": ""}
    form.update(changes)
    return form


def test_the_profile_takes_1900_to_today_and_nothing_outside(client, auth, post_form):
    user = _signed_in(auth, Role.TRAINEE)
    assert post_form("/profile", _profile()).status_code == 302
    assert db.session.get(Person, user.person_id).date_of_birth == date(1900, 1, 1)
    for page in ("/profile", "/account/my-data", "/account/my-data.json", "/account/my-data.csv", "/my-courses"):
        assert client.get(page).status_code == 200, page
    old = post_form("/profile", _profile(**{"date_of_birth-year": "1899", "date_of_birth-month": "12",
                                            "date_of_birth-day": "31"}))
    assert old.status_code == 422 and "Date of birth must be on or after 1 January 1900" in old.get_data(as_text=True)
    today = london_today()
    assert post_form("/profile", _profile(**{"date_of_birth-year": str(today.year), "date_of_birth-month":
                                             str(today.month), "date_of_birth-day": str(today.day)})).status_code == 302


def test_staff_dates_of_birth_follow_the_rule_in_the_form_and_the_file(app_ctx):
    from mhfa.employers.staff import CsvRejected, check_member, parse_staff_csv

    assert check_member("Ann", "Old", "ann@example.org", "1900-01-01").date_of_birth == date(1900, 1, 1)
    with pytest.raises(DomainError, match="on or after 1 January 1900"):
        check_member("Ann", "Old", "ann@example.org", date(1899, 12, 31))
    with pytest.raises(CsvRejected) as refused:
        parse_staff_csv(b"first_name,last_name,email,date_of_birth\nAnn,Old,ann@example.org,31/12/1899\n"
                        b"Bo,New,bo@example.org,2999-01-01\n")
    assert refused.value.lines == ["line 2: date of birth must be on or after 1 January 1900",
                                   "line 3: date of birth must be in the past"]


def test_a_phone_booking_refuses_a_date_of_birth_before_1900(client, auth, post_form):
    _signed_in(auth, Role.COORDINATOR)
    course = factories.course("AWARE")
    db.session.commit()
    url = f"/manage/courses/{course.id}/book-person"
    response = post_form(url, {"first_name": "Ann", "last_name": "Old", "email": "ann@example.org",
                               "date_of_birth": "1899-12-31", "voucher_code": ""})
    assert response.status_code == 422
    assert "Date of birth must be on or after 1 January 1900" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Person).where(Person.email == "ann@example.org")) is None


def test_the_import_refuses_dates_outside_the_rule(app_ctx):
    header = "first_name,last_name,email,course_type,completed_on,council_area,date_of_birth\n"
    text = header + ("Ann,Old,ann@example.org,AWARE,2000-01-01,Birmingham,1899-12-31\n"
                     "Bo,Early,bo@example.org,AWARE,1999-12-31,Birmingham,1900-01-01\n"
                     "Cy,Fine,cy@example.org,AWARE,2000-01-01,Birmingham,1900-01-01\n")
    with pytest.raises(importing.ImportRejected) as refused:
        importing.parse(text)
    assert refused.value.lines == ["line 2: date_of_birth must be on or after 1 January 1900",
                                   "line 3: completed_on must be between 1 January 2000 and today"]


def test_create_user_refuses_a_date_of_birth_before_1900(runner):
    result = runner.invoke(args=["mhfa", "create-user", "--email", "old@example.org", "--role", "trainee",
                                 "--date-of-birth", "1899-12-31"])
    assert result.exit_code != 0 and "on or after 1 January 1900" in result.output


# --- course, finder, order and forecast dates --------------------------------------------------------

def test_the_finder_and_its_api_take_the_extremes_and_refuse_beyond(client):
    factories.course("AWARE", start=datetime(2100, 12, 30, 9))
    db.session.commit()
    assert client.get("/courses?from_date=2000-01-01&to_date=2100-12-31").status_code == 200
    refused_page = client.get("/courses?from_date=1999-12-31").get_data(as_text=True)
    assert "From must be on or after 1 January 2000" in refused_page
    assert client.get("/api/v1/courses?from_date=2000-01-01&to_date=2100-12-31").json["total"] == 1
    refused = client.get("/api/v1/courses?to_date=2101-01-01")
    assert refused.status_code == 400 and "on or before 31 December 2100" in refused.json["error"]


def test_a_course_on_the_last_allowed_day_shows_everywhere(client, auth):
    course = factories.course("AWARE", start=datetime(2100, 12, 31, 9))
    _signed_in(auth, Role.COORDINATOR)
    for page in (f"/courses/{course.id}", f"/courses/{course.id}.ics", f"/manage/courses/{course.id}",
                 "/manage/courses", f"/manage/courses/{course.id}/edit", f"/api/v1/courses/{course.id}"):
        assert client.get(page).status_code == 200, page


def test_course_sessions_outside_the_range_are_refused_by_the_service(app_ctx):
    from mhfa.courses.rules import CourseDetails, SessionTimes, course_problems
    from mhfa.timeutil import london_to_utc

    start = london_to_utc(datetime(2101, 1, 3, 9))
    details = CourseDetails(course_type=factories.course_type("AWARE"), delivery_mode=DeliveryMode.IN_PERSON,
                            capacity=10, sessions=[SessionTimes(start, start + timedelta(hours=4))],
                            venue=factories.venue())
    assert ("session_1_date", "Session 1 date must be on or before 31 December 2100") in course_problems(details)


def test_a_payment_date_outside_the_range_is_refused(app_ctx):
    from mhfa.employers.orders import mark_paid

    employer = factories.employer()
    coordinator = factories.user(Role.COORDINATOR)
    order = factories.order(employer)
    with pytest.raises(DomainError, match="The payment date must be on or after 1 January 2000"):
        mark_paid(order, by=coordinator, paid_on=date(1999, 12, 31))


def test_forecast_months_outside_the_range_are_refused():
    assert str(parse_month("2100-12")) == "2100-12"
    for text in ("1999-12", "9999-12"):
        with pytest.raises(DomainError, match="month must be between 2000-01 and 2100-12"):
            parse_month(text)


def test_the_environment_cannot_set_a_target_date_outside_the_range(monkeypatch):
    from mhfa.config import programme_date

    monkeypatch.setenv("MHFA_TARGET_START", "0001-01-01")
    with pytest.raises(ValueError, match="MHFA_TARGET_START must be on or after 1 January 2000"):
        programme_date("MHFA_TARGET_START", "2017-01-31")


def test_import_page_keeps_rows_of_the_extreme_dates(client, auth):
    _signed_in(auth, Role.COORDINATOR)
    text = ("first_name,last_name,email,course_type,completed_on,council_area,date_of_birth\n"
            f"Ann,Old,ann@example.org,AWARE,2000-01-01,Birmingham,1900-01-01\n"
            f"Bo,Young,bo@example.org,AWARE,{london_today().isoformat()},Birmingham,{london_today().isoformat()}\n")
    response = client.post("/reach/import", data={
        "file": (io.BytesIO(text.encode()), "people.csv"),
        "csrf_token": _token(client, "/reach/import")}, content_type="multipart/form-data")
    assert response.status_code in (200, 302)
    people = db.session.scalars(sa.select(Person).order_by(Person.email)).all()
    assert [p.date_of_birth for p in people if p.email in ("ann@example.org", "bo@example.org")] == \
        [date(1900, 1, 1), london_today()]
    found = client.get("/manage/people?q=ann%40example.org")
    assert found.status_code == 200 and "Old" in found.get_data(as_text=True)
    ann = next(p for p in people if p.email == "ann@example.org")
    assert client.get(f"/manage/people/{ann.id}/data.json").status_code == 200


def _token(client, page):
    from tests.conftest import csrf_token

    return csrf_token(client, page)


def test_draft_course_listing_with_extreme_dates(client, auth):
    factories.course("AWARE", start=datetime(2100, 12, 31, 9), status=CourseStatus.DRAFT)
    _signed_in(auth, Role.COORDINATOR)
    assert client.get("/manage/courses?from_date=2000-01-01&to_date=2100-12-31").status_code == 200
