"""Booking, cancelling and "My courses" through the web pages."""
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.bookings import services
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.employers.models import PlaceVoucher, VoucherStatus
from mhfa.extensions import db
from tests import factories
from tests.conftest import csrf_token


def _signed_in(auth, **fields):
    user = factories.user(Role.TRAINEE, **fields)
    db.session.commit()
    auth.login(user)
    return user


def _bookings():
    return db.session.execute(sa.select(Booking.id, Booking.person_id, Booking.status).order_by(Booking.id)).all()


def test_book_from_the_booking_page_then_see_it_in_my_courses(client, auth, post_form):
    course = factories.course(capacity=3)
    user = _signed_in(auth)
    page = client.get(f"/courses/{course.id}/book")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Adult MHFA (two day)" in html and "3 places left" in html and "Book a place" in html
    response = post_form(f"/courses/{course.id}/book", {})
    assert response.status_code == 302 and response.headers["Location"] == "/my-courses"
    mine = client.get("/my-courses").get_data(as_text=True)
    assert "You are booked on Adult MHFA (two day)" in mine
    assert "Booked" in mine and f"/courses/{course.id}.ics" in mine  # calendar link (calendars.course_ics)
    booking_id = services.live_booking(user.person, course).id
    assert f"/bookings/{booking_id}/cancel" in mine
    course_page = client.get(f"/courses/{course.id}").get_data(as_text=True)  # the course leads back to the booking
    assert "You have a place on this course." in course_page
    assert f'href="/my-courses#booking-{booking_id}"' in course_page
    assert f'id="booking-{booking_id}"' in mine


def test_the_course_page_form_posts_only_a_csrf_token(client, auth):
    """The course page (courses area) posts just its CSRF token to bookings.book."""
    course = factories.course()
    user = _signed_in(auth)
    token = csrf_token(client, "/")
    response = client.post(f"/courses/{course.id}/book", data={"csrf_token": token})
    assert response.status_code == 302
    assert services.live_booking(user.person, course).status is BookingStatus.CONFIRMED


