"""The demo history: deterministic, believable, and true to the programme's rules."""
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceMark, Completion
from mhfa.auth.models import Role
from mhfa.bookings import offers
from mhfa.bookings.models import Booking, BookingStatus
from mhfa.certificates.models import Certificate
from mhfa.courses.models import Course, CourseSession, CourseStatus, CourseType, Instructor, course_instructor
from mhfa.demo import accounts
from mhfa.demo import services as demo
from mhfa.extensions import db
from mhfa.people.models import Person

TODAY = date(2026, 11, 25)
PEOPLE = 400


def _generate(seed: int = 7, people: int = PEOPLE):
    summary = demo.generate(people=people, seed=seed, today=TODAY)
    db.session.commit()
    return summary


def _fingerprint() -> dict:
    """What the database holds, summed up table by table, independent of generated tokens."""
    def scalar(query):
        return db.session.scalar(query)

    def by_status(status, total):
        """(status, how many, ``total``) for each status, in status order."""
        return db.session.execute(sa.select(status, sa.func.count(), total).group_by(status).order_by(status)).all()

    return {
        "people": scalar(sa.select(sa.func.count(Person.id))),
        "people by area": sorted(
            db.session.execute(
                sa.select(Person.home_council_area_id, sa.func.count()).group_by(Person.home_council_area_id)
            ).all(), key=str),
        "courses": by_status(Course.status, sa.func.sum(Course.capacity)),
        "first session": scalar(sa.select(sa.func.min(CourseSession.starts_at))),
        "last session": scalar(sa.select(sa.func.max(CourseSession.ends_at))),
        "bookings": by_status(Booking.status, sa.func.sum(Booking.person_id)),
        "completions": scalar(sa.select(sa.func.count(Completion.id))),
        "completion dates": scalar(sa.select(sa.func.max(Completion.completed_on))),
        "marks": scalar(sa.select(sa.func.count(AttendanceMark.id))),
    }


def test_same_seed_gives_the_same_history(app_ctx):
    first = _generate(seed=7)
    first_fingerprint = _fingerprint()
    app_ctx.test_cli_runner()  # the same app, emptied and refilled
    from tests.conftest import _clear_tables
    from tests.factories import load_reference

    _clear_tables()
    load_reference()
    db.session.commit()
    second = _generate(seed=7)
    assert second.checksum == first.checksum
    assert second.counts == first.counts
    assert _fingerprint() == first_fingerprint

    _clear_tables()
    load_reference()
    db.session.commit()
    other = _generate(seed=8)
    assert other.checksum != first.checksum


_HISTORIES: dict[str, object] = {}


@pytest.fixture()
def history(app_ctx):
    """The demo history, generated once and shared by the tests that only read it: the clean-database
    fixture (tests/conftest.py) keeps it for them, and empties it for any other test or after one that
    writes over it, which then gets a fresh one."""
    written = app_ctx.extensions["test_written_tables"]
    database = app_ctx.config["SQLALCHEMY_DATABASE_URI"]
    if written.kept == "history" and database in _HISTORIES:
        return _HISTORIES[database]
    _HISTORIES[database] = _generate()
    written.keep("history")
    return _HISTORIES[database]


def test_history_runs_from_the_launch_to_courses_bookable_ahead(history):
    first = db.session.scalar(sa.select(sa.func.min(Course.starts_at)))
    assert date(2017, 2, 1) <= first.date() < date(2017, 4, 1)
    published = db.session.scalars(
        sa.select(Course).where(Course.status == CourseStatus.PUBLISHED, Course.employer_id.is_(None))
    ).all()
    # Published courses start after today, but for the recent teaching left to instructors (below).
    fortnight = datetime.combine(TODAY - timedelta(days=14), time(), tzinfo=UTC)
    ahead = [c for c in published if c.starts_at.date() > TODAY]
    assert ahead and all(c.starts_at.date() > TODAY or c.starts_at >= fortnight for c in published)
    assert all(c.starts_at.date() <= TODAY + timedelta(days=demo.HORIZON_DAYS + 40) for c in ahead)
    confirmed = dict(db.session.execute(
        sa.select(Booking.course_id, sa.func.count()).where(Booking.status == BookingStatus.CONFIRMED)
        .group_by(Booking.course_id)
    ).all())
    with_room = {c.course_type.code for c in ahead if confirmed.get(c.id, 0) < c.capacity}
    assert with_room >= {"ADULT_2DAY", "ADULT_CHAMPION", "AWARE", "YOUTH_2DAY", "REFRESHER"}
    past = db.session.scalars(sa.select(Course).where(Course.ends_at < datetime.combine(TODAY, time(), tzinfo=UTC)))
    assert all(c.status in (CourseStatus.COMPLETED, CourseStatus.CANCELLED)
               or (c.status is CourseStatus.PUBLISHED and c.starts_at >= fortnight) for c in past)


