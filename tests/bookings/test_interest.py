""""Tell me when there's a course": interest without a date, the demand it shows, one email when a course comes."""

import pytest
import sqlalchemy as sa

from mhfa.auth.models import Role, User
from mhfa.bookings import interest
from mhfa.bookings.models import CourseInterest
from mhfa.courses import scheduling
from mhfa.courses.models import Course, CourseStatus, DeliveryMode
from mhfa.errors import Conflict, DomainError, NotFound
from mhfa.extensions import db
from tests import factories, races
from tests.conftest import csrf_token


def trainee(**fields):
    return factories.user(Role.TRAINEE, **fields)


def _draft(mode=DeliveryMode.IN_PERSON, **fields):
    return factories.course("AWARE", status=CourseStatus.DRAFT, mode=mode, **fields)


def test_people_register_interest_once_per_course_type_and_place(app_ctx):
    person = trainee().person
    kind, area = factories.course_type("AWARE"), factories.area("Coventry")
    asked = interest.register_interest(person, kind.id, area.id)
    online = interest.register_interest(person, kind.id, interest.ONLINE)
    assert asked.council_area_id == area.id and online.council_area_id is None
    with pytest.raises(Conflict, match="already asked"):
        interest.register_interest(person, kind.id, area.id)
    for bad_type, bad_area in ((None, area.id), (0, area.id), (2**40, area.id), (kind.id, -5), (kind.id, 2**40),
                               (kind.id, None)):
        with pytest.raises(DomainError):
            interest.register_interest(person, bad_type, bad_area)


def test_publishing_a_matching_course_emails_each_person_once(smtp):
    coordinator = factories.user(Role.COORDINATOR)
    here, elsewhere, online = trainee(first_name="Hana"), trainee(), trainee(first_name="Omar")
    kind = factories.course_type("AWARE")
    course = _draft()
    interest.register_interest(here.person, kind.id, course.council_area_id)
    interest.register_interest(elsewhere.person, kind.id, factories.area("Sandwell").id
                               if course.council_area_id != factories.area("Sandwell").id
                               else factories.area("Dudley").id)
    interest.register_interest(online.person, kind.id, interest.ONLINE)
    interest.register_interest(online.person, factories.course_type("ADULT_2DAY").id, course.council_area_id)
    db.session.commit()
    smtp.clear()
    scheduling.publish_course(course, coordinator)
    db.session.commit()
    assert smtp.subjects(here.email) == [smtp.subjects(here.email)[0]]
    assert smtp.subjects(here.email)[0].startswith("A course you asked about: Mental Health Aware")
    assert smtp.subjects(elsewhere.email) == [] and smtp.subjects(online.email) == []
    assert f"/courses/{course.id}" in smtp.text(smtp.to(here.email)[0])
    # A second course in the same place: nobody is emailed twice.
    again = _draft(venue_=course.venue)
    scheduling.publish_course(again, coordinator)
    online_course = _draft(mode=DeliveryMode.ONLINE)
    scheduling.publish_course(online_course, coordinator)
    db.session.commit()
    assert len(smtp.to(here.email)) == 1 and len(smtp.to(online.email)) == 1
    rows = {(row.area, row.course_type): (row.waiting, row.told) for row in interest.demand()}
    assert rows[("Online", "Mental Health Aware (half day)")] == (0, 1)
    assert sum(waiting for waiting, _ in rows.values()) == 2 and sum(told for _, told in rows.values()) == 2


def test_a_closed_course_tells_nobody(app_ctx):
    person = trainee().person
    course = _draft(employer_id=factories.employer().id)
    interest.register_interest(person, course.course_type_id, course.council_area_id)
    assert interest.notify_interested(course) == 0


def test_withdrawing_is_only_for_your_own(app_ctx):
    mine, theirs = trainee().person, trainee().person
    asked = interest.register_interest(mine, factories.course_type("AWARE").id, interest.ONLINE)
    with pytest.raises(NotFound):
        interest.withdraw_interest(theirs, asked.id)
    for bad in (0, -1, 2**40):
        with pytest.raises(NotFound):
            interest.withdraw_interest(mine, bad)
    interest.withdraw_interest(mine, asked.id)
    assert interest.interests_of(mine) == []


def test_the_pages(client, auth):
    user, coordinator = trainee(), factories.user(Role.COORDINATOR)
    kind, area = factories.course_type("AWARE"), factories.area("Walsall")
    db.session.commit()
    auth.login(user)
    assert "/courses/interest" in client.get("/my-courses").get_data(as_text=True)  # the trainee's navigation
    token = csrf_token(client, "/courses/interest")
    response = client.post("/courses/interest", data={"csrf_token": token, "course_type_id": kind.id,
                                                      "council_area_id": area.id})
    assert response.status_code == 302
    page = client.get("/courses/interest").get_data(as_text=True)
    assert "We will email you when there is a Mental Health Aware (half day) course in Walsall" in page
    for bad in ({"course_type_id": "x", "council_area_id": area.id}, {"course_type_id": 2**70, "council_area_id": 0},
                {"course_type_id": kind.id, "council_area_id": "\x00"}, {"course_type_id": kind.id}, {}):
        assert client.post("/courses/interest", data={"csrf_token": token, **bad}).status_code in (400, 422), bad
    again = client.post("/courses/interest", data={"csrf_token": token, "course_type_id": kind.id,
                                                   "council_area_id": area.id})
    assert again.status_code == 409 and "already asked" in again.get_data(as_text=True)
    asked = db.session.scalar(sa.select(CourseInterest))
    assert client.post(f"/courses/interest/{asked.id + 99}/remove", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/courses/interest/{asked.id}/remove", data={"csrf_token": token}).status_code == 302
    auth.logout()
    auth.login(coordinator)
    assert client.get("/manage/demand").status_code == 200
    assert "/manage/demand" in client.get("/manage/courses").get_data(as_text=True)


def test_two_courses_published_at_once_email_each_person_once(app_ctx, smtp):
    """The claim is an UPDATE that only succeeds while the request is unanswered."""
    people = [trainee() for _ in range(5)]
    first = _draft()
    second = _draft(venue_=first.venue)
    for user in people:
        interest.register_interest(user.person, first.course_type_id, first.council_area_id)
    coordinator_id = factories.user(Role.COORDINATOR).id
    ids = (first.id, second.id)
    db.session.commit()
    smtp.clear()

    def publish(course_id):
        return lambda: scheduling.publish_course(db.session.get(Course, course_id),
                                                 db.session.get(User, coordinator_id))

    with races.app_beside(app_ctx, *races.MAIL, "MHFA_DELIVER_AFTER_COMMIT") as other:
        outcomes = races.race(other, [publish(course_id) for course_id in ids], timeout=60)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert all(len(smtp.to(user.email)) == 1 for user in people)
