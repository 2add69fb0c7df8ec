"""The service navigation: the sections each role sees in the header, and each section's pages.

Every page a role uses is reached from here (or from a list that leads to one object's page):
``tests/test_navigation.py`` follows the links from each demo role's home page and names any page it
cannot reach. A new page goes into the section it belongs to, with the roles that may use it. Items
whose endpoint does not exist are left out, so an area's pages appear when its blueprint is registered.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, request, url_for

from mhfa.auth.models import Role

EVERYONE = None

COORDINATOR = frozenset({Role.COORDINATOR})
BOARD_AND_COORDINATOR = frozenset({Role.BOARD, Role.COORDINATOR})


@dataclass(frozen=True)
class Link:
    label: str
    endpoint: str
    roles: frozenset[Role] | None = EVERYONE   # None: whoever sees the section
    values: dict = field(default_factory=dict)
    keeps_filters: bool = False  # carries the board's filters from a page that has them (FILTERED_PAGES)


#: The pages with the board's filters (``mhfa.reach.forms.parse_filters``), and the filters' query arguments.
FILTERED_PAGES = ("reach.dashboard", "outcomes.board_outcomes")
FILTER_ARGS = ("basis", "area", "awareness", "from", "to", "type", "include_outside")


@dataclass(frozen=True)
class Section:
    label: str
    endpoint: str
    roles: frozenset[Role] | None
    links: tuple[Link, ...] = ()
    # Other endpoints (exact, or a prefix ending in ".") whose pages belong to this section.
    also: tuple[str, ...] = ()


SECTIONS: tuple[Section, ...] = (
    Section("Find a course", "courses.finder", EVERYONE, also=("courses.course_page", "bookings.book")),
    Section("My courses", "bookings.my_courses", frozenset({Role.TRAINEE}), (
        Link("My courses and certificates", "bookings.my_courses"),
        Link("Places offered to me", "places.place_offers"),
        Link("Tell me when there's a course", "bookings.course_interest"),
        Link("Add my courses to my calendar", "calendars.trainee_calendar"),
    ), also=("bookings.cancel", "bookings.transfer", "bookings.waiting_list_place", "bookings.remove_interest")),
    Section("Teaching", "attendance.my_teaching", frozenset({Role.INSTRUCTOR}), (
        Link("My teaching", "attendance.my_teaching"),
        Link("Add my teaching to my calendar", "calendars.instructor_calendar"),
        Link("My standing and development", "courses.my_standing"),
    ), also=("attendance.", "certificates.complete_course", "outcomes.course_results")),
    Section("Staff and orders", "employers.dashboard", frozenset({Role.EMPLOYER}), (
        Link("Staff and orders", "employers.dashboard"),
        Link("Order places", "employers.new_order"),
        Link("Ask for a closed course", "employers.request_course"),
        Link("Contacts", "employers.contacts"),
        Link("Wellbeing commitment", "commitments.commitment"),
    ), also=("employers.order", "employers.allocate", "employers.book_staff", "employers.upload_staff",
             "employers.reassign_place")),
    Section("Courses", "courses.manage_courses", COORDINATOR, (
        Link("Courses", "courses.manage_courses"),
        Link("Schedule a course", "courses.new_course"),
        Link("Venues", "courses.venues"),
        Link("Add a venue", "courses.new_venue"),
        Link("Instructors", "courses.instructors"),
        Link("Add an instructor", "courses.new_instructor"),
        Link("Instructors at risk of lapsing", "courses.instructors_at_risk"),
        Link("Area calendars", "calendars.area_calendars"),
        Link("Demand: people waiting for a course", "bookings.demand"),
        Link("Certificates", "certificates.find_certificate"),
        Link("Course evaluations", "outcomes.evaluation_settings"),
    ), also=("courses.", "certificates.", "attendance.", "bookings.cancel_trainee_booking",
             "bookings.transfer_trainee_booking", "bookings.demand",
             "outcomes.evaluation_settings")),
    Section("Employers", "employers_manage.manage_organisations", COORDINATOR, (
        Link("Organisations", "employers_manage.manage_organisations"),
        Link("Orders", "employers_manage.manage_orders"),
        Link("Closed-course requests", "employers_manage.manage_requests"),
    ), also=("employers.", "employers_manage.", "commitments.manage_commitment", "commitments.verify_commitment",
             "commitments.manage_commitment_listing")),
    Section("Reach", "reach.dashboard", BOARD_AND_COORDINATOR, (
        Link("Dashboard", "reach.dashboard", keeps_filters=True),
        Link("Outcomes", "outcomes.board_outcomes", keeps_filters=True),
        Link("Employers and the 5% ask", "commitments.employer_summary"),
        Link("Download every reach table (Excel)", "reach.download", values={"name": "all", "fmt": "xlsx"},
             keeps_filters=True),
        Link("Import completions", "reach.upload", COORDINATOR),
        Link("Programme settings", "reach.programme_settings", COORDINATOR),
        Link("Public progress page", "reach.progress"),
    ), also=("reach.", "outcomes.board_outcomes", "outcomes.download", "commitments.employer_summary_download")),
    Section("Forecast", "forecast.method", BOARD_AND_COORDINATOR, also=("forecast.",)),
    Section("Records", "privacy.people", COORDINATOR, (
        Link("People's records", "privacy.people"),
        Link("Audit log", "privacy.audit_log"),
    ), also=("privacy.people", "privacy.person_data", "privacy.erase_person", "privacy.audit_log")),
    Section("Users", "admin.users", frozenset({Role.ADMIN}), (
        Link("Users", "admin.users"),
        Link("Programme settings", "reach.programme_settings"),
    ), also=("admin.", "reach.programme_settings")),
)


def _allowed(user, roles) -> bool:
    return roles is None or (user.is_authenticated and user.has_role(*roles))


def _belongs(section: Section, endpoint: str | None) -> bool:
    if endpoint is None:
        return False
    if endpoint == section.endpoint or any(link.endpoint == endpoint for link in section.links):
        return True
    return any(endpoint.startswith(a) if a.endswith(".") else endpoint == a for a in section.also)


def sections_for(user) -> list[Section]:
    """The sections ``user`` sees, in order."""
    return [s for s in SECTIONS if s.endpoint in current_app.view_functions and _allowed(user, s.roles)]


def _active(sections: list[Section]) -> Section | None:
    endpoint = request.endpoint
    exact = [s for s in sections
             if endpoint == s.endpoint or any(link.endpoint == endpoint for link in s.links)]
    if exact:
        return exact[0]
    return next((s for s in sections if _belongs(s, endpoint)), None)


def navigation_for(user) -> list[dict]:
    """The service navigation's items: one per section the user sees."""
    sections = sections_for(user)
    active = _active(sections)
    return [{"label": s.label, "href": url_for(s.endpoint), "active": s is active} for s in sections]