def test_instructors_have_recent_registers_to_take_and_courses_to_complete(history):
    """On the day it is built, the demo leaves courses of the last fortnight for instructors: some with
    registers to take, some with every register taken, waiting to be completed; the demo instructor has both."""
    now = datetime.combine(TODAY, time(), tzinfo=UTC)
    recent = db.session.scalars(sa.select(Course).where(
        Course.status == CourseStatus.PUBLISHED, Course.ends_at < now,
        Course.starts_at >= now - timedelta(days=14))).all()
    demo_instructor = db.session.scalar(sa.select(Instructor).join(Person, Person.id == Instructor.person_id)
                                        .where(Person.email == "instructor@example.org"))

    def state(course):
        preview = attendance.completion_preview(course)
        return "to complete" if preview.ready else "registers to take"

    states = {(state(c), demo_instructor in c.instructors) for c in recent}
    assert {("to complete", True), ("registers to take", True)} <= states
    assert {s for s, mine in states if not mine}, "other instructors have work too"
    assert all(c.instructors and db.session.scalar(sa.select(sa.func.count(Booking.id))
                                                   .where(Booking.course_id == c.id)) >= 2 for c in recent)
    assert not db.session.scalar(sa.select(sa.func.count(Completion.id))
                                 .where(Completion.course_id.in_([c.id for c in recent])))


def test_no_course_runs_during_lockdown_and_online_starts_in_may_2020(history):
    lockdown = db.session.scalar(sa.select(sa.func.count(Course.id)).where(
        Course.starts_at >= sa.literal(date(2020, 3, 23)), Course.starts_at < sa.literal(date(2020, 5, 29))))
    assert lockdown == 0
    first_online = db.session.scalar(sa.select(sa.func.min(Course.starts_at)).where(Course.delivery_mode == "online"))
    assert first_online.date() >= date(2020, 5, 29)


def test_capacity_is_never_exceeded_and_nobody_is_booked_twice_at_once(history):
    over = db.session.execute(sa.text(
        "SELECT c.id FROM course c WHERE c.capacity < "
        "(SELECT count(*) FROM booking b WHERE b.course_id = c.id AND b.status = 'confirmed')"
    )).all()
    assert over == []
    overlapping = db.session.execute(sa.text(
        "SELECT a.id FROM booking a JOIN course ca ON ca.id = a.course_id "
        "JOIN booking b ON b.person_id = a.person_id AND b.id > a.id JOIN course cb ON cb.id = b.course_id "
        "WHERE a.status <> 'cancelled' AND b.status <> 'cancelled' "
        "AND ca.starts_at < cb.ends_at AND cb.starts_at < ca.ends_at"
    )).all()
    assert overlapping == []


def test_instructors_are_licensed_and_never_teach_two_courses_at_once(history):
    courses = db.session.scalars(sa.select(Course)).all()
    assert all(c.instructors for c in courses)
    assert all(i.licence_expires_on >= c.ends_at.date() for c in courses for i in c.instructors)
    clashes = db.session.execute(sa.text(
        "SELECT 1 FROM course_instructor x JOIN course_session s ON s.course_id = x.course_id "
        "JOIN course_instructor y ON y.instructor_id = x.instructor_id AND y.course_id > x.course_id "
        "JOIN course_session t ON t.course_id = y.course_id WHERE s.starts_at < t.ends_at AND t.starts_at < s.ends_at"
    )).all()
    assert clashes == []
    assert db.session.scalar(sa.select(sa.func.count(Instructor.id))) >= 10
    assert db.session.scalar(sa.select(sa.func.count()).select_from(course_instructor)) >= len(courses)


def test_sessions_add_up_to_the_course_type_hours(history):
    for course in db.session.scalars(sa.select(Course).limit(200)):
        hours = sum((s.ends_at - s.starts_at).total_seconds() / 3600 for s in course.sessions)
        assert hours == pytest.approx(course.course_type.hours)
        expected = (course.course_type.sessions_online if course.delivery_mode.value == "online"
                    else course.course_type.sessions_in_person)
        assert len(course.sessions) == expected
        assert course.starts_at == course.sessions[0].starts_at and course.ends_at == course.sessions[-1].ends_at


