"""The programme team's view of a course's bookings, and cancelling a booking on a trainee's behalf."""
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.bookings import listings, services
from mhfa.bookings.models import Booking, BookingSource, BookingStatus
from mhfa.courses.models import CourseStatus
from mhfa.extensions import db
from mhfa.reach.settings import current_settings
from mhfa.timeutil import utcnow
from tests import factories


def _trainee(first_name: str, last_name: str):
    return factories.user(Role.TRAINEE, first_name=first_name, last_name=last_name)


def _full_course(**fields):
    """A course with two seats, both taken, and three people waiting (in that order)."""
    course = factories.course(capacity=2, **fields)
    seated = [services.book_for_user(_trainee(n, "Seated"), course) for n in ("Ada", "Ben")]
    waiting = [services.book_for_user(_trainee(n, "Waiting"), course) for n in ("Cai", "Dee", "Eve")]
    db.session.commit()
    return course, seated, waiting


def _rows(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, flags=re.S)
    assert table, f"no table {table_id}"
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table.group(0), flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows[1:]]


def test_the_course_page_lists_confirmed_places_and_the_waiting_list_in_order(client, coordinator):
    course, seated, waiting = _full_course()
    # Host clocks disagreed about when Eve joined: the order is still the booking order.
    waiting[2].waitlisted_at = waiting[0].waitlisted_at - timedelta(minutes=5)
    waiting[1].source = BookingSource.COORDINATOR
    db.session.commit()
    html = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    confirmed = _rows(html, "confirmed-bookings")
    assert [row.split(" ")[:2] for row in confirmed] == [["Ada", "Seated"], ["Ben", "Seated"]]
    assert seated[0].person.email in confirmed[0] and "Booked themselves" in confirmed[0]
    assert f"{seated[0].created_at:%-d %b %Y}" in confirmed[0]
    queue = _rows(html, "waiting-list")
    assert [row.split(" ")[:3] for row in queue] == [["1", "Cai", "Waiting"], ["2", "Dee", "Waiting"],
                                                    ["3", "Eve", "Waiting"]]
    assert waiting[1].person.email in queue[1] and "Programme team" in queue[1]
    for booking in seated + waiting:
        assert f'href="/manage/bookings/{booking.id}/cancel"' in html


def test_the_bookings_on_the_course_page_are_read_in_one_query(client, coordinator, count_queries):
    course, _, _ = _full_course()

    def bookings_queries() -> int:
        db.session.expire_all()
        db.session.refresh(course)
        with count_queries() as statements:
            roster = listings.course_bookings(course)
            for booking in roster.confirmed + roster.waiting:
                _ = (booking.person.full_name, booking.person.email, booking.created_at, booking.source)
        return len(statements)

    assert bookings_queries() == 1

    def page_queries() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get(f"/manage/courses/{course.id}").status_code == 200
        return len(statements)

    before = page_queries()
    for n in range(6):
        services.book_for_user(_trainee(f"Fay{n}", "Later"), course)
    db.session.commit()
    assert page_queries() == before  # no query per booking


