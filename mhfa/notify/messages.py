"""The emails the service sends, written from templates in ``templates/notify/``.

``compose`` and ``send`` are the mechanics every area reuses: a plain-text template rendered with
the programme's links and contact details, queued to go out after the transaction commits.
``course_calendar`` attaches a course's ``.ics`` (from ``mhfa.courses.calendar``). The functions
below them are the booking, account and reminder messages themselves.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import icalendar
from flask import current_app, render_template
from werkzeug.routing import BuildError

from mhfa.bookings.models import BookingStatus
from mhfa.notify.services import Attachment, Message, queue
from mhfa.timeutil import format_london

if TYPE_CHECKING:
    from mhfa.auth.models import User
    from mhfa.bookings.models import Booking
    from mhfa.certificates.models import Certificate
    from mhfa.courses.models import Course


def absolute_url(endpoint: str, **values) -> str | None:
    """A full link to ``endpoint`` on ``MHFA_BASE_URL`` (never the request's Host), or None if no such page."""
    if endpoint not in current_app.view_functions:
        return None
    adapter = current_app.url_map.bind("mhfa-reach.invalid", script_name="/")
    try:
        path = adapter.build(endpoint, values)
    except BuildError:
        return None
    return current_app.config["MHFA_BASE_URL"] + path


def compose(template: str, *, to: str, subject: str, attachments: list[Attachment] | None = None,
            show_joining_url: bool = False, **context) -> Message:
    """A message from ``templates/notify/<template>.txt``, with ``link``, ``when`` and ``contact_email``.

    ``show_joining_url`` lets ``notify/_course.txt`` print an online course's joining link: pass it
    only for someone with a confirmed place (never a waiting list or a cancellation).
    """
    text = render_template(
        f"notify/{template}.txt",
        subject=subject,
        show_joining_url=show_joining_url,
        link=absolute_url,
        when=format_london,
        contact_email=current_app.config["MHFA_CONTACT_EMAIL"],
        base_url=current_app.config["MHFA_BASE_URL"],
        **context,
    )
    return Message(to=to, subject=subject, text=text.strip() + "\n", attachments=attachments or [])


def send(template: str, *, to: str | None, subject: str, attachments: list[Attachment] | None = None,
         **context) -> Message | None:
    """Compose and queue a message (sent after commit); nothing when there is no address."""
    if not to:
        return None
    message = compose(template, to=to, subject=subject, attachments=attachments, **context)
    queue(message)
    return message


def course_calendar(course: Course, *, cancelled: bool = False) -> Attachment:
    """The course's calendar (one event per session) as an ``.ics`` attachment for a booked trainee.

    It carries the online joining link (the trainee has a place). ``cancelled`` turns it into a
    cancellation of the same events (METHOD:CANCEL, the same UIDs), so a calendar that imported the
    course removes it.

    Every file carries the course's current SEQUENCE, the cancellation too (its later DTSTAMP makes
    it win over the booking's file of the same SEQUENCE). Only a change to the course raises it, so
    the SEQUENCE a trainee's calendar sees never goes down: had the cancellation gone one higher, a
    later booking of the same course (same UIDs, SEQUENCE one lower) would be ignored as stale.
    """
    from mhfa.courses.calendar import course_ics

    calendar = icalendar.Calendar.from_ical(course_ics(course, include_joining_url=not cancelled))
    method = "CANCEL" if cancelled else "PUBLISH"
    if "METHOD" in calendar:
        del calendar["METHOD"]
    calendar.add("method", method)
    if cancelled:
        for event in calendar.walk("VEVENT"):
            for key in ("STATUS", "SEQUENCE"):
                if key in event:
                    del event[key]
            event.add("status", "CANCELLED")
            event.add("sequence", course.sequence)
    return Attachment(f"mhfa-course-{course.id}.ics", "text/calendar", calendar.to_ical(), {"method": method})


# --- accounts ---------------------------------------------------------------------------------

def confirm_email(user: User, token: str) -> None:
    send("confirm_email", to=user.email, subject="Confirm your email address for MHFA Reach",
         user=user, url=absolute_url("auth.confirm_email", token=token))


def already_registered(user: User, reset_token: str) -> None:
    send("already_registered", to=user.email, subject="You already have an MHFA Reach account",
         user=user, url=absolute_url("auth.reset_password", token=reset_token))


def reset_password(user: User, token: str) -> None:
    send("reset_password", to=user.email, subject="Reset your MHFA Reach password",
         user=user, url=absolute_url("auth.reset_password", token=token))


def password_changed(user: User) -> None:
    send("password_changed", to=user.email, subject="Your MHFA Reach password has been changed", user=user)


# --- bookings ---------------------------------------------------------------------------------

def _course_name(course: Course) -> str:
    return course.course_type.name


def booking_confirmed(booking: Booking) -> None:
    from mhfa.bookings.services import cancellation_cutoff

    course = booking.course
    send("booking_confirmed", to=booking.person.email,
         subject=f"Booking confirmed: {_course_name(course)}, {format_london(course.starts_at, '%-d %B %Y')}",
         booking=booking, course=course, cancellation_cutoff=cancellation_cutoff(course),
         show_joining_url=True, attachments=[course_calendar(course)])


def booking_waitlisted(booking: Booking, position: int) -> None:
    course = booking.course
    send("booking_waitlisted", to=booking.person.email,
         subject=f"You are number {position} on the waiting list: {_course_name(course)}",
         booking=booking, course=course, position=position)


def booking_promoted(booking: Booking) -> None:
    course = booking.course
    send("booking_promoted", to=booking.person.email,
         subject=f"A place has come up: you are booked on {_course_name(course)}",
         booking=booking, course=course, show_joining_url=True, attachments=[course_calendar(course)])


def booking_cancelled(booking: Booking, *, by_someone_else: bool, was_waitlisted: bool) -> None:
    course = booking.course
    attachments = [] if was_waitlisted else [course_calendar(course, cancelled=True)]
    subject = (f"You have left the waiting list: {_course_name(course)}" if was_waitlisted
               else f"Booking cancelled: {_course_name(course)}")
    send("booking_cancelled", to=booking.person.email, subject=subject, booking=booking, course=course,
         by_someone_else=by_someone_else, was_waitlisted=was_waitlisted, attachments=attachments)


# --- reminders --------------------------------------------------------------------------------

def course_reminder(booking: Booking) -> None:
    course = booking.course
    send("course_reminder", to=booking.person.email,
         subject=f"Reminder: {_course_name(course)} starts {format_london(course.starts_at, '%A %-d %B')}",
         booking=booking, course=course, show_joining_url=booking.status is BookingStatus.CONFIRMED)


def certificate_expiring(certificate: Certificate) -> None:
    send("certificate_expiring", to=certificate.person.email,
         subject=f"Your {certificate.title} certificate expires on {certificate.expires_on:%-d %B %Y}",
         certificate=certificate)
