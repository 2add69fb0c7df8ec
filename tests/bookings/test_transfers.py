"""Moving a booking to another date of the same course type: one step, seats counted, history kept."""
from datetime import datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.bookings import services, transfers
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.employers.models import OrderStatus, VoucherStatus
from mhfa.errors import Conflict, DomainError
from mhfa.extensions import db
from mhfa.timeutil import format_london, utcnow
from tests import factories
from tests.conftest import csrf_token


def trainee(**fields):
    return factories.user(Role.TRAINEE, **fields)


def days_ahead(days: int, hour: int = 9) -> datetime:
    return datetime.combine(datetime.now().date() + timedelta(days=days), datetime.min.time()).replace(hour=hour)


def two_dates(capacity_old=2, capacity_new=2, code="ADULT_2DAY"):
    return (factories.course(code, start=days_ahead(14), capacity=capacity_old),
            factories.course(code, start=days_ahead(28), capacity=capacity_new))


def test_a_trainee_moves_to_a_free_seat_and_the_old_seat_goes_to_the_waiting_list(app_ctx):
    old, new = two_dates(capacity_old=1)
    user, waiting = trainee(), trainee()
    booking = services.book_for_user(user, old)
    queued = services.book_for_user(waiting, old)
    db.session.commit()
    moved = transfers.transfer_booking(booking, new, by=user)
    db.session.commit()
    assert moved.booking.course_id == new.id and moved.booking.status is BookingStatus.CONFIRMED
    assert moved.booking.transferred_from_id == booking.id
    assert moved.booking.created_at == booking.created_at and moved.booking.source is BookingSource.SELF
    assert booking.status is BookingStatus.CANCELLED and booking.cancel_reason.startswith("Moved to ")
    assert moved.promoted == [queued] and queued.status is BookingStatus.CONFIRMED
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "booking.transferred"))
    assert event.details["from_course_id"] == old.id and event.details["to_course_id"] == new.id


def test_moving_onto_a_full_date_joins_its_waiting_list_at_the_back(app_ctx):
    old, new = two_dates(capacity_new=1)
    factories.booking_on(new)
    earlier = factories.booking_on(new, factories.person("Wait", "First"), status=BookingStatus.WAITLISTED)
    user = trainee()
    booking = services.book_for_user(user, old)
    moved = transfers.transfer_booking(booking, new, by=user).booking
    db.session.commit()
    assert moved.status is BookingStatus.WAITLISTED
    assert services.waiting_position(moved) == 2 and services.waiting_position(earlier) == 1


def test_the_place_voucher_moves_with_the_booking(app_ctx):
    old, new = two_dates()
    user = trainee()
    voucher = factories.voucher(factories.employer(), assigned_to=user.person)
    booking = services.book_for_user(user, old, voucher=voucher)
    assert voucher.status is VoucherStatus.REDEEMED
    moved = transfers.transfer_booking(booking, new, by=user).booking
    db.session.commit()
    assert moved.voucher_id == voucher.id and booking.voucher_id is None
    assert moved.source is BookingSource.EMPLOYER and voucher.status is VoucherStatus.REDEEMED


def test_a_voucher_of_a_cancelled_order_does_not_move(app_ctx):
    old, new = two_dates()
    user = trainee()
    voucher = factories.voucher(factories.employer(), assigned_to=user.person)
    booking = services.book_for_user(user, old, voucher=voucher)
    voucher.order.status = OrderStatus.CANCELLED
    db.session.commit()
    with pytest.raises(Conflict, match="voucher paying for this booking cannot move: .*cancelled"):
        transfers.transfer_booking(booking, new, by=user)
    db.session.rollback()
    assert booking.status is BookingStatus.CONFIRMED and booking.voucher_id == voucher.id


@pytest.mark.parametrize("case", ["same date", "other type", "cut-off passed", "cancelled", "already there"])
def test_refusals_change_nothing(app_ctx, case):
    old, new = two_dates()
    user = trainee()
    booking = services.book_for_user(user, old)
    target = new
    if case == "same date":
        target = old
    elif case == "other type":
        target = factories.course("YOUTH_2DAY", start=days_ahead(30))
    elif case == "cut-off passed":
        old.cancellation_cutoff = utcnow() - timedelta(hours=1)
    elif case == "cancelled":
        services.cancel_booking(booking, by=user)
    else:
        services.book_for_user(user, new)
    db.session.commit()
    before = db.session.execute(sa.select(Booking.id, Booking.status, Booking.course_id).order_by(Booking.id)).all()
    with pytest.raises(DomainError):
        transfers.transfer_booking(booking, target, by=user)
    db.session.rollback()
    assert db.session.execute(sa.select(Booking.id, Booking.status, Booking.course_id)
                              .order_by(Booking.id)).all() == before


