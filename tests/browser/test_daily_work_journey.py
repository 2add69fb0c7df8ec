"""Daily work from the home page, by links and buttons only (never a typed address after signing in):

- a coordinator adds a venue, schedules a course at it, is refused publishing it without an instructor,
  staffs it and publishes it;
- the demo instructor opens a course that has run from "Waiting for you", takes its registers,
  completes it, sees the certificates issued, and each trainee is emailed their certificate.

Both at 1280 and 375 px, every page checked with axe (WCAG 2.2 AA included) and for sideways scrolling.
"""
from __future__ import annotations

import re
import time

from tests.browser.conftest import check_page, login, navigate
from tests.browser.journeys import fill_course_form, in_a_few_weeks


def _menu(page, name: str) -> None:
    """Follow a link of the service navigation (behind its "Menu" button on a phone)."""
    nav = page.locator(".govuk-service-navigation")
    toggle = nav.get_by_role("button", name="Menu")
    if toggle.is_visible():
        toggle.click()
    navigate(nav.get_by_role("link", name=name, exact=True))


def _section(page, name: str) -> None:
    """Follow a link of the section's own navigation, under the service navigation."""
    navigate(page.locator(".reach-section-nav").get_by_role("link", name=name, exact=True))


def test_coordinator_adds_a_venue_and_schedules_staffs_and_publishes_a_course_there(page, live_server, width):
    venue = f"Canal Side Rooms {width.title()}"
    login(page, "coordinator@example.org")
    check_page(page, "home")
    _menu(page, "Courses")
    check_page(page, "courses")

    _section(page, "Add a venue")
    check_page(page, "add-a-venue")
    page.get_by_label("Venue name").fill(venue)
    page.get_by_label("Address line 1").fill("2 Basin Way")
    page.get_by_label("Town or city").fill("Coventry")
    page.get_by_label("Postcode").fill("CV1 4LY")
    page.get_by_label("Council area").select_option(label="Coventry")
    navigate(page.get_by_role("button", name=re.compile("Save")))
    assert "Venue added." in page.content() and venue in page.content()
    check_page(page, "venue-added")

    _section(page, "Schedule a course")
    check_page(page, "schedule")
    day = in_a_few_weeks(live_server, 45 if width == "desktop" else 46)
    fill_course_form(page, day=day, venue=venue)
    navigate(page.get_by_role("button", name="Save as draft"))
    assert "Course saved as a draft" in page.content() and venue in page.content()
    check_page(page, "draft")

    navigate(page.get_by_role("button", name="Publish"))
    assert "Add an instructor before publishing" in page.content()
    check_page(page, "publish-refused")
    instructor = page.get_by_label("Instructor", exact=True)
    instructor.select_option(index=1)
    navigate(page.get_by_role("button", name="Assign instructor"))
    assert "is teaching this course" in page.content()
    navigate(page.get_by_role("button", name="Publish"))
    assert "Course published: it is in the course finder now." in page.content()
    check_page(page, "published")


def _certificate_emails(outbox) -> list:
    return [m for m in outbox.messages() if str(m["Subject"]).startswith("Your certificate: ")]


def test_instructor_takes_the_registers_of_a_course_that_ran_and_completes_it(page, live_server, outbox, width):
    login(page, "instructor@example.org")
    assert "Waiting for you:" in page.content()
    check_page(page, "home")
    _menu(page, "Teaching")
    check_page(page, "my-teaching")
    waiting = page.locator("#to-do")
    navigate(waiting.get_by_role("link", name=re.compile("^Take the registers")).first)
    check_page(page, "registers")

    sessions = page.get_by_role("link", name=re.compile("^Take the register"))
    count = sessions.count()
    assert count >= 1
    for n in range(count):
        navigate(page.get_by_role("link", name=re.compile("^Take the register")).first)  # a taken one says "Change"
        navigate(page.get_by_role("button", name="Mark everyone present"))
        assert "Everyone is marked present." in page.content()
        check_page(page, f"register-{n + 1}")
        if n < count - 1:
            navigate(page.get_by_role("link", name="All registers for this course"))

    next_step = page.locator("#next-step")
    assert "Every register of this course is marked" in next_step.inner_text()
    navigate(next_step.get_by_role("link", name="Check and complete the course"))
    check_page(page, "check-and-complete")
    before = len(_certificate_emails(outbox))
    navigate(page.get_by_role("button", name="Confirm the registers and complete the course"))
    assert "Course completed" in page.content()
    issued = page.locator("#issued tbody tr")
    assert issued.count() >= 1
    check_page(page, "certificates-issued")

    deadline = time.monotonic() + 15
    while len(_certificate_emails(outbox)) < before + issued.count() and time.monotonic() < deadline:
        time.sleep(0.2)
    sent = _certificate_emails(outbox)[before:]
    assert len(sent) == issued.count(), "each trainee is emailed their certificate"
    text = outbox.text(sent[0])
    assert "/verify/" in text and ".pdf" in text and "badge.json" in text
