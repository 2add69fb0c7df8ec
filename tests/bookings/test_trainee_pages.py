"""What a trainee is told: a cancellation deadline that has passed, what came of each past course, a
cancellation undone by booking again, and which course each certificate is for."""
from datetime import date, datetime, timedelta

import pytest

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus
from mhfa.auth.models import Role
from mhfa.bookings import deadlines, listings
from mhfa.bookings.models import BookingStatus
from mhfa.certificates import services as certificates
from mhfa.courses.models import CourseStatus
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories


@pytest.fixture()
def trainee(app_ctx, client, auth):
    return auth.new(Role.TRAINEE, first_name="Tara")


def test_a_cancellation_deadline_in_the_past_says_it_closed_and_whom_to_contact(app_ctx):
    today = factories.course("AWARE", start=datetime.now().replace(microsecond=0) + timedelta(hours=3))
    note = deadlines.cancellation_note(today)
    assert note.startswith("Online cancellation closed on ") and "; to cancel, contact " in note
    assert deadlines.cancellation_closed(today)
    ahead = factories.course("AWARE", start=datetime.now() + timedelta(days=10))
    assert deadlines.cancellation_note(ahead).startswith("You can cancel online until ")
    assert not deadlines.cancellation_closed(ahead)


def test_the_booking_page_of_a_course_starting_today_never_offers_a_past_deadline(trainee, client):
    course = factories.course("AWARE", start=datetime.now().replace(microsecond=0) + timedelta(hours=3))
    db.session.commit()
    html = client.get(f"/courses/{course.id}/book").get_data(as_text=True)
    assert "Online cancellation closed on" in html and "You can cancel online until" not in html


def test_a_booking_cancelled_then_made_again_is_not_listed_as_cancelled(trainee, app_ctx):
    course = factories.course("AWARE")
    factories.booking_on(course, trainee.person, status=BookingStatus.CANCELLED, cancelled_at=utcnow())
    factories.booking_on(course, trainee.person)
    other = factories.course("AWARE", start=datetime.now() + timedelta(days=30))
    factories.booking_on(other, trainee.person, status=BookingStatus.CANCELLED, cancelled_at=utcnow())
    mine = listings.my_courses(trainee.person)
    assert [b.course for b in mine.upcoming] == [course]
    assert [b.course for b in mine.cancelled] == [other]


def test_each_past_course_says_whether_it_was_completed_and_if_not_why(trainee, app_ctx, client):
    person = trainee.person
    absent, teacher, others = factories.taught_course("ADULT_2DAY", trainees=1, days_ago=20)
    mine = factories.booking_on(absent, person)
    first, second = absent.sessions
    attendance.mark_register(first, {b.id: AttendanceStatus.PRESENT for b in [*others, mine]}, teacher)
    attendance.mark_register(second, {others[0].id: AttendanceStatus.PRESENT, mine.id: AttendanceStatus.ABSENT},
                             teacher)
    certificates.complete_course_and_issue(absent, teacher)

    waiting, teacher2, _ = factories.taught_course("AWARE", trainees=1, days_ago=5)
    factories.booking_on(waiting, person)

    done, teacher3, _ = factories.taught_course("AWARE", trainees=0, days_ago=10)
    factories.booking_on(done, person)
    factories.mark_everyone(done)
    certificates.complete_course_and_issue(done, teacher3)

    called_off = factories.course("AWARE", start=datetime.now() - timedelta(days=40),
                                  status=CourseStatus.CANCELLED, cancelled_reason="The venue flooded")
    factories.booking_on(called_off, person, status=BookingStatus.CANCELLED, cancelled_at=utcnow())
    db.session.commit()

    html = client.get("/my-courses").get_data(as_text=True)
    day = second.starts_at
    assert "Did not complete: you were absent from the session on" in html and f"{day:%B %Y}" in html
    assert "Not completed yet: the instructor has still to complete the course" in html
    assert "Completed." in html
    assert "(the course was cancelled: The venue flooded)" in html
    assert "Mental Health Aware (half day), " in html.split("Certificates")[1], "the card names the course"


def test_each_certificate_links_to_its_public_verification_page(trainee, app_ctx, client):
    certificate = factories.certificate(trainee.person, "ADULT_2DAY", issued_on=date.today() - timedelta(days=30))
    db.session.commit()
    html = client.get("/my-courses").get_data(as_text=True)
    link = f'href="/verify/{certificate.verification_token}"'
    assert link in html.split("Certificates")[1]
    assert client.get(f"/verify/{certificate.verification_token}").status_code == 200


def test_the_public_verification_page_names_the_course_and_its_type(app_ctx, client):
    holder = factories.person("Vera", "Fied")
    certificate = factories.certificate(holder, "YOUTH_2DAY", issued_on=date.today() - timedelta(days=10))
    db.session.commit()
    html = client.get(f"/verify/{certificate.verification_token}").get_data(as_text=True)
    assert "Youth MHFA (two day)" in html and certificate.title in html
