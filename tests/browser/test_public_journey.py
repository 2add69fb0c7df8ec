"""A member of the public finds a course in their area, registers, confirms, books, cancels and books again."""
import re
from datetime import timedelta

from tests.browser.conftest import check_page, navigate, unique_email, visit
from tests.browser.journeys import course_id_from, fill_profile, register_and_confirm


def _results(page) -> list[str]:
    page.wait_for_load_state()
    return page.locator("table.reach-stack tbody th a").all_inner_texts()


def test_find_register_confirm_book_download_cancel_and_book_again(page, live_server):
    visit(page, "/", "home")
    navigate(page.get_by_role("button", name="Find a course"))
    check_page(page, "finder")

    # A course that anyone 16 or over can book, starting far enough ahead to cancel online.
    from_day = (live_server.today + timedelta(days=7)).isoformat()
    page.get_by_label("Course", exact=True).select_option(label="Adult MHFA (two day)")
    page.get_by_label("In person", exact=True).check()
    page.get_by_label("From").fill(from_day)
    page.get_by_label("Only courses with free places").check()
    navigate(page.get_by_role("button", name="Apply filters"))
    assert _results(page), "the demo history has two-day courses ahead with free places"
    where = page.locator("table.reach-stack tbody tr").first.locator("td").nth(1).inner_text()
    area = where.strip().splitlines()[-1].strip()

    # Their area: in person there ...
    page.get_by_label("Council area").select_option(label=area)
    navigate(page.get_by_role("button", name="Apply filters"))
    in_person = _results(page)
    assert in_person
    check_page(page, "finder-area-in-person")
    course_url = page.locator("table.reach-stack tbody th a").first.get_attribute("href")
    # ... and online: online courses are open to every area.
    page.get_by_label("Online", exact=True).check()
    page.get_by_label("Course", exact=True).select_option(label="Any course")
    page.get_by_label("Only courses with free places").uncheck()
    page.get_by_label("From").fill("")
    navigate(page.get_by_role("button", name="Apply filters"))
    assert _results(page), f"online courses are listed with {area}"
    check_page(page, "finder-area-online")
    # On a phone the filters stack above the results: a link at the top skips them (on a desktop they sit side by side).
    total = page.locator("table.reach-stack caption").inner_text().split(" of ")[-1].strip()
    skip = page.locator('a[href="#results"]')
    assert skip.text_content() == f"Skip the filters: see the {total} courses"
    if page.viewport_size["width"] < 769:
        skip.click()
        assert page.url.endswith("#results")
        assert page.evaluate("Math.abs(document.getElementById('results').getBoundingClientRect().top)") < 5
    else:
        assert not skip.is_visible()

    visit(page, course_url, "course")
    navigate(page.get_by_role("button", name="Book a place"))  # not signed in: the sign-in page, then back
    assert "/login" in page.url
    check_page(page, "sign-in-to-book")

    email_address = unique_email("rosa")
    register_and_confirm(page, live_server, email_address)
    fill_profile(page, area=area)

    visit(page, course_url, "course-signed-in")
    navigate(page.get_by_role("button", name="Book a place"))
    assert page.url.endswith(f"/courses/{course_id_from(course_url)}/book")
    check_page(page, "booking-page")
    navigate(page.get_by_role("button", name="Book a place"))
    assert "You are booked on" in page.content()
    check_page(page, "my-courses-booked")

    confirmation = live_server.outbox.messages(email_address)[-1]
    assert str(confirmation["Subject"]).startswith("Booking confirmed")
    links = re.findall(r"https?://[^\s>]+", live_server.outbox.text(confirmation))
    assert links and all(link.startswith(live_server.url) for link in links if "127.0.0.1" in link), links

    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar").first.click()  # a download: no new page
    ics = download.value.path().read_text()
    assert "BEGIN:VCALENDAR" in ics and "TZID=Europe/London" in ics
    assert download.value.suggested_filename.endswith(".ics")
    assert live_server.url in ics or "UID:" in ics

    navigate(page.get_by_role("link", name="Cancel booking").first)
    check_page(page, "cancel-booking")
    navigate(page.get_by_role("button", name="Yes, cancel my booking"))
    assert "is cancelled" in page.content()
    check_page(page, "my-courses-cancelled")

    visit(page, course_url, "course-after-cancel")
    navigate(page.get_by_role("button", name="Book a place"))
    navigate(page.get_by_role("button", name="Book a place"))
    assert "You are booked on" in page.content()
    check_page(page, "my-courses-booked-again")

    # Another course of the same kind: its booking page says which place is already held, and links to it.
    visit(page, "/courses")
    page.get_by_label("Course", exact=True).select_option(label="Adult MHFA (two day)")
    page.get_by_label("Only courses with free places").check()
    navigate(page.get_by_role("button", name="Apply filters"))
    others = [href for href in page.locator("table.reach-stack tbody th a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))") if href != course_url]
    for other in others[:5]:  # the first whose dates do not clash with the place held
        visit(page, other.rstrip("/") + "/book")
        if page.locator("#booked-on-same-kind").count():
            break
    note = " ".join(page.locator("#booked-on-same-kind").inner_text().split())
    assert note.startswith("You already have a place on another Adult MHFA (two day) course, starting "), note
    check_page(page, "booking-page-same-kind")
    navigate(page.get_by_role("link", name="See that booking"))
    assert re.search(r"/my-courses#booking-\d+$", page.url), page.url
