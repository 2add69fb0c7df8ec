"""Each demo login reaches work for its role at once (issue 8: the demo trainee could book nothing)."""
import json

from tests.browser.conftest import check_page, login, navigate, visit


def test_trainee_sees_their_place_and_can_book_another_course(page, live_server):
    login(page, "trainee@example.org")
    check_page(page, "trainee-home")
    navigate(page.get_by_role("link", name="See all your courses"))
    assert page.locator("text=Booked").count() >= 1, "the demo trainee has a place ahead"
    check_page(page, "trainee-my-courses")
    courses = json.loads(page.request.get("/api/v1/courses?type=AWARE&free_places=true&per_page=100").text())
    booked = page.locator("table a.govuk-link").all_inner_texts()
    course = next(c for c in courses["courses"] if c["places_left"] > 1 and c["title"] not in booked)
    visit(page, f"/courses/{course['id']}/book", "trainee-booking-page")
    assert "You cannot book this course" not in page.content()
    assert page.get_by_role("button", name="Book a place").is_visible()


def test_employer_sees_their_organisation(page):
    login(page, "employer@example.org")
    assert "paid places not used yet" in page.content()
    check_page(page, "employer-home")


def test_instructor_sees_their_teaching_and_calendar(page):
    login(page, "instructor@example.org")
    teaching = page.locator("section[aria-labelledby=instructor-heading] li")
    assert teaching.count() >= 1, "the demo instructor teaches a course ahead"
    check_page(page, "instructor-home")
    navigate(page.get_by_role("link", name="Add your teaching to your calendar"))
    check_page(page, "instructor-calendar")


def test_coordinator_can_assign_only_licensed_instructors(page, live_server):
    login(page, "coordinator@example.org")
    check_page(page, "coordinator-home")
    visit(page, "/manage/courses?status=published", "coordinator-published")
    navigate(page.locator("table.reach-stack tbody th a").first)
    options = page.locator("#instructor option").all_inner_texts()[1:]
    assert options, "instructors to assign"
    for option in options:  # "Name (licence MHFA-…, valid until 3 Mar 2027)"
        assert "valid until" in option
    visit(page, "/manage/instructors", "coordinator-instructors")
    for row in page.locator("table.reach-stack tbody tr").all():
        if row.locator(".govuk-tag", has_text="Expired").count():  # a lapsed licence is not an active instructor
            assert row.locator('td[data-label="Active"]').inner_text().strip() == "No", row.inner_text()


def test_board_sees_the_programmes_reach(page):
    login(page, "board@example.org")
    assert "Programme reach" in page.content() and "people counted toward the target so far" in page.content()
    font = page.evaluate("getComputedStyle(document.querySelector('.reach-stat')).fontFamily")
    assert "serif" not in font.replace("sans-serif", ""), f"stat cards in {font}"
    check_page(page, "board-home")


def test_admin_manages_users(page):
    login(page, "admin@example.org")
    navigate(page.get_by_role("link", name="Manage users"))
    assert page.locator("table.reach-stack tbody tr").count() >= 6
    check_page(page, "admin-users")
