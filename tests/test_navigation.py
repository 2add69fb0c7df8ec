"""Every role reaches all of its pages by clicking from its home page.

For each demo login, the test follows links (``<a href>`` only, as a person clicks) from ``/`` through
the demo history, and checks that every page the role may use is among the pages reached. "The pages a
role may use" come from ``tests/access_table.py``: every endpoint open to that role (or to any
signed-in user) that answers GET and needs no object id in its URL, plus the public pages listed in
``PUBLIC_PAGES``. Pages that need an object id (a course, an order) are not listed: they are reached by
following the links of the lists that lead to them.

When you add a page, link it from somewhere the role already reaches (the service navigation and the
section links are in ``mhfa/main/navigation.py``; the home page's panels in
``templates/main/home.html``). If the page is not meant for browsing (a form reached by a POST, a
download the page links with a query string), name it in ``NOT_PAGES`` with the reason.
"""
from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from mhfa.auth.models import Role
from mhfa.demo import accounts
from tests.access_table import EXPECTED_ACCESS, LOGIN, PUBLIC
from tests.conftest import csrf_token
from tests.demo.test_demo import history  # noqa: F401  (the shared demo history fixture)

# Public pages a signed-in user of any role uses (the rest of the public endpoints are for signed-out
# visitors, machines or token holders).
PUBLIC_PAGES = {"courses.finder", "reach.progress", "main.accessibility", "certificates.verify_form"}

# Endpoints open to a role that are not pages to browse to, with the reason.
NOT_PAGES = {
    "auth.resend_confirmation": "only for an address that is not confirmed yet (the demo's are)",
    "employers.register_organisation": "only for someone not linked to an employer yet",
}

# Pages of one object each role must reach through its lists (the demo history holds such objects).
OBJECT_PAGES = {
    Role.TRAINEE: {"courses.course_page", "certificates.download_pdf", "certificates.download_badge"},
    Role.INSTRUCTOR: {"attendance.course_registers", "attendance.register"},
    Role.EMPLOYER: {"employers.order", "employers.invoice_pdf"},
    Role.COORDINATOR: {"courses.manage_course", "courses.edit_course", "courses.edit_venue",
                       "courses.edit_instructor", "employers_manage.manage_order",
                       "employers_manage.manage_organisation"},
    Role.BOARD: {"reach.download"},
    Role.ADMIN: {"admin.edit_user"},
}

MAX_PER_ENDPOINT = 3   # distinct URLs followed per endpoint: enough to find every link a kind of page holds
MAX_PAGES = 400        # per role: a guard against a crawl that never ends


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(html: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    out = []
    for href in parser.hrefs:
        url = urldefrag(urljoin("http://localhost" + base, href))[0]
        parts = urlsplit(url)
        if parts.netloc != "localhost" or parts.scheme not in ("http", "https"):
            continue
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def _get_endpoints_without_arguments(app) -> set[str]:
    endpoints = set()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not (rule.arguments - set(rule.defaults or {})):
            endpoints.add(rule.endpoint)
    return endpoints


def pages_for(app, role: Role) -> set[str]:
    """The pages a user holding ``role`` may use, without an object id in the URL."""
    plain = _get_endpoints_without_arguments(app)
    pages = set()
    for endpoint, access in EXPECTED_ACCESS.items():
        if endpoint not in plain or endpoint in NOT_PAGES:
            continue
        allowed = access == LOGIN or (isinstance(access, set) and role in access)
        if allowed or (access == PUBLIC and endpoint in PUBLIC_PAGES):
            pages.add(endpoint)
    return pages


def crawl(app, client) -> tuple[set[str], dict[str, str]]:
    """Follow every link from the home page; the endpoints reached, and where each was first seen."""
    adapter = app.url_map.bind("localhost")
    reached: set[str] = set()
    first_seen: dict[str, str] = {}
    followed: dict[str, int] = {}
    queue, seen = deque([("/", "")]), {"/"}
    pages = 0
    while queue and pages < MAX_PAGES:
        url, source = queue.popleft()
        path, _, query = url.partition("?")
        try:
            endpoint, _args = adapter.match(path, method="GET", query_args=query)
        except HTTPException:
            continue
        if endpoint == "static":
            continue
        reached.add(endpoint)
        first_seen.setdefault(endpoint, source)
        if followed.get(endpoint, 0) >= MAX_PER_ENDPOINT or endpoint.startswith("api."):
            continue
        followed[endpoint] = followed.get(endpoint, 0) + 1
        response = client.get(url, headers={"Accept": "text/html"})
        pages += 1
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for link in _links(response.get_data(as_text=True), path):
            if link not in seen:
                seen.add(link)
                queue.append((link, url))
    return reached, first_seen


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
def test_every_page_of_each_role_is_reachable_from_its_home_page(app, history, client, role):  # noqa: F811
    email = f"{role.value}@{accounts.DEMO_DOMAIN}"
    response = client.post("/login", data={
        "email": email, "password": accounts.DEMO_PASSWORD, "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302, f"the demo login {email} failed"
    reached, _ = crawl(app, client)
    unreachable = sorted((pages_for(app, role) | OBJECT_PAGES[role]) - reached)
    assert not unreachable, (
        f"As the demo {role.value} ({email}), no chain of links from the home page leads to: "
        + ", ".join(unreachable)
        + ". Link each from a page the role reaches (mhfa/main/navigation.py holds the service navigation "
        "and each section's links), or name it in NOT_PAGES in tests/test_navigation.py with the reason.")


def test_the_role_pages_are_read_from_the_access_table(app):
    """A sanity check of the list itself: coordinators' tools are in it, other roles' are not."""
    coordinator = pages_for(app, Role.COORDINATOR)
    assert {"courses.manage_courses", "reach.upload", "reach.programme_settings", "reach.progress"} <= coordinator
    board = pages_for(app, Role.BOARD)
    assert {"reach.dashboard", "reach.progress"} <= board
    assert "reach.upload" not in board and "courses.manage_courses" not in board
