"""A seat freed close to a course is offered for a limited time; earlier it is given at once and can be given back."""
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role, User
from mhfa.bookings import offers, services
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.places import places
from mhfa.employers.models import VoucherStatus
from mhfa.errors import Conflict, NotFound
from mhfa.extensions import db
from mhfa.reach.settings import current_settings
from mhfa.reminders import send_due_reminders
from mhfa.timeutil import utcnow
from tests import factories
from tests.conftest import csrf_token


def trainee(**fields):
    return factories.user(Role.TRAINEE, **fields)


def days_ahead(days: int) -> datetime:
    return datetime.combine(datetime.now().date() + timedelta(days=days), datetime.min.time()).replace(hour=9)


def full_course(days: int, waiting: int = 2):
    """A one-seat course ``days`` away: a confirmed holder and ``waiting`` people on its waiting list."""
    course = factories.course(start=days_ahead(days), capacity=1)
    holder = trainee()
    held = services.book_for_user(holder, course)
    queue = [services.book_for_user(trainee(), course) for _ in range(waiting)]
    db.session.commit()
    return course, holder, held, queue


def test_a_seat_freed_close_to_the_course_is_offered_to_the_first_person_waiting(app_ctx):
    course, holder, held, (first, second) = full_course(days=5)
    promoted = services.cancel_booking(held, by=holder)
    db.session.commit()
    assert promoted == [] and first.status is BookingStatus.WAITLISTED
    assert offers.holds_offer(first) and first.answer_token and len(first.answer_token) >= 40
    assert first.offer_expires_at - first.offered_at == timedelta(hours=24)
    # The seat is held: the course counts it as taken and somebody booking now joins the waiting list.
    assert places(course).left == 0
    assert services.book_for_user(trainee(), course).status is BookingStatus.WAITLISTED
    answer = offers.answer_offer(first, accept=True)
    db.session.commit()
    assert answer.outcome == "accepted" and first.status is BookingStatus.CONFIRMED
    assert services.waiting_position(second) == 1


def test_earlier_than_the_window_promotion_stays_automatic_and_the_place_can_be_given_back(app_ctx):
    course, holder, held, (first, second) = full_course(days=20)
    assert services.cancel_booking(held, by=holder) == [first]
    db.session.commit()
    assert first.status is BookingStatus.CONFIRMED and first.offer_expires_at is None
    assert offers.can_give_back(first)
    offers.give_back(first)
    db.session.commit()
    assert first.status is BookingStatus.CANCELLED and second.status is BookingStatus.CONFIRMED
    with pytest.raises(Conflict):
        offers.give_back(first)


def test_the_window_and_the_offer_length_come_from_the_programme_settings(app_ctx):
    settings = current_settings(persist=True)
    settings.offer_window_days, settings.offer_hours = 30, 2
    course, holder, held, (first, _) = full_course(days=20)
    services.cancel_booking(held, by=holder)
    assert offers.holds_offer(first) and first.offer_expires_at - first.offered_at == timedelta(hours=2)


def test_an_offer_ends_no_later_than_the_course_starts(app_ctx):
    course = factories.course(start=datetime.now() + timedelta(hours=5), capacity=1)
    course.booking_deadline = None
    holder, waiting = trainee(), trainee()
    held = factories.booking_on(course, holder.person, confirmed_at=utcnow())
    first = factories.booking_on(course, waiting.person, status=BookingStatus.WAITLISTED, waitlisted_at=utcnow())
    services.cancel_booking(held, by=None, override_cutoff=True)
    assert first.offer_expires_at == course.starts_at


def test_declining_passes_the_offer_to_the_next_person(app_ctx):
    course, holder, held, (first, second) = full_course(days=5)
    services.cancel_booking(held, by=holder)
    assert offers.answer_offer(first, accept=False).outcome == "declined"
    db.session.commit()
    assert first.status is BookingStatus.CANCELLED and offers.holds_offer(second)
    with pytest.raises(Conflict):
        offers.answer_offer(first, accept=True)


