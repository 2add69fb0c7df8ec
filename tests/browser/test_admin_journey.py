"""The admin's daily job from the home page, by links and buttons only: invite a user, who sets their
password from the emailed link (the suite's real outbox) and signs in."""
import re

from tests.browser.conftest import check_page, login, navigate, unique_email

PASSWORD = "a-long-walk-by-the-canal-7"


def test_the_admin_invites_a_user_who_sets_their_password(page, new_page, live_server, width):
    login(page, "admin@example.org")
    check_page(page, "admin-home")
    navigate(page.get_by_role("link", name="Users").first)
    check_page(page, "users")
    navigate(page.get_by_role("link", name="Add a user"))
    check_page(page, "add-user")
    email = unique_email("invited-coordinator-with-a-rather-long-address")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("First name").fill("Ines")
    page.get_by_label("Last name").fill("Vited")
    page.get_by_label("Coordinator").check()
    page.get_by_label("Instructor").check()
    page.get_by_label("Email them an invitation").check()
    navigate(page.get_by_role("button", name="Add the user"))
    assert "licence number" in page.locator(".govuk-error-summary").inner_text()
    check_page(page, "add-user-refused")
    page.get_by_label("Licence number").fill("LIC-" + re.sub(r"\D", "", email))  # unique, as the address is
    page.get_by_label("Licence valid until").fill("2030-03-31")
    navigate(page.get_by_role("button", name="Add the user"))
    assert f"We have emailed {email} an invitation" in page.content()
    check_page(page, "user-invited")  # the edit page, its long address and all, fits 375 px

    invitee = new_page()
    link = live_server.outbox.link(email, "/account/invitation/")
    invitee.goto(link)
    check_page(invitee, "set-password")
    invitee.get_by_label("New password", exact=True).fill(PASSWORD)
    invitee.get_by_label("Confirm your new password").fill(PASSWORD)
    navigate(invitee.get_by_role("button", name="Set password"))
    assert "Your password is set" in invitee.content()
    login(invitee, email, PASSWORD)
    check_page(invitee, "invitee-home")
