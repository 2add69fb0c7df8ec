"""The service navigation: what each role sees in the header."""
from __future__ import annotations

from flask import current_app, request, url_for

from mhfa.auth.models import Role

EVERYONE = None

# (label, endpoint, roles that see it; None = everyone). Items whose endpoint does not exist yet
# are left out, so an area adds its pages here and they appear when its blueprint is registered.
NAV_ITEMS: list[tuple[str, str, frozenset[Role] | None]] = [
    ("Find a course", "courses.finder", EVERYONE),
    ("My courses", "bookings.my_courses", frozenset({Role.TRAINEE})),
    ("Teaching", "attendance.my_teaching", frozenset({Role.INSTRUCTOR})),
    ("Staff and orders", "employers.dashboard", frozenset({Role.EMPLOYER})),
    ("Manage courses", "courses.manage_courses", frozenset({Role.COORDINATOR})),
    ("Employers", "employers.manage_organisations", frozenset({Role.COORDINATOR})),
    ("Reach", "reach.dashboard", frozenset({Role.BOARD, Role.COORDINATOR})),
    ("Forecast", "forecast.method", frozenset({Role.BOARD, Role.COORDINATOR})),
    ("Users", "admin.users", frozenset({Role.ADMIN})),
    ("People's records", "privacy.people", frozenset({Role.COORDINATOR})),
    ("Audit log", "privacy.audit_log", frozenset({Role.COORDINATOR})),
]


def navigation_for(user) -> list[dict]:
    items = []
    for label, endpoint, roles in NAV_ITEMS:
        if endpoint not in current_app.view_functions:
            continue
        if roles is not None and not (user.is_authenticated and user.has_role(*roles)):
            continue
        href = url_for(endpoint)
        items.append({"label": label, "href": href, "active": request.path.startswith(href) and href != "/"})
    return items