def test_an_offer_not_accepted_in_time_passes_on_through_the_cron_job(app_ctx):
    course, holder, held, (first, second) = full_course(days=5)
    services.cancel_booking(held, by=holder)
    db.session.commit()
    assert send_due_reminders(utcnow() + timedelta(hours=23))["offers_expired"] == 0
    later = utcnow() + timedelta(hours=25)
    assert send_due_reminders(later)["offers_expired"] == 1
    db.session.commit()
    assert first.status is BookingStatus.CANCELLED and first.cancel_reason == offers.EXPIRED
    assert offers.holds_offer(second) and second.offer_expires_at == later + timedelta(hours=24)
    assert send_due_reminders(later)["offers_expired"] == 0  # once
    # Accepting after it ran out says so, and changes nothing more.
    assert offers.answer_offer(first, accept=True, now=later).outcome == "expired"


def test_accepting_late_passes_the_offer_on_first_lazily(app_ctx):
    course, holder, held, (first, second) = full_course(days=5)
    services.cancel_booking(held, by=holder)
    db.session.commit()
    answer = offers.answer_offer(first, accept=True, now=utcnow() + timedelta(days=2))
    db.session.commit()
    assert answer.outcome == "expired" and offers.holds_offer(second)


def test_a_held_voucher_is_spent_on_acceptance_and_given_back_on_expiry(app_ctx):
    course = factories.course(start=days_ahead(5), capacity=1)
    holder = trainee()
    held = services.book_for_user(holder, course)
    paid, other = trainee(), trainee()
    voucher = factories.voucher(factories.employer(), assigned_to=paid.person)
    waiting = services.book_for_user(paid, course, voucher=voucher)
    services.book_for_user(other, course)
    assert voucher.status is VoucherStatus.ASSIGNED
    services.cancel_booking(held, by=holder)
    offers.expire_due_offers(utcnow() + timedelta(days=2))
    assert waiting.status is BookingStatus.CANCELLED and waiting.voucher_id is None
    assert voucher.status is VoucherStatus.ASSIGNED


def test_a_waiting_person_leaving_while_offered_frees_the_seat_for_the_next(app_ctx):
    course, holder, held, (first, second) = full_course(days=5)
    services.cancel_booking(held, by=holder)
    services.cancel_booking(first, by=None)
    assert offers.holds_offer(second)


def test_unknown_tokens_are_not_found(app_ctx):
    for token in ("", "x", "a" * 43, "a" * 500, "\x00" * 30):
        with pytest.raises(NotFound):
            offers.booking_for_token(token)


def test_the_offer_page_accepts_with_one_button(client):
    course, holder, held, (first, second) = full_course(days=5)
    services.cancel_booking(held, by=holder)
    db.session.commit()
    url = f"/waiting-list/{first.answer_token}"
    page = client.get(url)
    assert page.status_code == 200 and "Accept the place" in page.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "accept": "Accept the place"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, first.id).status is BookingStatus.CONFIRMED
    assert "You have accepted the place" in client.get(url).get_data(as_text=True)


def test_an_expired_offer_page_says_so_and_passes_it_on(client):
    course, holder, held, (first, second) = full_course(days=5)
    services.cancel_booking(held, by=holder)
    first.offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(f"/waiting-list/{first.answer_token}")
    assert page.status_code == 410 and "This offer ran out" in page.get_data(as_text=True)
    db.session.expire_all()
    assert offers.holds_offer(db.session.get(Booking, second.id))
    assert client.get("/waiting-list/not-a-real-token-at-all-xxxxxxxxx").status_code == 404


def test_my_courses_shows_the_offer_and_the_give_back_button(client, auth):
    course, holder, held, (first, second) = full_course(days=20)
    services.cancel_booking(held, by=holder)
    user = db.session.scalar(sa.select(User).where(User.person_id == first.person_id))
    db.session.commit()
    auth.login(user)
    page = client.get("/my-courses").get_data(as_text=True)
    assert "Give the place back" in page and f"/waiting-list/{first.answer_token}" in page
    response = client.post(f"/waiting-list/{first.answer_token}",
                           data={"csrf_token": csrf_token(client, "/my-courses"), "give_back": "Give the place back"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, second.id).status is BookingStatus.CONFIRMED


def test_the_offer_email_carries_the_accept_link(smtp):
    course, holder, held, (first, _) = full_course(days=5)
    smtp.clear()
    services.cancel_booking(held, by=holder)
    db.session.commit()
    [message] = smtp.to(first.person.email)
    assert message["Subject"].startswith("A place is offered to you until")
    assert f"/waiting-list/{first.answer_token}" in smtp.text(message)
