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


def booking_transferred(old: Booking, new: Booking, *, was_waitlisted: bool, position: int | None,
                        by_someone_else: bool) -> None:
    """One email for a move between dates: its calendar files cancel the old sessions and add the new ones."""
    course = new.course
    attachments = [] if was_waitlisted else [course_attachment(old.course, cancelled=True)]
    confirmed = new.status is BookingStatus.CONFIRMED
    if confirmed:
        attachments.append(course_attachment(course, include_joining_url=True))
    when = format_london(course.starts_at, '%-d %B %Y')
    subject = (f"Your booking has moved: {_course_name(course)}, {when}" if confirmed
               else f"You are number {position} on the waiting list for your new date: {_course_name(course)}, {when}")
    send("booking_transferred", to=new.person.email, subject=subject, booking=new, old=old, course=course,
         old_course=old.course, confirmed=confirmed, position=position, was_waitlisted=was_waitlisted,
         by_someone_else=by_someone_else, show_joining_url=confirmed, cancellation_note=cancellation_note(course),
         attachments=attachments)


def waiting_list_offer(booking: Booking, hours: int) -> None:
    """A seat offered from the waiting list for a limited time: accept and decline links (an unguessable token)."""
    course = booking.course
    send("waiting_list_offer", to=booking.person.email,
         subject=f"A place is offered to you until {format_london(booking.offer_expires_at, '%-d %B, %-I:%M%p')}:"
                 f" {_course_name(course)}",
         booking=booking, course=course, hours=hours)


def waiting_list_offer_expired(booking: Booking) -> None:
    course = booking.course
    send("waiting_list_offer_expired", to=booking.person.email,
         subject=f"The place offered to you has gone to the next person: {_course_name(course)}",
         booking=booking, course=course)
