"""An employer contact registers (sign-up and email confirmation) and registers the organisation; a
coordinator approves it; the contact orders five places, a coordinator invoices them, the contact
downloads the VAT invoice PDF and hands three places out by CSV; a member of staff opens the emailed
link, signs up, picks a date and is booked; the contact's staff view shows them booked."""
import re
import shutil
import subprocess
import time
from datetime import timedelta

from tests.browser.conftest import check_page, login, navigate, unique_email, visit
from tests.browser.journeys import register_and_confirm

COURSE_TYPE = "Adult MHFA (two day)"


PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"


def _pdf_text(path) -> str:
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def _registered_and_approved(page, new_page, live_server, width, shots: bool = True):
    """A new contact signs up and registers an organisation; a coordinator approves it. Returns the
    organisation's name, the contact's address and the coordinator's page."""
    stamp = f"{int(time.time() * 1000) % 10_000_000}-{width}"
    organisation = f"Canal Works {stamp}"
    contact_email = unique_email("hr")
    register_and_confirm(page, live_server, contact_email, first="Hana", last="Contact",
                         shots=shots and width == "desktop")
    visit(page, "/employers/register", "register-organisation")
    page.get_by_label("Organisation name").fill(organisation)
    page.get_by_label("Sector", exact=True).select_option(label="Private sector")
    page.get_by_label("Size", exact=True).select_option(label="Medium (50 to 249 staff)")
    page.get_by_label("Number of staff").fill("80")
    page.get_by_label("Council area").select_option(label="Sandwell")
    page.get_by_label("Billing address").fill("Accounts\n1 Canal Street\nB70 1AA")
    navigate(page.get_by_role("button", name="Register organisation"))
    assert f"{organisation} is registered" in page.content()
    if shots:
        check_page(page, "organisation-registered")

    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    visit(coordinator, "/manage/employers", "manage-employers")
    navigate(coordinator.get_by_role("link", name=organisation))
    if shots:
        check_page(coordinator, "manage-employer-pending")
    navigate(coordinator.get_by_role("button", name=f"Approve {organisation}"))
    assert f"{organisation} is approved" in coordinator.content()
    if shots:
        check_page(coordinator, "manage-employer-approved")
    assert any(f"{organisation} is approved" in str(m["Subject"])
               for m in live_server.outbox.messages(contact_email))
    return organisation, contact_email, coordinator


def test_employer_registers_orders_five_hands_out_three_and_a_member_of_staff_books(page, new_page, live_server,
                                                                                  width):
    outbox = live_server.outbox
    organisation, contact_email, coordinator = _registered_and_approved(page, new_page, live_server, width)
    stamp = organisation.rsplit(" ", 1)[-1]

    # The contact orders five places on a course type.
    visit(page, "/employer", "employer-dashboard-empty")
    navigate(page.locator("#main-content").get_by_role("link", name="Order places"))
    check_page(page, "new-order")
    page.get_by_label("Places on any public course of a type").check()
    option = page.locator("#course_type option", has_text=COURSE_TYPE).first.inner_text()
    page.locator("#course_type").select_option(label=option)
    page.get_by_label("Number of places").fill("5")
    page.get_by_label("Purchase order number").fill(f"PO-{stamp}")
    navigate(page.get_by_role("button", name="Place order"))
    assert "Order placed for 5 places" in page.content()
    check_page(page, "order-pending")
    order_id = int(re.search(r"/employer/orders/(\d+)", page.url).group(1))

    # A coordinator issues the invoice.
    visit(coordinator, f"/manage/orders/{order_id}", "manage-order-pending")
    navigate(coordinator.get_by_role("button", name="Issue the invoice"))
    flashed = coordinator.locator(".govuk-notification-banner, [role=alert], .govuk-panel").first.inner_text()
    invoice_number = re.search(r"INV-\d{6}", coordinator.content()).group(0)
    assert invoice_number in flashed or invoice_number in coordinator.content()
    check_page(coordinator, "manage-order-invoiced")

    # The contact downloads the invoice PDF: number, VAT number, quantity 5 and the total.
    visit(page, f"/employer/orders/{order_id}", "order-invoiced")
    total = page.locator(".govuk-summary-list__row", has_text="Total").locator("dd").first.inner_text()
    total = re.search(r"£[\d,]+\.\d\d", total).group(0)
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download invoice {invoice_number} (PDF)").click()
    assert download.value.suggested_filename == f"{invoice_number}.pdf"
    text = _pdf_text(download.value.path())
    assert invoice_number in text
    assert "GB 000 0000 00" in text, "the supplier's VAT registration number"
    assert re.search(r"(^|\s)5(\s|$)", text, re.M), "the quantity, 5 places"
    assert total in text, f"the total {total}"
    assert organisation in text

    # Three places handed out by uploading a CSV of names and emails.
    staff = [("Ali", "Shah", unique_email("ali")), ("Bea", "Jones", unique_email("bea")),
             ("Cy", "Lee", unique_email("cy"))]
    csv = "first_name,last_name,email,date_of_birth\n" + "".join(
        f"{first},{last},{email},1990-02-0{n}\n" for n, (first, last, email) in enumerate(staff, start=1))
    page.get_by_label("CSV file of staff").set_input_files(
        {"name": "staff.csv", "mimeType": "text/csv", "buffer": csv.encode()})
    navigate(page.get_by_role("button", name="Upload and give places"))
    assert "3 places given out" in page.content()
    assert "2 not given out" in page.content()
    check_page(page, "order-places-given")

    # A member of staff opens the link from their email, signs up, picks a date and is booked.
    first, last, staff_email = staff[0]
    link = outbox.link(staff_email, "/places/")
    assert link.startswith(live_server.url + "/places/")
    member = new_page()
    visit(member, link, "claim-signed-out")
    assert "create an account" in member.content()
    register_and_confirm(member, live_server, staff_email, first=first, last=last, shots=False)
    visit(member, link, "claim-choose-date")
    member.get_by_role("radio").first.check()
    navigate(member.get_by_role("button", name="Book this date"))
    assert f"You are booked on {COURSE_TYPE}" in member.content(), member.url
    check_page(member, "booked-with-place")
    assert any(str(m["Subject"]).startswith("Booking confirmed") for m in outbox.messages(staff_email))

    # The contact's staff view shows them booked, and the place used.
    visit(page, "/employer", "employer-dashboard-booked")
    card = page.locator("tr", has_text=f"{first} {last}")
    assert "Confirmed" in card.inner_text() and COURSE_TYPE in card.inner_text(), card.inner_text()
    stats = page.locator(".reach-panel-grid").inner_text()
    assert re.search(r"5\s+places bought", stats) and re.search(r"3\s+given to staff", stats), stats
    assert re.search(r"1\s+used for a seat on a course", stats), stats


