"""Private calendar subscriptions behind unguessable tokens: instructors, trainees and council areas."""
import re
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
import vobject

from mhfa.auth.models import Role
from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import CalendarFeed, CourseStatus, DeliveryMode, FeedKind
from mhfa.extensions import db
from mhfa.timeutil import london_today
from tests import factories


def soon(days: int = 7) -> datetime:
    return datetime.combine(london_today() + timedelta(days=days), time(9))


def feed_path(html: str) -> str:
    match = re.search(r"http://reach\.test(/calendar/[A-Za-z0-9_-]{43}\.ics)", html)
    assert match, "no feed address on the page"
    return match.group(1)


def uids(response) -> set[str]:
    cal = vobject.readOne(response.get_data(as_text=True))
    return {e.uid.value for e in cal.contents.get("vevent", [])}


def uid(course, n=0) -> str:
    return f"course-{course.id}-session-{course.sessions[n].id}@mhfa-reach"


def test_instructor_feed_carries_their_courses_and_a_reset_kills_the_old_address(client, auth, post_form, app_ctx):
    teacher = factories.user(Role.INSTRUCTOR)
    me = factories.instructor(teacher.person)
    online = factories.course("AWARE", mode=DeliveryMode.ONLINE, start=soon(), council_area_id=factories.area().id,
                              joining_url="https://meet.example.org/teach", instructors=[me])
    cancelled = factories.course("AWARE", start=soon(9), instructors=[me], status=CourseStatus.CANCELLED)
    factories.course("AWARE", start=soon(11), instructors=[me], status=CourseStatus.DRAFT)
    factories.course("AWARE", start=soon(12))  # someone else's
    db.session.commit()
    auth.login(teacher)

    page = client.get("/calendar/teaching").get_data(as_text=True)
    assert "Make my calendar address" in page
    response = post_form("/calendar/teaching/reset", {}, page="/calendar/teaching", follow_redirects=True)
    html = response.get_data(as_text=True)
    path = feed_path(html)
    assert f'href="webcal://reach.test{path}"' in html

    auth.logout()  # the feed needs no sign-in: calendar apps fetch it with the token alone
    feed = client.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert uids(feed) == {uid(online), uid(cancelled)}
    cal = vobject.readOne(feed.get_data(as_text=True))
    by_uid = {e.uid.value: e for e in cal.vevent_list}
    assert "https://meet.example.org/teach" in by_uid[uid(online)].description.value
    assert by_uid[uid(cancelled)].status.value == "CANCELLED"
    assert by_uid[uid(online)].dtstart.value.astimezone(UTC) == online.starts_at

    auth.login(teacher)
    post_form("/calendar/teaching/reset", {}, page="/calendar/teaching")
    new_path = feed_path(client.get("/calendar/teaching").get_data(as_text=True))
    assert new_path != path
    assert client.get(path).status_code == 404
    assert client.get(new_path).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(CalendarFeed.id))) == 1


def test_trainee_feed_has_courses_with_a_confirmed_place(client, auth, post_form, app_ctx):
    trainee = factories.user(Role.TRAINEE)
    booked = factories.course("ADULT_2DAY", start=soon())
    online = factories.course("AWARE", mode=DeliveryMode.ONLINE, start=soon(3), council_area_id=factories.area().id,
                              joining_url="https://meet.example.org/learn")
    waiting = factories.course("AWARE", start=soon(5))
    dropped = factories.course("AWARE", start=soon(6))
    factories.booking_on(booked, trainee.person)
    factories.booking_on(online, trainee.person)
    factories.booking_on(waiting, trainee.person, status=BookingStatus.WAITLISTED)
    factories.booking_on(dropped, trainee.person, status=BookingStatus.CANCELLED)
    db.session.commit()
    auth.login(trainee)

    post_form("/calendar/my-courses/reset", {}, page="/calendar/my-courses")
    path = feed_path(client.get("/calendar/my-courses").get_data(as_text=True))
    response = client.get(path)
    assert uids(response) == {uid(booked, 0), uid(booked, 1), uid(online)}
    assert "https://meet.example.org/learn" in response.get_data(as_text=True).replace("\r\n ", "")


