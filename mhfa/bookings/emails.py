"""The booking emails: confirmed, on the waiting list, promoted, cancelled, and the course reminder.

Each is queued on the session and goes out only after the transaction commits. Those a booking or a
cancellation writes (confirmed, on the waiting list, promoted, cancelled) are queued as what to say and
rendered by the outbox's sender, so neither request renders an email or a calendar file. A confirmed place's
email carries the course's calendar file with the online joining link; waiting lists and
cancellations never show the link.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps

from sqlalchemy.orm import Session

from mhfa.bookings.deadlines import cancellation_closed, cancellation_cutoff, cancellation_note
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.courses.calendar import course_attachment
from mhfa.courses.models import Course
from mhfa.notify.messages import compose, send
from mhfa.notify.services import Message, Renderer, queue_later, renderer
from mhfa.timeutil import format_london, utcnow


def _course_name(course: Course) -> str:
    return course.course_type.name


def _booking_to_tell(session: Session, payload: dict) -> Booking | None:
    """The booking a message is about, or None when there is nobody to tell any more: the booking is gone
    or its person's record has been erased (their pending mail must not go out, nor name them)."""
    booking = session.get(Booking, payload.get("booking_id"))
    if booking is None or booking.person is None or booking.person.is_erased:
        return None
    return booking


def booking_renderer(kind: str) -> Callable[[Callable[[Booking, dict, str], Message]], Renderer]:
    """Register the renderer of a booking message of ``kind``: it is given the booking to tell (see
    ``_booking_to_tell``) and composes; when there is nobody to tell any more, nothing is rendered."""
    def register(compose_for: Callable[[Booking, dict, str], Message]) -> Renderer:
        @wraps(compose_for)
        def render(session: Session, payload: dict, to: str) -> Message | None:
            booking = _booking_to_tell(session, payload)
            return None if booking is None else compose_for(booking, payload, to)
        return renderer(kind)(render)
    return register


def booking_confirmed(booking: Booking, now: datetime | None = None) -> None:
    """Written to the outbox as what to say (the booking and the moment it was made): the sender renders
    the email and its calendar file (``_render_confirmed``), so the booking request does not."""
    course = booking.course
    queue_later("booking_confirmed", _about(booking) | {"at": (now or utcnow()).isoformat()},
                to=booking.person.email, subject=_confirmed_subject(course))


def _confirmed_subject(course: Course) -> str:
    return f"Booking confirmed: {_course_name(course)}, {format_london(course.starts_at, '%-d %B %Y')}"


@booking_renderer("booking_confirmed")
def _render_confirmed(booking: Booking, payload: dict, to: str) -> Message:
    course, at = booking.course, datetime.fromisoformat(payload["at"])
    return compose("booking_confirmed", to=to, subject=_confirmed_subject(course),
                   booking=booking, course=course, cancellation_cutoff=cancellation_cutoff(course),
                   cancellation_note=cancellation_note(course, at), cancellation_closed=cancellation_closed(course, at),
                   show_joining_url=True, attachments=[course_attachment(course, include_joining_url=True)])


def booking_waitlisted(booking: Booking, position: int) -> None:
    """Written as what to say (the booking and its place in the list when it was made); rendered when sent."""
    queue_later("booking_waitlisted", _about(booking) | {"position": position},
                to=booking.person.email, subject=_waitlisted_subject(booking.course, position))


def _waitlisted_subject(course: Course, position: int) -> str:
    return f"You are number {position} on the waiting list: {_course_name(course)}"


@booking_renderer("booking_waitlisted")
def _render_waitlisted(booking: Booking, payload: dict, to: str) -> Message:
    position = payload["position"]
    return compose("booking_waitlisted", to=to, subject=_waitlisted_subject(booking.course, position),
                   booking=booking, course=booking.course, position=position)


def _about(booking: Booking) -> dict:
    """What a booking message's payload names: the booking, and its person (so erasing them finds the row)."""
    return {"booking_id": booking.id, "person_id": booking.person_id}




def booking_promoted(booking: Booking) -> None:
    """Written as what to say (the booking); rendered with its calendar file when sent."""
    queue_later("booking_promoted", _about(booking), to=booking.person.email, subject=_promoted_subject(booking.course))


def _promoted_subject(course: Course) -> str:
    return f"A place has come up: you are booked on {_course_name(course)}"


@booking_renderer("booking_promoted")
def _render_promoted(booking: Booking, payload: dict, to: str) -> Message:
    course = booking.course
    return compose("booking_promoted", to=to, subject=_promoted_subject(course), booking=booking, course=course,
                   show_joining_url=True, attachments=[course_attachment(course, include_joining_url=True)])


def booking_cancelled(booking: Booking, *, by_someone_else: bool, was_waitlisted: bool) -> None:
    """Written as what to say (the booking, who cancelled, whether it held a seat); rendered when sent."""
    queue_later("booking_cancelled", _about(booking) | {"by_someone_else": by_someone_else,
                                                         "was_waitlisted": was_waitlisted},
                to=booking.person.email, subject=_cancelled_subject(booking.course, was_waitlisted))


def _cancelled_subject(course: Course, was_waitlisted: bool) -> str:
    return (f"You have left the waiting list: {_course_name(course)}" if was_waitlisted
            else f"Booking cancelled: {_course_name(course)}")


@booking_renderer("booking_cancelled")
def _render_cancelled(booking: Booking, payload: dict, to: str) -> Message:
    course, was_waitlisted = booking.course, payload["was_waitlisted"]
    attachments = [] if was_waitlisted else [course_attachment(course, cancelled=True)]
    return compose("booking_cancelled", to=to, subject=_cancelled_subject(course, was_waitlisted), booking=booking,
                   course=course, by_someone_else=payload["by_someone_else"], was_waitlisted=was_waitlisted,
                   attachments=attachments)


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


def course_for_interest(interest, course: Course) -> None:
    """A course the person asked to be told about has been published (sent once per request)."""
    where = "online" if interest.council_area is None else f"in {interest.council_area.name}"
    day = format_london(course.starts_at, '%-d %B %Y')
    send("course_interest", to=interest.person.email,
         subject=f"A course you asked about: {_course_name(course)} {where}, {day}",
         person=interest.person, course=course, where=where, booking=None)
