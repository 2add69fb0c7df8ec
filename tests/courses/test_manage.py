"""Coordinators' pages: courses, instructors on courses, venues and instructors, through the test client."""
import html
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.courses.models import Course, CourseSession, CourseStatus, DeliveryMode, Instructor, Venue
from mhfa.extensions import db
from mhfa.timeutil import london_today
from tests import factories


def course_form(place, day: date, **overrides) -> dict:
    data = {
        "course_type": str(factories.course_type("ADULT_2DAY").id),
        "delivery_mode": "in_person",
        "venue": str(place.id),
        "council_area": "",
        "joining_url": "",
        "session_1_date": day.isoformat(), "session_1_start": "09:00", "session_1_end": "16:00",
        "session_2_date": (day + timedelta(days=1)).isoformat(), "session_2_start": "09:00", "session_2_end": "16:00",
        "capacity": "14",
        "price": "75.50",
        "employer": "",
        "booking_deadline_date": "",
        "booking_deadline_time": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count(Course.id))),
            db.session.scalar(sa.select(sa.func.count(CourseSession.id))))


def test_coordinator_schedules_a_course_in_london_time_across_a_clock_change(client, coordinator, post_form):
    venue = factories.venue("Town Hall", council_area="Coventry")
    db.session.commit()
    change = factories.next_clock_change(3)
    saturday = change - timedelta(days=1)
    data = course_form(venue, saturday, session_2_date=(change + timedelta(days=1)).isoformat(),
                       booking_deadline_date=(saturday - timedelta(days=2)).isoformat(),
                       booking_deadline_time="17:00")

    response = post_form("/manage/courses/new", data)
    assert response.status_code == 302
    course = db.session.scalar(sa.select(Course))
    assert response.headers["Location"] == f"/manage/courses/{course.id}"
    assert course.status is CourseStatus.DRAFT and course.capacity == 14 and course.price_pence == 7550
    assert [s.starts_at for s in course.sessions] == [  # GMT, then BST
        datetime.combine(saturday, time(9), tzinfo=UTC),
        datetime.combine(change + timedelta(days=1), time(8), tzinfo=UTC),
    ]
    assert course.booking_deadline == datetime.combine(saturday - timedelta(days=2), time(17), tzinfo=UTC)
    assert course.council_area.name == "Coventry"
    page = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    assert "Course saved as a draft" in page and page.count("9:00am to 4:00pm") == 2


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"capacity": "17"}, "capacity", "Capacity cannot be more than 16, the limit for Adult MHFA (two day)"),
    ({"capacity": "lots"}, "capacity", "Enter the capacity as a whole number, like 16"),
    ({"session_2_end": "15:00"}, "sessions", "The sessions add up to 13 hours; Adult MHFA (two day) needs 14 hours"),
    ({"session_1_end": "08:00"}, "session_1_end", "Session 1 must end after it starts"),
    ({"session_2_date": "{day}", "session_2_start": "15:00", "session_2_end": "22:00"}, "session_2_start",
     "Session 1 and session 2 overlap"),
    ({"session_2_start": ""}, "session_2_start", "Enter the start time of session 2"),
    ({"session_1_date": "30/02/2027"}, "session_1_date", "Enter the date of session 1 as a real date"),
    ({"price": "£ten"}, "price", "Enter the price in pounds, like 75 or 75.50"),
    ({"venue": ""}, "venue", "Choose the venue of an in-person course"),
    ({"delivery_mode": "online"}, "joining_url", "Enter the joining link of an online course"),
    ({"session_3_date": "{day}", "session_3_start": "18:00", "session_3_end": "19:00", "session_2_date": "",
      "session_2_start": "", "session_2_end": ""}, "session_2_date", "Fill in the sessions in order"),
    ({"delivery_cost": "a lot"}, "delivery_cost", "Enter the delivery cost in pounds, like 850 or 850.50"),
    ({"delivery_cost": "9e999"}, "delivery_cost", "Enter a delivery cost from £0 to £1,000,000"),
    ({"funding_stream": "lottery"}, "funding_stream", "Not a valid choice"),
])
def test_impossible_schedule_is_refused_with_the_field_named_and_input_kept(
        client, coordinator, post_form, overrides, field, message):
    venue = factories.venue()
    db.session.commit()
    day = london_today() + timedelta(days=40)
    overrides = {key: value.format(day=day.isoformat()) for key, value in overrides.items()}
    before = counts()

    response = post_form("/manage/courses/new", course_form(venue, day, **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html and message.replace("'", "&#39;") in html
    if field != "sessions":
        assert f'href="#{field}">' in html  # the summary links to the field
    assert 'value="75.50"' in html or 'value="£ten"' in html  # what was typed is kept
    db.session.rollback()
    assert counts() == before


@pytest.mark.parametrize(("employer", "stream", "expected"), [
    (False, "", "Publicly funded"), (True, "", "Employer-paid"), (False, "other", "Other funding"),
])
def test_coordinator_sets_the_funding_stream_and_delivery_cost_on_the_course_form(
        client, coordinator, post_form, employer, stream, expected):
    venue = factories.venue()
    organisation = factories.employer("Acme Care") if employer else None
    db.session.commit()
    data = course_form(venue, london_today() + timedelta(days=40), funding_stream=stream, delivery_cost="1,250.50",
                       employer=str(organisation.id) if organisation else "")
    assert post_form("/manage/courses/new", data).status_code == 302
    course = db.session.scalar(sa.select(Course))
    assert course.funding_stream.label == expected and course.delivery_cost_pence == 125050
    page = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    assert expected in page and "£1,250.50" in page
    edit = client.get(f"/manage/courses/{course.id}/edit").get_data(as_text=True)
    assert 'value="1250.50"' in edit


def test_editing_a_published_course_reschedules_and_tells_trainees(client, coordinator, post_form, app_ctx,
                                                                  tmp_path, monkeypatch):
    monkeypatch.setattr(app_ctx, "instance_path", str(tmp_path))
    course = factories.course("ADULT_2DAY", capacity=12)
    factories.booking_on(course, factories.person("Tia", email="tia@example.org"))
    db.session.commit()
    page = client.get(f"/manage/courses/{course.id}/edit").get_data(as_text=True)
    first = course.sessions[0].starts_at.date()
    assert f'value="{first.isoformat()}"' in page and 'value="09:00"' in page

    new_day = first + timedelta(days=14)
    response = post_form(f"/manage/courses/{course.id}/edit", course_form(course.venue, new_day, capacity="12",
                                                                          price="0"))
    assert response.status_code == 302
    db.session.refresh(course)
    assert course.sequence == 1 and course.starts_at.date() == new_day
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert "booked trainees have been emailed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_refused_change_leaves_the_course_as_it_was(client, coordinator, post_form):
    course = factories.course("ADULT_2DAY", capacity=12)
    db.session.commit()
    starts_at = course.starts_at
    day = starts_at.date() + timedelta(days=3)
    response = post_form(f"/manage/courses/{course.id}/edit",
                         course_form(course.venue, day, capacity="99", session_2_end="12:00"))
    assert response.status_code == 422
    db.session.expire_all()
    unchanged = db.session.get(Course, course.id)
    assert (unchanged.capacity, unchanged.starts_at, unchanged.sequence) == (12, starts_at, 0)


def test_publish_and_cancel_through_the_pages(client, coordinator, post_form):
    course = factories.course("AWARE", status=CourseStatus.DRAFT)
    db.session.commit()
    page = f"/manage/courses/{course.id}"
    assert post_form(f"{page}/publish", {}, page=page).status_code == 302
    db.session.refresh(course)
    assert course.status is CourseStatus.PUBLISHED

    refused = post_form(f"{page}/cancel", {"reason": ""})
    assert refused.status_code == 422 and "Enter the reason for cancelling" in refused.get_data(as_text=True)
    assert post_form(f"{page}/cancel", {"reason": "Low numbers"}).status_code == 302
    db.session.refresh(course)
    assert course.status is CourseStatus.CANCELLED and course.cancelled_reason == "Low numbers"
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == course.id,
                                                                    AuditEvent.entity_type == "course"))
    assert set(actions) == {"course.published", "course.cancelled"}
    assert "Low numbers" in client.get(page).get_data(as_text=True)


