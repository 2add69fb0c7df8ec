"""The course emails: every trainee with a live booking is told when their course is moved or cancelled."""
from __future__ import annotations

from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.calendar import course_attachment, course_url
from mhfa.courses.models import Course
from mhfa.notify.messages import send
from mhfa.notify.services import Attachment


def tell_booked_trainees(course: Course, template: str, subject: str,
                         bookings: list[tuple[Booking, BookingStatus]], **context) -> int:
    """One email per trainee (each booking with the status it had), with the course's calendar file.

    The online joining link, in the text and in the calendar file, goes only to confirmed trainees;
    people on the waiting list get the same message and events without it.
    """
    calendars: dict[bool, Attachment] = {}
    sent = 0
    for booking, status in bookings:
        person = booking.person
        if not person.email or person.is_erased:
            continue
        confirmed = status is BookingStatus.CONFIRMED
        if confirmed not in calendars:
            calendars[confirmed] = course_attachment(course, include_joining_url=confirmed)
        send(template, to=person.email, subject=subject, attachments=[calendars[confirmed]],
             course=course, person=person, booking=booking, show_joining_url=confirmed,
             waitlisted=status is BookingStatus.WAITLISTED, course_url=course_url(course), **context)
        sent += 1
    return sent