def test_completion_needs_every_session_and_no_shows_are_five_to_ten_percent(history):
    rows = db.session.execute(sa.text(
        "SELECT b.id, count(m.id) AS marks, sum(CASE WHEN m.status = 'present' THEN 1 ELSE 0 END) AS present, "
        "(SELECT count(*) FROM course_session s WHERE s.course_id = b.course_id) AS sessions, "
        "(SELECT count(*) FROM completion c WHERE c.booking_id = b.id) AS completed "
        "FROM booking b JOIN course c ON c.id = b.course_id JOIN attendance_mark m ON m.booking_id = b.id "
        "WHERE c.status = 'completed' GROUP BY b.id, b.course_id"
    )).all()
    assert rows
    for row in rows:
        assert row.marks == row.sessions
        assert row.completed == (1 if row.present == row.sessions else 0)
    missed = sum(1 for r in rows if r.present < r.sessions) / len(rows)
    assert 0.05 <= missed <= 0.10


def test_certificates_expire_after_the_course_type_validity(history):
    for certificate in db.session.scalars(sa.select(Certificate).limit(300)):
        years = certificate.course_type.certificate_valid_years
        renewals = [r.expires_on for r in db.session.scalars(
            sa.select(Certificate).where(Certificate.refreshes_id == certificate.id))]
        if years is None:
            assert certificate.expires_on is None
        elif renewals:  # a refresher renewed it: it runs as long as the longest refresher
            assert certificate.expires_on == max(renewals) or certificate.expires_on.year == max(
                certificate.issued_on.year + years, *(r.year for r in renewals))
        else:
            assert certificate.expires_on.year == certificate.issued_on.year + years
        assert len(certificate.verification_token) >= 32


def _of_refreshers(model):
    """A demo of 1,500 people: the refresher course type, and its ``model`` rows (there are some)."""
    _generate(people=1500)
    refresher = db.session.scalar(sa.select(CourseType).where(CourseType.code == "REFRESHER"))
    rows = db.session.scalars(sa.select(model).where(model.course_type_id == refresher.id)).all()
    assert rows
    return refresher, rows


def test_refreshers_renew_the_certificate_they_refresh_as_the_app_does(app_ctx):
    _, renewed = _of_refreshers(Certificate)
    for certificate in renewed:
        refreshed = certificate.refreshes
        assert refreshed is not None, certificate.number
        assert refreshed.person_id == certificate.person_id and refreshed.issued_on <= certificate.issued_on
        assert refreshed.expires_on >= certificate.expires_on  # renewed to at least the refresher's expiry
        assert certificate.refreshed_expiry_was is not None


def test_the_demo_fills_the_tables_behind_visible_features(history):
    from mhfa.areas.models import EqualityPopulation
    from mhfa.attendance.models import NonCompletion
    from mhfa.certificates.models import CertificateReissue
    from mhfa.courses.models import CalendarFeed
    from mhfa.employers.billing import CreditNote
    from mhfa.employers.models import ClosedCourseRequest
    from mhfa.reach.equality import population_source

    for model in (ClosedCourseRequest, CreditNote, CertificateReissue, NonCompletion, CalendarFeed,
                  EqualityPopulation):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)), model.__name__
    statuses = set(db.session.scalars(sa.select(ClosedCourseRequest.status)))
    assert "open" in {s.value for s in statuses} and len(statuses) >= 2  # one answered, scheduled or declined
    assert "Illustrative demo figures, not official statistics" in population_source("sex")
    # Bookings moved to another date, each pointing back at the one it replaced.
    assert db.session.scalar(sa.select(sa.func.count()).where(Booking.transferred_from_id.is_not(None)))
    # Why bookings ended without completion: did not attend, absent from a session, withdrew (with the reason).
    from mhfa.attendance.models import NonCompletionReason
    reasons = set(db.session.scalars(sa.select(NonCompletion.reason)))
    assert {NonCompletionReason.DID_NOT_ATTEND, NonCompletionReason.WITHDREW} <= reasons, reasons
    # People waiting for a course without a date, by area and type (some already told of one).
    from mhfa.bookings.interest import demand
    rows = demand()
    assert len({row.area for row in rows}) >= 3 and any(row.area == "Online" for row in rows)
    assert sum(row.waiting for row in rows) and sum(row.told for row in rows)
    # A seat offered from a waiting list for a limited time, and one given at once that can be given back.
    # (an offer needs a course starting within the week's offer window: the demo schedules one, when it has a
    # fourth instructor free to teach it)
    soon = db.session.scalar(sa.select(sa.func.count()).select_from(Course).where(
        Course.status == CourseStatus.PUBLISHED, Course.starts_at > datetime.combine(TODAY, time(12), tzinfo=UTC),
        Course.starts_at <= datetime.combine(TODAY + timedelta(days=7), time(12), tzinfo=UTC),
        Course.course_type.has(code="ADULT_CHAMPION")))
    offered = db.session.scalar(sa.select(sa.func.count()).where(Booking.offer_expires_at.is_not(None)))
    assert bool(offered) == bool(soon)
    assert db.session.scalar(sa.select(sa.func.count()).where(Booking.answer_token.is_not(None),
                                                              Booking.status == BookingStatus.CONFIRMED))
    # A no-show's non-completion names the sessions they missed.
    missed = db.session.scalars(sa.select(NonCompletion).limit(20)).all()
    assert all(n.missed_session_ids for n in missed)


