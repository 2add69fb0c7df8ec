"""iCalendar (RFC 5545) for courses: one course's ``.ics`` and the private subscription feeds.

Every event is one session. Its UID (``course-<id>-session-<session id>@mhfa-reach``) never
changes, so a calendar client updates the event it already has when a course is rescheduled
(SEQUENCE goes up) or cancelled (STATUS:CANCELLED) instead of adding a second one. Times carry
``TZID=Europe/London`` and the calendar carries the matching VTIMEZONE, so clients show the London
wall-clock time on either side of a clock change.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar, Event, Timezone
from sqlalchemy.orm import joinedload, selectinload

from mhfa.auth.models import Role
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.models import (
    CalendarFeed,
    Course,
    CourseStatus,
    FeedKind,
    Instructor,
    course_instructor,
)
from mhfa.extensions import db
from mhfa.notify.services import Attachment
from mhfa.timeutil import LONDON, utcnow

TZID = "Europe/London"
PRODID = "-//MHFA Reach//Courses//EN"
FEED_HISTORY = timedelta(days=365)  # feeds carry courses that ended up to a year ago, and everything later
CANCELLED_IN_TRAINEE_FEED = timedelta(days=30)  # a cancelled course stays in its trainees' feeds this long after it
# The start of the reason ``bookings.services.release_course_bookings`` gives the bookings of a cancelled course.
COURSE_CANCELLED_REASON = "Course cancelled:"
_STATUS = {
    CourseStatus.DRAFT: "TENTATIVE",
    CourseStatus.PUBLISHED: "CONFIRMED",
    CourseStatus.COMPLETED: "CONFIRMED",
    CourseStatus.CANCELLED: "CANCELLED",
}


# --- links -----------------------------------------------------------------------------------

def public_url(endpoint: str, **values) -> str:
    """An absolute URL on ``MHFA_BASE_URL``; works without a request (emails, feeds, the CLI)."""
    path = current_app.url_map.bind("mhfa-reach.invalid").build(endpoint, values)
    return current_app.config["MHFA_BASE_URL"] + path


def course_url(course: Course) -> str:
    return public_url("courses.course_page", course_id=course.id)


def course_ics_url(course: Course) -> str:
    return public_url("calendars.course_ics", course_id=course.id)


def feed_url(feed: CalendarFeed) -> str:
    return public_url("calendars.calendar_feed", token=feed.token)


def webcal_url(feed: CalendarFeed) -> str:
    """The feed's address for "subscribe" links (``webcal://``, which calendar apps open)."""
    url = feed_url(feed)
    return "webcal://" + url.split("://", 1)[1]


def session_uid(course: Course, session) -> str:
    return f"course-{course.id}-session-{session.id}@mhfa-reach"


# --- files -----------------------------------------------------------------------------------

def course_ics(course: Course, *, include_joining_url: bool = False) -> bytes:
    """The course as a calendar file: one event per session.

    ``include_joining_url`` puts an online course's joining link in the events; only for people
    allowed to see it (booked trainees, the course's instructors, coordinators).
    """
    return _calendar([course], name=course.title, include_joining_url=include_joining_url)


def course_attachment(course: Course, *, include_joining_url: bool = False, cancelled: bool = False) -> Attachment:
    """The course's calendar file as an email attachment: the one builder every course email uses.

    ``include_joining_url`` is for someone with a confirmed place (see ``course_ics``). ``cancelled``
    turns it into a cancellation of the same events (METHOD:CANCEL, the same UIDs, never the joining
    link), so a calendar that imported the course removes it.

    Every file carries the course's current SEQUENCE, the cancellation too (its later DTSTAMP makes
    it win over the booking's file of the same SEQUENCE). Only a change to the course raises it, so
    the SEQUENCE a trainee's calendar sees never goes down: had the cancellation gone one higher, a
    later booking of the same course (same UIDs, SEQUENCE one lower) would be ignored as stale.
    """
    filename = f"mhfa-course-{course.id}.ics"
    data = course_ics(course, include_joining_url=include_joining_url and not cancelled)
    if not cancelled:
        return Attachment(filename, "text/calendar", data, {"method": "PUBLISH"})
    calendar = Calendar.from_ical(data)
    del calendar["METHOD"]
    calendar.add("method", "CANCEL")
    for event in calendar.walk("VEVENT"):
        for key in ("STATUS", "SEQUENCE"):
            if key in event:
                del event[key]
        event.add("status", "CANCELLED")
        event.add("sequence", course.sequence)
    return Attachment(filename, "text/calendar", calendar.to_ical(), {"method": "CANCEL"})


def feed_ics(feed: CalendarFeed) -> bytes:
    """A subscription feed: an instructor's teaching, a trainee's booked courses or a council area's courses."""
    return _calendar(feed_courses(feed), name=feed_name(feed), include_joining_url=True, feed=True)