def test_trainee_feed_shows_a_course_cancelled_under_them_as_cancelled_for_30_days(client, app_ctx):
    from mhfa.courses import feeds, scheduling
    from mhfa.timeutil import utcnow

    trainee = factories.user(Role.TRAINEE)
    me = trainee.person
    cancelled = factories.course("ADULT_2DAY", start=soon())
    factories.booking_on(cancelled, me, confirmed_at=utcnow())
    left_first = factories.course("AWARE", start=soon(3))  # the trainee cancelled, then the course was
    factories.booking_on(left_first, me, status=BookingStatus.CANCELLED, confirmed_at=utcnow(),
                         cancel_reason="Cannot make it")
    waiting = factories.course("AWARE", start=soon(4))  # never had a place, so never had the events
    factories.booking_on(waiting, me, status=BookingStatus.WAITLISTED, waitlisted_at=utcnow())
    recent = factories.course("AWARE", start=soon(-20), status=CourseStatus.CANCELLED)
    factories.booking_on(recent, me, status=BookingStatus.CANCELLED, confirmed_at=utcnow(),
                         cancel_reason="Course cancelled: flood")
    old = factories.course("AWARE", start=soon(-40), status=CourseStatus.CANCELLED)
    factories.booking_on(old, me, status=BookingStatus.CANCELLED, confirmed_at=utcnow(),
                         cancel_reason="Course cancelled: flood")
    feed = feeds.reset_feed(trainee, FeedKind.TRAINEE)
    db.session.commit()
    for course in (cancelled, left_first, waiting):
        scheduling.cancel_course(course, "The venue flooded.")
    db.session.commit()

    cal = vobject.readOne(client.get(f"/calendar/{feed.token}.ics").get_data(as_text=True))
    events = {e.uid.value: e for e in cal.vevent_list}
    assert set(events) == {uid(cancelled, 0), uid(cancelled, 1), uid(recent)}
    assert {e.status.value for e in events.values()} == {"CANCELLED"}
    assert events[uid(cancelled, 0)].sequence.value == "1"
    assert events[uid(cancelled, 0)].summary.value.startswith("Cancelled: ")
    assert "The venue flooded." in events[uid(cancelled, 0)].description.value


def test_area_feed_for_coordinators(client, auth, post_form, app_ctx):
    coordinator = factories.user(Role.COORDINATOR)
    coventry = factories.area("Coventry")
    here = factories.course("AWARE", start=soon(), venue_=factories.venue(council_area="Coventry"))
    factories.course("AWARE", start=soon(), venue_=factories.venue(council_area="Coventry"), status=CourseStatus.DRAFT)
    factories.course("AWARE", start=soon(), venue_=factories.venue(council_area="Dudley"))
    db.session.commit()
    auth.login(coordinator)

    refused = post_form("/manage/calendars", {"council_area": ""})
    assert refused.status_code == 422 and "Choose a council area" in refused.get_data(as_text=True)
    post_form("/manage/calendars", {"council_area": str(coventry.id)})
    html = client.get("/manage/calendars").get_data(as_text=True)
    assert "<h2 class=\"govuk-heading-m\">Coventry</h2>" in html
    assert uids(client.get(feed_path(html))) == {uid(here)}


def test_feed_of_someone_who_lost_the_role_is_empty(client, app_ctx):
    from mhfa.courses import feeds

    teacher = factories.user(Role.INSTRUCTOR)
    factories.course("AWARE", start=soon(), instructors=[factories.instructor(teacher.person)])
    feed = feeds.reset_feed(teacher, FeedKind.INSTRUCTOR)
    db.session.commit()
    assert len(uids(client.get(f"/calendar/{feed.token}.ics"))) == 1
    teacher.revoke(Role.INSTRUCTOR)
    db.session.commit()
    assert uids(client.get(f"/calendar/{feed.token}.ics")) == set()


def test_unknown_feed_token_is_a_404(client):
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404