def test_a_coordinator_cancels_a_booking_with_a_reason_and_the_next_person_is_promoted(
        client, coordinator, post_form, smtp):
    # Past the online cut-off (30 hours ahead) and, with the offer window at 0 days, promoted at once.
    settings = current_settings(persist=True)
    settings.offer_window_days = 0
    course, seated, waiting = _full_course(start=datetime.now() + timedelta(hours=30))
    booking = seated[0]
    page = client.get(f"/manage/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "Cancel Ada Seated&#39;s booking" in page or "Cancel Ada Seated's booking" in page
    assert 'name="reason"' in page and "Cai Waiting, who will be emailed" in page
    smtp.clear()

    response = post_form(f"/manage/bookings/{booking.id}/cancel", {"reason": "Moved to the Coventry course"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/manage/courses/{course.id}")
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status is BookingStatus.CANCELLED
    assert db.session.get(Booking, booking.id).cancel_reason == "Moved to the Coventry course"
    assert db.session.get(Booking, waiting[0].id).status is BookingStatus.CONFIRMED
    assert services.waiting_position(db.session.get(Booking, waiting[1].id)) == 1

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "booking.cancelled"))
    assert event.actor_user_id == coordinator.id and event.entity_id == booking.id
    assert event.details["reason"] == "Moved to the Coventry course" and event.details["course_id"] == course.id

    [cancelled] = smtp.to(booking.person.email)
    assert cancelled["Subject"] == "Booking cancelled: Adult MHFA (two day)"
    assert "This was done by the programme team: Moved to the Coventry course." in smtp.text(cancelled)
    [promoted] = smtp.to(waiting[0].person.email)
    assert promoted["Subject"].startswith("A place has come up")

    html = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    assert "Ada Seated&#39;s booking is cancelled and they have been emailed." in html
    assert "Cai Waiting moved up from the waiting list and was emailed." in html
    assert [row.split(" ")[:2] for row in _rows(html, "confirmed-bookings")] == [["Ben", "Seated"],
                                                                                ["Cai", "Waiting"]]


def test_close_to_the_course_the_seat_a_coordinator_frees_is_offered_for_a_limited_time(
        client, coordinator, post_form, smtp):
    course, seated, waiting = _full_course(start=datetime.now() + timedelta(hours=30))  # within the 7-day window
    booking = seated[0]
    page = client.get(f"/manage/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "the place is offered to the first person on the waiting list, Cai Waiting" in page
    assert "has 24 hours to accept it" in page
    response = post_form(f"/manage/bookings/{booking.id}/cancel", {"reason": "Unwell"})
    assert response.status_code == 302
    db.session.expire_all()
    offered = db.session.get(Booking, waiting[0].id)
    assert offered.status is BookingStatus.WAITLISTED and offered.offer_expires_at is not None
    assert smtp.subjects(offered.person.email)[-1].startswith("A place is offered to you until")
    html = client.get(f"/manage/courses/{course.id}").get_data(as_text=True)
    assert "Cai Waiting has been offered the place until" in html


def test_a_coordinator_can_take_someone_off_the_waiting_list(client, coordinator, post_form, smtp):
    course, _, waiting = _full_course()
    page = client.get(f"/manage/bookings/{waiting[1].id}/cancel").get_data(as_text=True)
    assert "Number 2 on the waiting list" in page
    smtp.clear()
    assert post_form(f"/manage/bookings/{waiting[1].id}/cancel", {"reason": "Asked by phone"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, waiting[1].id).status is BookingStatus.CANCELLED
    assert services.waiting_position(db.session.get(Booking, waiting[2].id)) == 2
    assert services.confirmed_count(course) == 2
    [message] = smtp.to(waiting[1].person.email)
    assert message["Subject"].startswith("You have left the waiting list")


def test_the_reason_is_required(client, coordinator, post_form):
    _, seated, _ = _full_course()
    response = post_form(f"/manage/bookings/{seated[0].id}/cancel", {"reason": "  "})
    assert response.status_code == 422
    assert "Enter the reason for cancelling; the trainee is told it" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, seated[0].id).status is BookingStatus.CONFIRMED


def test_a_cancelled_booking_or_a_completed_course_cannot_be_cancelled_again(client, coordinator, post_form):
    course, seated, _ = _full_course()
    services.cancel_booking(seated[0], by=None, reason="x", override_cutoff=True)
    db.session.commit()
    page = client.get(f"/manage/bookings/{seated[0].id}/cancel").get_data(as_text=True)
    assert "This booking is already cancelled" in page and 'name="reason"' not in page
    response = post_form(f"/manage/bookings/{seated[0].id}/cancel", {"reason": "Again"},
                         page=f"/manage/courses/{course.id}")
    assert response.status_code == 409 and "This booking is already cancelled" in response.get_data(as_text=True)

    course.status = CourseStatus.COMPLETED
    db.session.commit()
    other = seated[1]
    assert "its bookings can no longer be cancelled" in client.get(f"/manage/bookings/{other.id}/cancel").get_data(
        as_text=True)
    response = post_form(f"/manage/bookings/{other.id}/cancel", {"reason": "Late"}, page=f"/manage/courses/{course.id}")
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Booking, other.id).status is BookingStatus.CONFIRMED


def test_an_unknown_booking_is_not_found(client, coordinator):
    assert client.get("/manage/bookings/999999/cancel").status_code == 404


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.INSTRUCTOR, Role.EMPLOYER, Role.BOARD, Role.ADMIN])
def test_only_coordinators_can_cancel_someone_elses_booking(client, auth, post_form, role):
    _, seated, _ = _full_course()
    user = factories.user(role)
    db.session.commit()
    auth.login(user)
    assert client.get(f"/manage/bookings/{seated[0].id}/cancel").status_code == 403
    response = post_form(f"/manage/bookings/{seated[0].id}/cancel", {"reason": "No"}, page="/")
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Booking, seated[0].id).status is BookingStatus.CONFIRMED


def test_signing_in_is_needed(client, app_ctx):
    _, seated, _ = _full_course()
    response = client.get(f"/manage/bookings/{seated[0].id}/cancel")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_service_refuses_a_booking_on_a_completed_course(app_ctx):
    course, seated, _ = _full_course()
    course.status = CourseStatus.COMPLETED
    with pytest.raises(services.Conflict, match="completed"):
        services.cancel_booking(seated[0], by=None, override_cutoff=True, now=utcnow())
