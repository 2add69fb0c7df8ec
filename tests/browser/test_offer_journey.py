"""No booking without consent, in the browser: the demo employer contact orders two places (a coordinator
invoices them) and gives one to the address of someone who already has an account, typing another name,
and the other to the demo trainee. The contact's pages show "offered" and only the name typed; the first
person accepts from their home page and chooses a date; the demo trainee declines from their account's
list of offers; the contact then sees each answer."""
import re

from tests.browser.conftest import check_page, login, navigate, unique_email, visit
from tests.browser.journeys import fill_profile, register_and_confirm

COURSE_TYPE = "Mental Health Aware (half day)"


def _invoiced_order(page, coordinator, places: int) -> int:
    visit(page, "/employer/orders/new")
    page.get_by_label("Places on any public course of a type").check()
    page.locator("#course_type").select_option(label=page.locator("#course_type option", has_text=COURSE_TYPE)
                                               .first.inner_text())
    page.get_by_label("Number of places").fill(str(places))
    page.get_by_label("Purchase order number").fill("PO-OFFERS")
    navigate(page.get_by_role("button", name="Place order"))
    order_id = int(re.search(r"/employer/orders/(\d+)", page.url).group(1))
    visit(coordinator, f"/manage/orders/{order_id}")
    navigate(coordinator.get_by_role("button", name="Issue the invoice"))
    return order_id


def _give(page, order_id: int, first: str, last: str, email: str) -> None:
    visit(page, f"/employer/orders/{order_id}")
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("Email address").fill(email)
    navigate(page.get_by_role("button", name="Give a place"))


def test_a_place_for_an_account_holder_waits_for_their_answer(page, new_page, live_server, width):
    account_email = unique_email("tara")
    person = new_page()
    register_and_confirm(person, live_server, account_email, first="Tara", last="Second", shots=False)
    fill_profile(person, shots=False)

    login(page, "employer@example.org")
    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    order_id = _invoiced_order(page, coordinator, places=2)

    _give(page, order_id, "Anyone", "Made-up", account_email)
    flashed = page.content()
    assert "Place offered to Anyone Made-up" in flashed and "nothing is booked until they accept" in flashed
    check_page(page, "order-place-offered")
    card = page.locator(".govuk-summary-card", has_text="Anyone Made-up")
    assert "Offered: waiting for them to accept or decline" in card.inner_text()
    assert "Tara" not in page.content() and "Second" not in page.content()
    _give(page, order_id, "Demo", "Trainee", "trainee@example.org")
    check_page(page, "order-two-offers")

    # The account holder accepts from their home page, then chooses a date.
    visit(person, "/", "home-with-offer")
    assert "Places offered to you" in person.content()
    navigate(person.get_by_role("button", name=re.compile("^Accept")).first)
    assert "You have accepted the place" in person.content()
    check_page(person, "offer-accepted-choose-date")
    person.get_by_role("radio").first.check()
    navigate(person.get_by_role("button", name="Book this date"))
    assert f"You are booked on {COURSE_TYPE}" in person.content()

    # The demo trainee declines from their account's list of offers.
    trainee = new_page()
    login(trainee, "trainee@example.org")
    visit(trainee, "/account")
    navigate(trainee.get_by_role("link", name=re.compile("places offered to you")))
    check_page(trainee, "place-offers")
    navigate(trainee.get_by_role("button", name=re.compile("^Decline")).first)
    assert "Nothing was booked" in trainee.content()
    check_page(trainee, "offer-declined")

    # The contact sees each answer, by the names they typed.
    visit(page, f"/employer/orders/{order_id}", "order-offers-answered")
    content = page.content()
    assert "Declined by Demo Trainee (trainee@example.org)" in content
    used = page.locator(".govuk-summary-card", has_text="Anyone Made-up").inner_text()
    assert "Used" in used and COURSE_TYPE in used, used
    assert "Tara" not in content and "Second" not in content
