"""The public course finder and course pages, through the test client."""
import re
from datetime import datetime, time, timedelta

import pytest

from mhfa.auth.models import Role
from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import CourseStatus, DeliveryMode
from mhfa.employers.models import OrderStatus, VoucherStatus
from mhfa.extensions import db
from mhfa.timeutil import london_today
from tests import factories


def soon(days: int = 7, hour: int = 9) -> datetime:
    return datetime.combine(london_today() + timedelta(days=days), time(hour))


def course_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/courses/(\d+)"', html)]


def test_finder_lists_courses_in_an_accessible_table(client, app_ctx):
    course = factories.course("ADULT_2DAY", start=soon(), price_pence=7500,
                              venue_=factories.venue("Council House", council_area="Solihull"))
    factories.booking_on(course)
    db.session.commit()

    response = client.get("/courses")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" not in html
    assert '<caption class="govuk-table__caption govuk-table__caption--m">Courses 1 to 1 of 1</caption>' in html
    assert 'scope="col"' in html and 'scope="row"' in html
    assert '<label class="govuk-label" for="area">Council area</label>' in html
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">In person or online</legend>' in html
    assert course_links(html) == [course.id]
    assert "Council House" in html and "Solihull" in html and "£75.00" in html
    assert ">15<" in html  # free places: 16 less one booked


@pytest.mark.parametrize(("query", "expected"), [
    ("area=E08000031", ["wolverhampton", "online"]),  # online courses are open to every area (issue 8)
    ("area=E08000031&mode=in_person", ["wolverhampton"]),
    ("area=E08000031&mode=online", ["online"]),
    ("type=YOUTH_2DAY", ["youth"]),
    ("mode=online", ["online"]),
    ("mode=in_person", ["full", "wolverhampton", "youth"]),
    ("free_places=y", ["wolverhampton", "youth", "online"]),
    ("from_date={d20}", ["youth", "online"]),
    ("to_date={d10}", ["full", "wolverhampton"]),
    ("from_date={d10}&to_date={d20}", ["wolverhampton", "youth"]),
    ("sort=-date", ["online", "youth", "wolverhampton", "full"]),
])
def test_each_finder_filter(client, app_ctx, query, expected):
    courses = {
        "full": factories.course("AWARE", start=soon(5), capacity=1),
        "wolverhampton": factories.course("AWARE", start=soon(10),
                                          venue_=factories.venue(council_area="Wolverhampton")),
        "youth": factories.course("YOUTH_2DAY", start=soon(20)),
        "online": factories.course("ADULT_2DAY", start=soon(30), mode=DeliveryMode.ONLINE,
                                   council_area_id=factories.area("Dudley").id),
    }
    factories.booking_on(courses["full"])
    db.session.commit()
    dates = {"d10": (london_today() + timedelta(days=10)).isoformat(),
             "d20": (london_today() + timedelta(days=20)).isoformat()}

    html = client.get("/courses?" + query.format(**dates)).get_data(as_text=True)
    assert "There is a problem" not in html
    assert course_links(html) == [courses[name].id for name in expected]


def test_bad_filter_names_the_field_and_keeps_what_was_typed(client, app_ctx):
    factories.course("AWARE", start=soon())
    db.session.commit()
    html = client.get("/courses?from_date=31/02/2027&to_date=not-a-date").get_data(as_text=True)
    assert "There is a problem" in html
    assert "Enter the &#39;from&#39; date as a real date" in html
    assert "Enter the &#39;to&#39; date as a real date" in html
    assert 'value="31/02/2027"' in html and 'value="not-a-date"' in html
    html = client.get(f"/courses?from_date={soon(9).date()}&to_date={soon(2).date()}").get_data(as_text=True)
    assert "The &#39;to&#39; date must be the same as or after the &#39;from&#39; date" in html