def test_course_detail_shows_bookings_and_waiting_list(client, coordinator):
    from mhfa.bookings.models import BookingStatus

    course = factories.course("AWARE", capacity=3)
    for _ in range(3):
        factories.booking_on(course)
    for _ in range(2):
        factories.booking_on(course, status=BookingStatus.WAITLISTED)
    db.session.commit()
    html = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    assert '<span class="reach-stat" id="booked">3</span> of 3 places booked' in html
    assert '<span class="reach-stat" id="waiting">2</span> on the waiting list' in html


def test_assigning_an_expired_or_busy_instructor_shows_why(client, coordinator, post_form):
    start = datetime.combine(london_today() + timedelta(days=9), time(9))
    expired = factories.instructor(factories.person("Ed", "Expired"), expires_on=london_today() - timedelta(days=2))
    busy = factories.instructor(factories.person("Bo", "Busy"))
    other = factories.course("AWARE", start=start, instructors=[busy])
    course = factories.course("ADULT_2DAY", start=start, instructors=[])
    free = factories.instructor(factories.person("Fi", "Free"))
    db.session.commit()
    url = f"/manage/courses/{course.id}/instructors"

    response = post_form(url, {"instructor": str(expired.id)}, page=f"/manage/courses/{course.id}")
    assert response.status_code == 422
    assert "Ed Expired&#39;s licence expired on" in response.get_data(as_text=True)
    response = post_form(url, {"instructor": str(busy.id)}, page=f"/manage/courses/{course.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Bo Busy is already teaching Mental Health Aware (half day) (course {other.id}" in html
    assert post_form(url, {"instructor": str(free.id)}, page=f"/manage/courses/{course.id}").status_code == 302
    db.session.refresh(course)
    assert [i.person.full_name for i in course.instructors] == ["Fi Free"]
    remove = post_form(f"{url}/{free.id}/remove", {}, page=f"/manage/courses/{course.id}")
    assert remove.status_code == 302
    db.session.refresh(course)
    assert course.instructors == []


def test_course_list_filters_by_status_area_and_date(client, coordinator):
    start = datetime.combine(london_today() + timedelta(days=9), time(9))
    draft = factories.course("AWARE", start=start, status=CourseStatus.DRAFT)
    walsall = factories.course("AWARE", start=start + timedelta(days=1), venue_=factories.venue(council_area="Walsall"))
    old = factories.course("AWARE", start=start - timedelta(days=60))

    def listed(query: str = "") -> set[int]:
        html = client.get("/manage/courses" + query).get_data(as_text=True)
        return {c.id for c in (draft, walsall, old) if f'href="/manage/courses/{c.id}"' in html}

    db.session.commit()
    assert listed() == {draft.id, walsall.id}  # the courses not started yet by default, as its form says
    opening = client.get("/manage/courses").get_data(as_text=True)
    assert '<option selected value="upcoming">Not started yet</option>' in opening
    assert listed("?from_date=") == {draft.id, walsall.id, old.id}
    assert listed("?status=draft&from_date=") == {draft.id}
    assert listed(f"?area={factories.area('Walsall').id}&from_date=") == {walsall.id}
    assert listed(f"?from_date=&to_date={(start - timedelta(days=1)).date()}") == {old.id}


def test_venue_pages_check_the_postcode_and_keep_input(client, coordinator, post_form):
    coventry = factories.area("Coventry")
    data = {"name": "Canal Basin", "address_line1": "St Nicholas Street", "address_line2": "", "town": "Coventry",
            "postcode": "CV1 4XX9", "council_area": str(coventry.id), "step_free_access": "y", "access_notes": ""}
    refused = post_form("/manage/venues/new", data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Enter a real postcode, like B1 2ND" in html and 'value="CV1 4XX9"' in html
    assert db.session.scalar(sa.select(sa.func.count(Venue.id))) == 0

    assert post_form("/manage/venues/new", {**data, "postcode": "cv14lt"}).status_code == 302
    venue = db.session.scalar(sa.select(Venue))
    assert (venue.postcode, venue.step_free_access, venue.council_area) == ("CV1 4LT", True, coventry)
    assert post_form(f"/manage/venues/{venue.id}/edit", {**data, "postcode": "CV1 4LT", "name": "Basin",
                                                          "active": ""}).status_code == 302
    db.session.refresh(venue)
    assert venue.name == "Basin" and venue.active is False and venue.step_free_access is True
    assert "Basin" in client.get("/manage/venues").get_data(as_text=True)

    factories.course("AWARE", venue_=venue)
    db.session.commit()
    response = post_form(f"/manage/venues/{venue.id}/delete", {}, page="/manage/venues", follow_redirects=True)
    assert "Mark it as no longer in use instead" in response.get_data(as_text=True)
    assert db.session.get(Venue, venue.id) is not None


def test_instructor_pages_need_a_unique_licence_and_a_real_expiry_date(client, coordinator, post_form):
    factories.instructor(factories.person("Al", "Ready"))
    taken = db.session.scalar(sa.select(Instructor.licence_number))
    db.session.commit()
    data = {"first_name": "Nia", "last_name": "New", "email": "nia@example.org", "licence_number": taken.lower(),
            "licence_expires_on": "2031-02-30", "licensed_types": [factories.course_type("ADULT_2DAY").id]}
    refused = post_form("/manage/instructors/new", data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Enter the licence expiry date as a real date" in html and 'value="nia@example.org"' in html
    expiry = (london_today() + timedelta(days=700)).isoformat()
    refused = post_form("/manage/instructors/new", {**data, "licence_expires_on": expiry})
    assert refused.status_code == 422
    assert f"Licence number {taken} belongs to Al Ready" in refused.get_data(as_text=True)

    assert post_form("/manage/instructors/new", {**data, "licence_number": "MHFA 777",
                                                 "licence_expires_on": expiry}).status_code == 302
    nia = db.session.scalar(sa.select(Instructor).where(Instructor.licence_number == "MHFA777"))
    assert nia.person.full_name == "Nia New" and nia.active, "a new instructor can be given courses at once"
    html = client.get("/manage/instructors").get_data(as_text=True)
    assert "Nia New" in html and "MHFA777" in html
    edit = post_form(f"/manage/instructors/{nia.id}/edit", {**data, "licence_number": "MHFA777",
                                                             "licence_expires_on": expiry, "first_name": "Nina",
                                                             "active": "y"})
    assert edit.status_code == 302
    db.session.refresh(nia)
    assert nia.person.first_name == "Nina"


def test_the_email_of_an_instructor_who_signs_in_is_refused_on_the_field(client, coordinator, post_form):
    teacher = factories.user(Role.INSTRUCTOR, first_name="Tia", last_name="Teach", email="tia@example.org")
    instructor = factories.instructor(teacher.person)
    db.session.commit()
    data = {"first_name": "Tia", "last_name": "Teach", "email": "tia@new.example.org",
            "licence_number": instructor.licence_number, "active": "y",
            "licence_expires_on": instructor.licence_expires_on.isoformat()}
    refused = post_form(f"/manage/instructors/{instructor.id}/edit", data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'href="#email"' in html and "signs in to MHFA Reach as tia@example.org" in html
    assert 'value="tia@new.example.org"' in html
    db.session.expire_all()
    assert (teacher.email, teacher.person.email) == ("tia@example.org", "tia@example.org")


def test_every_coordinator_page_renders(client, coordinator):
    venue = factories.venue("Render Hall")
    instructor = factories.instructor(factories.person("Rene", "Der"))
    course = factories.course("ADULT_2DAY", venue_=venue, instructors=[instructor], employer=factories.employer("Co"))
    online = factories.course("AWARE", mode=DeliveryMode.ONLINE, council_area_id=factories.area().id)
    db.session.commit()
    pages = ["/manage/courses", "/manage/courses/new", f"/manage/courses/{course.id}",
             f"/manage/courses/{course.id}/edit", f"/manage/courses/{course.id}/cancel",
             f"/manage/courses/{online.id}/edit", "/manage/venues", "/manage/venues/new",
             f"/manage/venues/{venue.id}/edit", "/manage/instructors", "/manage/instructors/new",
             f"/manage/instructors/{instructor.id}/edit", "/manage/calendars"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "There is a problem" not in response.get_data(as_text=True), page
    edit = client.get(f"/manage/instructors/{instructor.id}/edit").get_data(as_text=True)
    assert 'value="Rene"' in edit and f'value="{instructor.licence_number}"' in edit
    edit = client.get(f"/manage/venues/{venue.id}/edit").get_data(as_text=True)
    assert 'value="Render Hall"' in edit and f'<option selected value="{venue.council_area_id}">' in edit
    edit = client.get(f"/manage/courses/{online.id}/edit").get_data(as_text=True)
    assert 'value="https://meet.example.org/mhfa-course"' in edit
    assert re.search(r'<input checked[^>]*value="online"', edit)


# --- issue 8: every problem of a course form named in one round ----------------------------------

def test_a_bad_price_does_not_hide_the_session_and_capacity_problems(client, coordinator, post_form):
    venue = factories.venue()
    db.session.commit()
    day = london_today() + timedelta(days=40)
    data = course_form(venue, day, price="£ten", capacity="17", session_2_end="15:00")

    response = post_form("/manage/courses/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert '<a href="#price">Enter the price in pounds, like 75 or 75.50</a>' in summary
    assert '<a href="#capacity">Capacity cannot be more than 16, the limit for Adult MHFA (two day)</a>' in summary
    assert ('<a href="#sessions">The sessions add up to 13 hours; Adult MHFA (two day) needs 14 hours</a>'
            in summary)
    assert 'value="£ten"' in html and 'value="17"' in html and 'value="15:00"' in html  # input kept
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0


def test_a_refused_radio_links_to_its_first_option_in_the_error_summary(client, coordinator,
                                                                      post_form):
    venue = factories.venue()
    db.session.commit()
    response = post_form("/manage/courses/new", course_form(venue, london_today() + timedelta(days=40),
                                                            delivery_mode=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#delivery_mode-0">Choose in person or online</a>' in html


def test_each_course_card_on_the_home_page_links_to_exactly_the_courses_it_counts(client, coordinator):
    from tests.courses.test_services import _courses_for_the_coordinators_cards

    made = _courses_for_the_coordinators_cards()
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    expected = {"card-published-soon": {"soon", "soon_alone"}, "card-without-instructor": {"soon_alone", "draft_alone"},
                "card-drafts": {"draft_alone", "old_draft"}}
    for card, names in expected.items():
        found = re.search(rf'reach-stat">(\d+)</span> <a class="govuk-link" id="{card}" href="([^"]+)"', home)
        assert found, f"{card} is not a link"
        count, link = int(found.group(1)), html.unescape(found.group(2))
        page = client.get(link).get_data(as_text=True)
        shown = {name for name, course in made.items() if f'href="/manage/courses/{course.id}"' in page}
        assert shown == names, card
        assert count == len(shown) and f"of {count}</caption>" in page, card


def test_the_course_list_shows_each_course_s_instructor_or_that_it_has_none(client, coordinator):
    teacher = factories.instructor(factories.person("Tess", "Teacher"))
    taught = factories.course("AWARE", instructors=[teacher])
    alone = factories.course("AWARE", instructors=[])
    db.session.commit()
    page = client.get("/manage/courses?instructor=needed").get_data(as_text=True)
    assert f'href="/manage/courses/{alone.id}"' in page and f'href="/manage/courses/{taught.id}"' not in page
    assert "None yet" in page and "Tess Teacher" not in page
    assert "Tess Teacher" in client.get("/manage/courses").get_data(as_text=True)
