"""Booking emails, read from a real SMTP server on localhost: sent after commit, never on rollback."""
import email
from datetime import datetime, timedelta

import icalendar
import pytest

from mhfa.auth.models import Role
from mhfa.bookings import services
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories


def trainee(**fields):
    return factories.user(Role.TRAINEE, **fields)


def _events(part):
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    return calendar, list(calendar.walk("VEVENT"))


def _seat_given_up(smtp, course, **waiting_fields):
    """A trainee books ``course``'s one place and another (``waiting_fields``) waits for it; then the
    first gives the place up. (holder, the one waiting); the mail server holds only what the
    cancellation sent."""
    holder, waiting = trainee(), trainee(**waiting_fields)
    seat = services.book_for_user(holder, course)
    services.book_for_user(waiting, course)
    db.session.commit()
    smtp.clear()
    services.cancel_booking(seat, by=holder)
    db.session.commit()
    return holder, waiting


def test_booking_confirmation_carries_the_course_calendar(smtp):
    course = factories.course(capacity=5)  # ADULT_2DAY in person: two sessions
    user = trainee(first_name="Priya")
    services.book_for_user(user, course)
    assert smtp.messages == []  # nothing before the commit
    db.session.commit()
    [message] = smtp.to(user.email)
    assert message["Subject"].startswith("Booking confirmed: Adult MHFA (two day)")
    text = smtp.text(message)
    assert "Hello Priya" in text and "Your place is confirmed" in text
    assert course.venue.name in text and "You can cancel online until" in text
    part = smtp.calendar(message)
    assert part is not None and part.get_content_type() == "text/calendar"
    assert part.get_param("method") in ("REQUEST", "PUBLISH")
    assert part.get_filename().endswith(".ics")
    calendar, events = _events(part)
    assert calendar["METHOD"] == part.get_param("method")
    assert len(events) == len(course.sessions) == 2
    assert {e.decoded("dtstart") for e in events} == {s.starts_at for s in course.sessions}


def test_waiting_list_confirmation_gives_the_position(smtp):
    course = factories.course(capacity=1)
    services.book_for_user(trainee(), course)
    second, third = trainee(), trainee()
    services.book_for_user(second, course)
    services.book_for_user(third, course)
    db.session.commit()
    [message] = smtp.to(third.email)
    assert message["Subject"] == "You are number 2 on the waiting list: Adult MHFA (two day)"
    assert "you are number 2" in smtp.text(message)
    assert smtp.calendar(message) is None


def test_cancellation_emails_the_canceller_and_promotes_the_next_person_by_email(smtp):
    holder, waiting = _seat_given_up(smtp, factories.course(capacity=1), first_name="Wendy")
    [cancelled] = smtp.to(holder.email)
    assert cancelled["Subject"] == "Booking cancelled: Adult MHFA (two day)"
    calendar, events = _events(smtp.calendar(cancelled))
    assert calendar["METHOD"] == "CANCEL" and all(e["STATUS"] == "CANCELLED" for e in events)
    [promoted] = smtp.to(waiting.email)
    assert promoted["Subject"] == "A place has come up: you are booked on Adult MHFA (two day)"
    assert "Hello Wendy" in smtp.text(promoted)
    assert smtp.calendar(promoted) is not None


def test_a_rolled_back_booking_sends_no_mail(smtp):
    course = factories.course()
    user = trainee()
    db.session.commit()
    services.book_for_user(user, course)
    db.session.rollback()
    db.session.commit()
    assert smtp.messages == []
    assert services.live_booking(user.person, course) is None


def test_a_refused_booking_sends_no_mail(smtp):
    course = factories.course()
    user = trainee(date_of_birth=None)
    db.session.commit()
    with pytest.raises(DomainError):
        services.book_for_user(user, course)
    db.session.rollback()
    db.session.commit()
    assert smtp.messages == []


def test_an_online_course_calendar_for_a_booked_trainee_has_the_joining_link(smtp):
    from mhfa.courses.models import DeliveryMode

    course = factories.course("AWARE", mode=DeliveryMode.ONLINE)
    user = trainee()
    services.book_for_user(user, course)
    db.session.commit()
    [message] = smtp.to(user.email)
    assert "https://meet.example.org/mhfa-course" in smtp.text(message)


def test_without_a_mail_server_messages_land_in_the_outbox(app_ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(app_ctx, "instance_path", str(tmp_path))
    user = trainee()
    services.book_for_user(user, factories.course(start=datetime.now() + timedelta(days=10)))
    db.session.commit()
    [path] = (tmp_path / "outbox").glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes())
    assert parsed["To"] == user.email and parsed["Subject"].startswith("Booking confirmed")


# --- the online joining link goes only to people with a confirmed place ------------------------------

JOINING_URL = "https://meet.example.org/mhfa-course"


def _online_course(**fields):
    from mhfa.courses.models import DeliveryMode

    return factories.course("AWARE", mode=DeliveryMode.ONLINE, joining_url=JOINING_URL, **fields)


def _text_to(smtp, user) -> str:
    [message] = smtp.to(user.email)
    return smtp.text(message)