def test_finder_paginates_with_the_govuk_component_keeping_filters(client, app_ctx):
    courses = [factories.course("AWARE", start=soon(3 + i), instructors=[]) for i in range(23)]
    db.session.commit()
    first = client.get("/courses?mode=in_person").get_data(as_text=True)
    assert '<nav class="govuk-pagination" aria-label="Pagination">' in first
    assert course_links(first) == [c.id for c in courses[:20]]
    assert 'href="/courses?mode=in_person&amp;page=2" rel="next"' in first
    assert 'aria-current="page">1</a>' in first
    second = client.get("/courses?mode=in_person&page=2").get_data(as_text=True)
    assert course_links(second) == [c.id for c in courses[20:]]
    assert "Courses 21 to 23 of 23" in second and 'rel="prev"' in second and 'rel="next"' not in second
    assert '<a class="govuk-link" href="#results">Skip the filters: see the 23 courses</a>' in second
    assert 'id="results"' in second
    nothing = client.get("/courses?mode=online").get_data(as_text=True)
    assert '<a class="govuk-link" href="#results">Skip the filters: see the results</a>' in nothing


def test_closed_course_is_only_for_that_employers_people_and_staff(client, auth, app_ctx):
    acme = factories.employer("Acme Ltd")
    teacher = factories.user(Role.INSTRUCTOR)
    closed = factories.course("AWARE", start=soon(), employer=acme,
                              instructors=[factories.instructor(teacher.person)])
    open_course = factories.course("AWARE", start=soon(8))
    contact = factories.user(Role.EMPLOYER, employer=acme)
    holder = factories.user(Role.TRAINEE)
    factories.voucher(acme, "AWARE", status=VoucherStatus.ASSIGNED, assigned_to=holder.person)
    booked = factories.user(Role.TRAINEE)
    factories.booking_on(closed, booked.person)
    outsider = factories.user(Role.TRAINEE)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()

    assert course_links(client.get("/courses").get_data(as_text=True)) == [open_course.id]
    assert client.get(f"/courses/{closed.id}").status_code == 404
    for user in (contact, holder, booked, teacher, coordinator):
        auth.login(user)
        finder = client.get("/courses").get_data(as_text=True)
        assert course_links(finder) == [closed.id, open_course.id], user
        assert "For staff of Acme Ltd" in finder
        assert "Staff of Acme Ltd only" in client.get(f"/courses/{closed.id}").get_data(as_text=True)
        assert client.get(f"/courses/{closed.id}.ics").status_code == 200
        auth.logout()
    auth.login(outsider)
    assert client.get(f"/courses/{closed.id}").status_code == 404


def test_choosing_an_employer_on_your_own_profile_does_not_open_its_closed_courses(client, auth, post_form,
                                                                                     app_ctx):
    acme = factories.employer("Acme Ltd")
    closed = factories.course("AWARE", start=soon(), employer=acme)
    open_course = factories.course("AWARE", start=soon(8))
    chancer = factories.user(Role.TRAINEE, employer=acme)  # what anyone can pick in /profile
    db.session.commit()
    auth.login(chancer)

    assert course_links(client.get("/courses").get_data(as_text=True)) == [open_course.id]
    assert client.get(f"/courses/{closed.id}").status_code == 404
    assert client.get(f"/courses/{closed.id}.ics").status_code == 404
    assert client.get(f"/courses/{closed.id}/book").status_code == 404


@pytest.mark.parametrize("voucher", ["pending_order", "cancelled_order", "cancelled", "redeemed", "someone_else",
                                     "other_employer"])