def test_a_full_course_offers_the_waiting_list_and_shows_the_position(client, auth, post_form):
    course = factories.course(capacity=1)
    factories.booking_on(course)
    factories.booking_on(course, status=BookingStatus.WAITLISTED, waitlisted_at=datetime.now().astimezone())
    _signed_in(auth)
    form_page = client.get(f"/courses/{course.id}/book").get_data(as_text=True)
    assert "Join the waiting list" in form_page
    assert '<span class="govuk-caption-l">Join the waiting list</span>' in form_page  # not headed "Book a place"
    assert "<title>Join the waiting list for Adult MHFA (two day)" in form_page
    response = post_form(f"/courses/{course.id}/book", {}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "you are number 2" in html
    assert "You are number 2 on the waiting list" in html
    course_page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "You are on the waiting list for this course." in course_page and 'href="/my-courses#booking-' in course_page


def test_signing_in_is_needed_to_book(client):
    course = factories.course()
    db.session.commit()
    response = client.post(f"/courses/{course.id}/book", data={"csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    assert _bookings() == []


def test_a_refused_booking_names_the_rule_and_changes_nothing(client, auth, post_form):
    course = factories.course()
    first_day = course.starts_at.date()
    _signed_in(auth, date_of_birth=first_day.replace(year=first_day.year - 15))
    before = _bookings()
    response = post_form(f"/courses/{course.id}/book", {})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "This course is for people aged 16 and over" in html
    assert _bookings() == before


def test_an_overlapping_booking_is_refused_with_409(client, auth, post_form):
    user = _signed_in(auth)
    first = factories.course()
    clash = factories.course(start=datetime.combine(first.starts_at.date(), datetime.min.time()).replace(hour=11))
    services.book_for_user(user, first)
    db.session.commit()
    before = _bookings()
    response = post_form(f"/courses/{clash.id}/book", {})
    assert response.status_code == 409
    assert "You are already booked on a course at that time" in response.get_data(as_text=True)
    assert _bookings() == before


def test_double_submitting_the_booking_form_creates_one_booking(client, auth):
    course = factories.course()
    user = _signed_in(auth)
    token = csrf_token(client, f"/courses/{course.id}/book")
    first = client.post(f"/courses/{course.id}/book", data={"csrf_token": token})
    second = client.post(f"/courses/{course.id}/book", data={"csrf_token": token})
    assert first.status_code == second.status_code == 302
    assert "already" in client.get("/my-courses").get_data(as_text=True)
    rows = db.session.scalars(sa.select(Booking).where(Booking.person_id == user.person_id)).all()
    assert len(rows) == 1


def test_closed_course_asks_for_the_voucher_and_keeps_what_was_typed(client, auth, post_form):
    employer = factories.employer("Dudley Council")
    course = factories.course(employer_id=employer.id)
    user = factories.user(Role.TRAINEE)
    voucher = factories.voucher(employer, status=VoucherStatus.ASSIGNED, assigned_to=user.person)
    db.session.commit()
    auth.login(user)
    response = post_form(f"/courses/{course.id}/book", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#voucher_code"' in html and "only for staff of Dudley Council" in html
    response = post_form(f"/courses/{course.id}/book", {"voucher_code": "WRONG-CODE"})
    html = response.get_data(as_text=True)
    assert "That place voucher code is not recognised" in html
    assert 'value="WRONG-CODE"' in html and "govuk-input--error" in html
    assert _bookings() == []
    response = post_form(f"/courses/{course.id}/book", {"voucher_code": voucher.code})
    assert response.status_code == 302
    booking = services.live_booking(user.person, course)
    assert booking.voucher_id == voucher.id
    assert db.session.get(PlaceVoucher, voucher.id).status is VoucherStatus.REDEEMED


def test_a_closed_course_is_hidden_from_others_unless_they_hold_its_voucher(client, auth, post_form):
    employer = factories.employer("Walsall Council")
    course = factories.course(employer_id=employer.id)
    voucher = factories.voucher(employer)
    user = _signed_in(auth)
    assert client.get(f"/courses/{course.id}/book").status_code == 404
    assert client.get(f"/courses/{course.id}/book?voucher_code=guess").status_code == 404
    page = client.get(f"/courses/{course.id}/book?voucher_code={voucher.code}")
    assert page.status_code == 200 and f'value="{voucher.code}"' in page.get_data(as_text=True)
    response = post_form(f"/courses/{course.id}/book", {"voucher_code": voucher.code},
                         page=f"/courses/{course.id}/book?voucher_code={voucher.code}")
    assert response.status_code == 302
    assert services.live_booking(user.person, course).voucher_id == voucher.id


def test_draft_courses_are_not_found(client, auth):
    from mhfa.courses.models import CourseStatus

    course = factories.course(status=CourseStatus.DRAFT)
    _signed_in(auth)
    assert client.get(f"/courses/{course.id}/book").status_code == 404


def test_cancel_a_booking_and_the_next_person_is_promoted(client, auth, post_form):
    course = factories.course(capacity=1)
    user = _signed_in(auth)
    booking = services.book_for_user(user, course)
    waiting = services.book_for_user(factories.user(Role.TRAINEE), course)
    db.session.commit()
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "Yes, cancel my booking" in page
    response = post_form(f"/bookings/{booking.id}/cancel", {})
    assert response.status_code == 302
    assert "Your booking on Adult MHFA (two day) is cancelled" in client.get("/my-courses").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status is BookingStatus.CANCELLED
    assert db.session.get(Booking, waiting.id).status is BookingStatus.CONFIRMED


def test_after_the_cut_off_the_cancel_page_says_whom_to_contact(client, auth, post_form):
    course = factories.course(start=datetime.now() + timedelta(hours=40))
    user = _signed_in(auth)
    booking = services.book_for_user(user, course)
    db.session.commit()
    html = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "Yes, cancel my booking" not in html
    assert "The deadline for cancelling online was" in html
    assert "contact the MHFA Reach programme team at mhfa-training@mhfa-reach.local" in html
    assert f"booking reference {booking.id}" in html
    assert "To cancel now, contact" in client.get("/my-courses").get_data(as_text=True)
    response = post_form(f"/bookings/{booking.id}/cancel", {}, page="/my-courses")
    assert response.status_code == 409
    assert "The cancellation deadline for this course" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status is BookingStatus.CONFIRMED


def test_someone_elses_booking_cannot_be_seen_or_cancelled(client, auth, post_form):
    other = services.book_for_user(factories.user(Role.TRAINEE), factories.course())
    db.session.commit()
    _signed_in(auth)
    assert client.get(f"/bookings/{other.id}/cancel").status_code == 404
    assert post_form(f"/bookings/{other.id}/cancel", {}, page="/my-courses").status_code == 404
    db.session.expire_all()
    assert db.session.get(Booking, other.id).status is BookingStatus.CONFIRMED


def test_my_courses_lists_past_courses_waiting_positions_and_certificates(client, auth):
    user = _signed_in(auth)
    past = factories.course(start=datetime.now() - timedelta(days=60))
    factories.booking_on(past, user.person)
    full = factories.course(capacity=1, start=datetime.now() + timedelta(days=30))
    factories.booking_on(full)
    services.book_for_user(user, full)
    factories.certificate(user.person, issued_on=date(2024, 3, 1))
    db.session.commit()
    html = client.get("/my-courses").get_data(as_text=True)
    assert "You are number 1 on the waiting list" in html
    assert "Past courses" in html and past.starts_at.strftime("%B %Y") in html
    assert "Mental Health First Aider" in html and "1 March 2027" in html


def test_the_booking_page_says_which_rule_stops_you_before_you_try(client, auth):
    course = factories.course("REFRESHER")
    _signed_in(auth)
    html = client.get(f"/courses/{course.id}/book").get_data(as_text=True)
    assert "You cannot book this course: this course is a refresher" in html
    assert 'action="/courses/' not in html
    no_dob = factories.user(Role.TRAINEE, date_of_birth=None)
    db.session.commit()
    auth.logout()
    auth.login(no_dob)
    html = client.get(f"/courses/{factories.course().id}/book").get_data(as_text=True)
    assert "Add your date of birth to your profile" in html


def test_a_voucher_link_opens_a_closed_course_only_for_a_voucher_of_a_confirmed_order(client, auth):
    from mhfa.employers.models import OrderStatus

    employer = factories.employer("Walsall Council")
    course = factories.course(employer_id=employer.id)
    pending = factories.voucher(employer, order_status=OrderStatus.PENDING)
    cancelled = factories.voucher(employer, status=VoucherStatus.CANCELLED)
    other = factories.voucher(factories.employer())
    used = factories.voucher(employer, status=VoucherStatus.REDEEMED)
    _signed_in(auth, employer=employer)  # the employer on a profile opens nothing
    for voucher in (pending, cancelled, other):
        assert client.get(f"/courses/{course.id}/book?voucher_code={voucher.code}").status_code == 404
    link = f"/courses/{course.id}/book?voucher_code={used.code}"
    assert client.get(link).status_code == 200
    refused = client.post(f"/courses/{course.id}/book",
                          data={"voucher_code": used.code, "csrf_token": csrf_token(client, link)})
    assert refused.status_code == 409 and "already been used" in refused.get_data(as_text=True)
    open_course = factories.course(start=datetime.now() + timedelta(days=40))
    db.session.commit()
    refused = client.post(f"/courses/{open_course.id}/book", data={
        "voucher_code": pending.code, "csrf_token": csrf_token(client, f"/courses/{open_course.id}/book")})
    assert refused.status_code == 422 and "order for it has not been confirmed" in refused.get_data(as_text=True)


def test_the_booking_page_says_when_you_already_hold_the_courses_certificate(client, auth, post_form):
    course = factories.course(capacity=3)
    other_kind = factories.course("YOUTH_2DAY", start=datetime.combine(date.today() + timedelta(days=60),
                                                                      datetime.min.time().replace(hour=9)))
    user = _signed_in(auth)
    held = factories.certificate(user.person, "ADULT_2DAY", issued_on=date.today() - timedelta(days=300))
    factories.certificate(user.person, "ADULT_2DAY", issued_on=date.today() - timedelta(days=200), revoked=True)
    db.session.commit()
    html = client.get(f"/courses/{course.id}/book").get_data(as_text=True)
    assert "You already hold a certificate for this course" in html and held.number in html
    assert f"valid until {held.expires_on.strftime('%-d %B %Y')}" in html
    assert f'href="/my-courses#certificate-{held.id}"' in html
    assert f'id="certificate-{held.id}"' in client.get("/my-courses").get_data(as_text=True)
    assert "You already hold a certificate" not in client.get(f"/courses/{other_kind.id}/book").get_data(as_text=True)
    assert post_form(f"/courses/{course.id}/book", {}).status_code == 302  # a warning, not a refusal
    assert services.live_booking(user.person, course).status is BookingStatus.CONFIRMED


def test_an_expired_or_revoked_certificate_is_not_called_held(client, auth):
    course = factories.course(capacity=3)
    user = _signed_in(auth)
    factories.certificate(user.person, "ADULT_2DAY", issued_on=date.today() - timedelta(days=4 * 365))
    factories.certificate(user.person, "ADULT_2DAY", issued_on=date.today() - timedelta(days=100), revoked=True)
    db.session.commit()
    assert "You already hold a certificate" not in client.get(f"/courses/{course.id}/book").get_data(as_text=True)


def test_the_booking_page_says_when_you_are_booked_on_another_course_of_the_kind(client, auth, post_form):
    first_day = date.today() + timedelta(days=30)
    booked = factories.course("REFRESHER", start=datetime.combine(first_day, datetime.min.time().replace(hour=9)))
    later = factories.course("REFRESHER", start=datetime.combine(first_day + timedelta(days=14),
                                                                 datetime.min.time().replace(hour=9)))
    other_kind = factories.course("AWARE", start=datetime.combine(first_day + timedelta(days=20),
                                                                  datetime.min.time().replace(hour=9)))
    user = _signed_in(auth)
    factories.certificate(user.person, "ADULT_2DAY")  # a refresher needs an earlier certificate
    booking = factories.booking_on(booked, user.person)
    db.session.commit()
    html = " ".join(client.get(f"/courses/{later.id}/book").get_data(as_text=True).split())
    assert "You already have a place on another MHFA Refresher course, starting " in html
    assert f'href="/my-courses#booking-{booking.id}"' in html
    assert f'id="booking-{booking.id}"' in client.get("/my-courses").get_data(as_text=True)
    assert "booked-on-same-kind" not in client.get(f"/courses/{other_kind.id}/book").get_data(as_text=True)
    assert "booked-on-same-kind" not in client.get(f"/courses/{booked.id}/book").get_data(as_text=True)
    assert post_form(f"/courses/{later.id}/book", {}).status_code == 302  # a note, not a refusal
    assert services.live_booking(user.person, later).status is BookingStatus.CONFIRMED