def test_refreshers_come_about_three_years_after_a_first_aider_certificate(app_ctx):
    refresher, completions = _of_refreshers(Completion)
    for completion in completions:
        earlier = db.session.scalars(sa.select(Certificate).where(
            Certificate.person_id == completion.person_id, Certificate.issued_on < completion.completed_on,
            Certificate.course_type_id.in_([p.id for p in refresher.prerequisites]))).all()
        assert earlier
        gaps = [(completion.completed_on - c.issued_on).days for c in earlier]
        assert any(2 * 365 <= gap <= 4 * 365 for gap in gaps), gaps


def test_waiting_lists_only_on_full_courses(app_ctx):
    _generate(people=20_000)  # 400 people fill no future course, so they leave no waiting list to check
    waiting = db.session.scalars(
        sa.select(Booking.course_id).where(Booking.status == BookingStatus.WAITLISTED).distinct()
    ).all()
    assert waiting  # the rule below is checked on real waiting lists, not on none
    for course_id in waiting:
        course = db.session.get(Course, course_id)
        # Seats taken: confirmed places and a seat held for someone it is offered to (mhfa.bookings.offers).
        taken = db.session.scalar(sa.select(sa.func.count(Booking.id)).where(
            Booking.course_id == course_id, offers.TAKES_A_SEAT))
        assert taken == course.capacity


def test_people_outside_the_region_and_with_no_known_area_are_kept(history):
    unknown = db.session.scalar(sa.select(sa.func.count(Person.id)).where(Person.home_council_area_id.is_(None)))
    assert unknown > PEOPLE * 0.03
    outside = db.session.execute(sa.text(
        "SELECT count(*) FROM person p JOIN council_area a ON a.id = p.home_council_area_id "
        "WHERE NOT a.in_target_region")).scalar()
    assert outside > 0


def test_demo_logins_reach_each_role_home_page(history, client):
    expected = {
        Role.TRAINEE: "Your courses", Role.EMPLOYER: "paid places not used yet", Role.INSTRUCTOR: "Your teaching",
        Role.COORDINATOR: "Programme team", Role.BOARD: "Programme reach", Role.ADMIN: "Users and roles",
    }
    assert [role for role, _ in history.logins] == [r.value for r in Role]
    from tests.conftest import csrf_token

    for role, email in history.logins:
        response = client.post("/login", data={
            "email": email, "password": accounts.DEMO_PASSWORD, "csrf_token": csrf_token(client, "/login")})
        assert response.status_code == 302, role
        assert expected[Role(role)] in client.get("/").get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_demo_trainee_holds_a_certificate_and_a_place_ahead(history):
    person = db.session.scalar(sa.select(Person).where(Person.email == "trainee@example.org"))
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id)).where(Certificate.person_id == person.id))
    ahead = db.session.scalar(sa.select(sa.func.count(Booking.id)).join(Course).where(
        Booking.person_id == person.id, Booking.status == BookingStatus.CONFIRMED,
        Course.starts_at > datetime.combine(TODAY, time(23, 59), tzinfo=UTC)))
    assert ahead == 1


