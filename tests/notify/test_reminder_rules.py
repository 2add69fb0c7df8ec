"""Who is due a reminder, at the edges of each rule (found by mutation testing: scripts/mutation).

A course reminder goes to each confirmed trainee with an email address, not erased, on a published
course whose first session starts after now and at most two days ahead. A certificate-expiry
reminder goes for each valid certificate expiring from today to the window's last day, unless its
holder has renewed it since (a later, unrevoked certificate of the same course type or a refresher).
"""
from datetime import date, datetime, timedelta

from mhfa.bookings import reminders as course_reminders
from mhfa.certificates import reminders as expiry_reminders
from mhfa.courses.models import CourseStatus
from mhfa.notify import reminders
from mhfa.timeutil import utcnow
from tests import factories


def _due_bookings(now) -> list[int]:
    return [b.id for b in course_reminders.due_course_reminders(now)]


def test_course_reminders_go_only_to_reachable_trainees_on_published_courses(app_ctx):
    tomorrow = datetime.now() + timedelta(days=1)
    published = factories.course(start=tomorrow)
    due = factories.booking_on(published)
    factories.booking_on(published, factories.person(erased_at=utcnow()))  # erased (address kept here)
    factories.booking_on(published, factories.person(email=None))
    for status in (CourseStatus.CANCELLED, CourseStatus.DRAFT):
        factories.booking_on(factories.course(start=tomorrow, status=status))
    assert _due_bookings(utcnow()) == [due.id]


def test_the_course_reminder_window_is_after_now_and_up_to_two_days_ahead(app_ctx):
    course = factories.course(start=datetime.now() + timedelta(days=5))
    booking = factories.booking_on(course)
    starts = course.starts_at
    assert _due_bookings(starts - timedelta(days=2)) == [booking.id]  # exactly two days before
    assert _due_bookings(starts - timedelta(days=2, seconds=1)) == []
    assert _due_bookings(starts - timedelta(seconds=1)) == [booking.id]
    assert _due_bookings(starts) == []  # it has started


def test_a_course_already_reminded_is_not_due_but_other_bookings_still_are(app_ctx):
    course = factories.course(start=datetime.now() + timedelta(days=1))
    first, second = factories.booking_on(course), factories.booking_on(course)
    assert reminders.claim(course_reminders.course_reminder_kind(course.sequence), first.id)
    assert reminders.claim(expiry_reminders.CERTIFICATE_EXPIRY, second.id)  # another kind, same id: not this reminder
    assert _due_bookings(utcnow()) == [second.id]


def test_an_old_style_reminder_blocks_only_its_own_booking(app_ctx):
    from mhfa.extensions import db
    from mhfa.notify.models import SentReminder

    course = factories.course(start=datetime.now() + timedelta(days=1))
    first, second = factories.booking_on(course), factories.booking_on(course)
    db.session.add(SentReminder(kind=course_reminders.COURSE_REMINDER, subject_id=first.id, sent_at=utcnow()))
    db.session.flush()
    assert _due_bookings(utcnow()) == [second.id]


def _due_certificates(today: date, days: int = 90) -> list[int]:
    return [c.id for c in expiry_reminders.due_expiry_reminders(today, days)]


def test_the_expiry_window_runs_from_today_to_its_last_day(app_ctx):
    today = date.today()
    issued = today - timedelta(days=1000)

    def expiring(days: int):
        return factories.certificate(factories.person(), issued_on=issued, expires_on=today + timedelta(days=days))

    due = [expiring(0).id, expiring(90).id]
    expiring(-1), expiring(91)
    assert sorted(_due_certificates(today)) == sorted(due)


def test_only_a_later_valid_certificate_of_that_kind_or_a_refresher_counts_as_renewal(app_ctx):
    today = date.today()
    old = today - timedelta(days=1000)

    def holder_of_expiring_certificate():
        person = factories.person()
        return person, factories.certificate(person, "ADULT_2DAY", issued_on=old, expires_on=today + timedelta(days=30))

    renewed, _ = holder_of_expiring_certificate()
    factories.certificate(renewed, "ADULT_2DAY", issued_on=today - timedelta(days=5))
    refreshed, _ = holder_of_expiring_certificate()
    factories.certificate(refreshed, "REFRESHER", issued_on=today - timedelta(days=5))
    revoked_renewal, due_1 = holder_of_expiring_certificate()
    factories.certificate(revoked_renewal, "ADULT_2DAY", issued_on=today - timedelta(days=5), revoked=True)
    other_kind, due_2 = holder_of_expiring_certificate()
    factories.certificate(other_kind, "YOUTH_2DAY", issued_on=today - timedelta(days=5))
    earlier_one, due_3 = holder_of_expiring_certificate()
    factories.certificate(earlier_one, "ADULT_2DAY", issued_on=old - timedelta(days=400),
                          expires_on=today + timedelta(days=200))  # older, but oddly expiring later
    unreachable = factories.person(email=None)
    factories.certificate(unreachable, issued_on=old, expires_on=today + timedelta(days=30))
    erased = factories.person(erased_at=utcnow())
    factories.certificate(erased, issued_on=old, expires_on=today + timedelta(days=30))

    assert sorted(_due_certificates(today)) == sorted([due_1.id, due_2.id, due_3.id])
