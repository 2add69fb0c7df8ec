"""The course finder's JSON twin: ``GET /api/v1/courses`` and ``GET /api/v1/courses/<id>`` (public, read-only).

The same filters and the same services as the web finder. Calls are anonymous (the API never reads
a session cookie), so closed courses, drafts and cancelled courses never appear, and neither does
an online course's joining link. Times are ISO 8601 in UK time with their offset.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from mhfa import flow
from mhfa.api import add_paths, error_response
from mhfa.auth.access import public
from mhfa.courses import calendar, listings, visibility
from mhfa.courses import places as course_places
from mhfa.courses.filter_forms import FinderForm
from mhfa.courses.models import Course
from mhfa.timeutil import to_london, utcnow

MAX_PER_PAGE = 100


def _time(moment) -> str | None:
    return to_london(moment).isoformat() if moment else None


def course_json(course: Course, places: course_places.Places) -> dict:
    area = course.council_area
    return {
        "id": course.id,
        "course_type": course.course_type.code,
        "title": course.title,
        "delivery_mode": course.delivery_mode.value,
        "council_area": {"code": area.gss_code, "name": area.name} if area else None,
        "first_session_starts_at": _time(course.starts_at),
        "last_session_ends_at": _time(course.ends_at),
        "capacity": places.capacity,
        "places_left": places.left,
        "waiting_list_length": places.waitlisted,
        "price_pence": course.price_pence,
        "url": calendar.course_url(course),
        "ics_url": calendar.course_ics_url(course),
    }


def course_detail_json(course: Course, places: course_places.Places) -> dict:
    venue = course.venue
    return {
        **course_json(course, places),
        "status": course.status.value,
        "description": course.course_type.description,
        "certificate": course.course_type.certificate_title,
        "hours": course.course_type.hours,
        "venue": {
            "name": venue.name, "address": venue.one_line_address, "postcode": venue.postcode,
            "step_free_access": venue.step_free_access, "access_notes": venue.access_notes,
        } if venue else None,
        "booking_deadline": _time(course.booking_deadline),
        "bookable": course.booking_open_at(utcnow()),
        "sessions": [{"starts_at": _time(s.starts_at), "ends_at": _time(s.ends_at)} for s in course.sessions],
    }


@public
def list_courses():
    """Published courses open to the public and to booking, with the finder's filters, soonest first, by page."""
    form = FinderForm.read(request.args, *listings.finder_choices())
    filters = form.placed_filters(listings.place_postcode)
    errors = dict(form.errors)
    page_number = request.args.get("page", 1, type=int)
    per_page = request.args.get("per_page", 20, type=int)
    if page_number < 1:
        errors["page"] = ["page must be a whole number, 1 or more"]
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = [f"per_page must be a whole number from 1 to {MAX_PER_PAGE}"]
    if errors:
        return jsonify({"error": "Some filters are not right: " + "; ".join(m for ms in errors.values() for m in ms),
                        "errors": errors}), 400
    page = listings.find_courses(filters, None, page=page_number, per_page=per_page)
    return jsonify({
        "courses": [course_json(item.course, item.places) for item in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    })


@public
def get_course(course_id: int):
    """One published course open to the public, with its sessions and venue."""
    course, _ = flow.found_or_404(visibility.course_for_viewer, course_id, None)
    return jsonify(course_detail_json(course, course_places.places(course)))


_FILTERS = [
    {"name": "area", "in": "query", "schema": {"type": "string"},
     "description": "Council area GSS code, e.g. E08000025 (Birmingham): the area's in-person courses and every "
                    "online course (online courses are open to everyone)"},
    {"name": "type", "in": "query", "schema": {"type": "string"}, "description": "Course type code, e.g. ADULT_2DAY"},
    {"name": "mode", "in": "query", "schema": {"type": "string", "enum": ["in_person", "online"]}},
    {"name": "from_date", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "First session on or after this UK date"},
    {"name": "to_date", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "First session on or before this UK date"},
    {"name": "free_places", "in": "query", "schema": {"type": "string", "enum": ["y", "1", "true"]},
     "description": "Only courses with places left"},
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["date", "-date"], "default": "date"}},
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                                   "default": 20}},
]
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UK time with its offset"}
_COURSE = {
    "type": "object",
    "required": ["id", "course_type", "title", "first_session_starts_at", "last_session_ends_at", "capacity",
                 "places_left", "waiting_list_length", "url", "ics_url"],
    "properties": {
        "id": {"type": "integer"},
        "course_type": {"type": "string"},
        "title": {"type": "string"},
        "delivery_mode": {"type": "string", "enum": ["in_person", "online"]},
        "council_area": {"type": ["object", "null"], "properties": {"code": {"type": "string"},
                                                                     "name": {"type": "string"}}},
        "first_session_starts_at": _TIME,
        "last_session_ends_at": _TIME,
        "capacity": {"type": "integer"},
        "places_left": {"type": "integer"},
        "waiting_list_length": {"type": "integer"},
        "price_pence": {"type": "integer"},
        "url": {"type": "string", "format": "uri"},
        "ics_url": {"type": "string", "format": "uri"},
    },
}
_DETAIL = {
    "allOf": [
        {"$ref": "#/components/schemas/Course"},
        {"type": "object", "properties": {
            "status": {"type": "string"}, "description": {"type": "string"}, "certificate": {"type": "string"},
            "hours": {"type": "number"}, "booking_deadline": {**_TIME, "type": ["string", "null"]},
            "bookable": {"type": "boolean"},
            "venue": {"type": ["object", "null"], "properties": {
                "name": {"type": "string"}, "address": {"type": "string"}, "postcode": {"type": "string"},
                "step_free_access": {"type": "boolean"}, "access_notes": {"type": "string"}}},
            "sessions": {"type": "array", "items": {"type": "object", "properties": {"starts_at": _TIME,
                                                                                  "ends_at": _TIME}}},
        }},
    ]
}

_OPENAPI = (
    {
        "/courses": {"get": {
            "summary": "Find courses (public)",
            "description": "Published courses open to the public that can still be booked (not started, booking "
                           "deadline not passed), soonest first.",
            "parameters": _FILTERS,
            "responses": {
                "200": {"description": "A page of courses", "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"courses": {"type": "array", "items": {"$ref": "#/components/schemas/Course"}},
                                   "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                   "total": {"type": "integer"}, "pages": {"type": "integer"}}}}}},
                "400": error_response("A filter is not right"),
            },
        }},
        "/courses/{course_id}": {"get": {
            "summary": "One course (public)",
            "parameters": [{"name": "course_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "The course", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CourseDetail"}}}},
                "404": error_response("No such published course"),
            },
        }},
    },
    {"Course": _COURSE, "CourseDetail": _DETAIL},
)


def register(api: Blueprint) -> None:
    """Add this area's routes and their OpenAPI paths to the app's API blueprint (called by the factory)."""
    api.add_url_rule("/courses", view_func=list_courses)
    api.add_url_rule("/courses/<int:course_id>", view_func=get_course)
    add_paths(*_OPENAPI, api=api)
