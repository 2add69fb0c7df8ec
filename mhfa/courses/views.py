"""Courses: the public finder and course pages, calendar files and feeds, and the coordinators' pages.

Views are thin: parse the request, call one service, commit once, then render or redirect.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from mhfa.auth.access import public, token_or_public
from mhfa.courses import calendar, services
from mhfa.errors import NotFound
from mhfa.timeutil import utcnow

bp = Blueprint("courses", __name__)


def _ics_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _visible_course(course_id: int):
    try:
        return services.course_for_viewer(course_id, current_user)
    except NotFound:
        abort(404)


# --- public ------------------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>")
@public
def course_page(course_id: int):
    """One course: type, certificate, sessions in London time, place and access, places, price, how to book."""
    course, booking = _visible_course(course_id)
    return render_template(
        "courses/course.html",
        course=course,
        booking=booking,
        places=services.places(course),
        bookable=course.booking_open_at(utcnow()),
        show_joining_url=services.can_see_joining_url(course, current_user, booking),
        ics_url=calendar.course_ics_url(course),
        now=utcnow(),
    )


@bp.route("/courses/<int:course_id>.ics")
@public
def course_ics(course_id: int):
    """The course as a calendar file (never with the joining link)."""
    course, _ = _visible_course(course_id)
    return _ics_response(calendar.course_ics(course), f"mhfa-course-{course.id}.ics")


@bp.route("/calendar/<token>.ics")
@token_or_public
def calendar_feed(token: str):
    """A private subscription feed, reached by its unguessable token."""
    try:
        feed = services.feed_by_token(token)
    except NotFound:
        abort(404)
    response = _ics_response(calendar.feed_ics(feed), "mhfa-reach.ics")
    response.headers["Content-Disposition"] = 'inline; filename="mhfa-reach.ics"'
    return response
