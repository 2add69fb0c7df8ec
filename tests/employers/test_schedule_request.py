"""A coordinator schedules a closed-course request in one step: the course form comes filled in from
the request, and saving it creates the organisation's closed course and marks the request scheduled."""
import re
from datetime import date, timedelta

from mhfa.auth.models import Role
from mhfa.courses import instructors, scheduling
from mhfa.courses.models import Course, CourseStatus
from mhfa.employers import orders, requests
from mhfa.employers.models import ClosedCourseRequest, ClosedCourseRequestStatus
from mhfa.extensions import db
from tests import factories


def _request(employer, contact, *, dates: str, location: str, learners: int | None = 10) -> ClosedCourseRequest:
    details = requests.RequestDetails(course_type_id=factories.course_type("AWARE").id, preferred_dates=dates,
                                      location=location, learners=learners)
    made = requests.request_closed_course(employer, details, by=contact)
    db.session.commit()
    return made


def _selected(html: str, field: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', html, re.S).group(1)
    chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', select)
    return next((g for g in chosen.groups() if g is not None), None) if chosen else None


def _value(html: str, field: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{field}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


def _course_form(request, venue, day: date, **changes) -> dict:
    return {"course_type": str(request.course_type_id), "delivery_mode": "in_person", "venue": str(venue.id),
            "council_area": "", "session_1_date": day.isoformat(), "session_1_start": "09:30",
            "session_1_end": "13:30", "capacity": "10", "price": "95", "employer": str(request.employer_id),
            "notes": "", **changes}


def test_the_form_is_filled_in_from_the_request_and_saving_schedules_it_in_one_step(client, auth, post_form, smtp):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    coordinator = factories.user(Role.COORDINATOR)
    hall = factories.venue("Canal House", council_area="Coventry", postcode="CV1 5RR")
    factories.venue("Another Hall", council_area="Coventry", postcode="CV2 1AA")
    day = date.today() + timedelta(days=45)
    request = _request(acme, contact, dates=f"{day:%-d %B %Y}, or the week after", location="Canal House, Coventry")
    auth.login(coordinator)

    assert f'href="/manage/closed-course-requests/{request.id}/schedule"' in client.get(
        f"/manage/closed-course-requests/{request.id}").get_data(as_text=True)
    page = f"/manage/closed-course-requests/{request.id}/schedule"
    html = client.get(page).get_data(as_text=True)
    assert _selected(html, "course_type") == str(request.course_type_id)
    assert _selected(html, "employer") == str(acme.id)
    assert _selected(html, "venue") == str(hall.id)
    assert _value(html, "session_1_date") == day.isoformat()
    assert _value(html, "capacity") == "10"

    saved = post_form(page, _course_form(request, hall, day))
    assert saved.status_code == 302
    course = db.session.query(Course).one()
    assert saved.headers["Location"].endswith(f"/manage/courses/{course.id}")
    assert course.employer_id == acme.id and course.status is CourseStatus.DRAFT and course.venue_id == hall.id
    db.session.refresh(request)
    assert request.status is ClosedCourseRequestStatus.SCHEDULED and request.course_id == course.id
    assert smtp.subjects(contact.email) == ["Your closed course is scheduled: Mental Health Aware (half day)"]
    [scheduled] = smtp.to(contact.email)
    assert "/employer/orders/new" not in smtp.text(scheduled), "a draft course's places cannot be ordered yet"
    assert "We will email you again when it is" in smtp.text(scheduled)

    # Staffed and published, it is open for ordering: the contact is told, with the order link.
    instructors.assign_instructor(course, factories.instructor(), coordinator)
    scheduling.publish_course(course, coordinator)
    db.session.commit()
    assert smtp.subjects(contact.email)[-1] == "Your closed course is open for ordering: Mental Health Aware (half day)"
    assert "/employer/orders/new" in smtp.text(smtp.to(contact.email)[-1])
    assert course in orders.courses_to_order(acme, closed=True)

    # Answered: the page does not offer it again, and a second save makes nothing.
    assert client.get(page).status_code == 302
    assert post_form(page, _course_form(request, hall, day), page=f"/manage/closed-course-requests/{request.id}"
                     ).status_code == 302
    assert db.session.query(Course).count() == 1


def test_online_requests_are_filled_in_online_in_the_organisations_area(client, auth):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    request = _request(acme, contact, dates="Any Tuesday in March", location="Online, please", learners=None)
    auth.login(factories.user(Role.COORDINATOR))
    db.session.commit()
    html = client.get(f"/manage/closed-course-requests/{request.id}/schedule").get_data(as_text=True)
    assert re.search(r'<input[^>]*value="online"[^>]*checked|<input[^>]*checked[^>]*value="online"', html)
    assert _selected(html, "council_area") == str(acme.council_area_id)
    assert _value(html, "session_1_date") in (None, "")  # "any Tuesday" names no date
    assert _value(html, "capacity") == str(factories.course_type("AWARE").max_learners)


def test_the_usual_course_rules_refuse_it_and_nothing_is_saved(client, auth, post_form):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    hall = factories.venue("Canal House", council_area="Coventry")
    day = date.today() + timedelta(days=45)
    request = _request(acme, contact, dates=day.isoformat(), location="Canal House")
    auth.login(factories.user(Role.COORDINATOR))
    db.session.commit()
    page = f"/manage/closed-course-requests/{request.id}/schedule"

    short = post_form(page, _course_form(request, hall, day, session_1_end="11:30", capacity="99"))
    assert short.status_code == 422
    html = short.get_data(as_text=True)
    assert "The sessions add up to 2 hours" in html and "Capacity cannot be more than" in html
    public = post_form(page, _course_form(request, hall, day, employer=""))
    assert public.status_code == 422 and "only for staff of Acme" in public.get_data(as_text=True)
    other = factories.course_type("ADULT_2DAY")
    wrong = post_form(page, _course_form(request, hall, day, course_type=str(other.id)))
    assert wrong.status_code == 422 and "This request is for Mental Health Aware" in wrong.get_data(as_text=True)

    assert db.session.query(Course).count() == 0
    db.session.refresh(request)
    assert request.status is ClosedCourseRequestStatus.OPEN and request.course_id is None


def test_the_first_date_the_preferred_dates_name_today_or_later(app_ctx):
    today = date(2026, 12, 1)
    assert requests.preferred_date("any Tuesday in March", today) is None
    assert requests.preferred_date("2027-03-02 or 2027-03-09", today) == date(2027, 3, 2)
    assert requests.preferred_date("3/4/2027", today) == date(2027, 4, 3)
    assert requests.preferred_date("the 9th March 2027", today) == date(2027, 3, 9)
    assert requests.preferred_date("1 November 2026 or 5 Jan 2027", today) == date(2027, 1, 5)  # past skipped
    assert requests.preferred_date("31/02/2027", today) is None  # not a real date


def test_every_date_the_preferred_dates_name_in_order(app_ctx):
    today = date(2026, 12, 1)
    assert requests.preferred_days("2 and 3 March", today) == [date(2027, 3, 2), date(2027, 3, 3)]
    assert requests.preferred_days("2 and 3 March 2027", today) == [date(2027, 3, 2), date(2027, 3, 3)]
    assert requests.preferred_days("2nd, 3rd & 4th of June", today) == [date(2027, 6, d) for d in (2, 3, 4)]
    assert requests.preferred_days("9-11 June 2027", today) == [date(2027, 6, d) for d in (9, 10, 11)]
    assert requests.preferred_days("14 December or 2 March", today) == [date(2026, 12, 14), date(2027, 3, 2)]
    assert requests.preferred_days("for 10 to 12 people in March", today) == []


def test_a_two_day_request_for_2_and_3_march_fills_both_sessions(app_ctx):
    acme = factories.employer("Acme")
    details = requests.RequestDetails(course_type_id=factories.course_type("ADULT_2DAY").id,
                                      preferred_dates="2 and 3 March", location="online", learners=8)
    made = requests.request_closed_course(acme, details, by=factories.contact(acme))
    proposal = requests.course_proposal(made)
    year = date.today().year + (1 if date.today() > date(date.today().year, 3, 2) else 0)
    assert proposal.session_days[:2] == [date(year, 3, 2), date(year, 3, 3)]
    assert len(proposal.session_days) == 2, "online, the course has four sessions: two dates fill two"


def test_the_location_names_a_venue_by_whole_words_and_online_unless_it_says_not(app_ctx):
    hub = factories.venue("Hub", council_area="Coventry", postcode="CV1 2AB")
    house = factories.venue("Hubert House", council_area="Coventry", postcode="CV3 4CD")
    assert requests.venue_named("Hubert House, Coventry") == house
    assert requests.venue_named("the Hub on Far Gosford Street") == hub
    assert requests.venue_named("near CV3 4CD please") == house
    assert requests.venue_named("anywhere in Hubertville") is None
    assert requests.wants_online("Online, on Teams") and requests.wants_online("zoom")
    assert not requests.wants_online("not online, at our office") and not requests.wants_online("Onlineshire Hall")