def feed_name(feed: CalendarFeed) -> str:
    if feed.kind is FeedKind.INSTRUCTOR:
        return "MHFA Reach: my teaching"
    if feed.kind is FeedKind.TRAINEE:
        return "MHFA Reach: my courses"
    return f"MHFA Reach: courses in {feed.council_area.name if feed.council_area else 'an area'}"


def feed_courses(feed: CalendarFeed) -> list[Course]:
    """The courses a feed carries, with what the events need loaded in a few queries.

    A feed whose owner no longer holds the role it was made for carries nothing.
    """
    owner = feed.owner
    since = utcnow() - FEED_HISTORY
    query = (
        sa.select(Course)
        .where(Course.ends_at >= since)
        .options(
            selectinload(Course.sessions),
            joinedload(Course.course_type),
            joinedload(Course.venue),
        )
        .order_by(Course.starts_at, Course.id)
    )
    if owner is None or not owner.active:
        return []
    if feed.kind is FeedKind.INSTRUCTOR:
        if not owner.has_role(Role.INSTRUCTOR) or owner.person_id is None:
            return []
        query = query.join(course_instructor, course_instructor.c.course_id == Course.id).join(
            Instructor, Instructor.id == course_instructor.c.instructor_id
        ).where(
            Instructor.person_id == owner.person_id,
            Course.status.in_([CourseStatus.PUBLISHED, CourseStatus.COMPLETED, CourseStatus.CANCELLED]),
        )
    elif feed.kind is FeedKind.TRAINEE:
        if not owner.has_role(Role.TRAINEE) or owner.person_id is None:
            return []
        # Courses with a confirmed place; and, for a while, courses cancelled while they had one (the
        # course's cancellation cancelled the booking), so calendars show those events as cancelled.
        booked = sa.exists().where(
            Booking.course_id == Course.id,
            Booking.person_id == owner.person_id,
            Booking.status == BookingStatus.CONFIRMED,
        )
        lost_to_cancellation = sa.exists().where(
            Booking.course_id == Course.id,
            Booking.person_id == owner.person_id,
            Booking.status == BookingStatus.CANCELLED,
            Booking.confirmed_at.is_not(None),
            Booking.cancel_reason.startswith(COURSE_CANCELLED_REASON, autoescape=True),
        )
        query = query.where(sa.or_(
            sa.and_(booked, Course.status.in_([CourseStatus.PUBLISHED, CourseStatus.COMPLETED,
                                               CourseStatus.CANCELLED])),
            sa.and_(lost_to_cancellation, Course.status == CourseStatus.CANCELLED,
                    Course.ends_at >= utcnow() - CANCELLED_IN_TRAINEE_FEED),
        ))
    else:
        if not owner.has_role(Role.COORDINATOR):
            return []
        query = query.where(
            Course.council_area_id == feed.council_area_id,
            Course.status.in_([CourseStatus.PUBLISHED, CourseStatus.COMPLETED, CourseStatus.CANCELLED]),
        )
    return list(db.session.scalars(query).unique())


def _calendar(courses: Iterable[Course], *, name: str, include_joining_url: bool, feed: bool = False) -> bytes:
    courses = list(courses)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TZID)
    if feed:
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
    sessions = [session for course in courses for session in course.sessions]
    if sessions:
        # The VTIMEZONE first (some clients read it before the events), covering every event's year.
        first = min(s.starts_at for s in sessions).astimezone(LONDON).year
        last = max(s.ends_at for s in sessions).astimezone(LONDON).year
        calendar.add_component(Timezone.from_tzid(TZID, first_date=date(first, 1, 1), last_date=date(last + 1, 1, 1)))
    stamp = utcnow().replace(microsecond=0)
    for course in courses:
        for number, session in enumerate(course.sessions, start=1):
            calendar.add_component(_event(course, session, number, stamp, include_joining_url))
    return calendar.to_ical()


def _event(course: Course, session, number: int, stamp, include_joining_url: bool) -> Event:
    total = len(course.sessions)
    summary = course.title if total == 1 else f"{course.title} (session {number} of {total})"
    if course.is_cancelled:
        summary = f"Cancelled: {summary}"
    url = course_url(course)
    lines = [course.course_type.description, f"Certificate: {course.course_type.certificate_title}."]
    if course.is_cancelled:
        reason = f" {course.cancelled_reason}" if course.cancelled_reason else ""
        lines.insert(0, f"This course has been cancelled.{reason}")
    if include_joining_url and course.joining_url and not course.is_cancelled:
        lines.append(f"Join online: {course.joining_url}")
    lines.append(f"Course page: {url}")

    event = Event()
    event.add("uid", session_uid(course, session))
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at.astimezone(LONDON))
    event.add("dtend", session.ends_at.astimezone(LONDON))
    event.add("summary", summary)
    event.add("location", course.location_label)
    event.add("url", url)
    event.add("description", "\n".join(line for line in lines if line))
    event.add("sequence", course.sequence)
    event.add("status", _STATUS[course.status])
    if course.updated_at is not None:
        event.add("last-modified", course.updated_at.replace(microsecond=0))
    return event
