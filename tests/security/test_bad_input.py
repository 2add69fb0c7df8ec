"""The bad input of the security probe: each answers a clear 4xx (never a 500), and nothing changes."""
from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from mhfa import SECURITY_HEADERS
from mhfa.auth.models import Role
from mhfa.auth.services import issue_api_token
from mhfa.bookings.models import Booking
from mhfa.extensions import db
from tests import factories

HUGE = "99999999999999999999"


@pytest.mark.parametrize("url", [
    "/courses?to_date=9999-12-31", "/courses?from_date=0001-01-01", f"/courses?page={HUGE}",
    f"/courses/{HUGE}", "/courses/99999999999", "/courses/99999999999.ics", "/api/v1/courses/99999999999",
    f"/api/v1/courses?page={HUGE}", "/calendar/%00.ics", "/courses?area=%00",
])
def test_anonymous_bad_addresses_answer_4xx_or_an_empty_page(client, url):
    response = client.get(url)
    assert response.status_code in {200, 400, 404, 422}, url
    if response.status_code == 200:
        assert "Sorry, there is a problem" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [f"/courses?page={HUGE}", f"/manage/courses?page={HUGE}",
                                 f"/admin/users?page={HUGE}"])
def test_a_page_number_past_the_end_shows_an_empty_page(client, auth, url):
    auth.login(factories.user(Role.COORDINATOR, Role.ADMIN))
    assert client.get(url).status_code == 200


def _api_user():
    user = factories.user(Role.TRAINEE)
    token = issue_api_token(user)
    course = factories.course()
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}, course


@pytest.mark.parametrize("body", [
    '{"voucher_code": ', '{"voucher_code": "x\\u0000"}', '{"voucher_code": "\\ud800"}', "[" * 20000 + "]" * 20000,
    "not json", "[1]", '"text"',
])
def test_api_json_that_is_malformed_deep_or_unreadable_is_a_400_and_books_nothing(client, body):
    headers, course = _api_user()
    response = client.post(f"/api/v1/courses/{course.id}/bookings", data=body, headers=headers,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.is_json and response.json["error"]
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_an_api_body_over_the_cap_is_a_413(client):
    headers, course = _api_user()
    body = '{"voucher_code": "' + "v" * 70_000 + '"}'
    response = client.post(f"/api/v1/courses/{course.id}/bookings", data=body, headers=headers,
                           content_type="application/json")
    assert response.status_code == 413
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_huge_ids_in_the_api_are_404(client):
    headers, _ = _api_user()
    assert client.get(f"/api/v1/bookings/{HUGE}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/courses/{HUGE}/bookings", headers=headers).status_code == 404


@pytest.mark.parametrize("fields", [
    {"first_name": "Ann\x00e", "last_name": "Lee"},
    {"first_name": "Anne", "last_name": "Lee", "employer": HUGE},
    {"first_name": "Anne", "last_name": "Lee"},  # no date-of-birth boxes at all
    {"first_name": "Anne", "last_name": "Lee", "date_of_birth-day": HUGE, "date_of_birth-month": "1",
     "date_of_birth-year": "1990"},
])
def test_profile_posts_with_bad_values_never_fail(client, auth, post_form, fields):
    user = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(user)
    response = post_form("/profile", fields)
    assert response.status_code in {302, 400, 422}
    if "\x00" in fields["first_name"]:
        assert response.status_code == 400
        db.session.expire_all()
        assert user.person.first_name == "Asha"


def test_a_nul_byte_in_a_registration_name_is_refused(client, post_form):
    response = post_form("/register", {"first_name": "A\x00", "last_name": "B", "email": "nul@example.org",
                                       "password": "three random words", "password_confirm": "three random words"})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_the_500_page_works_for_a_signed_in_user_after_a_failed_transaction(app, client, auth, monkeypatch):
    user = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(user)

    def broken_view():
        with contextlib.suppress(sa.exc.DatabaseError):  # on PostgreSQL the transaction is now aborted
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.view_functions, "main.home", broken_view)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.get_data(as_text=True)
    for header in SECURITY_HEADERS:
        assert header in response.headers


def test_the_booking_body_is_validated_by_the_model_the_openapi_document_is_generated_from(client):
    from mhfa.bookings.schemas import BookingRequest, BookingResponse

    headers, course = _api_user()
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    assert schemas["BookingRequest"] == BookingRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    assert schemas["Booking"]["properties"].keys() == BookingResponse.model_fields.keys()
    post = document["paths"]["/courses/{course_id}/bookings"]["post"]
    body_schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/BookingRequest"}
    typo = client.post(f"/api/v1/courses/{course.id}/bookings", json={"vouchercode": "X"}, headers=headers)
    assert typo.status_code == 422 and "vouchercode" in typo.json["error"]
    booked = client.post(f"/api/v1/courses/{course.id}/bookings", json={}, headers=headers)
    assert booked.status_code == 201
    BookingResponse.model_validate(booked.json)


def test_an_idempotency_key_makes_a_retried_booking_return_the_first_result(client):
    headers, course = _api_user()
    headers = {**headers, "Idempotency-Key": "6f1c2d3e-retry"}
    first = client.post(f"/api/v1/courses/{course.id}/bookings", headers=headers)
    again = client.post(f"/api/v1/courses/{course.id}/bookings", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 1
    other = factories.course()
    db.session.commit()
    reused = client.post(f"/api/v1/courses/{other.id}/bookings", headers=headers)
    assert reused.status_code == 409
    without = client.post(f"/api/v1/courses/{course.id}/bookings", headers={"Authorization": headers["Authorization"]})
    assert without.status_code == 409  # no key: the booking rule answers
    bad = client.post(f"/api/v1/courses/{course.id}/bookings", headers={**headers, "Idempotency-Key": "x" * 300})
    assert bad.status_code == 400


def test_an_id_past_the_integer_columns_names_no_row_on_either_database(app_ctx):
    """Ids from forms are checked against the columns' range: 2**40 names nothing (PostgreSQL refused it: a 500)."""
    from mhfa.employers import lookup
    from mhfa.employers.models import Order

    assert lookup.row(Order, 2**40) is None
    assert lookup.row(Order, 2**31) is None
