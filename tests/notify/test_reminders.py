"""``flask mhfa send-reminders``: course and certificate-expiry reminders, each sent once."""
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from mhfa import reminders
from mhfa.auth.models import Role
from mhfa.bookings import reminders as course_reminders
from mhfa.bookings.models import BookingStatus
from mhfa.extensions import db
from mhfa.notify.models import SentReminder
from mhfa.notify.reminders import claim
from mhfa.timeutil import utcnow
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
    db.session.add(SentReminder(kind=course_reminders.course_reminder_kind(course.sequence), subject_id=booking.id))
    db.session.commit()
    assert reminders.send_due_reminders()["course"] == 0
    # Even when the due list was read before the other run wrote its row, the unique row refuses it.
    assert claim(course_reminders.course_reminder_kind(course.sequence), booking.id) is False
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


def test_a_course_moved_later_after_its_reminder_gets_another_for_the_new_dates(app_ctx, smtp):
    from mhfa.courses import scheduling

    course = factories.course(start=datetime.now() + timedelta(days=1))
    booking = factories.booking_on(course)
    db.session.commit()
    assert reminders.send_due_reminders()["course"] == 1
    db.session.commit()
    week = timedelta(days=7)
    scheduling.reschedule_course(course, [scheduling.SessionTimes(s.starts_at + week, s.ends_at + week)
                                       for s in course.sessions], factories.user(Role.COORDINATOR))
    db.session.commit()
    assert course.sequence == 1
    assert reminders.send_due_reminders()["course"] == 0  # not due yet: the course is a week away now
    later = utcnow() + week
    assert reminders.send_due_reminders(later)["course"] == 1
    db.session.commit()
    assert reminders.send_due_reminders(later)["course"] == 0  # and once only
    db.session.commit()
    reminded = [m for m in smtp.messages if m["Subject"].startswith("Reminder:")]
    assert len(reminded) == 2 and {m["To"] for m in reminded} == {booking.person.email}
    assert set(db.session.scalars(sa.select(SentReminder.kind).where(SentReminder.subject_id == booking.id))) == {
        "course-reminder-0", "course-reminder-1"}


def test_a_reminder_recorded_before_the_sequence_was_in_its_kind_is_not_sent_again(app_ctx, smtp):
    course = factories.course(start=datetime.now() + timedelta(days=1))
    booking = factories.booking_on(course)
    db.session.add(SentReminder(kind=course_reminders.COURSE_REMINDER, subject_id=booking.id,
                                sent_at=utcnow() - timedelta(hours=3)))
    db.session.commit()
    assert reminders.send_due_reminders()["course"] == 0


def test_due_course_reminders_take_a_fixed_number_of_queries(app_ctx, count_queries):
    """No N+1: course, course type, venue, sessions and person come with the due list."""
    start = datetime.now() + timedelta(days=1)

    def run() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            for booking in course_reminders.due_course_reminders(utcnow()):
                course = booking.course
                _ = (booking.person.email, booking.person.first_name, course.course_type.name, course.sequence,
                     course.venue.one_line_address, [(s.starts_at, s.ends_at) for s in course.sessions])
        return len(statements)

    factories.booking_on(factories.course(start=start))
    db.session.commit()
    with_one = run()
    for i in range(6):
        course = factories.course(start=start + timedelta(hours=i + 1))
        factories.booking_on(course)
        factories.booking_on(course)
    db.session.commit()
    assert len(course_reminders.due_course_reminders(utcnow())) == 13
    assert run() == with_one <= 2
