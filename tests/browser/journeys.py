"""Steps that several journeys share (a real browser, through the pages a person would use)."""
from __future__ import annotations

import re
from datetime import date, timedelta

from tests.browser.conftest import check_page, login, navigate

NEW_PASSWORD = "a walk by the canal at dusk"  # noqa: S105  (a test account's password)


def register_and_confirm(page, live_server, email_address: str, first: str = "Rosa", last: str = "Newcomer",
                         shots: bool = True) -> None:
    """Create an account, confirm it from the outbox, sign in (ends on the profile page)."""
    page.goto("/register")
    if shots:
        check_page(page, "register")
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email address").fill(email_address)
    page.get_by_label("Create a password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm your password").fill(NEW_PASSWORD)
    navigate(page.get_by_role("button", name="Create account"))
    assert "Check your email" in page.content() or email_address in page.content()
    if shots:
        check_page(page, "check-your-email")
    link = live_server.outbox.link(email_address, "/confirm-email/")
    assert link.startswith(live_server.url + "/"), f"the confirmation link names another host: {link}"
    page.goto(link)
    if shots:
        check_page(page, "confirmed-sign-in")
    login(page, email_address, NEW_PASSWORD)


def fill_profile(page, area: str = "Birmingham", born: date = date(1990, 6, 15), shots: bool = True) -> None:
    page.goto("/profile")
    page.locator("#date_of_birth-day").fill(str(born.day))
    page.locator("#date_of_birth-month").fill(str(born.month))
    page.locator("#date_of_birth-year").fill(str(born.year))
    page.get_by_label("Council area where you live").select_option(label=area)
    if shots:
        check_page(page, "profile")
    navigate(page.get_by_role("button", name="Save profile"))
    assert "Your profile has been saved" in page.content()


def course_id_from(url: str) -> int:
    return int(re.search(r"/courses/(\d+)", url).group(1))


def fill_course_form(page, *, day: date, kind: str = "Mental Health Aware (half day)", capacity: int | str = 12,
                     price: str = "0", start: str = "09:30", end: str = "13:30", venue: str | None = None) -> None:
    """On the new-course form: an in-person course of one session on ``day``, at the venue named ``venue``
    (or the first one offered). Nothing is sent."""
    page.get_by_label("Course type").select_option(label=kind)
    page.get_by_label("In person, at a venue").check()
    chooser = page.locator("#venue")
    if venue is None:
        chooser.select_option(index=1)
    else:
        chooser.select_option(chooser.locator("option", has_text=venue).first.get_attribute("value"))
    page.get_by_label("Session 1 date").fill(day.isoformat())
    page.get_by_label("Session 1 start time").fill(start)
    page.get_by_label("Session 1 end time").fill(end)
    page.get_by_label("Capacity (places)").fill(str(capacity))
    page.get_by_label("Price per place, in pounds").fill(price)


def schedule_course(page, *, day: date, kind: str = "Mental Health Aware (half day)", capacity: int = 12,
                    price: str = "0", start: str = "09:30", end: str = "13:30") -> int:
    """A coordinator schedules an in-person course at the first venue (a draft); returns its id."""
    page.goto("/manage/courses/new")
    fill_course_form(page, day=day, kind=kind, capacity=capacity, price=price, start=start, end=end)
    navigate(page.get_by_role("button", name="Save as draft"))
    assert "Course saved as a draft" in page.content(), page.url
    return int(re.search(r"/manage/courses/(\d+)", page.url).group(1))


def publish(page, course_id: int) -> None:
    """Publish a draft, first giving it the first instructor offered if it has none (publishing needs one)."""
    page.goto(f"/manage/courses/{course_id}")
    if "No instructor yet." in page.content():
        assign_instructor(page)
    navigate(page.get_by_role("button", name="Publish"))
    assert "Course published" in page.content()


def in_a_few_weeks(live_server, days: int = 30) -> date:
    return live_server.today + timedelta(days=days)


def assign_instructor(page, name: str | None = None) -> None:
    """On a course's page: assign the named instructor (or the first one offered)."""
    chooser = page.get_by_label("Instructor", exact=True)
    if name is None:
        chooser.select_option(index=1)
    else:
        chooser.select_option(chooser.locator("option", has_text=name).first.get_attribute("value"))
    navigate(page.get_by_role("button", name="Assign instructor"))
    assert "There is a problem" not in page.content(), "the instructor was refused"
