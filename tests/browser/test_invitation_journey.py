"""An invitation a contact sent has expired: the link says so, accepts nothing, and emails a new link.

The demo employer contact invites a colleague from their contacts page. One SQL step
(:func:`_age_invitation`) stands in for the weeks passing: it moves the invitation's sending date back,
in the server's SQLite database (no page can). The colleague opens the old link (410, with the way
on), asks for a new one, and the new link from the outbox works.
"""
from __future__ import annotations

import sqlite3

from tests.browser.conftest import check_page, login, navigate, unique_email, visit


def _age_invitation(live_server, email: str, days: int) -> None:
    """The weeks passing: the invitation to ``email`` was sent ``days`` earlier (see the module docstring)."""
    with sqlite3.connect(live_server.instance / "mhfa.db", timeout=30) as database:
        changed = database.execute(
            "UPDATE employer_contact SET created_at = datetime(created_at, :shift) WHERE email = :email",
            {"shift": f"-{days} days", "email": email}).rowcount
    assert changed == 1


def test_an_expired_invitation_link_says_so_and_sends_a_new_one(page, new_page, live_server, width):
    colleague = unique_email("colleague")
    login(page, "employer@example.org")
    visit(page, "/employer/contacts", "contacts")
    page.get_by_label("Email address").fill(colleague)
    navigate(page.get_by_role("button", name="Send invitation"))
    check_page(page, "invited")
    assert f"We have emailed an invitation to {colleague}" in page.content()
    old_link = live_server.outbox.link(colleague, "/employers/invitations/")

    _age_invitation(live_server, colleague, days=30)
    visitor = new_page()
    response = visitor.goto(old_link)
    assert response.status == 410
    check_page(visitor, "expired-invitation")
    assert "it will work for another" in visitor.content()
    assert visitor.get_by_role("button", name="Accept the invitation").count() == 0

    navigate(visitor.get_by_role("button", name="Email me a new link"))
    assert f"We have emailed a new invitation link to {colleague}" in visitor.content()
    check_page(visitor, "new-link-sent")
    new_link = live_server.outbox.link(colleague, "/employers/invitations/")
    assert new_link != old_link
    assert visitor.goto(old_link).status == 404
    assert "use the link in the latest invitation email" in visitor.content()
    check_page(visitor, "replaced-link")
    assert visitor.goto(new_link).status == 200
    assert "This link works until" in visitor.content()
    check_page(visitor, "new-invitation")