def test_a_voucher_opens_a_closed_course_only_while_it_can_be_used(client, auth, app_ctx, voucher):
    acme = factories.employer("Acme Ltd")
    closed = factories.course("AWARE", start=soon(), employer=acme)
    trainee = factories.user(Role.TRAINEE)
    kinds = {
        "pending_order": dict(employer_=acme, assigned_to=trainee.person, order_status=OrderStatus.PENDING),
        "cancelled_order": dict(employer_=acme, assigned_to=trainee.person, order_status=OrderStatus.CANCELLED),
        "cancelled": dict(employer_=acme, assigned_to=trainee.person, status=VoucherStatus.CANCELLED),
        "redeemed": dict(employer_=acme, assigned_to=trainee.person, status=VoucherStatus.REDEEMED),
        "someone_else": dict(employer_=acme, assigned_to=factories.person(), status=VoucherStatus.ASSIGNED),
        "other_employer": dict(employer_=factories.employer(), assigned_to=trainee.person),
    }
    factories.voucher(code="AWARE", **kinds[voucher])
    db.session.commit()
    auth.login(trainee)
    assert closed.id not in course_links(client.get("/courses").get_data(as_text=True))
    assert client.get(f"/courses/{closed.id}").status_code == 404


def test_a_cancelled_booking_does_not_keep_a_closed_course_open(client, auth, app_ctx):
    closed = factories.course("AWARE", start=soon(), employer=factories.employer())
    trainee = factories.user(Role.TRAINEE)
    factories.booking_on(closed, trainee.person, status=BookingStatus.CANCELLED)
    db.session.commit()
    auth.login(trainee)
    assert client.get(f"/courses/{closed.id}").status_code == 404


def test_course_page_shows_what_a_trainee_needs(client, app_ctx):
    change = factories.next_clock_change(10)
    saturday = datetime.combine(change - timedelta(days=1), time(9))
    monday = datetime.combine(change + timedelta(days=1), time(9))
    venue = factories.venue("Light House", council_area="Wolverhampton", address_line1="The Chubb Buildings",
                            postcode="WV1 1HT", step_free_access=True, access_notes="Lift to all floors.")
    course = factories.course("ADULT_2DAY", venue_=venue, price_pence=0, session_times=[
        (saturday, saturday.replace(hour=16)), (monday, monday.replace(hour=16))])
    factories.booking_on(course)
    factories.booking_on(course, status=BookingStatus.WAITLISTED)
    db.session.commit()

    html = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "<h1 class=\"govuk-heading-l\">Adult MHFA (two day)</h1>" in html
    assert "Mental Health First Aider, valid for 3 years" in html
    assert f"{saturday:%A %-d %B %Y}" in html and f"{monday:%A %-d %B %Y}" in html
    assert html.count("9:00am to 4:00pm") == 2  # London time on both sides of the clock change
    assert "Light House" in html and "WV1 1HT" in html and "Step-free access" in html and "Lift to all floors." in html
    assert "15 of 16 (1 on the waiting list)" in html
    assert "Free" in html
    assert f'href="http://reach.test/courses/{course.id}.ics"' in html
    assert f'href="/login?next=/courses/{course.id}"' in html and "Sign in to book" in html


def test_course_page_offers_the_booking_form_when_booking_exists(client, app_ctx):
    """The page links to the booking page (``bookings.book``), whose checks come before its own button (issue 8)."""
    course = factories.course("AWARE", start=soon())
    full = factories.course("AWARE", start=soon(), capacity=1)
    factories.booking_on(full)
    db.session.commit()
    html = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert f'href="/courses/{course.id}/book"' in html and "Book a place" in html
    full_page = client.get(f"/courses/{full.id}").get_data(as_text=True)
    assert "Join the waiting list" in full_page
    assert 'id="free-places">Full: 0 of 1</dd>' in full_page  # says full, as the finder does
    assert 'id="free-places">Full' not in html


def test_past_course_is_not_offered_for_booking(client, app_ctx):
    past = factories.course("AWARE", start=soon(-3))
    closed_booking = factories.course("AWARE", start=soon(5), booking_deadline=datetime.now().astimezone()
                                      - timedelta(hours=1))
    db.session.commit()
    html = client.get(f"/courses/{past.id}").get_data(as_text=True)
    assert "already started, so it cannot be booked" in html and "Sign in to book" not in html
    html = client.get(f"/courses/{closed_booking.id}").get_data(as_text=True)
    assert "Booking for this course has closed" in html and "Sign in to book" not in html
    assert past.id not in course_links(client.get("/courses").get_data(as_text=True))


