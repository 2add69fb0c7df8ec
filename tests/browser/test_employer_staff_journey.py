"""The employer contact's daily job from the home page, by links and buttons only: find one member of
staff by search, book them onto a course, and find whose certificate expires in the next six months."""
import re

from tests.browser.conftest import check_page, login, navigate


def test_the_employer_finds_a_member_of_staff_books_them_and_finds_who_expires(page, live_server, width):
    login(page, "employer@example.org")
    check_page(page, "employer-home")
    navigate(page.get_by_role("link", name="Your staff and orders").first)
    check_page(page, "staff-list")
    assert page.locator("table.reach-stack tbody tr").count() <= 25, "a page of staff, not all of them"

    # Someone not booked, whose place the contact can book with: found again by searching their name.
    navigate(page.get_by_role("link", name=re.compile(r"^Not booked on a course \(\d+\)")))
    check_page(page, "staff-not-booked")
    book_link = page.locator("table.reach-stack tbody a", has_text="onto a course").first
    name = book_link.locator(".govuk-visually-hidden").inner_text().strip()
    assert name, "a member of staff with a place to book"
    page.get_by_label("Name or email address").fill(name.split()[-1])
    page.get_by_label("Show").select_option(label="All staff")
    navigate(page.get_by_role("button", name="Show staff"))
    row = page.locator("table.reach-stack tbody tr", has_text=name)
    assert row.count() == 1, f"{name} found by search"
    check_page(page, "staff-search")

    navigate(row.get_by_role("link", name=re.compile("onto a course")))
    check_page(page, "book-staff")
    checked = page.locator("input[name=vouchers]:checked")
    assert checked.count() == 1, "the member of staff chosen on the list is ticked"
    page.get_by_label("Course", exact=True).select_option(index=1)
    navigate(page.get_by_role("button", name="Book them"))
    assert re.search(r"1 booked, 0 on the waiting list|0 booked, 1 on the waiting list", page.content()), \
        page.locator(".govuk-error-summary, .govuk-notification-banner").first.inner_text()
    check_page(page, "staff-booked")
    page.get_by_label("Name or email address").fill(name.split()[-1])
    navigate(page.get_by_role("button", name="Show staff"))
    booked = page.locator("table.reach-stack tbody tr", has_text=name).inner_text()
    assert "Confirmed" in booked or "Waiting list" in booked, booked

    # Who expires in the next six months: from the coverage summary, soonest first, each one current.
    expiring = page.get_by_role("link", name=re.compile(r"certificates? expires? in the next six months"))
    navigate(expiring.first)
    check_page(page, "staff-expiring")
    rows = page.locator("table.reach-stack tbody tr")
    assert rows.count() >= 1
    for text in rows.all_inner_texts():
        assert " expires " in text and "Expired" not in text, text
    # And the orders have a page of their own.
    navigate(page.get_by_role("link", name=re.compile(r"^Your orders \(\d+\)")))
    check_page(page, "employer-orders")
    assert page.get_by_role("heading", name="Orders").is_visible()
