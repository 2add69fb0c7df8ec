"""The booking emails: confirmed, on the waiting list, promoted, cancelled, and the course reminder.

Each is queued on the session and goes out only after the transaction commits. A confirmed place's
email carries the course's calendar file with the online joining link; waiting lists and
cancellations never show the link.
"""
from __future__ import annotations

from mhfa.bookings.deadlines import cancellation_closed, cancellation_cutoff, cancellation_note
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.calendar import course_attachment
from mhfa.courses.models import Course
from mhfa.notify.messages import send
from mhfa.timeutil import format_london


def _course_name(course: Course) -> str:
    return course.course_type.name


def booking_confirmed(booking: Booking) -> None:
    course = booking.course
    send("booking_confirmed", to=booking.person.email,
         subject=f"Booking confirmed: {_course_name(course)}, {format_london(course.starts_at, '%-d %B %Y')}",
         booking=booking, course=course, cancellation_cutoff=cancellation_cutoff(course),
         cancellation_note=cancellation_note(course), cancellation_closed=cancellation_closed(course),
         show_joining_url=True, attachments=[course_attachment(course, include_joining_url=True)])


def booking_waitlisted(booking: Booking, position: int) -> None:
    course = booking.course
    send("booking_waitlisted", to=booking.person.email,
         subject=f"You are number {position} on the waiting list: {_course_name(course)}",
         booking=booking, course=course, position=position)


def booking_promoted(booking: Booking) -> None:
    course = booking.course
    send("booking_promoted", to=booking.person.email,
         subject=f"A place has come up: you are booked on {_course_name(course)}",
         booking=booking, course=course, show_joining_url=True,
         attachments=[course_attachment(course, include_joining_url=True)])


def booking_cancelled(booking: Booking, *, by_someone_else: bool, was_waitlisted: bool) -> None:
    course = booking.course
    attachments = [] if was_waitlisted else [course_attachment(course, cancelled=True)]
    subject = (f"You have left the waiting list: {_course_name(course)}" if was_waitlisted
               else f"Booking cancelled: {_course_name(course)}")
    send("booking_cancelled", to=booking.person.email, subject=subject, booking=booking, course=course,
         by_someone_else=by_someone_else, was_waitlisted=was_waitlisted, attachments=attachments)


def course_reminder(booking: Booking) -> None:
    course = booking.course
    send("course_reminder", to=booking.person.email,
         subject=f"Reminder: {_course_name(course)} starts {format_london(course.starts_at, '%A %-d %B')}",
         booking=booking, course=course, show_joining_url=booking.status is BookingStatus.CONFIRMED)
