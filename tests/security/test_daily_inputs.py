"""Hostile input to the daily-work pages: a clear answer, never a 500, and nothing changed."""
import re

import pytest
import sqlalchemy as sa

from mhfa.courses.models import Instructor
from mhfa.extensions import db
from tests import factories


@pytest.mark.parametrize("types", [["999999999"], ["-1"], ["abc"], ["1e309"], ["99999999999999999999"], []])
def test_an_instructor_with_hostile_course_types_is_refused_and_not_saved(coordinator, post_form, types):
    data = {"first_name": "Nia", "last_name": "New", "email": "nia@example.org", "licence_number": "MHFA 1",
            "licence_expires_on": "2031-01-31", "licensed_types": types}
    response = post_form("/manage/instructors/new", data)
    assert response.status_code in (400, 404, 422)
    assert db.session.scalar(sa.select(sa.func.count(Instructor.id))) == 0


@pytest.mark.parametrize("postcode", ["a" * 5000, "\x00", "' OR 1=1 --", "CV1\u202e", "%", "B1 2ND" * 3, "ZZ99 9ZZ"])
def test_the_finder_takes_any_postcode_without_an_error(app_ctx, client, postcode):
    response = client.get("/courses", query_string={"postcode": postcode})
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("query", ["q=%25", "q=_", "q=" + "a" * 5000, "status=pending%00", "page=0", "page=abc"])
def test_the_orders_search_takes_any_text_without_an_error(coordinator, client, query):
    assert client.get(f"/manage/orders?{query}").status_code in (200, 400)


def test_the_back_link_only_ever_leads_to_the_finder(app_ctx, client):
    course = factories.course("AWARE")
    db.session.commit()
    client.get("/courses?area=//evil.example&next=https://evil.example&type=%3Cscript%3E")
    html = client.get(f"/courses/{course.id}").get_data(as_text=True)
    back = re.search(r'<a href="([^"]*)" class="govuk-back-link"', html).group(1)
    assert back.startswith("/courses?") and "next=" not in back, "the finder's own keys, on this site only"
    assert "%3Cscript%3E" in back and "<script>" not in back


@pytest.mark.parametrize("query, message", [
    ("status=bogus", "Choose a status from the list"),
    ("status=draft%00", "Choose a status from the list"),
    ("area=99999999999999999999", "Choose a council area from the list"),
    ("starts=tomorrow", "Choose when the courses start from the list"),
    ("starts=" + "a" * 5000, "Choose when the courses start from the list"),
    ("starts=%ED%A0%80", "Choose when the courses start from the list"),
    ("instructor=none", "Choose an instructor filter from the list"),
    ("instructor=needed%00&starts=upcoming%00", "Choose an instructor filter from the list"),
    ("instructor=' OR 1=1 --", "Choose an instructor filter from the list"),
])
def test_the_course_list_says_which_filter_value_it_cannot_take(coordinator, client, query, message):
    response = client.get(f"/manage/courses?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        page = response.get_data(as_text=True)
        assert message in page and "govuk-error-summary" in page
