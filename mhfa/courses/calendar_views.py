"""Calendars: a course as a calendar file, and the private subscription feeds (an instructor's teaching,
a trainee's booked courses, a council area's courses for coordinators), each reached by an unguessable
token that its owner can reset. Its own blueprint, ``calendars``."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, session, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.areas.models import CouncilArea
from mhfa.areas.services import all_areas
from mhfa.auth.access import public, role_required, token_or_public
from mhfa.auth.models import Role
from mhfa.courses import calendar, feeds, visibility
from mhfa.courses import instructors as instructor_services
from mhfa.courses.forms import ActionForm
from mhfa.courses.models import FeedKind
from mhfa.courses.venue_instructor_forms import AreaFeedForm

bp = Blueprint("calendars", __name__)


def _ics_response(data: bytes, filename: str, *, inline: bool = False) -> Response:
    return flow.file_response(data, filename, "text/calendar", inline=inline, cache="private, max-age=300")



@bp.route("/courses/<int:course_id>.ics")
@public
def course_ics(course_id: int):
    """The course as a calendar file (never with the joining link)."""
    course, _ = flow.found_or_404(visibility.course_for_viewer, course_id, current_user)
    return _ics_response(calendar.course_ics(course), f"mhfa-course-{course.id}.ics")


@bp.route("/calendar/<token>.ics")
@token_or_public
def calendar_feed(token: str):
    """A private subscription feed, reached by its unguessable token."""
    feed = flow.found_or_404(feeds.feed_by_token, token)
    return _ics_response(calendar.feed_ics(feed), "mhfa-reach.ics", inline=True)


# --- personal calendar feeds ------------------------------------------------------------------

_NEW_FEEDS = "mhfa_new_feed_tokens"  # a reset's plain token, kept in the session until its page shows it once


def _remember_new_feed(feed) -> None:
    session[_NEW_FEEDS] = {**session.get(_NEW_FEEDS, {}), str(feed.id): feed.token}


def _shown_once(feed):
    """The feed with its plain token if it was just reset (then forgotten), else as stored."""
    if feed is not None:
        tokens = session.get(_NEW_FEEDS, {})
        if str(feed.id) in tokens:
            feed.token = tokens.pop(str(feed.id))
            session[_NEW_FEEDS] = tokens
    return feed


def _feed_page(kind: FeedKind, template: str, reset_endpoint: str, **context):
    feed = _shown_once(feeds.feed_for(current_user, kind))
    known = feed is not None and feed.token is not None
    return render_template(template, feed=feed, feed_url=calendar.feed_url(feed) if known else None,
                           webcal_url=calendar.webcal_url(feed) if known else None,
                           form=ActionForm(), reset_endpoint=reset_endpoint, **context)


def _reset_own_feed(kind: FeedKind, back: str):
    form = ActionForm()
    if form.validate_on_submit():
        had_feed = feeds.feed_for(current_user, kind) is not None
        outcome = flow.attempt(feeds.reset_feed, current_user, kind)
        _remember_new_feed(outcome.value)
        outcome.done("Your calendar has a new link: the old one no longer works." if had_feed
                     else "Your calendar link is ready.")
    return redirect(url_for(back))


@bp.route("/calendar/teaching")
@role_required(Role.INSTRUCTOR)
def instructor_calendar():
    """The instructor's teaching calendar: a private subscription link."""
    return _feed_page(FeedKind.INSTRUCTOR, "courses/feed_instructor.html", "calendars.reset_instructor_feed",
                      instructor=instructor_services.instructor_for(current_user))


@bp.route("/calendar/teaching/reset", methods=["POST"])
@role_required(Role.INSTRUCTOR)
def reset_instructor_feed():
    """Make (or remake) the teaching calendar link."""
    return _reset_own_feed(FeedKind.INSTRUCTOR, "calendars.instructor_calendar")


@bp.route("/calendar/my-courses")
@role_required(Role.TRAINEE)
def trainee_calendar():
    """The trainee's booked courses as a private subscription link."""
    return _feed_page(FeedKind.TRAINEE, "courses/feed_trainee.html", "calendars.reset_trainee_feed")


@bp.route("/calendar/my-courses/reset", methods=["POST"])
@role_required(Role.TRAINEE)
def reset_trainee_feed():
    """Make (or remake) the booked-courses calendar link."""
    return _reset_own_feed(FeedKind.TRAINEE, "calendars.trainee_calendar")


@bp.route("/manage/calendars", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def area_calendars():
    """Coordinators' calendar feeds, one per council area: make or reset one."""
    areas = all_areas()
    form = AreaFeedForm(areas=areas)
    if form.validate_on_submit():
        area = flow.get_or_404(CouncilArea, int(form.council_area.data))
        outcome = flow.attempt(feeds.reset_feed, current_user, FeedKind.AREA, area, form=form)
        if outcome.done(f"The calendar link for {area.name} is ready; any earlier link for it no longer works."):
            _remember_new_feed(outcome.value)
            return redirect(url_for("calendars.area_calendars"))
    by_area = {area.id: area for area in areas}
    shown = {area_id: _shown_once(feed) for area_id, feed in feeds.area_feeds(current_user).items()}
    links = [(by_area[area_id], calendar.feed_url(feed) if feed.token else None,
              calendar.webcal_url(feed) if feed.token else None) for area_id, feed in shown.items()]
    return render_template("courses/feed_areas.html", form=form,
                           links=sorted(links, key=lambda x: x[0].name)), flow.status(form)
