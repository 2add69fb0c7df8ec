"""Calendar files, read back with vobject (not icalendar, which wrote them) as a calendar client would."""
import re
from datetime import UTC, datetime, time, timedelta

import pytest
import vobject

from mhfa.auth.models import Role
from mhfa.courses import calendar, scheduling
from mhfa.courses.models import CourseStatus, DeliveryMode
from mhfa.extensions import db
from mhfa.timeutil import LONDON, london_to_utc
from tests import factories


def parse(data: bytes):
    return vobject.readOne(data.decode("utf-8"))


def icalendar_check(data: bytes) -> bytes:
    """Every TZID an event uses has its VTIMEZONE (checked on the raw text, not with icalendar)."""
    text = data.decode()
    used = set(re.findall(r";TZID=([^:;]+)", text))
    defined = set(re.findall(r"^TZID:(.+?)\r?$", text, flags=re.MULTILINE))
    assert used and used <= defined, (used, defined)
    return data


def events(cal) -> list:
    return sorted(cal.contents.get("vevent", []), key=lambda e: e.dtstart.value)


def _course_around(change_day, **kwargs):
    """A two-day in-person course: Saturday before a clock change and Monday after, 9am to 4pm London."""
    saturday = datetime.combine(change_day - timedelta(days=1), time(9))
    monday = datetime.combine(change_day + timedelta(days=1), time(9))
    return factories.course(
        "ADULT_2DAY",
        session_times=[(saturday, saturday.replace(hour=16)), (monday, monday.replace(hour=16))],
        **kwargs,
    )


@pytest.mark.parametrize(("month", "utc_hours"), [(3, (9, 8)), (10, (8, 9))], ids=["spring-forward", "fall-back"])
def test_sessions_either_side_of_a_clock_change_keep_their_london_times(app_ctx, month, utc_hours):
    change = factories.next_clock_change(month)
    course = _course_around(change)
    db.session.commit()

    cal = parse(calendar.course_ics(course))
    assert cal.method.value == "PUBLISH"
    saturday, monday = events(cal)
    for event, day, utc_hour in ((saturday, change - timedelta(days=1), utc_hours[0]),
                                 (monday, change + timedelta(days=1), utc_hours[1])):
        start, end = event.dtstart.value, event.dtend.value
        # What the client shows: 9am to 4pm London time on the right day...
        assert (start.date(), start.hour, start.minute, end.hour) == (day, 9, 0, 16)
        assert event.dtstart.params["X-VOBJ-ORIGINAL-TZID"] == ["Europe/London"]
        # ...which is the moment stored, in UTC.
        assert start.astimezone(UTC) == datetime.combine(day, time(utc_hour), tzinfo=UTC)
    assert saturday.dtstart.value.astimezone(UTC) == course.sessions[0].starts_at
    assert monday.dtend.value.astimezone(UTC) == course.sessions[1].ends_at


def test_the_vtimezone_itself_resolves_europe_london(app_ctx):
    """A client without the IANA database resolves TZID=Europe/London from the VTIMEZONE in the file."""
    change = factories.next_clock_change(3)
    course = _course_around(change)
    db.session.commit()

    ics = icalendar_check(calendar.course_ics(course))
    cal = parse(ics)
    assert cal.vtimezone.tzid.value == "Europe/London"
    raw = calendar.course_ics(course).decode()
    assert raw.index("BEGIN:VTIMEZONE") < raw.index("BEGIN:VEVENT")
    assert "DTSTART;TZID=Europe/London:" in raw
    zone = cal.vtimezone.gettzinfo()
    before = datetime.combine(change - timedelta(days=1), time(9))
    after = datetime.combine(change + timedelta(days=1), time(9))
    assert before.replace(tzinfo=zone).utcoffset() == timedelta(0)
    assert after.replace(tzinfo=zone).utcoffset() == timedelta(hours=1)
    # and it agrees with the stored moments
    assert before.replace(tzinfo=zone).astimezone(UTC) == course.sessions[0].starts_at
    assert after.replace(tzinfo=zone).astimezone(UTC) == course.sessions[1].starts_at


