"""Hostile input on the booking pages that move places: moving a booking, the waiting-list links, and "tell me
when there's a course". Each gets a clear 4xx (or the page again) and changes nothing."""
from datetime import datetime, timedelta

import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.bookings import services
from mhfa.bookings.models import Booking, CourseInterest
from mhfa.extensions import db
from tests import factories
from tests.conftest import csrf_token

HOSTILE = ["99999999999999999999", "-1", "0", "9" * 400, "1e309", "NaN", "\x00", "a\x00b", "' OR 1=1 --",
           "<script>alert(1)</script>", "{{ 7*7 }}", "../../etc/passwd", "🙂" * 50, "a" * 5000, " ", ""]


def _bookings():
    return db.session.execute(sa.select(Booking.id, Booking.status, Booking.course_id).order_by(Booking.id)).all()


def test_moving_a_booking_with_hostile_dates_changes_nothing(client, auth):
    start = datetime.combine(datetime.now().date() + timedelta(days=20), datetime.min.time()).replace(hour=9)
    old, new = factories.course(start=start), factories.course(start=start + timedelta(days=7))
    user = factories.user(Role.TRAINEE)
    booking = services.book_for_user(user, old)
    db.session.commit()
    before = _bookings()
    auth.login(user)
    url = f"/bookings/{booking.id}/move"
    token = csrf_token(client, url)
    for value in HOSTILE:
        response = client.post(url, data={"csrf_token": token, "course_id": value})
        assert response.status_code in (400, 422), (value, response.status_code)
    assert client.post(url, data={"course_id": new.id}).status_code in (400, 422)  # no CSRF token
    for path in (f"/bookings/{2**70}/move", "/bookings/-1/move", f"/manage/bookings/{booking.id}/move"):
        assert client.get(path).status_code in (403, 404), path
    db.session.expire_all()
    assert _bookings() == before


def test_waiting_list_links_with_hostile_tokens_are_not_found(client):
    for token in ["x", "a" * 43, "%00" * 20, "' OR 1=1 --aaaaaaaaaaaaaaaaaaaa", "9" * 300, "..%2f..%2fetc",
                  "\u202e" * 30]:
        response = client.get(f"/waiting-list/{token}")
        assert response.status_code in (400, 404), token
        response = client.post(f"/waiting-list/{token}", data={"accept": "1"})
        assert response.status_code in (400, 404), token


def test_interest_with_hostile_choices_changes_nothing(client, auth):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    token = csrf_token(client, "/courses/interest")
    for value in HOSTILE:
        for field in ("course_type_id", "council_area_id"):
            if (field, value) == ("council_area_id", "0"):
                continue  # 0 is "Online", a real choice
            data = {"csrf_token": token, "course_type_id": factories.course_type("AWARE").id, "council_area_id": 0,
                    field: value}
            response = client.post("/courses/interest", data=data)
            assert response.status_code in (400, 422), (field, value, response.status_code)
    for value in HOSTILE[:6]:
        assert client.get(f"/courses/interest?course_type_id={value}&council_area_id={value}").status_code == 200
        assert client.post(f"/courses/interest/{value or 0}/remove",
                           data={"csrf_token": token}).status_code in (302, 404, 405)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseInterest)) == 0
