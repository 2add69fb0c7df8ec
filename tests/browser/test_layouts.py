"""Every list page each role works from fits a 375 px phone (stacked rows), passes axe, and is screenshotted."""
import pytest

from tests.browser.conftest import check_page, login, navigate, unique_email

LONG_NAME_PASSWORD = "a long name, a long walk"  # noqa: S105  (a test account's password)

PAGES = {
    "public": ["/", "/courses", "/courses?mode=online", "/login", "/register", "/accessibility",
               "/committed-employers"],
    "trainee@example.org": ["/", "/my-courses", "/profile", "/account"],
    "coordinator@example.org": ["/", "/manage/courses", "/manage/venues", "/manage/instructors",
                                "/manage/courses/new", "/manage/venues/new", "/manage/instructors/at-risk"],
    "admin@example.org": ["/", "/admin/users"],
    "employer@example.org": ["/", "/employer/commitment"],
    "instructor@example.org": ["/", "/teaching/standing"],
    "board@example.org": ["/", "/reach/employers"],
}


@pytest.mark.parametrize("who", list(PAGES))
def test_pages_fit_the_screen_and_pass_axe(page, who):
    if who != "public":
        login(page, who)
    for path in PAGES[who]:
        response = page.goto(path)
        assert response.status == 200, path
        check_page(page, f"{who.split('@')[0]}-{path}")


def test_a_coordinators_course_page_with_bookings_fits(page):
    """The course page lists confirmed places and the waiting list as stacked rows on a phone."""
    login(page, "coordinator@example.org")
    page.goto("/manage/courses?status=published")
    navigate(page.locator("table a.govuk-link").first)
    assert page.locator("#bookings").is_visible()
    check_page(page, "manage-course")


@pytest.mark.parametrize("who", ["public", "trainee@example.org", "a longer name"])
def test_the_headers_account_links_sit_at_its_right_edge(page, who, live_server):
    """Sign in (or the account's name and Sign out) end where the page's content ends, at any width, also when a
    longer name puts them on a row of their own (on a phone)."""
    if who == "a longer name":
        email = unique_email("long-name")
        live_server.flask("mhfa", "create-user", "--email", email, "--role", "trainee", "--name",
                          "Bartholomew Brown", "--password", LONG_NAME_PASSWORD)
        login(page, email, LONG_NAME_PASSWORD)
    elif who != "public":
        login(page, who)
    page.goto("/courses")
    container = page.locator(".reach-header .govuk-header__container").bounding_box()
    links = page.locator(".reach-header__account > *").last.bounding_box()  # Sign in, or Sign out
    content = page.locator("main").bounding_box()
    assert abs((links["x"] + links["width"]) - (container["x"] + container["width"])) < 2
    assert abs((container["x"] + container["width"]) - (content["x"] + content["width"])) < 16