def test_the_programme_team_moves_a_booking_after_the_cut_off(app_ctx):
    old, new = two_dates()
    user, coordinator = trainee(), factories.user(Role.COORDINATOR)
    booking = services.book_for_user(user, old)
    old.cancellation_cutoff = utcnow() - timedelta(hours=1)
    assert not transfers.can_transfer_online(booking)
    moved = transfers.transfer_booking(booking, new, by=coordinator, override_cutoff=True).booking
    db.session.commit()
    assert moved.status is BookingStatus.CONFIRMED


def test_other_dates_lists_the_same_course_type_open_for_booking(app_ctx):
    old, new = two_dates()
    factories.course("YOUTH_2DAY", start=days_ahead(30))
    closed = factories.course(start=days_ahead(32), employer_id=factories.employer().id)
    user = trainee()
    booking = services.book_for_user(user, old)
    assert transfers.other_dates(booking) == [new]
    assert closed not in transfers.other_dates(booking)


def test_one_email_cancels_the_old_calendar_entry_and_adds_the_new(smtp):
    old, new = two_dates()
    user = trainee(first_name="Tara")
    booking = services.book_for_user(user, old)
    db.session.commit()
    smtp.clear()
    transfers.transfer_booking(booking, new, by=user)
    db.session.commit()
    [message] = smtp.to(user.email)
    assert message["Subject"].startswith("Your booking has moved: Adult MHFA (two day)")
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    methods = {p.get_filename(): icalendar.Calendar.from_ical(p.get_payload(decode=True))["METHOD"] for p in parts}
    assert methods == {f"mhfa-course-{old.id}.ics": "CANCEL", f"mhfa-course-{new.id}.ics": "PUBLISH"}
    assert "Hello Tara" in smtp.text(message) and "has been given up" in smtp.text(message)


def test_a_trainee_moves_their_booking_through_the_page(client, auth):
    old, new = two_dates()
    user = trainee()
    booking = services.book_for_user(user, old)
    db.session.commit()
    auth.login(user)
    page = client.get("/my-courses").get_data(as_text=True)
    assert f"/bookings/{booking.id}/move" in page
    form = client.get(f"/bookings/{booking.id}/move")
    assert form.status_code == 200 and "Move your booking to another date" in form.get_data(as_text=True)
    token = csrf_token(client, f"/bookings/{booking.id}/move")
    response = client.post(f"/bookings/{booking.id}/move", data={"csrf_token": token, "course_id": new.id})
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-courses")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Booking).where(Booking.course_id == new.id)).person_id == user.person_id
    # The old booking is listed as moved, to the new date, not as a cancellation.
    mine = client.get("/my-courses").get_data(as_text=True)
    assert f"to {format_london(new.starts_at, '%-d %B %Y')}" in mine and ": cancelled" not in mine
    # A date not offered (another type, or nonsense) is refused on the form, nothing changed.
    other = factories.course("YOUTH_2DAY", start=days_ahead(30))
    db.session.commit()
    moved = db.session.scalar(sa.select(Booking).where(Booking.course_id == new.id))
    for bad in (other.id, new.id, "x", "", 2**70):
        response = client.post(f"/bookings/{moved.id}/move", data={"csrf_token": token, "course_id": bad})
        assert response.status_code == 422, bad
    assert client.get(f"/bookings/{booking.id + 1000}/move").status_code == 404


def test_someone_elses_booking_cannot_be_moved(client, auth):
    old, new = two_dates()
    owner, other = trainee(), trainee()
    booking = services.book_for_user(owner, old)
    db.session.commit()
    auth.login(other)
    assert client.get(f"/bookings/{booking.id}/move").status_code == 404


def test_a_coordinator_moves_a_booking_from_the_course_page(client, auth):
    old, new = two_dates()
    booking = services.book_for_user(trainee(), old)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    assert f"/manage/bookings/{booking.id}/move" in client.get(f"/manage/courses/{old.id}").get_data(as_text=True)
    token = csrf_token(client, f"/manage/bookings/{booking.id}/move")
    response = client.post(f"/manage/bookings/{booking.id}/move", data={"csrf_token": token, "course_id": new.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/manage/courses/{new.id}")