def test_a_coordinator_schedules_a_closed_course_request_in_one_step(page, new_page, live_server, width):
    organisation, contact_email, coordinator = _registered_and_approved(page, new_page, live_server, width,
                                                                        shots=False)
    # A venue of the demo history, by name, and a date some weeks ahead.
    coordinator.goto("/manage/courses/new")
    venue_label = coordinator.locator("#venue option").nth(1).inner_text()
    venue_name = venue_label.split(",")[0]
    day = live_server.today + timedelta(days=50 if width == "desktop" else 51)

    visit(page, "/employer/closed-course-requests/new", "closed-course-request")
    page.get_by_label("Course", exact=True).select_option(label="Mental Health Aware (half day)")
    page.get_by_label("Preferred dates").fill(f"{day:%-d %B %Y}, or the week after")
    page.get_by_label("Location").fill(f"{venue_name}, please")
    page.get_by_label("Number of learners").fill("10")
    navigate(page.get_by_role("button", name="Send request"))
    assert "Request sent" in page.content()

    visit(coordinator, "/manage/closed-course-requests", "manage-requests")
    navigate(coordinator.get_by_role("link", name=f"{organisation}: Mental Health Aware (half day)").first)
    check_page(coordinator, "manage-request")
    navigate(coordinator.get_by_role("link", name="Schedule the closed course"))
    check_page(coordinator, "schedule-request")
    # Filled in from the request: the type, the organisation, the venue, the date and the learners.
    selected = coordinator.evaluate("id => document.getElementById(id).selectedOptions[0].text", "course_type")
    assert selected == "Mental Health Aware (half day)"
    assert coordinator.evaluate("() => document.getElementById('employer').selectedOptions[0].text") \
        == f"Only staff of {organisation}"
    assert coordinator.evaluate("() => document.getElementById('venue').selectedOptions[0].text") == venue_label
    assert coordinator.get_by_label("Session 1 date").input_value() == day.isoformat()
    assert coordinator.get_by_label("Capacity (places)").input_value() == "10"

    # The usual course rules: sessions that do not add up are refused, then put right and saved.
    coordinator.get_by_label("Session 1 start time").fill("09:30")
    coordinator.get_by_label("Session 1 end time").fill("11:30")
    navigate(coordinator.get_by_role("button", name="Schedule the closed course"))
    assert any(e.startswith("The sessions add up to 2 hours")
               for e in coordinator.locator(".govuk-error-summary__list li").all_inner_texts())
    check_page(coordinator, "schedule-request-refused")
    coordinator.get_by_label("Session 1 end time").fill("13:30")
    navigate(coordinator.get_by_role("button", name="Schedule the closed course"))
    assert f"Closed course saved as a draft for {organisation}" in coordinator.content()
    assert re.search(r"/manage/courses/\d+$", coordinator.url)
    check_page(coordinator, "closed-course-scheduled")

    visit(page, "/employer", "employer-dashboard-request-scheduled")
    navigate(page.get_by_role("link", name=re.compile(r"^Your orders")))
    check_page(page, "employer-orders")
    requests_section = page.locator("h2", has_text="Closed course requests").locator("xpath=following-sibling::dl[1]")
    assert "Scheduled" in requests_section.inner_text()
    assert any(str(m["Subject"]).startswith("Your closed course is scheduled")
               for m in live_server.outbox.messages(contact_email))