def test_the_booking_confirmation_carries_the_joining_link(smtp):
    user = trainee()
    services.book_for_user(user, _online_course(capacity=1))
    db.session.commit()
    assert f"Join online: {JOINING_URL}" in _text_to(smtp, user)


def test_the_waiting_list_email_does_not_carry_the_joining_link(smtp):
    course = _online_course(capacity=1)
    services.book_for_user(trainee(), course)
    waiting = trainee()
    services.book_for_user(waiting, course)
    db.session.commit()
    text = _text_to(smtp, waiting)
    assert "waiting list" in text and JOINING_URL not in text
    assert "We will send you the joining link when you have a confirmed place." in text


def test_the_promotion_email_carries_the_joining_link(smtp):
    _, waiting = _seat_given_up(smtp, _online_course(capacity=1))
    assert f"Join online: {JOINING_URL}" in _text_to(smtp, waiting)


def test_the_cancellation_email_does_not_carry_the_joining_link(smtp):
    course = _online_course(capacity=1)
    holder, waiting = trainee(), trainee()
    seat = services.book_for_user(holder, course)
    queued = services.book_for_user(waiting, course)
    db.session.commit()
    smtp.clear()
    services.cancel_booking(queued, by=waiting)  # leaving the waiting list
    services.cancel_booking(seat, by=holder)  # giving up a confirmed place
    db.session.commit()
    for user in (holder, waiting):
        message = smtp.to(user.email)[-1]
        assert message["Subject"].startswith(("Booking cancelled", "You have left the waiting list"))
        assert JOINING_URL not in smtp.text(message)
    _, events = _events(smtp.calendar(smtp.to(holder.email)[-1]))
    assert all(JOINING_URL not in str(e.get("DESCRIPTION", "")) for e in events)


def test_the_course_reminder_carries_the_joining_link(smtp):
    from mhfa import reminders

    course = _online_course(start=datetime.now() + timedelta(days=1))
    user = trainee()
    factories.booking_on(course, user.person)
    db.session.commit()
    reminders.send_due_reminders()
    db.session.commit()
    assert f"Join online: {JOINING_URL}" in _text_to(smtp, user)


def test_the_course_summary_shows_the_joining_link_only_when_asked(app_ctx):
    from mhfa.notify.messages import compose

    course = _online_course()
    booking = factories.booking_on(course)
    hidden = compose("booking_waitlisted", to="a@example.org", subject="s", booking=booking, course=course, position=1)
    shown = compose("booking_promoted", to="a@example.org", subject="s", booking=booking, course=course,
                    show_joining_url=True)
    assert JOINING_URL not in hidden.text and f"Join online: {JOINING_URL}" in shown.text


# --- calendar SEQUENCE never goes down for the same events ----------------------------------------

def _vevents(message):
    import vobject

    calendar = vobject.readOne(smtp_calendar_text(message))
    return calendar, {e.uid.value: (int(e.sequence.value), e.dtstamp.value) for e in calendar.vevent_list}


def smtp_calendar_text(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return part.get_payload(decode=True).decode()


def test_cancel_then_book_again_gives_a_sequence_calendars_accept(smtp):
    from mhfa.courses import scheduling

    course = factories.course(capacity=5)
    user = trainee()
    first = services.book_for_user(user, course)
    db.session.commit()
    services.cancel_booking(first, by=user)
    db.session.commit()
    services.book_for_user(user, course)
    db.session.commit()
    booked, cancelled, rebooked = smtp.to(user.email)
    assert cancelled["Subject"].startswith("Booking cancelled") and rebooked["Subject"].startswith("Booking confirmed")
    _, booked_events = _vevents(booked)
    cancel_calendar, cancel_events = _vevents(cancelled)
    _, rebooked_events = _vevents(rebooked)
    assert cancel_calendar.method.value == "CANCEL"
    assert booked_events.keys() == cancel_events.keys() == rebooked_events.keys()  # the same events (UIDs)
    for uid, (sequence, stamp) in cancel_events.items():
        assert sequence >= booked_events[uid][0]
        assert rebooked_events[uid][0] >= sequence and rebooked_events[uid][1] >= stamp

    # A change to the course later still goes above everything the trainee's calendar has seen.
    smtp.clear()
    scheduling.reschedule_course(course, [scheduling.SessionTimes(s.starts_at + timedelta(days=7),
                                                                  s.ends_at + timedelta(days=7))
                                          for s in course.sessions], factories.user(Role.COORDINATOR))
    db.session.commit()
    [moved] = smtp.to(user.email)
    _, moved_events = _vevents(moved)
    assert all(moved_events[uid][0] > sequence for uid, (sequence, _) in cancel_events.items())


def test_the_waiting_list_email_says_a_voucher_is_kept_not_spent(smtp):
    course = factories.course(capacity=1)
    services.book_for_user(trainee(), course)
    user = trainee()
    services.book_for_user(user, course, voucher=factories.voucher(factories.employer()))
    db.session.commit()
    text = _text_to(smtp, user)
    assert "Your place voucher is kept for this booking and used only if you get a place." in text
