"""A new venue is in use; publishing needs an instructor licensed for the course type on its dates."""
import re
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.courses import instructors, scheduling
from mhfa.courses.instructors import InstructorDetails
from mhfa.courses.models import CourseStatus, Instructor, Venue
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories


def test_a_venue_added_through_the_form_is_in_use_and_offered_on_the_course_form(client, coordinator, post_form):
    coventry = db.session.scalar(sa.select(CouncilArea).where(CouncilArea.name == "Coventry"))
    response = post_form("/manage/venues/new", {
        "name": "Canal Basin Rooms", "address_line1": "1 Basin Way", "address_line2": "", "town": "Coventry",
        "postcode": "CV1 4LT", "council_area": str(coventry.id), "access_notes": ""})
    assert response.status_code == 302
    venue = db.session.scalar(sa.select(Venue))
    assert venue.active is True
    assert "Canal Basin Rooms" in client.get("/manage/courses/new").get_data(as_text=True)


def test_publishing_without_an_instructor_is_refused_and_says_why(app_ctx):
    course = factories.course("AWARE", status=CourseStatus.DRAFT, instructors=[])
    with pytest.raises(DomainError, match="Add an instructor before publishing.*Mental Health Aware"):
        scheduling.publish_course(course)
    assert course.status is CourseStatus.DRAFT


def test_publishing_with_an_instructor_not_licensed_for_the_course_type_is_refused(app_ctx):
    course = factories.course("YOUTH_2DAY", status=CourseStatus.DRAFT)
    course.instructors.clear()
    adult_only = factories.instructor(factories.person("Ada", "Adult"))
    adult_only.course_types = [factories.course_type("ADULT_2DAY")]
    course.instructors.append(adult_only)
    db.session.flush()
    with pytest.raises(DomainError, match="Ada Adult's licence does not cover Youth MHFA"):
        scheduling.publish_course(course)
    # Nor can they be put on it.
    other = factories.course("YOUTH_2DAY", status=CourseStatus.DRAFT, instructors=[],
                             start=datetime.combine(date.today() + timedelta(days=40), time(9)))
    with pytest.raises(DomainError, match="does not cover Youth MHFA"):
        instructors.assign_instructor(other, adult_only)
    assert adult_only not in instructors.instructors_available_for(other)


def test_publishing_with_a_licence_that_ends_before_the_course_is_refused(app_ctx):
    course = factories.course("AWARE", status=CourseStatus.DRAFT)
    course.instructors.clear()
    lapsing = factories.instructor(factories.person("Lee", "Lapse"))
    course.instructors.append(lapsing)
    lapsing.licence_expires_on = date.today() + timedelta(days=2)  # the course is a fortnight away
    db.session.flush()
    with pytest.raises(DomainError, match="Lee Lapse's licence expires on .* before the course ends"):
        scheduling.publish_course(course)


def test_publishing_with_a_licensed_instructor_opens_the_course(app_ctx):
    course = factories.course("AWARE", status=CourseStatus.DRAFT)
    course.instructors.clear()
    instructors.assign_instructor(course, factories.instructor())
    scheduling.publish_course(course)
    assert course.status is CourseStatus.PUBLISHED


def test_the_instructor_form_records_the_courses_the_licence_covers(client, coordinator, post_form):
    youth = factories.course_type("YOUTH_2DAY")
    form = client.get("/manage/instructors/new").get_data(as_text=True)
    assert "Courses the licence covers" in form
    assert re.search(rf'<input checked[^>]*value="{youth.id}"|value="{youth.id}"[^>]*checked', form), "ticked"
    data = {"first_name": "Nia", "last_name": "New", "email": "nia@example.org", "licence_number": "MHFA 1",
            "licence_expires_on": (date.today() + timedelta(days=400)).isoformat()}
    refused = post_form("/manage/instructors/new", data)
    assert refused.status_code == 422 and "Choose the courses the licence covers" in refused.get_data(as_text=True)
    assert post_form("/manage/instructors/new", {**data, "licensed_types": [youth.id]}).status_code == 302
    nia = db.session.scalar(sa.select(Instructor))
    assert [kind.code for kind in nia.course_types] == ["YOUTH_2DAY"]


def test_an_instructor_created_without_a_list_is_licensed_for_every_active_course(app_ctx):
    made = instructors.create_instructor(InstructorDetails(
        first_name="Al", last_name="All", email="al@example.org", licence_number="MHFA-9",
        licence_expires_on=date.today() + timedelta(days=100)))
    assert {kind.code for kind in made.course_types} >= {"ADULT_2DAY", "YOUTH_2DAY", "AWARE"}
