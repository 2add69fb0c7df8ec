"""Bookings in the JSON API: the token holder books, lists and cancels their own places."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for
from pydantic import ValidationError

from mhfa import flow
from mhfa.api import add_paths, api_error, error_response, idempotency, token_required
from mhfa.bookings import deadlines, listings, services, vouchers
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.bookings.schemas import BookingRequest, BookingResponse, component_schemas, first_problem
from mhfa.errors import DomainError
from mhfa.timeutil import to_london


def _iso(moment):
    return to_london(moment).isoformat() if moment else None


def booking_json(booking: Booking, position: int | None = None) -> dict:
    course = booking.course
    if booking.status is BookingStatus.WAITLISTED and position is None:
        position = services.waiting_position(booking)
    body = {
        "id": booking.id,
        "status": booking.status.value,
        "waiting_list_position": position,
        "source": booking.source.value,
        "course": {
            "id": course.id,
            "course_type": course.course_type.code,
            "name": course.course_type.name,
            "status": course.status.value,
            "starts_at": _iso(course.starts_at),
            "ends_at": _iso(course.ends_at),
            "delivery_mode": course.delivery_mode.value,
            "venue": course.venue.one_line_address if course.venue else None,
        },
        "created_at": _iso(booking.created_at),
        "confirmed_at": _iso(booking.confirmed_at),
        "waitlisted_at": _iso(booking.waitlisted_at),
        "cancelled_at": _iso(booking.cancelled_at),
        "cancellable_online_until": _iso(deadlines.cancellation_cutoff(course))
        if booking.status is BookingStatus.CONFIRMED else _iso(course.starts_at),
    }
    return BookingResponse.model_validate(body).model_dump(mode="json")


@token_required
def create_booking(course_id: int):
    """Book the token holder onto a course: 201 confirmed, 202 on the waiting list.

    With an ``Idempotency-Key`` header, a retry of a booking that succeeded returns the first answer.
    """
    key = request.headers.get(idempotency.HEADER)
    if key is not None:
        if problem := idempotency.key_problem(key):
            return api_error(problem, 400)
        if (replay := _replay(key)) is not None:
            return replay
    payload = request.get_json() if request.is_json and request.get_data() else {}  # malformed JSON: 400
    if not isinstance(payload, dict):
        return api_error("send a JSON object, e.g. {\"voucher_code\": \"...\"}, or no body", 400)
    try:
        wanted = BookingRequest.model_validate(payload)
    except ValidationError as error:
        return api_error(first_problem(error), 422)
    voucher_code = wanted.voucher_code or request.form.get("voucher_code") or None
    try:
        answer, status, location = flow.attempt(_book, course_id, voucher_code, key).value
    except DomainError:  # rolled back; the app's JSON error handler names the rule
        if key is not None and (replay := _replay(key)) is not None:  # the same request, a moment earlier
            return replay
        raise
    response = jsonify(answer)
    response.status_code = status
    response.headers["Location"] = location
    return response


def _book(course_id: int, voucher_code: str | None, key: str | None) -> tuple[dict, int, str]:
    """Book the token holder (with the place voucher the typed code names, read here where the code enters), and
    remember the answer under the idempotency key (same transaction).

    The course is read once, under its lock (after the person's), with all the answer shows; a course the
    holder may not see is a 404 (NotFound), as on the course pages."""
    course = listings.course_to_book(course_id, g.api_user, voucher_code)
    booking, position = services.place_for_user(g.api_user, course, voucher=vouchers.typed_voucher(voucher_code),
                                                locked=True)
    answer = booking_json(booking, position)
    status = 201 if booking.status is BookingStatus.CONFIRMED else 202
    location = url_for("api.show_booking", booking_id=booking.id)
    if key is not None:
        idempotency.remember(g.api_user, key, f"POST {request.path}", status, answer, {"Location": location})
    return answer, status, location


def _replay(key: str):
    """The stored first answer for this key (409 if the key was used for another request), or None."""
    first = idempotency.stored(g.api_user, key)
    if first is None:
        return None
    if first.request != f"POST {request.path}":
        return api_error(f"this {idempotency.HEADER} was already used for another request", 409)
    response = jsonify(first.body)
    response.status_code = first.status_code
    response.headers.update(first.headers or {})
    response.headers["Idempotent-Replayed"] = "true"
    return response


@token_required
def list_bookings():
    """The token holder's bookings, soonest course first (cancelled ones included)."""
    data = listings.my_courses(g.api_user.person)
    everything = data.upcoming + data.past + data.cancelled
    return jsonify({"bookings": [booking_json(b, data.positions.get(b.id)) for b in everything]})


@token_required
def show_booking(booking_id: int):
    """One of the token holder's bookings."""
    return jsonify(booking_json(flow.found_or_404(listings.booking_of, g.api_user, booking_id)))


@token_required
def cancel_booking(booking_id: int):
    """Cancel the token holder's own booking (up to the cut-off); the first person waiting is promoted."""
    booking = flow.found_or_404(listings.booking_of, g.api_user, booking_id)
    flow.attempt(services.cancel_booking, booking, by=g.api_user)
    return jsonify(booking_json(booking))


_ERRORS = {"401": error_response("No valid personal API token"), "404": error_response("Not found (or not yours)")}
_BOOKING = {"application/json": {"schema": {"$ref": "#/components/schemas/Booking"}}}
_REFUSED = {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"},
    "examples": {
        "age": {"value": {"error": "this course is for people aged 16 and over"}},
        "clash": {"value": {"error": "you are already booked on a course at that time"}},
    },
}}
_ID = {"in": "path", "required": True, "schema": {"type": "integer"}}

