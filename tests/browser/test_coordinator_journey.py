"""A coordinator schedules a course, meets each form error, publishes, reschedules and cancels it; and the
waiting list: a second person joins a full course and is promoted when a place frees."""
from datetime import timedelta

from tests.browser.conftest import check_page, login, navigate, unique_email, visit
from tests.browser.journeys import assign_instructor, fill_course_form, in_a_few_weeks, publish, schedule_course

PASSWORD = "another long walk by the canal"  # noqa: S105  (test accounts' password)


def _error_summary(page) -> list[str]:
    return page.locator(".govuk-error-summary__list li").all_inner_texts()


def test_coordinator_schedules_meets_every_error_publishes_reschedules_and_cancels(page, live_server, width):
    login(page, "coordinator@example.org")
    visit(page, "/manage/courses", "manage-courses")
    navigate(page.get_by_role("link", name="Schedule a course"))
    check_page(page, "new-course")

    # Nothing filled in: every required field named at once.
    navigate(page.get_by_role("button", name="Save as draft"))
    errors = _error_summary(page)
    assert {"Choose the course type", "Choose in person or online", "Enter the capacity",
            "Enter the price per place"} <= set(errors), errors
    assert page.evaluate("document.activeElement.closest('.govuk-error-summary') !== null"), \
        "focus moves to the error summary"
    check_page(page, "new-course-empty")

    # A bad price, a capacity over the limit and sessions that do not add up: all named in one round.
    day = in_a_few_weeks(live_server, 40 if width == "desktop" else 41)
    fill_course_form(page, day=day, end="11:30", capacity="99", price="ten pounds")
    navigate(page.get_by_role("button", name="Save as draft"))
    errors = _error_summary(page)
    assert "Enter the price in pounds, like 75 or 75.50" in errors
    assert any(e.startswith("Capacity cannot be more than 25") for e in errors), errors
    assert any(e.startswith("The sessions add up to 2 hours") for e in errors), errors
    assert page.get_by_label("Price per place, in pounds").input_value() == "ten pounds"  # input kept
    for link in page.locator(".govuk-error-summary__list a").all():
        target = link.get_attribute("href")
        assert page.locator(target).count() == 1, f"the error summary links to {target}, which is not on the page"
    check_page(page, "new-course-refused")

    # The session ends before it starts, then each is put right.
    page.get_by_label("Session 1 end time").fill("08:30")
    page.get_by_label("Capacity (places)").fill("12")
    page.get_by_label("Price per place, in pounds").fill("0")
    navigate(page.get_by_role("button", name="Save as draft"))
    assert "Session 1 must end after it starts" in _error_summary(page)
    page.get_by_label("Session 1 end time").fill("13:30")
    navigate(page.get_by_role("button", name="Save as draft"))
    assert "Course saved as a draft" in page.content()
    course_url = page.url
    check_page(page, "draft")

    # Publishing needs an instructor licensed for the course: refused, with the reason, until one is assigned.
    navigate(page.get_by_role("button", name="Publish"))
    assert "Add an instructor before publishing" in page.content()
    assign_instructor(page)
    navigate(page.get_by_role("button", name="Publish"))
    assert "Course published" in page.content()
    check_page(page, "published")

    navigate(page.get_by_role("link", name="Change or reschedule"))
    check_page(page, "change")
    page.get_by_label("Session 1 date").fill((day + timedelta(days=7)).isoformat())
    navigate(page.get_by_role("button", name="Save changes"))
    assert "Course rescheduled" in page.content() and "Rescheduled 1 time" in page.content()
    check_page(page, "rescheduled")

    navigate(page.get_by_role("link", name="Cancel course"))
    check_page(page, "cancel")
    navigate(page.get_by_role("button", name="Cancel the course"))
    assert "Enter the reason for cancelling" in " ".join(_error_summary(page))
    check_page(page, "cancel-refused")
    page.get_by_label("Why is the course cancelled?").fill("The venue is closed for repairs.")
    navigate(page.get_by_role("button", name="Cancel the course"))
    assert "Course cancelled" in page.content()
    check_page(page, "cancelled")

    # A cancelled course cannot be changed, and the pages say so when they open.
    for action in ("edit", "cancel"):
        visit(page, f"{course_url}/{action}", f"cancelled-{action}", status=409)
        assert "so it cannot be changed" in page.content()


def _trainee(live_server, prefix: str) -> str:
    email_address = unique_email(prefix)
    live_server.flask("mhfa", "create-user", "--email", email_address, "--role", "trainee",
                      "--name", f"{prefix.title()} Tester", "--date-of-birth", "1991-03-04", "--password", PASSWORD)
    return email_address


def test_second_person_joins_the_waiting_list_and_is_promoted_when_a_place_frees(new_page, live_server, width):
    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    day = in_a_few_weeks(live_server, 50 if width == "desktop" else 51)
    course_id = schedule_course(coordinator, day=day, capacity=1)
    publish(coordinator, course_id)

    first, second = _trainee(live_server, "first"), _trainee(live_server, "second")
    alice, bob = new_page(), new_page()
    login(alice, first, PASSWORD)
    visit(alice, f"/courses/{course_id}/book", "first-books")
    navigate(alice.get_by_role("button", name="Book a place"))
    assert "You are booked on" in alice.content()

    login(bob, second, PASSWORD)
    visit(bob, f"/courses/{course_id}", "full-course")
    navigate(bob.get_by_role("button", name="Join the waiting list"))
    check_page(bob, "join-waiting-list")
    assert "This course is full" in bob.content()
    navigate(bob.get_by_role("button", name="Join the waiting list"))
    assert "you are on the waiting list: you are number 1" in bob.content()
    check_page(bob, "on-the-waiting-list")

    visit(coordinator, f"/manage/courses/{course_id}", "course-with-waiting-list")
    assert coordinator.locator("#waiting-list").is_visible()

    alice.goto("/my-courses")
    navigate(alice.get_by_role("link", name="Cancel booking").first)
    navigate(alice.get_by_role("button", name="Yes, cancel my booking"))
    assert "is cancelled" in alice.content()

    visit(bob, "/my-courses", "promoted")
    row = bob.locator("tr", has_text="Mental Health Aware (half day)").filter(has_text="Booked")
    assert row.count() >= 1, "the second person holds the place now"
    subjects = [str(m["Subject"]) for m in live_server.outbox.messages(second)]
    assert subjects[-2:] == ["You are number 1 on the waiting list: Mental Health Aware (half day)",
                             "A place has come up: you are booked on Mental Health Aware (half day)"], subjects
