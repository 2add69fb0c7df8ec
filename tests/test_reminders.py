"""``flask mhfa send-reminders``: course and certificate-expiry reminders, each sent once."""
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from mhfa.auth.models import Role
from mhfa.bookings.models import BookingStatus
from mhfa.extensions import db
from mhfa.notify import reminders
from mhfa.notify.models import SentReminder
from tests import factories


def _run(runner):
    result = runner.invoke(args=["mhfa", "send-reminders"])
    assert result.exit_code == 0, result.output
    return result.output


def test_course_reminder_goes_two_days_before_the_first_session_once(runner, smtp):
    soon = factories.course(start=datetime.now() + timedelta(days=1, hours=12))
    later = factories.course(start=datetime.now() + timedelta(days=5))
    booked = factories.user(Role.TRAINEE, first_name="Rosa")
    factories.booking_on(soon, booked.person)
    factories.booking_on(soon, factories.person(), status=BookingStatus.WAITLISTED)
    factories.booking_on(soon, factories.person(), status=BookingStatus.CANCELLED)
    factories.booking_on(later, factories.person())
    db.session.commit()

    assert "Course reminders sent: 1; certificate-expiry reminders sent: 0" in _run(runner)
    [message] = smtp.messages
    assert message["To"] == booked.email
    assert message["Subject"].startswith("Reminder: Adult MHFA (two day) starts ")
    assert "Hello Rosa" in smtp.text(message) and soon.venue.name in smtp.text(message)

    assert "Course reminders sent: 0" in _run(runner)  # cron runs again: nothing twice
    assert len(smtp.messages) == 1
    assert db.session.scalar(sa.select(sa.func.count(SentReminder.id))) == 1


def test_certificate_expiry_reminder_three_months_before_by_default(runner, smtp):
    today = date.today()
    due = factories.certificate(factories.person("Dana"), issued_on=today - timedelta(days=1000),
                                expires_on=today + timedelta(days=60))
    factories.certificate(factories.person(), expires_on=today + timedelta(days=120))  # not yet
    factories.certificate(factories.person(), expires_on=today - timedelta(days=1))  # already expired
    factories.certificate(factories.person(), expires_on=today + timedelta(days=30), revoked=True)
    renewed = factories.person()
    factories.certificate(renewed, issued_on=today - timedelta(days=1000), expires_on=today + timedelta(days=30))
    factories.certificate(renewed, "REFRESHER", issued_on=today - timedelta(days=10))
    db.session.commit()

    assert "certificate-expiry reminders sent: 1" in _run(runner)
    [message] = smtp.messages
    assert message["To"] == due.person.email
    assert message["Subject"] == f"Your Mental Health First Aider certificate expires on {due.expires_on:%-d %B %Y}"
    assert due.number in smtp.text(message)
    assert "certificate-expiry reminders sent: 0" in _run(runner)
    assert len(smtp.messages) == 1


def test_the_expiry_reminder_window_is_a_setting(runner, smtp, app_ctx, monkeypatch):
    cert = factories.certificate(factories.person(), expires_on=date.today() + timedelta(days=120))
    db.session.commit()
    assert "certificate-expiry reminders sent: 0" in _run(runner)
    monkeypatch.setitem(app_ctx.config, "MHFA_EXPIRY_REMINDER_DAYS", 150)
    assert "certificate-expiry reminders sent: 1" in _run(runner)
    assert smtp.messages[0]["To"] == cert.person.email


def test_the_setting_is_read_from_the_environment(monkeypatch, tmp_path):
    from mhfa.config import from_environment

    assert from_environment(str(tmp_path))["MHFA_EXPIRY_REMINDER_DAYS"] == 90
    monkeypatch.setenv("MHFA_EXPIRY_REMINDER_DAYS", "120")
    assert from_environment(str(tmp_path))["MHFA_EXPIRY_REMINDER_DAYS"] == 120


def test_a_reminder_claimed_by_another_run_is_skipped(app_ctx, smtp):
    course = factories.course(start=datetime.now() + timedelta(days=1))
    booking = factories.booking_on(course)
    db.session.add(SentReminder(kind=reminders.COURSE_REMINDER, subject_id=booking.id))
    db.session.commit()
    assert reminders.send_due_reminders()["course"] == 0
    # Even when the due list was read before the other run wrote its row, the unique row refuses it.
    assert reminders._claim(reminders.COURSE_REMINDER, booking.id) is False
    db.session.commit()
    assert smtp.messages == []


def test_reminders_of_a_rolled_back_run_are_not_sent_and_not_recorded(app_ctx, smtp):
    course = factories.course(start=datetime.now() + timedelta(days=1))
    factories.booking_on(course)
    db.session.commit()
    assert reminders.send_due_reminders()["course"] == 1
    db.session.rollback()
    db.session.commit()
    assert smtp.messages == []
    assert db.session.scalar(sa.select(sa.func.count(SentReminder.id))) == 0
