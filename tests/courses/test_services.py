"""The scheduling rules, called directly: courses, sessions, instructors, venues, notifications, audit."""
import email
import email.policy
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import vobject

from mhfa import pagination
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.bookings.models import BookingStatus
from mhfa.courses import feeds, instructors, listings, places, scheduling, venues
from mhfa.courses.models import Course, CourseSession, CourseStatus, DeliveryMode, Instructor, Venue
from mhfa.courses.scheduling import SessionTimes
from mhfa.employers.models import VoucherStatus
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.timeutil import london_to_utc, london_today
from tests import factories


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time as the UTC moment the services take."""
    return london_to_utc(datetime.combine(day, time(hour, minute)))


def two_days(day: date, start: int = 9, end: int = 16) -> list[SessionTimes]:
    return [SessionTimes(at(day, start), at(day, end)),
            SessionTimes(at(day + timedelta(days=1), start), at(day + timedelta(days=1), end))]


@pytest.fixture()
def day():
    return london_today() + timedelta(days=30)


@pytest.fixture()
def coordinator(app_ctx):
    return factories.user(Role.COORDINATOR, first_name="Cora")


@pytest.fixture()
def outbox(app_ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(app_ctx, "instance_path", str(tmp_path))
    return tmp_path / "outbox"


def details(day, **overrides) -> scheduling.CourseDetails:
    values = dict(course_type=factories.course_type("ADULT_2DAY"), delivery_mode=DeliveryMode.IN_PERSON,
                  capacity=12, sessions=two_days(day), price_pence=0)
    values.update(overrides)
    if "venue" not in overrides:
        values["venue"] = factories.venue(council_area="Coventry")
    return scheduling.CourseDetails(**values)


def read_email(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def course_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Course.id)))


def audit_actions(course) -> list[str]:
    return list(db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.entity_type == "course", AuditEvent.entity_id == course.id)
        .order_by(AuditEvent.id)
    ))


# --- creating ----------------------------------------------------------------------------------

def test_create_course_makes_a_draft_with_sessions_in_order_and_denormalised_times(app_ctx, coordinator, day):
    sessions = list(reversed(two_days(day)))
    course = scheduling.create_course(details(day, sessions=sessions), coordinator)
    db.session.commit()

    assert course.status is CourseStatus.DRAFT
    assert [s.starts_at for s in course.sessions] == [at(day, 9), at(day + timedelta(days=1), 9)]
    assert course.starts_at == at(day, 9) and course.ends_at == at(day + timedelta(days=1), 16)
    assert course.council_area.name == "Coventry"  # from the venue
    assert course.joining_url is None
    assert audit_actions(course) == ["course.created"]


def test_online_course_needs_a_joining_link_and_an_area(app_ctx, coordinator, day):
    four = [SessionTimes(at(day + timedelta(days=2 * i), 9), at(day + timedelta(days=2 * i), 12, 30))
            for i in range(4)]
    with pytest.raises(scheduling.InvalidCourse) as refused:
        scheduling.create_course(details(day, delivery_mode=DeliveryMode.ONLINE, sessions=four, venue=None))
    fields = {f for f, _ in refused.value.problems}
    assert {"joining_url", "council_area"} <= fields

    course = scheduling.create_course(details(
        day, delivery_mode=DeliveryMode.ONLINE, sessions=four, joining_url="https://meet.example.org/abc",
        council_area=factories.area("Dudley")), coordinator)
    assert course.venue is None and course.council_area.name == "Dudley" and len(course.sessions) == 4


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"capacity": 17}, "capacity", "Capacity cannot be more than 16, the limit for Adult MHFA (two day)"),
    ({"capacity": 0}, "capacity", "Capacity must be at least 1"),
    ({"sessions": "short"}, "sessions", "The sessions add up to 12 hours; Adult MHFA (two day) needs 14 hours"),
    ({"sessions": "one"}, "sessions", "Adult MHFA (two day) in person has 2 sessions; you entered 1"),
    ({"sessions": "overlap"}, "session_2_start", "Session 1 and session 2 overlap"),
    ({"sessions": "backwards"}, "session_2_end", "Session 2 must end after it starts"),
    ({"sessions": "past"}, "session_1_date", "Session 1 must be in the future"),
    ({"booking_deadline": "late"}, "booking_deadline_date", "The booking deadline must be before the first session"),
    ({"venue": "none"}, "venue", "Choose the venue of an in-person course"),
    ({"joining_url": "http://insecure.example.org", "delivery_mode": "online"}, "joining_url", "starting https://"),
])
def test_impossible_courses_are_refused_and_nothing_is_added(app_ctx, coordinator, day, change, field, message):
    sessions = {
        "short": [SessionTimes(at(day, 9), at(day, 15)), SessionTimes(at(day, 17), at(day, 23))],
        "one": [SessionTimes(at(day, 8), at(day, 22))],
        "overlap": [SessionTimes(at(day, 9), at(day, 16)), SessionTimes(at(day, 15), at(day, 22))],
        "backwards": [SessionTimes(at(day, 9), at(day, 23)), SessionTimes(at(day, 16), at(day, 9))],
        "past": two_days(london_today() - timedelta(days=3)),
    }
    change = dict(change)  # the parameter is shared by both backends' runs
    if "sessions" in change:
        change["sessions"] = sessions[change["sessions"]]
    if change.get("booking_deadline") == "late":
        change["booking_deadline"] = at(day, 10)
    if change.get("venue") == "none":
        change["venue"] = None
        change["delivery_mode"] = DeliveryMode.IN_PERSON
    if change.get("delivery_mode") == "online":
        change.update(delivery_mode=DeliveryMode.ONLINE, council_area=factories.area(), sessions=[
            SessionTimes(at(day + timedelta(days=i), 9), at(day + timedelta(days=i), 12, 30))
            for i in range(4)])
    db.session.commit()
    before = course_count()

    with pytest.raises(scheduling.InvalidCourse) as refused:
        scheduling.create_course(details(day, **change), coordinator)
    assert any(f == field and message in text for f, text in refused.value.problems), refused.value.problems
    db.session.rollback()
    assert course_count() == before
    assert db.session.scalar(sa.select(sa.func.count(CourseSession.id))) == 0


def test_every_problem_is_reported_at_once(app_ctx, day):
    with pytest.raises(scheduling.InvalidCourse) as refused:
        scheduling.create_course(details(day, capacity=40, sessions=[SessionTimes(at(day, 9), at(day, 8))]))
    fields = [f for f, _ in refused.value.problems]
    assert "capacity" in fields and "session_1_end" in fields and "sessions" in fields


def test_sessions_either_side_of_a_clock_change_add_up_in_real_hours(app_ctx, coordinator):
    """Saturday 9 to 4 before the clocks go forward and Monday 9 to 4 after: 14 real hours."""
    change = factories.next_clock_change(3)
    saturday, monday = change - timedelta(days=1), change + timedelta(days=1)
    course = scheduling.create_course(details(saturday, sessions=[
        SessionTimes(at(saturday, 9), at(saturday, 16)),
        SessionTimes(at(monday, 9), at(monday, 16)),
    ]), coordinator)
    assert [s.starts_at.hour for s in course.sessions] == [9, 8]  # UTC: GMT then BST


# --- changing, rescheduling, cancelling ---------------------------------------------------------

def test_capacity_cannot_drop_below_the_places_booked(app_ctx, coordinator):
    course = factories.course("ADULT_2DAY", capacity=10)
    for _ in range(3):
        factories.booking_on(course)
    factories.booking_on(course, status=BookingStatus.WAITLISTED)
    db.session.commit()

    with pytest.raises(scheduling.InvalidCourse, match="3 places are already booked"):
        scheduling.update_course(course, details(course.starts_at.date(), **{
            **vars(scheduling.CourseDetails.of(course)), "capacity": 2}), coordinator)
    db.session.rollback()
    assert db.session.get(Course, course.id).capacity == 10


def test_published_course_keeps_its_course_type(app_ctx, coordinator):
    course = factories.course("ADULT_2DAY")
    db.session.commit()
    changed = scheduling.CourseDetails.of(course)
    changed.course_type = factories.course_type("YOUTH_2DAY")
    with pytest.raises(scheduling.InvalidCourse, match="keeps its course type"):
        scheduling.update_course(course, changed, coordinator)


def test_reschedule_moves_sessions_in_place_bumps_sequence_and_emails_live_bookings(app_ctx, coordinator, outbox):
    course = factories.course("ADULT_2DAY")
    confirmed = factories.booking_on(course, factories.person("Priya", "Patel", email="priya@example.org"))
    factories.booking_on(course, factories.person("Wes", "Wait", email="wes@example.org"),
                         status=BookingStatus.WAITLISTED)
    factories.booking_on(course, factories.person("Cas", "Gone", email="cas@example.org"),
                         status=BookingStatus.CANCELLED)
    db.session.commit()
    session_ids = [s.id for s in course.sessions]
    new_day = course.starts_at.date() + timedelta(days=7)

    scheduling.reschedule_course(course, two_days(new_day, 10, 17), coordinator)
    db.session.commit()

    assert [s.id for s in course.sessions] == session_ids
    assert course.sequence == 1
    assert course.starts_at == at(new_day, 10) and course.ends_at == at(new_day + timedelta(days=1), 17)
    assert audit_actions(course)[-1] == "course.rescheduled"
    messages = {m["To"]: m for m in map(read_email, outbox.glob("*.eml"))}
    assert set(messages) == {"priya@example.org", "wes@example.org"}
    priya = messages["priya@example.org"]
    assert priya["Subject"] == "Your course has changed: Adult MHFA (two day)"
    body = next(p for p in priya.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Dear Priya" in body and "10:00am" in body and f"/courses/{course.id}" in body
    ics = next(p for p in priya.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
    cal = vobject.readOne(ics.decode())
    assert {e.sequence.value for e in cal.vevent_list} == {"1"}
    assert min(e.dtstart.value for e in cal.vevent_list).hour == 10
    assert confirmed.status is BookingStatus.CONFIRMED  # bookings are the booking rules' business


def test_changing_only_the_price_is_not_a_reschedule(app_ctx, coordinator, outbox):
    course = factories.course("ADULT_2DAY")
    factories.booking_on(course)
    db.session.commit()
    changed = scheduling.CourseDetails.of(course)
    changed.price_pence = 5000
    scheduling.update_course(course, changed, coordinator)
    db.session.commit()
    assert course.sequence == 0 and course.price_pence == 5000
    assert not outbox.exists()
    assert audit_actions(course)[-1] == "course.updated"


def test_new_venue_for_a_published_course_is_a_reschedule(app_ctx, coordinator, outbox):
    course = factories.course("AWARE")
    factories.booking_on(course)
    db.session.commit()
    changed = scheduling.CourseDetails.of(course)
    changed.venue = factories.venue("New Hall", council_area="Walsall")
    scheduling.update_course(course, changed, coordinator)
    db.session.commit()
    assert course.sequence == 1 and course.council_area.name == "Walsall"
    assert len(list(outbox.glob("*.eml"))) == 1


def _emails(outbox) -> dict:
    """Each email in the outbox by recipient: (message, plain text, calendar events)."""
    found = {}
    for message in map(read_email, outbox.glob("*.eml")):
        body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
        ics = next(p for p in message.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
        found[message["To"]] = (message, body, vobject.readOne(ics.decode()).vevent_list)
    return found


def _online_with_priya_booked_and_wes_waiting(joining_url: str):
    """An online course at ``joining_url``: priya@example.org has a place, wes@example.org waits; committed."""
    course = factories.course("AWARE", mode=DeliveryMode.ONLINE, council_area_id=factories.area().id,
                              joining_url=joining_url)
    factories.booking_on(course, factories.person("Priya", email="priya@example.org"))
    factories.booking_on(course, factories.person("Wes", email="wes@example.org"), status=BookingStatus.WAITLISTED)
    db.session.commit()
    return course


def test_new_joining_link_is_a_reschedule_and_only_confirmed_trainees_get_it(app_ctx, coordinator, outbox):
    course = _online_with_priya_booked_and_wes_waiting("https://meet.example.org/old-room")
    changed = scheduling.CourseDetails.of(course)
    changed.joining_url = "https://meet.example.org/new-room"

    scheduling.update_course(course, changed, coordinator)
    db.session.commit()

    assert course.sequence == 1 and audit_actions(course)[-1] == "course.rescheduled"
    emails = _emails(outbox)
    assert set(emails) == {"priya@example.org", "wes@example.org"}
    message, body, events = emails["priya@example.org"]
    assert message["Subject"] == "Your course has changed: Mental Health Aware (half day)"
    assert "Joining link (new): https://meet.example.org/new-room" in body and "old-room" not in body
    assert all("https://meet.example.org/new-room" in e.description.value for e in events)
    assert {e.sequence.value for e in events} == {"1"}
    assert "Questions: " in body and "Samaritans" in body  # the footer every other email has
    _, body, events = emails["wes@example.org"]
    assert "meet.example.org" not in body and "The joining link has changed" in body
    assert "waiting list" in body
    assert not any("meet.example.org" in e.description.value for e in events)
    assert {e.sequence.value for e in events} == {"1"}


def test_a_draft_courses_new_joining_link_tells_nobody(app_ctx, coordinator, outbox):
    course = factories.course("AWARE", mode=DeliveryMode.ONLINE, council_area_id=factories.area().id,
                              status=CourseStatus.DRAFT)
    changed = scheduling.CourseDetails.of(course)
    changed.joining_url = "https://meet.example.org/new-room"
    scheduling.update_course(course, changed, coordinator)
    db.session.commit()
    assert course.sequence == 0 and not outbox.exists()


def test_rescheduled_online_course_keeps_the_link_in_confirmed_trainees_calendars(app_ctx, coordinator, outbox):
    course = _online_with_priya_booked_and_wes_waiting("https://meet.example.org/room")
    later = course.starts_at.date() + timedelta(days=7)
    scheduling.reschedule_course(course, [SessionTimes(at(later, 13), at(later, 17))], coordinator)
    db.session.commit()

    emails = _emails(outbox)
    _, body, events = emails["priya@example.org"]
    assert "Joining link: https://meet.example.org/room" in body
    assert all("Join online: https://meet.example.org/room" in e.description.value for e in events)
    _, body, events = emails["wes@example.org"]
    assert "meet.example.org" not in body
    assert not any("meet.example.org" in e.description.value for e in events)


def test_editing_a_venues_address_reschedules_its_published_future_courses(app_ctx, coordinator, outbox):
    hall = factories.venue("Old Hall", council_area="Coventry", postcode="CV1 2AB")
    upcoming = factories.course("AWARE", venue_=hall)
    factories.booking_on(upcoming, factories.person("Priya", email="priya@example.org"))
    draft = factories.course("AWARE", venue_=hall, status=CourseStatus.DRAFT, instructors=[])
    finished = factories.course("AWARE", venue_=hall, instructors=[],
                                start=datetime.combine(london_today() - timedelta(days=10), time(9)))
    factories.booking_on(finished, factories.person("Pat", email="pat@example.org"))
    elsewhere = factories.course("AWARE", instructors=[])
    factories.booking_on(elsewhere, factories.person("Eve", email="eve@example.org"))
    db.session.commit()

    venues.update_venue(hall, venue_details(name="Old Hall", address_line1="2 New Street", postcode="CV1 2AB"),
                          coordinator)
    db.session.commit()

    assert upcoming.sequence == 1 and audit_actions(upcoming)[-1] == "course.rescheduled"
    assert (draft.sequence, finished.sequence, elsewhere.sequence) == (0, 0, 0)
    emails = _emails(outbox)
    assert set(emails) == {"priya@example.org"}
    _, body, events = emails["priya@example.org"]
    assert "Where: Old Hall, 2 New Street, Coventry, CV1 2AB" in body
    assert "Where: Old Hall, 1 Centenary Square, Coventry, CV1 2AB" in body  # what it was
    assert {e.location.value for e in events} == {"Old Hall, 2 New Street, Coventry, CV1 2AB"}
    assert {e.sequence.value for e in events} == {"1"}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "venue.updated"))
    assert event.details["courses_rescheduled"] == [upcoming.id]


def test_editing_only_a_venues_access_notes_tells_nobody(app_ctx, coordinator, outbox):
    hall = factories.venue("Old Hall", council_area="Coventry", postcode="CV1 2AB", address_line1="1 Centenary Square",
                           town="Coventry")
    course = factories.course("AWARE", venue_=hall)
    factories.booking_on(course)
    db.session.commit()
    venues.update_venue(hall, venue_details(name="Old Hall", address_line1="1 Centenary Square",
                                              postcode="cv1 2ab", access_notes="Ramp at the side door."), coordinator)
    db.session.commit()
    assert course.sequence == 0 and not outbox.exists()


def test_cancel_marks_the_course_cancelled_and_emails_a_cancelled_calendar(app_ctx, coordinator, outbox):
    course = factories.course("ADULT_2DAY")
    factories.booking_on(course, factories.person("Ola", email="ola@example.org"))
    erased = factories.person("Erased", email="erased@example.org", erased_at=datetime.now().astimezone())
    factories.booking_on(course, erased)
    db.session.commit()

    notified = scheduling.cancel_course(course, "The instructor is ill.", coordinator)
    db.session.commit()

    assert notified == 1
    assert course.status is CourseStatus.CANCELLED and course.sequence == 1
    assert course.cancelled_reason == "The instructor is ill."
    (path,) = outbox.glob("*.eml")
    message = read_email(path)
    assert message["Subject"] == "Course cancelled: Adult MHFA (two day)"
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "The instructor is ill." in body and "course you booked has been cancelled" in body
    assert "Questions: " in body and "Samaritans" in body  # the footer every other email has
    ics = next(p for p in message.walk() if p.get_content_type() == "text/calendar").get_payload(decode=True)
    cal = vobject.readOne(ics.decode())
    assert {e.status.value for e in cal.vevent_list} == {"CANCELLED"}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "course.cancelled"))
    assert event.details == {"reason": "The instructor is ill.", "notified": 1, "bookings_cancelled": 2}
    assert event.actor_user_id == coordinator.id

    with pytest.raises(DomainError, match="has been cancelled"):
        scheduling.cancel_course(course, "Again", coordinator)


def test_cancelling_a_course_cancels_its_bookings_and_hands_paid_places_back(app_ctx, coordinator, outbox):
    employer = factories.employer("Canal Trust")
    course = factories.course("ADULT_2DAY", capacity=1)
    staff = factories.person("Sam", employer=employer)
    voucher = factories.voucher(employer, "ADULT_2DAY", assigned_to=staff)
    paid = factories.booking_on(course, staff)
    paid.voucher = voucher
    voucher.status = VoucherStatus.REDEEMED
    waiting = factories.booking_on(course, factories.person("Wen"), status=BookingStatus.WAITLISTED)
    db.session.commit()

    scheduling.cancel_course(course, "The venue flooded.", coordinator)
    db.session.commit()

    assert paid.status is BookingStatus.CANCELLED and waiting.status is BookingStatus.CANCELLED
    assert paid.cancel_reason == "Course cancelled: The venue flooded."
    assert paid.voucher_id is None and voucher.status is VoucherStatus.ASSIGNED
    assert len(list(outbox.glob("*.eml"))) == 2  # one course-cancelled email each, nothing else
    _, body, _ = _emails(outbox)[waiting.person.email]
    assert "course you are on the waiting list for has been cancelled" in body


def test_cancel_needs_a_reason(app_ctx, coordinator):
    course = factories.course("AWARE")
    with pytest.raises(DomainError) as refused:
        scheduling.cancel_course(course, "  ", coordinator)
    assert refused.value.field == "reason" and course.status is CourseStatus.PUBLISHED


def test_a_rolled_back_cancellation_sends_nothing(app_ctx, coordinator, outbox):
    course = factories.course("AWARE")
    factories.booking_on(course)
    db.session.commit()
    scheduling.cancel_course(course, "Testing", coordinator)
    db.session.rollback()
    assert not outbox.exists()
    assert db.session.get(Course, course.id).status is CourseStatus.PUBLISHED


def test_publish_opens_a_draft_and_is_audited(app_ctx, coordinator):
    course = factories.course("AWARE", status=CourseStatus.DRAFT)
    scheduling.publish_course(course, coordinator)
    assert course.status is CourseStatus.PUBLISHED
    assert audit_actions(course) == ["course.published"]
    with pytest.raises(DomainError, match="Only a draft course"):
        scheduling.publish_course(course, coordinator)


def test_a_course_that_has_started_cannot_be_published(app_ctx, coordinator):
    course = factories.course("AWARE", status=CourseStatus.DRAFT, start=datetime.now() - timedelta(days=1))
    with pytest.raises(DomainError, match="already started"):
        scheduling.publish_course(course, coordinator)


def _changed_elsewhere(course, status: CourseStatus) -> None:
    """Another coordinator's request changes the course's status and commits, on its own connection."""
    with sa.orm.Session(db.engine) as other:
        other.execute(sa.update(Course).where(Course.id == course.id).values(status=status))
        other.commit()


@pytest.mark.parametrize(("start", "elsewhere", "action", "message"), [
    (CourseStatus.PUBLISHED, CourseStatus.CANCELLED, "cancel", "has been cancelled"),
    (CourseStatus.PUBLISHED, CourseStatus.CANCELLED, "update", "has been cancelled"),
    (CourseStatus.PUBLISHED, CourseStatus.COMPLETED, "update", "has been completed"),
    (CourseStatus.DRAFT, CourseStatus.PUBLISHED, "publish", "Only a draft course"),
])
def test_status_is_checked_after_taking_the_course_lock(app_ctx, coordinator, outbox, start, elsewhere, action,
                                                        message):
    course = factories.course("AWARE", status=start)
    factories.booking_on(course)
    db.session.commit()
    assert course.status is start  # this request read the course before the other one changed it
    _changed_elsewhere(course, elsewhere)

    changed = scheduling.CourseDetails.of(course)
    changed.venue = factories.venue("Elsewhere Hall")
    act = {
        "cancel": lambda: scheduling.cancel_course(course, "Double booked room", coordinator),
        "update": lambda: scheduling.update_course(course, changed, coordinator),
        "publish": lambda: scheduling.publish_course(course, coordinator),
    }[action]
    with pytest.raises(DomainError, match=message):
        act()
    db.session.rollback()
    assert db.session.get(Course, course.id).sequence == 0
    assert audit_actions(course) == []
    assert not outbox.exists()


@pytest.mark.parametrize("case", ["open", "deadline_passed", "started", "deadline_after_start_started",
                                  "no_sessions", "draft", "cancelled", "completed"])
def test_course_pages_and_booking_apply_one_booking_open_rule(app_ctx, case):
    """What the course page and the API call bookable is exactly what the booking service accepts."""
    from mhfa.bookings import services as bookings

    now = datetime.now().astimezone()
    start = {"started": -1, "deadline_after_start_started": -1}.get(case, 5)
    course = factories.course("AWARE", start=datetime.combine(london_today() + timedelta(days=start), time(9)),
                              status={"draft": CourseStatus.DRAFT, "cancelled": CourseStatus.CANCELLED,
                                      "completed": CourseStatus.COMPLETED}.get(case, CourseStatus.PUBLISHED))
    if case == "deadline_passed":
        course.booking_deadline = now - timedelta(hours=1)
    if case == "deadline_after_start_started":
        course.booking_deadline = now + timedelta(days=3)
    if case == "no_sessions":
        course.sessions.clear()
    db.session.flush()
    trainee = factories.user(Role.TRAINEE)

    problem = bookings.booking_problem(trainee, course)
    assert course.booking_open_at(now) is (problem is None) is (case == "open"), problem
    assert course.booking_refusal_at(now) == problem


# --- instructors on courses --------------------------------------------------------------------

def test_assign_a_licensed_free_instructor_is_audited(app_ctx, coordinator):
    course = factories.course("ADULT_2DAY", instructors=[])
    instructor = factories.instructor(factories.person("Ina", "Teach"))
    instructors.assign_instructor(course, instructor, coordinator)
    assert course.instructors == [instructor]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "course.instructor_assigned"))
    assert event.entity_id == course.id and event.details["instructor_id"] == instructor.id
    with pytest.raises(DomainError, match="already teaching this course"):
        instructors.assign_instructor(course, instructor, coordinator)


def test_expired_licence_is_refused(app_ctx, coordinator):
    course = factories.course("ADULT_2DAY", instructors=[])
    expired = factories.instructor(factories.person("Old", "Licence"), expires_on=london_today() - timedelta(days=1))
    with pytest.raises(DomainError, match="Old Licence's licence expired on") as refused:
        instructors.assign_instructor(course, expired, coordinator)
    assert refused.value.field == "instructor"
    assert course.instructors == []


def test_licence_running_out_before_the_course_ends_is_refused(app_ctx, coordinator):
    course = factories.course("ADULT_2DAY", instructors=[], start=datetime.combine(
        london_today() + timedelta(days=20), time(9)))
    instructor = factories.instructor(expires_on=london_today() + timedelta(days=20))
    with pytest.raises(DomainError, match="expires on .* before the course ends"):
        instructors.assign_instructor(course, instructor, coordinator)


def test_clashing_course_is_refused_naming_that_course(app_ctx, coordinator):
    instructor = factories.instructor(factories.person("Busy", "Bee"))
    start = datetime.combine(london_today() + timedelta(days=10), time(9))
    busy = factories.course("AWARE", start=start.replace(hour=13), instructors=[instructor],
                            venue_=factories.venue("Library Hall"))
    course = factories.course("ADULT_2DAY", start=start, instructors=[])
    with pytest.raises(DomainError) as refused:
        instructors.assign_instructor(course, instructor, coordinator)
    message = refused.value.message
    assert "Busy Bee is already teaching Mental Health Aware (half day)" in message
    assert f"course {busy.id}" in message and "Library Hall" in message and "1:00pm" in message
    assert course.instructors == []


def test_cancelled_or_back_to_back_courses_do_not_clash(app_ctx, coordinator):
    instructor = factories.instructor()
    start = datetime.combine(london_today() + timedelta(days=10), time(9))
    factories.course("AWARE", start=start, instructors=[instructor], status=CourseStatus.CANCELLED)
    factories.course("AWARE", start=start - timedelta(hours=4), instructors=[instructor])  # 5am to 9am
    course = factories.course("AWARE", start=start, instructors=[])
    instructors.assign_instructor(course, instructor, coordinator)
    assert course.instructors == [instructor]


def test_rescheduling_into_an_instructor_clash_is_refused_and_changes_nothing(app_ctx, coordinator):
    instructor = factories.instructor(factories.person("Dot", "Double"))
    day = london_today() + timedelta(days=15)
    factories.course("ADULT_2DAY", start=datetime.combine(day + timedelta(days=7), time(9)),
                     instructors=[instructor])
    course = factories.course("ADULT_2DAY", start=datetime.combine(day, time(9)), instructors=[instructor])
    db.session.commit()
    with pytest.raises(scheduling.InvalidCourse, match="Dot Double is already teaching"):
        scheduling.reschedule_course(course, two_days(day + timedelta(days=7)), coordinator)
    db.session.rollback()
    assert db.session.get(Course, course.id).starts_at == at(day, 9)


def test_remove_instructor_is_audited(app_ctx, coordinator):
    instructor = factories.instructor()
    course = factories.course("AWARE", instructors=[instructor])
    instructors.remove_instructor(course, instructor, coordinator)
    assert course.instructors == []
    assert audit_actions(course) == ["course.instructor_removed"]


# --- venues and instructors --------------------------------------------------------------------

def venue_details(**overrides):
    values = dict(name="Friends Meeting House", address_line1="173 Euston Road", town="Coventry",
                  postcode="cv1 2ab", council_area=factories.area("Coventry"), step_free_access=True)
    values.update(overrides)
    return venues.VenueDetails(**values)


def test_create_venue_and_refuse_to_delete_one_in_use(app_ctx, coordinator):
    venue = venues.create_venue(venue_details(), coordinator)
    assert venue.postcode == "CV1 2AB"
    with pytest.raises(DomainError) as refused:
        venues.update_venue(venue, venue_details(postcode="nope"), coordinator)
    assert refused.value.field == "postcode" and venue.postcode == "CV1 2AB"
    factories.course("AWARE", venue_=venue)
    with pytest.raises(DomainError, match="Mark it as no longer in use"):
        venues.delete_venue(venue, coordinator)
    spare = venues.create_venue(venue_details(name="Spare room"), coordinator)
    venues.delete_venue(spare, coordinator)
    assert db.session.get(Venue, spare.id) is None


def instructor_details(**overrides):
    values = dict(first_name="Lia", last_name="Cense", email="lia@example.org", licence_number="mhfa-123",
                  licence_expires_on=london_today() + timedelta(days=400))
    values.update(overrides)
    return instructors.InstructorDetails(**values)


def test_create_instructor_with_a_unique_licence(app_ctx, coordinator):
    instructor = instructors.create_instructor(instructor_details(), coordinator)
    assert instructor.licence_number == "MHFA-123" and instructor.person.email == "lia@example.org"
    with pytest.raises(DomainError, match="Licence number MHFA-123 belongs to Lia Cense") as refused:
        instructors.create_instructor(instructor_details(email="other@example.org", licence_number="MHFA-123 "))
    assert refused.value.field == "licence_number"
    with pytest.raises(DomainError) as refused:
        instructors.create_instructor(instructor_details(email="new@example.org", licence_number="X-1",
                                                      licence_expires_on=london_today() - timedelta(days=1)))
    assert refused.value.field == "licence_expires_on"


def test_create_instructor_reuses_a_known_person(app_ctx, coordinator):
    known = factories.person("Kim", "Known", email="kim@example.org")
    instructor = instructors.create_instructor(instructor_details(email="KIM@example.org"), coordinator)
    assert instructor.person is known


def test_create_instructor_finds_a_known_person_however_their_email_was_capitalised(app_ctx, coordinator):
    known = factories.person("Kim", "Known", email="Kim.Known@Example.org")  # as an import spelt it
    instructor = instructors.create_instructor(instructor_details(email=" kim.known@EXAMPLE.org "), coordinator)
    assert instructor.person is known
    assert db.session.scalar(
        sa.select(sa.func.count(Person.id)).where(sa.func.lower(Person.email) == "kim.known@example.org")) == 1


def test_update_instructor_email_is_checked_without_regard_to_case(app_ctx, coordinator):
    factories.person("Dee", "Dup", email="Dee.Dup@Example.org")
    instructor = instructors.create_instructor(instructor_details(), coordinator)
    with pytest.raises(DomainError, match="dee.dup@example.org is the email address of Dee Dup") as refused:
        instructors.update_instructor(instructor, instructor_details(email="DEE.DUP@example.org"), coordinator)
    assert refused.value.field == "email"
    instructors.update_instructor(instructor, instructor_details(email="Lia.New@Example.org"), coordinator)
    assert instructor.person.email == "lia.new@example.org"


def test_the_email_of_an_instructor_with_an_account_cannot_be_changed_here(app_ctx, coordinator):
    teacher = factories.user(Role.INSTRUCTOR, first_name="Lia", last_name="Cense", email="lia@example.org")
    instructor = factories.instructor(teacher.person)
    details = instructor_details(licence_number=instructor.licence_number)
    with pytest.raises(DomainError, match="signs in to MHFA Reach as lia@example.org") as refused:
        instructors.update_instructor(instructor, instructor_details(email="lia@elsewhere.org",
                                                                  licence_number=instructor.licence_number))
    assert refused.value.field == "email"
    db.session.rollback()
    assert (teacher.email, teacher.person.email) == ("lia@example.org", "lia@example.org")
    details.email, details.first_name = "LIA@example.org", "Lia-Mae"  # the same address: other changes go through
    instructors.update_instructor(instructor, details, coordinator)
    assert (teacher.person.first_name, teacher.person.email) == ("Lia-Mae", "lia@example.org")


def test_instructor_on_a_course_cannot_be_deleted(app_ctx, coordinator):
    instructor = factories.instructor()
    factories.course("AWARE", instructors=[instructor])
    with pytest.raises(DomainError, match="Mark them as not active"):
        instructors.delete_instructor(instructor, coordinator)
    spare = factories.instructor(factories.person("Spare"))
    instructors.delete_instructor(spare, coordinator)
    assert db.session.get(Instructor, spare.id) is None


# --- the finder ------------------------------------------------------------------------------

def test_finder_shows_published_future_open_courses_soonest_first(app_ctx):
    base = datetime.combine(london_today() + timedelta(days=5), time(9))
    later = factories.course("AWARE", start=base + timedelta(days=3))
    sooner = factories.course("AWARE", start=base)
    factories.course("AWARE", start=base, status=CourseStatus.DRAFT)
    factories.course("AWARE", start=base, status=CourseStatus.CANCELLED)
    factories.course("AWARE", start=datetime.combine(london_today() - timedelta(days=3), time(9)))
    closed = factories.course("AWARE", start=base, employer=factories.employer("Acme"))

    page = listings.find_courses(listings.FinderFilters(), None)
    assert [item.course for item in page.items] == [sooner, later]
    latest = listings.find_courses(listings.FinderFilters(latest_first=True), None)
    assert [item.course for item in latest.items] == [later, sooner]

    staff = factories.user(Role.EMPLOYER, employer=closed.employer)
    assert closed in [i.course for i in listings.find_courses(listings.FinderFilters(), staff).items]
    outsider = factories.user(Role.EMPLOYER, employer=factories.employer("Other Ltd"))
    assert closed not in [i.course for i in listings.find_courses(listings.FinderFilters(), outsider).items]
    coordinator = factories.user(Role.COORDINATOR)
    assert closed in [i.course for i in listings.find_courses(listings.FinderFilters(), coordinator).items]


def test_finder_filters_and_counts_places_in_sql(app_ctx):
    base = datetime.combine(london_today() + timedelta(days=5), time(9))
    full = factories.course("AWARE", start=base, capacity=2, venue_=factories.venue(council_area="Walsall"))
    factories.booking_on(full)
    factories.booking_on(full)
    factories.booking_on(full, status=BookingStatus.WAITLISTED)
    roomy = factories.course("ADULT_2DAY", start=base + timedelta(days=10), capacity=10)
    factories.booking_on(roomy)
    factories.booking_on(roomy, status=BookingStatus.CANCELLED)
    online = factories.course("ADULT_2DAY", mode=DeliveryMode.ONLINE, start=base + timedelta(days=20),
                              council_area_id=factories.area("Walsall").id)

    def found(**filters):
        return [i.course for i in listings.find_courses(listings.FinderFilters(**filters), None).items]

    walsall = factories.area("Walsall").id
    assert found(council_area_id=walsall) == [full, online]
    assert found(course_type_id=factories.course_type("ADULT_2DAY").id) == [roomy, online]
    assert found(delivery_mode=DeliveryMode.ONLINE) == [online]
    assert found(delivery_mode=DeliveryMode.IN_PERSON) == [full, roomy]
    assert found(free_places=True) == [roomy, online]
    assert found(date_from=(base + timedelta(days=10)).date()) == [roomy, online]
    assert found(date_to=(base + timedelta(days=10)).date()) == [full, roomy]
    assert found(date_from=base.date(), date_to=base.date()) == [full]

    items = {i.course.id: i.places for i in listings.find_courses(listings.FinderFilters(), None).items}
    assert items[full.id] == places.Places(2, 2, 1) and items[full.id].left == 0
    assert items[roomy.id].left == 9 and items[roomy.id].waitlisted == 0


def test_finder_pages_through_results(app_ctx):
    base = datetime.combine(london_today() + timedelta(days=5), time(9))
    courses = [factories.course("AWARE", start=base + timedelta(days=i), instructors=[]) for i in range(7)]
    first = listings.find_courses(listings.FinderFilters(), None, page=1, per_page=3)
    third = listings.find_courses(listings.FinderFilters(), None, page=3, per_page=3)
    assert first.total == 7 and first.pages == 3 and first.has_next and not first.has_previous
    assert [i.course for i in first.items] == courses[:3]
    assert [i.course for i in third.items] == courses[6:] and not third.has_next and (third.first, third.last) == (7, 7)
    beyond = listings.find_courses(listings.FinderFilters(), None, page=9, per_page=3)
    assert beyond.items == [] and beyond.total == 7  # past the end: nothing to show, the count still said
    far = listings.find_courses(listings.FinderFilters(), None, page=10**15, per_page=3)
    assert far.items == [] and far.total == 7


def test_page_numbers_leave_out_the_middle():
    page = pagination.Page(items=[], page=5, per_page=10, total=100)
    assert page.numbers() == [1, None, 4, 5, 6, None, 10]
    assert pagination.Page(items=[], page=1, per_page=10, total=25).numbers() == [1, 2, 3]


def test_finder_page_takes_a_fixed_number_of_queries(app_ctx, count_queries):
    """No N+1: the query count does not grow with the number of courses on the page."""
    base = datetime.combine(london_today() + timedelta(days=5), time(9))

    def run() -> int:
        db.session.expire_all()
        with count_queries() as statements:
            page = listings.find_courses(listings.FinderFilters(free_places=True), None)
            for item in page.items:
                _ = (item.course.course_type.name, item.course.venue and item.course.venue.name,
                     item.course.council_area and item.course.council_area.name, item.places.left)
        return len(statements)

    factories.course("AWARE", start=base)
    db.session.commit()
    with_one = run()
    for i in range(15):
        factories.course("AWARE", start=base + timedelta(days=i + 1), venue_=factories.venue())
    db.session.commit()
    assert run() == with_one <= 2  # the page's ids, count and rows in one query (with the session's begin)


def test_an_employers_closed_courses_in_the_finder_read_its_name_once(app_ctx, count_queries):
    """A closed course's row names its employer, read when shown: once for any number of that employer's courses."""
    acme = factories.employer("Acme Ltd")
    contact = factories.user(Role.EMPLOYER, employer=acme)
    base = datetime.combine(london_today() + timedelta(days=5), time(9))

    def run() -> tuple[int, list[str]]:
        db.session.expire_all()
        with count_queries() as statements:
            page = listings.find_courses(listings.FinderFilters(), contact)
            names = [item.course.employer.name for item in page.items if item.course.is_closed]
        return len(statements), names

    factories.course("AWARE", start=base, employer=acme)
    db.session.commit()
    one, names = run()
    assert names == ["Acme Ltd"]
    for i in range(5):
        factories.course("AWARE", start=base + timedelta(days=i + 1), employer=acme)
    db.session.commit()
    assert run() == (one, ["Acme Ltd"] * 6)


# --- feeds ---------------------------------------------------------------------------------------

def test_reset_feed_makes_a_new_unguessable_token(app_ctx):
    from mhfa.courses.models import FeedKind

    user = factories.user(Role.INSTRUCTOR)
    feed = feeds.reset_feed(user, FeedKind.INSTRUCTOR)
    first = feed.token
    assert len(first) >= 43
    again = feeds.reset_feed(user, FeedKind.INSTRUCTOR)
    assert again.id == feed.id and again.token != first
    assert feeds.feed_by_token(again.token) is feed
    with pytest.raises(DomainError):
        feeds.feed_by_token(first)


def _courses_for_the_coordinators_cards() -> dict[str, Course]:
    """One course of each kind the coordinator's home cards tell apart."""
    today = london_today()

    def on(days: int, **fields) -> Course:
        return factories.course("AWARE", start=datetime.combine(today + timedelta(days=days), time(9)), **fields)

    return {
        "soon": on(5),
        "later": on(40),
        "soon_alone": on(10, instructors=[]),
        "draft_alone": on(20, status=CourseStatus.DRAFT, instructors=[]),
        "old_draft": on(-10, status=CourseStatus.DRAFT),
        "cancelled_alone": on(6, status=CourseStatus.CANCELLED, instructors=[]),
        "started_alone": on(-3, instructors=[]),
    }


def test_the_course_list_filters_by_when_courses_start_and_whether_they_need_an_instructor(app_ctx):
    made = _courses_for_the_coordinators_cards()

    def listed(**filters) -> set[str]:
        found = listings.list_courses(listings.ManageFilters(**filters))
        assert listings.count_courses(listings.ManageFilters(**filters)) == found.total
        ids = {item.course.id for item in found.items}
        return {name for name, course in made.items() if course.id in ids}

    assert listed(status=CourseStatus.PUBLISHED, starting="next-4-weeks") == {"soon", "soon_alone"}
    assert listed(starting="upcoming") == {"soon", "later", "soon_alone", "draft_alone", "cancelled_alone"}
    assert listed(needs_instructor=True) == {"soon_alone", "draft_alone", "started_alone"}  # never a cancelled one
    assert listed(starting="upcoming", needs_instructor=True) == {"soon_alone", "draft_alone"}
    assert listed(status=CourseStatus.DRAFT) == {"draft_alone", "old_draft"}
    assert listings.ManageFilters(starting="upcoming", needs_instructor=True).as_query() == {
        "starts": "upcoming", "instructor": "needed"}
