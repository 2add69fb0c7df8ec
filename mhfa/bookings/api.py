"""Bookings in the JSON API: the token holder books, lists and cancels their own places."""
from __future__ import annotations

from flask import g, jsonify, request, url_for
from pydantic import ValidationError

from mhfa.api import add_paths, api_error, bp, idempotency, token_required
from mhfa.bookings import services
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.bookings.schemas import BookingRequest, BookingResponse, component_schemas, first_problem
from mhfa.errors import DomainError, NotFound
from mhfa.extensions import db
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
        "cancellable_online_until": _iso(services.cancellation_cutoff(course))
        if booking.status is BookingStatus.CONFIRMED else _iso(course.starts_at),
    }
    return BookingResponse.model_validate(body).model_dump(mode="json")


@bp.route("/courses/<int:course_id>/bookings", methods=["POST"])
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
        course = services.course_for_booking(course_id, g.api_user, voucher_code)
    except NotFound:
        return api_error("course not found", 404)
    try:
        booking = services.book_for_user(g.api_user, course, voucher_code=voucher_code)
    except DomainError as error:
        db.session.rollback()
        if key is not None and (replay := _replay(key)) is not None:  # the same request, a moment earlier
            return replay
        return api_error(error.message, error.status_code)
    position = services.waiting_position(booking)
    body = booking_json(booking, position)
    status = 201 if booking.status is BookingStatus.CONFIRMED else 202
    location = url_for("api.show_booking", booking_id=booking.id)
    if key is not None:
        idempotency.remember(g.api_user, key, f"POST {request.path}", status, body, {"Location": location})
    db.session.commit()
    response = jsonify(body)
    response.status_code = status
    response.headers["Location"] = location
    return response


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


@bp.route("/bookings", methods=["GET"])
@token_required
def list_bookings():
    """The token holder's bookings, soonest course first (cancelled ones included)."""
    data = services.my_courses(g.api_user.person)
    everything = data.upcoming + data.past + data.cancelled
    return jsonify({"bookings": [booking_json(b, data.positions.get(b.id)) for b in everything]})


@bp.route("/bookings/<int:booking_id>", methods=["GET"])
@token_required
def show_booking(booking_id: int):
    """One of the token holder's bookings."""
    try:
        booking = services.booking_of(g.api_user, booking_id)
    except NotFound:
        return api_error("booking not found", 404)
    return jsonify(booking_json(booking))


@bp.route("/bookings/<int:booking_id>", methods=["DELETE"])
@token_required
def cancel_booking(booking_id: int):
    """Cancel the token holder's own booking (up to the cut-off); the first person waiting is promoted."""
    try:
        booking = services.booking_of(g.api_user, booking_id)
        services.cancel_booking(booking, by=g.api_user)
    except NotFound:
        return api_error("booking not found", 404)
    except DomainError as error:
        db.session.rollback()
        return api_error(error.message, error.status_code)
    body = booking_json(booking)
    db.session.commit()
    return jsonify(body)


_ERRORS = {
    "401": {"description": "No valid personal API token", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "404": {"description": "Not found (or not yours)", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}
_BOOKING = {"application/json": {"schema": {"$ref": "#/components/schemas/Booking"}}}
_REFUSED = {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"},
    "examples": {
        "age": {"value": {"error": "this course is for people aged 16 and over"}},
        "clash": {"value": {"error": "you are already booked on a course at that time"}},
    },
}}
_ID = {"in": "path", "required": True, "schema": {"type": "integer"}}

add_paths(
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
    schemas=component_schemas(BookingRequest, BookingResponse),
)
