"""Issue 8: the defects a newcomer met on the way in, each through the test client."""
import re

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.bookings.models import Booking
from mhfa.courses.models import CourseStatus
from mhfa.extensions import db
from tests import factories


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_the_course_page_book_button_opens_the_booking_page_and_does_not_book(client, auth, app_ctx):
    course = factories.course("AWARE")
    auth.login(factories.user(Role.TRAINEE))
    db.session.commit()
    html = _html(client.get(f"/courses/{course.id}"))
    assert f'<a href="/courses/{course.id}/book" role="button"' in html
    assert f'action="/courses/{course.id}/book"' not in html  # no form that books at once
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_an_unconfirmed_user_is_asked_on_the_home_page_to_confirm_their_email(client, auth, app_ctx):
    auth.login(factories.user(Role.TRAINEE, confirmed=False))
    db.session.commit()
    html = _html(client.get("/"))
    assert 'id="confirm-email"' in html and "Confirm your email address to book a course." in html
    assert 'href="/resend-confirmation"' in html or "Send the link again" in html


def test_a_confirmed_user_is_not_asked(client, auth, app_ctx):
    auth.login(factories.user(Role.TRAINEE))
    db.session.commit()
    assert 'id="confirm-email"' not in _html(client.get("/"))


def test_no_date_of_birth_links_to_the_profile_and_comes_back_to_the_booking(client, auth, post_form, app_ctx):
    course = factories.course("AWARE")
    user = factories.user(Role.TRAINEE, date_of_birth=None)
    db.session.commit()
    auth.login(user)
    book = f"/courses/{course.id}/book"
    html = _html(client.get(book))
    assert "this course is for people aged 16 and over: add your date of birth" in html
    link = re.search(r'<a class="govuk-link" id="fix-link" href="([^"]+)">Add your date of birth to your profile</a>',
                     html)
    assert link and link.group(1) == f"/profile?next={book}#date_of_birth-day"
    # Refused on submit (a stale page): the error summary links to the same fix, capitalised.
    refused = post_form(book, {"voucher_code": ""}, page=f"/courses/{course.id}")
    summary = _html(refused).split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert refused.status_code == 422
    assert re.search(r'<a href="/profile\?next=[^"]+">This course is for people aged 16 and over', summary)
    # Saving the date of birth goes back to the booking page.
    profile = link.group(1).split("#")[0].replace("&amp;", "&")
    saved = post_form(profile, {"first_name": user.person.first_name, "last_name": user.person.last_name,
                                "date_of_birth-day": "15", "date_of_birth-month": "6", "date_of_birth-year": "1990"},
                      page=profile)
    assert saved.status_code == 302 and saved.headers["Location"] == book


def test_an_unconfirmed_user_is_linked_to_a_new_confirmation_link(client, auth, post_form, app_ctx):
    course = factories.course("AWARE")
    auth.login(factories.user(Role.TRAINEE, confirmed=False))
    db.session.commit()
    html = _html(client.get(f"/courses/{course.id}/book"))
    assert "confirm your email address before you book" in html
    assert 'id="fix-link"' in html and "Send the confirmation link again" in html


@pytest.mark.parametrize("status", [CourseStatus.CANCELLED, CourseStatus.COMPLETED])
@pytest.mark.parametrize("page", ["edit", "cancel"])
def test_changing_a_closed_course_is_refused_when_the_page_opens(client, auth, app_ctx, status, page):
    course = factories.course("AWARE", status=status)
    auth.login(factories.user(Role.COORDINATOR))
    db.session.commit()
    response = client.get(f"/manage/courses/{course.id}/{page}")
    html = _html(response)
    assert response.status_code == 409
    assert "so it cannot be changed" in html and "<form method=\"post\" novalidate>" not in html
    assert f'href="/manage/courses/{course.id}"' in html


def test_the_venue_page_warns_before_saving_that_trainees_will_be_emailed(client, auth, app_ctx):
    venue = factories.venue("Civic Hall")
    course = factories.course("AWARE", venue_=venue)
    factories.booking_on(course)
    factories.booking_on(course)
    idle = factories.venue("Quiet Hall")
    auth.login(factories.user(Role.COORDINATOR))
    db.session.commit()
    html = _html(client.get(f"/manage/venues/{venue.id}/edit"))
    warning = html.split('id="venue-warning"', 1)[1].split("</div>", 1)[0]
    assert "1 published course to come runs here, with 2 trainees booked or waiting" in warning
    assert "every trainee booked is emailed the new details" in warning
    assert 'id="venue-warning"' not in _html(client.get(f"/manage/venues/{idle.id}/edit"))


def test_the_coordinators_course_page_counts_places_in_plain_words(client, auth, app_ctx):
    course = factories.course("AWARE", capacity=1)
    factories.booking_on(course)
    auth.login(factories.user(Role.COORDINATOR))
    db.session.commit()
    html = _html(client.get(f"/manage/courses/{course.id}"))
    assert '<span class="reach-stat" id="booked">1</span> of 1 place booked' in html
    assert "0</span> places left" in html
    assert "Calendar sequence" not in html and "Not rescheduled" in html


def test_the_back_link_is_inside_main(client, auth, app_ctx):
    course = factories.course("AWARE")
    db.session.commit()
    html = _html(client.get(f"/courses/{course.id}"))
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'class="govuk-back-link"' in main
    assert 'class="govuk-back-link"' not in html.split("<main", 1)[0]


def test_online_courses_are_listed_with_every_area_in_the_finder_the_hint_and_the_api(client, app_ctx):
    from datetime import datetime, timedelta

    from mhfa.courses.models import DeliveryMode

    start = datetime.combine(datetime.now().date() + timedelta(days=20), datetime.min.time()).replace(hour=9)
    online = factories.course("ADULT_2DAY", start=start, mode=DeliveryMode.ONLINE, council_area_id=None)
    coventry = factories.course("AWARE", start=start, venue_=factories.venue(council_area="Coventry"))
    db.session.commit()
    solihull = factories.area("Solihull").gss_code
    html = _html(client.get(f"/courses?area={solihull}"))
    assert f'href="/courses/{online.id}"' in html and f'href="/courses/{coventry.id}"' not in html
    assert "Open to everyone" in html
    api = client.get(f"/api/v1/courses?area={solihull}").json
    assert [c["id"] for c in api["courses"]] == [online.id]
    # With no course in person in the area and the online ones filtered out, the hint finds them.
    empty = _html(client.get(f"/courses?area={solihull}&mode=in_person"))
    hint = re.search(r'<a class="govuk-link" href="([^"]+)">courses online</a>', empty)
    assert hint
    found = _html(client.get(hint.group(1).replace("&amp;", "&")))
    assert f'href="/courses/{online.id}"' in found