def section_links_for(user) -> dict | None:
    """The links of the section the current page belongs to (shown under the service navigation)."""
    sections = sections_for(user)
    active = _active(sections)
    if active is None or not active.links:
        return None
    links = []
    for link in active.links:
        if link.endpoint not in current_app.view_functions:
            continue
        if not _allowed(user, link.roles):
            continue
        href = url_for(link.endpoint, **link.values, **(_filters_shown() if link.keeps_filters else {}))
        links.append({"label": link.label, "href": href,
                      "current": request.endpoint == link.endpoint and not link.values})
    return {"label": active.label, "links": links}


def _filters_shown() -> dict:
    """The board's filters of the page shown (none on a page without them), as query arguments."""
    if request.endpoint not in FILTERED_PAGES:
        return {}
    return {name: values for name in FILTER_ARGS if (values := [v for v in request.args.getlist(name) if v])}


def pages_for(user) -> list[dict]:
    """Every section and its pages, for the home page's list of everything the user can do."""
    out = []
    for section in sections_for(user):
        links = [
            {"label": link.label, "href": url_for(link.endpoint, **link.values)}
            for link in section.links
            if link.endpoint in current_app.view_functions and _allowed(user, link.roles)
        ]
        out.append({"label": section.label, "href": url_for(section.endpoint), "links": links})
    return out