def test_event_carries_uid_summary_location_url_sequence_and_status(app_ctx):
    venue = factories.venue("The Exchange", address_line1="3 Centenary Square", town="Birmingham", postcode="B1 2DR")
    course = factories.course("ADULT_2DAY", venue_=venue)
    db.session.commit()

    first, second = events(parse(calendar.course_ics(course)))
    assert first.uid.value == f"course-{course.id}-session-{course.sessions[0].id}@mhfa-reach"
    assert second.uid.value == f"course-{course.id}-session-{course.sessions[1].id}@mhfa-reach"
    assert first.summary.value == "Adult MHFA (two day) (session 1 of 2)"
    assert first.location.value == "The Exchange, 3 Centenary Square, Birmingham, B1 2DR"
    assert first.url.value == f"http://reach.test/courses/{course.id}"
    assert first.sequence.value == "0"
    assert first.status.value == "CONFIRMED"
    assert first.dtstamp.value.tzinfo is not None


def test_online_course_says_online_and_keeps_the_joining_link_out_unless_asked(app_ctx):
    course = factories.course("ADULT_2DAY", mode=DeliveryMode.ONLINE, council_area_id=factories.area("Coventry").id,
                              joining_url="https://meet.example.org/secret-room")
    db.session.commit()

    public = events(parse(calendar.course_ics(course)))
    assert len(public) == 4
    assert {e.location.value for e in public} == {"Online"}
    assert all("secret-room" not in e.description.value for e in public)
    private = events(parse(calendar.course_ics(course, include_joining_url=True)))
    assert all("https://meet.example.org/secret-room" in e.description.value for e in private)


def test_reschedule_keeps_uids_and_increments_sequence(app_ctx):
    coordinator = factories.user(Role.COORDINATOR)
    course = factories.course("ADULT_2DAY")
    db.session.commit()
    before = {e.uid.value: e for e in events(parse(calendar.course_ics(course)))}

    week_later = [scheduling.SessionTimes(s.starts_at + timedelta(days=7), s.ends_at + timedelta(days=7))
                  for s in course.sessions]
    scheduling.reschedule_course(course, week_later, coordinator)
    db.session.commit()
    after = {e.uid.value: e for e in events(parse(calendar.course_ics(course)))}

    assert after.keys() == before.keys()
    for uid, event in after.items():
        assert event.sequence.value == "1"
        assert event.dtstart.value - before[uid].dtstart.value == timedelta(days=7)
        assert event.status.value == "CONFIRMED"


def test_cancelled_course_publishes_status_cancelled_with_a_higher_sequence(app_ctx):
    course = factories.course("AWARE")
    db.session.commit()
    scheduling.cancel_course(course, "The venue flooded.", None)
    db.session.commit()

    (event,) = events(parse(calendar.course_ics(course)))
    assert event.status.value == "CANCELLED"
    assert event.sequence.value == "1"
    assert event.summary.value.startswith("Cancelled: ")
    assert "The venue flooded." in event.description.value


def test_course_ics_route_serves_published_courses_only(client, app_ctx):
    published = factories.course("AWARE", mode=DeliveryMode.ONLINE, council_area_id=factories.area().id,
                                 joining_url="https://meet.example.org/hidden")
    draft = factories.course("AWARE", status=CourseStatus.DRAFT)
    db.session.commit()

    response = client.get(f"/courses/{published.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "hidden" not in response.get_data(as_text=True)
    (event,) = events(parse(response.data))
    assert event.dtstart.value.astimezone(UTC) == published.starts_at
    assert client.get(f"/courses/{draft.id}.ics").status_code == 404
    assert client.get("/courses/999999.ics").status_code == 404


def test_session_entered_in_london_time_is_stored_in_utc(app_ctx):
    change = factories.next_clock_change(10)
    course = _course_around(change)
    assert course.sessions[0].starts_at == london_to_utc(datetime.combine(change - timedelta(days=1), time(9)))
    assert course.sessions[0].starts_at.astimezone(LONDON).hour == 9
