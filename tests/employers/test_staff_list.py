"""The employer's staff list as a tool: search, the five filters, sorting and pages; each person's
latest current certificate and next booking with their own dates; held places as their own figure."""
from datetime import date, datetime, timedelta

from mhfa.bookings.models import BookingStatus
from mhfa.courses.models import CourseStatus
from mhfa.employers import claims, coverage, reports, vouchers
from mhfa.extensions import db
from tests import factories

YEARS_3 = 3 * 365


def _staff(client=None):
    acme = factories.employer("Acme", headcount=100)
    contact = factories.contact(acme)
    order = factories.order(acme, places=6, by=contact)
    names = ["Ada Booked", "Bea Expiring", "Cy Lapsed", "Di Renewed", "Ed Noshow", "Flo Nothing"]
    people = {}
    for name in names:
        first, last = name.split()
        voucher = vouchers.allocate_one(acme, order, first, last, f"{first.lower()}@acme.example", by=contact)
        people[first] = voucher.assigned_person
    today = date.today()
    # Ada: booked on a closed course a fortnight ahead.
    factories.booking_on(factories.course("AWARE", employer_id=acme.id), people["Ada"])
    # Bea: a current certificate that expires in about a month.
    factories.arranged_certificate(acme, people["Bea"], issued_on=today - timedelta(days=YEARS_3 - 30))
    # Cy: a certificate that expired in 2022.
    factories.arranged_certificate(acme, people["Cy"], issued_on=date(2019, 3, 4))
    # Di: an expired 2019 certificate and a current one from a refresher.
    factories.arranged_certificate(acme, people["Di"], issued_on=date(2019, 3, 4))
    renewed = factories.arranged_certificate(acme, people["Di"], "REFRESHER", issued_on=today - timedelta(days=100))
    # Ed: booked on a 2019 course that was completed without him (a no-show).
    past = factories.course("AWARE", start=datetime(2019, 5, 1, 9), employer_id=acme.id,
                            status=CourseStatus.COMPLETED)
    factories.booking_on(past, people["Ed"])
    db.session.commit()
    return acme, contact, people, renewed


def _names(page):
    return [r.first_name for r in page.items]


def test_each_filter_finds_its_staff_and_the_counts_match(app_ctx):
    acme, _, people, _ = _staff()
    expected = {"booked": ["Ada"], "not-booked": ["Bea", "Cy", "Di", "Ed", "Flo"],
                "completed": ["Bea", "Cy", "Di"], "expiring": ["Bea"], "expired": ["Cy"]}
    counts = reports.staff_counts(acme)
    assert counts["all"] == 6
    for show, names in expected.items():
        found = reports.staff_page(acme, 1, show=show)
        assert sorted(_names(found)) == names, show
        assert counts[show] == found.total == len(names), show
    # The coverage's "expiring in six months" is the same people as the filter.
    assert [c.person_id for c in coverage.coverage(acme).expiring] == [people["Bea"].id]


def test_search_by_typed_name_or_email_and_sorting(app_ctx):
    acme, _, people, _ = _staff()
    assert _names(reports.staff_page(acme, 1, q="LAPSED")) == ["Cy"]
    assert _names(reports.staff_page(acme, 1, q="di@acme")) == ["Di"]
    assert _names(reports.staff_page(acme, 1, q="100%_")) == []  # wildcards are plain characters
    assert _names(reports.staff_page(acme, 1, sort="expiry"))[:2] == ["Bea", "Di"]
    assert _names(reports.staff_page(acme, 1, sort="next"))[0] == "Ada"
    second = reports.staff_page(acme, 2, per_page=4)
    assert second.total == 6 and len(second.items) == 2


def test_each_row_shows_the_certificate_and_the_next_booking_with_their_own_dates(app_ctx):
    acme, _, people, renewed = _staff()
    rows = {r.first_name: r for r in reports.staff(acme)}
    assert rows["Cy"].certificate_expired and "expired 4 March 2022" in rows["Cy"].certificate
    assert not rows["Di"].certificate_expired and rows["Di"].certificate_number == renewed.number
    assert "expires" in rows["Di"].certificate and rows["Di"].booking == "Not booked"
    assert rows["Ada"].booking == "Confirmed" and rows["Ada"].certificate == "None"
    assert rows["Ada"].next_starts_on == date.today() + timedelta(days=14)
    assert rows["Ed"].attendance.startswith("Mental Health Aware (half day), 1 May 2019: did not complete")
    assert rows["Ed"].completed_on is None


def test_the_page_filters_and_refuses_nothing_it_does_not_know(client, auth):
    acme, contact, _, _ = _staff()
    auth.login(contact)
    page = client.get("/employer?show=expired").get_data(as_text=True)
    assert "Cy Lapsed" in page and "Bea Expiring" not in page and "1 of 6 staff: certificate expired" in page
    assert "<strong class=\"govuk-tag govuk-tag--red\">Expired</strong>" in page
    for query in ("?show=nonsense&sort=nonsense", "?q=" + "x" * 500, "?page=-3", "?q=%25"):
        assert client.get("/employer" + query).status_code == 200, query
    expiring = client.get("/employer").get_data(as_text=True)
    assert "1 person’s certificate expires in the next six months" in expiring
    assert "Your orders (1)" in expiring and "Order 1:" not in expiring
    assert "Order 1:" in client.get("/employer/orders").get_data(as_text=True)


def test_a_place_held_on_a_waiting_list_is_its_own_figure(app_ctx):
    acme = factories.employer("Acme")
    contact = factories.contact(acme)
    order = factories.order(acme, places=2, by=contact)
    full = factories.course("AWARE", capacity=1)
    factories.booking_on(full, factories.person("Some", "One", date_of_birth=date(1990, 1, 1)))
    given = vouchers.allocate_one(acme, order, "Wai", "Ting", "wai@acme.example", date_of_birth=date(1990, 1, 1),
                                  by=contact)
    made = claims.book_staff(acme, [given.id], full.id, by=contact)
    assert made[0].status is BookingStatus.WAITLISTED
    figures = reports.places(acme)
    assert (figures.used, figures.held, figures.allocated) == (0, 1, 1)