def test_a_course_whose_booking_has_closed_leaves_the_finder_but_keeps_its_page(client, auth, app_ctx):
    from mhfa.courses import listings

    deadline_passed = factories.course("AWARE", start=soon(5),
                                       booking_deadline=datetime.now().astimezone() - timedelta(hours=1))
    still_open = factories.course("AWARE", start=soon(6),
                                  booking_deadline=datetime.now().astimezone() + timedelta(days=2))
    db.session.commit()

    assert course_links(client.get("/courses").get_data(as_text=True)) == [still_open.id]
    assert [c["id"] for c in client.get("/api/v1/courses").json["courses"]] == [still_open.id]
    assert [i.course for i in listings.find_courses(listings.FinderFilters(), None).items] == [still_open]
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    assert course_links(client.get("/courses").get_data(as_text=True)) == [still_open.id]
    html = client.get(f"/courses/{deadline_passed.id}").get_data(as_text=True)
    assert "Booking for this course has closed" in html
    assert client.get(f"/api/v1/courses/{deadline_passed.id}").json["bookable"] is False


def test_draft_and_cancelled_courses_are_not_public(client, auth, app_ctx):
    teacher = factories.user(Role.INSTRUCTOR)
    draft = factories.course("AWARE", start=soon(), status=CourseStatus.DRAFT,
                             instructors=[factories.instructor(teacher.person)])
    cancelled = factories.course("AWARE", start=soon(), status=CourseStatus.CANCELLED,
                                 cancelled_reason="Venue closed.")
    booked = factories.user(Role.TRAINEE)
    factories.booking_on(cancelled, booked.person)
    db.session.commit()

    for course in (draft, cancelled):
        assert client.get(f"/courses/{course.id}").status_code == 404
        assert client.get(f"/api/v1/courses/{course.id}").status_code == 404
    auth.login(teacher)
    assert "This is a draft" in client.get(f"/courses/{draft.id}").get_data(as_text=True)
    auth.logout()
    auth.login(booked)
    html = client.get(f"/courses/{cancelled.id}").get_data(as_text=True)
    assert "This course has been cancelled. Venue closed." in html
    assert client.get(f"/courses/{draft.id}").status_code == 404


def test_joining_link_only_for_confirmed_trainees_instructors_and_coordinators(client, auth, app_ctx):
    teacher = factories.user(Role.INSTRUCTOR)
    course = factories.course("AWARE", mode=DeliveryMode.ONLINE, start=soon(), council_area_id=factories.area().id,
                              joining_url="https://meet.example.org/private-room",
                              instructors=[factories.instructor(teacher.person)])
    confirmed = factories.user(Role.TRAINEE)
    waiting = factories.user(Role.TRAINEE)
    factories.booking_on(course, confirmed.person)
    factories.booking_on(course, waiting.person, status=BookingStatus.WAITLISTED)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()

    def sees_link() -> bool:
        return "private-room" in client.get(f"/courses/{course.id}").get_data(as_text=True)

    assert not sees_link()
    assert "private-room" not in client.get(f"/courses/{course.id}.ics").get_data(as_text=True)
    assert "private-room" not in client.get(f"/api/v1/courses/{course.id}").get_data(as_text=True)
    assert "private-room" not in client.get("/api/v1/courses").get_data(as_text=True)
    for user, expected in ((confirmed, True), (waiting, False), (teacher, True), (coordinator, True)):
        auth.login(user)
        assert sees_link() is expected, user
        assert "private-room" not in client.get(f"/courses/{course.id}.ics").get_data(as_text=True)
        auth.logout()
