"""The booking API: the token holder books, lists and cancels their own places."""
from datetime import datetime, timedelta

import sqlalchemy as sa

from mhfa.auth import services as auth_services
from mhfa.auth.models import Role
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.employers.models import VoucherStatus
from mhfa.extensions import db
from tests import factories


def _holder(**fields):
    user = factories.user(Role.TRAINEE, **fields)
    token = auth_services.issue_api_token(user)
    db.session.commit()
    return user, {"Authorization": f"Bearer {token}"}


def test_booking_returns_201_then_202_with_the_waiting_list_position(client):
    course = factories.course(capacity=1)
    _, first = _holder()
    _, second = _holder()
    response = client.post(f"/api/v1/courses/{course.id}/bookings", headers=first)
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "confirmed" and body["waiting_list_position"] is None
    assert body["course"]["id"] == course.id and body["course"]["starts_at"].endswith(("+00:00", "+01:00"))
    assert response.headers["Location"] == f"/api/v1/bookings/{body['id']}"
    response = client.post(f"/api/v1/courses/{course.id}/bookings", headers=second, json={})
    assert response.status_code == 202
    assert response.json["status"] == "waitlisted" and response.json["waiting_list_position"] == 1


def test_refusals_are_409_or_422_with_the_rule(client):
    course = factories.course()
    first_day = course.starts_at.date()
    _, young = _holder(date_of_birth=first_day.replace(year=first_day.year - 14))
    response = client.post(f"/api/v1/courses/{course.id}/bookings", headers=young)
    assert response.status_code == 422
    assert response.json == {"error": "this course is for people aged 16 and over"}
    _, adult = _holder()
    assert client.post(f"/api/v1/courses/{course.id}/bookings", headers=adult).status_code == 201
    again = client.post(f"/api/v1/courses/{course.id}/bookings", headers=adult)
    assert again.status_code == 409 and again.json == {"error": "you are already booked on this course"}
    clash = factories.course(start=datetime.combine(first_day, datetime.min.time()).replace(hour=10))
    db.session.commit()
    response = client.post(f"/api/v1/courses/{clash.id}/bookings", headers=adult)
    assert response.status_code == 409 and response.json == {"error": "you are already booked on a course at that time"}
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 1


def test_a_voucher_code_can_be_sent_as_json(client):
    employer = factories.employer()
    course = factories.course(employer_id=employer.id)
    voucher = factories.voucher(employer)
    _, outsider = _holder()
    assert client.post(f"/api/v1/courses/{course.id}/bookings", headers=outsider).status_code == 404
    holder, headers = _holder()
    factories.voucher(employer, status=VoucherStatus.ASSIGNED, assigned_to=holder.person)
    db.session.commit()
    refused = client.post(f"/api/v1/courses/{course.id}/bookings", headers=headers)
    assert refused.status_code == 422 and "place voucher" in refused.json["error"]
    response = client.post(f"/api/v1/courses/{course.id}/bookings", headers=headers,
                           json={"voucher_code": voucher.code})
    assert response.status_code == 201 and response.json["source"] == "employer"
    bad = client.post(f"/api/v1/courses/{course.id}/bookings", headers=headers, json={"voucher_code": 12})
    assert bad.status_code == 422


def test_unknown_or_draft_courses_are_404_and_a_token_is_required(client):
    from mhfa.courses.models import CourseStatus

    draft = factories.course(status=CourseStatus.DRAFT)
    _, headers = _holder()
    assert client.post("/api/v1/courses/999999/bookings", headers=headers).status_code == 404
    assert client.post(f"/api/v1/courses/{draft.id}/bookings", headers=headers).status_code == 404
    response = client.post(f"/api/v1/courses/{draft.id}/bookings")
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    assert client.post(f"/api/v1/courses/{draft.id}/bookings",
                       headers={"Authorization": "Bearer mhfa_wrong"}).status_code == 401


def test_list_show_and_cancel_own_bookings_only(client):
    course = factories.course(capacity=1)
    holder, headers = _holder()
    waiting, waiting_headers = _holder()
    booked = client.post(f"/api/v1/courses/{course.id}/bookings", headers=headers).json
    queued = client.post(f"/api/v1/courses/{course.id}/bookings", headers=waiting_headers).json
    listing = client.get("/api/v1/bookings", headers=headers).json["bookings"]
    assert [b["id"] for b in listing] == [booked["id"]]
    assert client.get(f"/api/v1/bookings/{booked['id']}", headers=headers).json["status"] == "confirmed"
    assert client.get(f"/api/v1/bookings/{booked['id']}", headers=waiting_headers).status_code == 404
    assert client.delete(f"/api/v1/bookings/{booked['id']}", headers=waiting_headers).status_code == 404
    response = client.delete(f"/api/v1/bookings/{booked['id']}", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    promoted = client.get(f"/api/v1/bookings/{queued['id']}", headers=waiting_headers).json
    assert promoted["status"] == "confirmed"
    again = client.delete(f"/api/v1/bookings/{booked['id']}", headers=headers)
    assert again.status_code == 409 and again.json == {"error": "this booking is already cancelled"}


def test_cancelling_after_the_cut_off_is_409_naming_the_contact(client):
    course = factories.course(start=datetime.now() + timedelta(hours=20))
    _, headers = _holder()
    booking = client.post(f"/api/v1/courses/{course.id}/bookings", headers=headers).json
    response = client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers)
    assert response.status_code == 409
    assert "contact the MHFA Reach programme team" in response.json["error"]
    assert db.session.get(Booking, booking["id"]).status is BookingStatus.CONFIRMED


def test_booking_paths_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    post = document["paths"]["/courses/{course_id}/bookings"]["post"]
    assert {"201", "202", "409", "422"} <= set(post["responses"])
    assert post["security"] == [{"bearerAuth": []}]
    assert "delete" in document["paths"]["/bookings/{booking_id}"]
    assert "Booking" in document["components"]["schemas"]


def test_a_token_from_the_create_user_command_books_through_the_api(runner, client):
    course = factories.course()
    db.session.commit()
    result = runner.invoke(args=["mhfa", "create-user", "--email", "hr.script@example.org", "--role", "trainee",
                                 "--name", "Harriet Script", "--date-of-birth", "1990-01-01", "--api-token"])
    assert result.exit_code == 0, result.output
    token = next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("API token"))
    response = client.post(f"/api/v1/courses/{course.id}/bookings", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