_OPENAPI = (
    {
        "/courses/{course_id}/bookings": {
            "post": {
                "summary": "Book the token holder onto a course",
                "description": "Checks every booking rule (age, refresher certificate, one live booking per course, "
                               "no overlapping sessions, closed courses need a place voucher of that employer, the "
                               "booking deadline), then takes a seat under a lock on the course, or a place on its "
                               "first-in-first-out waiting list when it is full. A confirmation email follows.",
                "security": [{"bearerAuth": []}],
                "parameters": [{"name": "course_id", **_ID}, {
                    "name": "Idempotency-Key", "in": "header", "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "Any unique string (a UUID): a retry with the same key returns the first "
                                   "successful answer (marked `Idempotent-Replayed: true`) instead of booking again.",
                }],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/BookingRequest"}}}},
                "responses": {
                    "201": {"description": "Booked: a confirmed place", "content": _BOOKING},
                    "202": {"description": "The course is full: on the waiting list (see waiting_list_position)",
                            "content": _BOOKING},
                    "409": {"description": "Already booked on this course, or on a course at that time",
                            "content": _REFUSED},
                    "422": {"description": "A booking rule refused it; `error` names the rule", "content": _REFUSED},
                    **_ERRORS,
                },
            }
        },
        "/bookings": {
            "get": {
                "summary": "The token holder's bookings",
                "security": [{"bearerAuth": []}],
                "responses": {
                    "200": {"description": "Bookings, upcoming first", "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"bookings": {
                            "type": "array", "items": {"$ref": "#/components/schemas/Booking"}}},
                    }}}},
                    "401": _ERRORS["401"],
                },
            }
        },
        "/bookings/{booking_id}": {
            "get": {
                "summary": "One of the token holder's bookings",
                "security": [{"bearerAuth": []}],
                "parameters": [{"name": "booking_id", **_ID}],
                "responses": {"200": {"description": "The booking", "content": _BOOKING}, **_ERRORS},
            },
            "delete": {
                "summary": "Cancel one of the token holder's bookings",
                "description": "Allowed up to the course's cancellation cut-off (a waiting-list place until the "
                               "course starts). The first person waiting is promoted in the same transaction.",
                "security": [{"bearerAuth": []}],
                "parameters": [{"name": "booking_id", **_ID}],
                "responses": {
                    "200": {"description": "Cancelled", "content": _BOOKING},
                    "409": {"description": "Past the cut-off (the message says whom to contact) or already cancelled",
                            "content": _REFUSED},
                    **_ERRORS,
                },
            },
        },
    },
    component_schemas(BookingRequest, BookingResponse),
)


def register(api: Blueprint) -> None:
    """Add this area's routes and their OpenAPI paths to the app's API blueprint (called by the factory)."""
    api.add_url_rule("/courses/<int:course_id>/bookings", view_func=create_booking, methods=["POST"])
    api.add_url_rule("/bookings", view_func=list_bookings, methods=["GET"])
    api.add_url_rule("/bookings/<int:booking_id>", view_func=show_booking, methods=["GET"])
    api.add_url_rule("/bookings/<int:booking_id>", view_func=cancel_booking, methods=["DELETE"])
    add_paths(*_OPENAPI, api=api)