def test_demo_data_refuses_a_database_with_people(history, runner):
    result = runner.invoke(args=["mhfa", "demo-data", "--people", "100"])
    assert result.exit_code != 0 and "empty programme" in result.output
    quiet = runner.invoke(args=["mhfa", "demo-data", "--if-empty"])
    assert quiet.exit_code == 0 and "trainee@example.org" in quiet.output


def test_demo_data_command_prints_counts_checksum_and_logins(runner):
    result = runner.invoke(args=["mhfa", "demo-data", "--people", "200", "--seed", "3", "--today", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert "people 200" in result.output and "Checksum:" in result.output
    assert "August" in result.output  # the seasonal dip is labelled as an assumption
    for role in Role:
        assert f"{role.value}@example.org" in result.output


# --- issue 8: demo logins can do their work at once, and the history never runs past --today -------

def test_demo_trainee_has_a_date_of_birth_and_can_book_a_course_ahead(app_ctx):
    from mhfa.auth.models import User
    from mhfa.bookings import services as bookings

    _generate(seed=3, people=200)  # a history whose trainee had no date of birth (so could book nothing)

    user = db.session.scalar(sa.select(User).where(User.email == "trainee@example.org"))
    assert user.person.date_of_birth is not None
    open_courses = db.session.scalars(
        sa.select(Course).join(CourseType).where(
            Course.status == CourseStatus.PUBLISHED, Course.employer_id.is_(None),
            CourseType.requires_prior_certificate.is_(False),
            Course.starts_at > datetime.combine(date.today() + timedelta(days=3), time(), tzinfo=UTC))
        .order_by(Course.starts_at)).all()
    assert open_courses
    problems = {bookings.booking_problem(user, course) for course in open_courses}
    assert None in problems, problems  # at least one course the trainee could book straight away
    assert not any(p and "date of birth" in p for p in problems), problems


def test_nothing_in_the_demo_history_is_dated_after_today(history):
    from mhfa.auth.models import User
    from mhfa.employers.billing import Invoice
    from mhfa.employers.models import Order, PlaceVoucher

    end_of_today = datetime.combine(TODAY + timedelta(days=1), time(), tzinfo=UTC)
    moments = {
        "booking made": Booking.created_at, "booking confirmed": Booking.confirmed_at,
        "joined the waiting list": Booking.waitlisted_at, "booking cancelled": Booking.cancelled_at,
        "course created": Course.created_at, "order": Order.ordered_at, "voucher assigned": PlaceVoucher.assigned_at,
        "person created": Person.created_at, "account created": User.created_at,
        "certificate": Certificate.created_at, "completion": Completion.created_at,
    }
    for what, column in moments.items():
        latest = db.session.scalar(sa.select(sa.func.max(column)))
        assert latest is None or latest < end_of_today, f"{what} dated {latest}, after {TODAY}"
    for what, column in {"invoice issued": Invoice.issued_on, "invoice paid": Invoice.paid_on,
                         "completed on": Completion.completed_on, "certificate issued": Certificate.issued_on}.items():
        latest = db.session.scalar(sa.select(sa.func.max(column)))
        assert latest is None or latest <= TODAY, f"{what} dated {latest}, after {TODAY}"


def test_instructors_with_a_lapsed_licence_are_not_active_nor_offered(history):
    from mhfa.courses import instructors as courses

    instructors = db.session.scalars(sa.select(Instructor)).all()
    assert all(i.active == (i.licence_expires_on >= TODAY) for i in instructors)
    ahead = db.session.scalar(sa.select(Course).where(Course.status == CourseStatus.PUBLISHED)
                              .order_by(Course.starts_at).limit(1))
    try:
        lapsed = next(i for i in instructors if i not in ahead.instructors)
        lapsed.active, lapsed.licence_expires_on = True, date(2021, 3, 31)  # as an older history could hold
        db.session.flush()
        offered = courses.instructors_available_for(ahead)
        assert offered and lapsed not in offered
        assert all(i.licence_expires_on >= ahead.ends_at.date() for i in offered)
    finally:
        db.session.rollback()


def test_demo_invoices_are_numbered_like_new_ones(history):
    from mhfa.employers.billing import Invoice

    numbers = list(db.session.scalars(sa.select(Invoice.number).order_by(Invoice.id)))
    assert numbers and all(n == f"INV-{i:06d}" for i, n in enumerate(numbers, start=1))  # orders.next_invoice_number
