"""The programme's partners in the browser: a coordinator records an organisation's Workplace Wellbeing
Commitment award and its contact sees it (and the public list shows it); an instructor not qualified for a
course type is refused when the course is published, with the reason; the instructors at risk of lapsing,
and an instructor adding a development record to their own standing."""
import os
import re
from datetime import date, timedelta

from tests.browser.conftest import check_page, login, navigate, unique_email, visit
from tests.browser.journeys import assign_instructor, in_a_few_weeks, schedule_course

AWARE = "Mental Health Aware (half day)"


def test_a_coordinator_records_an_award_and_the_contact_sees_it(page, new_page, live_server, width):
    contact = page
    login(contact, "employer@example.org")
    visit(contact, "/employer", "employer-home")
    organisation = contact.locator("h1").inner_text().strip()
    assert "Workplace Wellbeing Commitment" in contact.content()

    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    visit(coordinator, "/manage/employers", "organisations")
    navigate(coordinator.get_by_role("link", name=organisation, exact=True))
    navigate(coordinator.get_by_role("link", name=re.compile("the Workplace Wellbeing Commitment award")))
    check_page(coordinator, "award-form")
    # A bad date is refused on its field; nothing is saved.
    coordinator.get_by_label("Gold").check()
    coordinator.get_by_label("Date awarded").fill((live_server.today + timedelta(days=3)).isoformat())
    navigate(coordinator.get_by_role("button", name="Save and verify the award"))
    assert "The award date must be today or earlier" in coordinator.content()
    check_page(coordinator, "award-refused")
    awarded = live_server.today - timedelta(days=1 if width == "desktop" else 2)
    coordinator.get_by_label("Gold").check()
    coordinator.get_by_label("Date awarded").fill(awarded.isoformat())
    coordinator.get_by_label("Award reference (optional)").fill(f"TAW-{width.upper()}")
    navigate(coordinator.get_by_role("button", name="Save and verify the award"))
    assert "award is recorded and verified" in coordinator.content()
    check_page(coordinator, "award-recorded")

    expires = date(awarded.year + 3, awarded.month, min(awarded.day, 28)) if (awarded.month, awarded.day) == (2, 29) \
        else date(awarded.year + 3, awarded.month, awarded.day)
    expires -= timedelta(days=1)
    visit(contact, "/employer", "employer-home-with-award")
    section = contact.locator("#commitment + p").inner_text()
    assert "Gold" in section and f"{expires.day} {expires:%B %Y}" in section, section
    navigate(contact.get_by_role("link", name="Your award and the public list"))
    check_page(contact, "award-page")
    text = contact.content()
    assert f"TAW-{width.upper()}" in text and "Target (5% of headcount)" in text
    visit(contact, "/committed-employers", "committed-employers")
    row = contact.locator("tr", has_text=organisation)
    assert "Gold" in row.inner_text()


def test_an_instructor_not_qualified_for_a_course_type_is_refused_with_the_reason(page, live_server, width):
    login(page, "coordinator@example.org")
    visit(page, "/manage/instructors/new", "new-instructor")
    last = f"Upskill{width.title()}{os.getpid() % 1000}"
    page.get_by_label("First name").fill("Ula")
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email address").fill(unique_email("ula"))
    page.get_by_label("MHFA England licence number").fill(f"MHFA-UP-{width}-{os.getpid()}")
    page.get_by_label("Licence expiry date").fill((live_server.today + timedelta(days=700)).isoformat())
    for box in page.locator("input[name=licensed_types]").all():
        box.uncheck()
    page.get_by_label(AWARE, exact=True).check()
    page.get_by_label(re.compile("Date qualified")).fill((live_server.today - timedelta(days=90)).isoformat())
    navigate(page.get_by_role("button", name="Save instructor"))
    assert "Instructor added" in page.content()

    course_id = schedule_course(page, day=in_a_few_weeks(live_server, 50 if width == "desktop" else 51))
    assign_instructor(page, f"Ula {last}")

    # Their Aware qualification is taken away (say, recorded by mistake): publishing is refused, naming why.
    visit(page, "/manage/instructors")
    navigate(page.get_by_role("link", name=f"Change Ula {last}"))
    page.get_by_label(AWARE, exact=True).uncheck()
    page.get_by_label("Adult MHFA (two day)", exact=True).check()
    navigate(page.get_by_role("button", name="Save instructor"))
    assert "Instructor updated" in page.content()
    visit(page, f"/manage/courses/{course_id}")
    navigate(page.get_by_role("button", name="Publish"))
    message = page.content()
    assert f"Ula {last}&#39;s licence does not cover {AWARE}" in message or \
        f"Ula {last}'s licence does not cover {AWARE}" in message, message[:3000]
    assert "no qualification recorded to deliver it" in message
    check_page(page, "publish-refused-not-qualified")
    chooser = page.get_by_label("Instructor", exact=True)
    assert chooser.locator("option", has_text=f"Ula {last}").count() == 0  # nor offered again


def test_the_at_risk_list_and_an_instructor_adding_development(page, new_page, live_server, width):
    login(page, "coordinator@example.org")
    visit(page, "/manage/instructors", "instructors")
    navigate(page.get_by_role("link", name="Instructors at risk of lapsing").first)
    check_page(page, "at-risk")
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    assert "Licence expires on" in page.locator("tbody").inner_text()
    navigate(rows.first.get_by_role("link"))
    assert "At risk of lapsing" in page.content()
    check_page(page, "instructor-standing")

    instructor = new_page()
    login(instructor, "instructor@example.org")
    visit(instructor, "/teaching", "teaching")
    navigate(instructor.get_by_role("link", name="My standing and development").first)
    check_page(instructor, "my-standing")
    instructor.get_by_label("Date of the activity").fill(live_server.today.isoformat())
    instructor.get_by_label("What you did").fill(f"Journey webinar ({width})")
    instructor.get_by_label("Hours").fill("one")
    navigate(instructor.get_by_role("button", name="Add the record"))
    assert "Enter the hours as a number, like 1.5" in instructor.content()
    check_page(instructor, "my-standing-refused")
    instructor.get_by_label("Hours").fill("1.5")
    navigate(instructor.get_by_role("button", name="Add the record"))
    assert "Development record added" in instructor.content()
    assert f"Journey webinar ({width})" in instructor.locator("#development ~ table").first.inner_text()
