"""Keyboard only: the finder and the booking form in a sensible focus order, submitted with the keyboard,
and focus on the error summary when a booking is refused."""
import json

from tests.browser.conftest import check_page, login

PASSWORD = "keys only, never the mouse"  # noqa: S105  (a test account's password)


def _focused(page) -> str:
    return page.evaluate("""() => {
        const e = document.activeElement;
        return e.id || e.getAttribute('name') || (e.textContent || '').trim().slice(0, 40) || e.tagName;
    }""")


def _tab_until(page, wanted: str, limit: int = 60) -> list[str]:
    """Press Tab until ``wanted`` (an id or a button's text) has focus; the ids focused on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(_focused(page))
        if seen[-1] == wanted:
            return seen
    raise AssertionError(f"{wanted!r} never took focus; focus went {seen}")


def test_finder_by_keyboard(page, live_server):
    page.goto("/courses")
    page.keyboard.press("Tab")
    assert _focused(page) == "Skip to main content", "the skip link comes first"
    order = _tab_until(page, "Apply filters")
    fields = ["area", "type", "mode-0", "from_date", "to_date", "free_places", "sort", "Apply filters"]
    positions = [order.index(f) for f in fields]
    assert positions == sorted(positions), f"focus order {order}"
    # Back up to the area, choose one, choose "In person", and submit: keys only.
    for _ in range(len(order)):
        if _focused(page) == "area":
            break
        page.keyboard.press("Shift+Tab")
    assert _focused(page) == "area"
    page.keyboard.press("ArrowDown")  # the first area
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert _focused(page) == "mode-0"
    page.keyboard.press("ArrowRight")  # "In person"
    assert _focused(page) == "mode-1"
    _tab_until(page, "Apply filters")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "mode=in_person" in page.url and "area=" in page.url and "area=&" not in page.url
    check_page(page, "finder-by-keyboard")


def test_booking_form_by_keyboard_with_focus_on_the_refusal(page, live_server):
    email_address = f"keys-{page.mhfa_width}@example.net"
    live_server.flask("mhfa", "create-user", "--email", email_address, "--role", "trainee", "--name", "Kim Keys",
                      "--date-of-birth", "1988-08-08", "--password", PASSWORD, check=False)
    login(page, email_address, PASSWORD)
    courses = json.loads(page.request.get("/api/v1/courses?type=AWARE&free_places=true&per_page=100").text())
    course = next(c for c in courses["courses"] if c["places_left"] > 1)
    page.goto(f"/courses/{course['id']}/book")
    main = page.locator("#main-content")
    assert main.count() == 1
    order = _tab_until(page, "I have a place voucher from my employer")
    assert order[0] == "Skip to main content"
    page.keyboard.press("Enter")  # opens the details
    page.keyboard.press("Tab")
    assert _focused(page) == "voucher_code"
    page.keyboard.type("NOT-A-REAL-VOUCHER")
    page.keyboard.press("Tab")
    assert _focused(page) == "Book a place"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.closest('.govuk-error-summary') !== null"), \
        f"focus is on {_focused(page)}, not the error summary"
    summary = page.locator(".govuk-error-summary__list a").first
    assert summary.inner_text()[0].isupper()
    check_page(page, "booking-refused")
    # From the summary, the keyboard reaches the field in error, with what was typed kept.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.govuk-error-summary__list') !== null")
    page.keyboard.press("Enter")
    assert _focused(page) == "voucher_code"
    assert page.locator("#voucher_code").input_value() == "NOT-A-REAL-VOUCHER"
