"""The finder by postcode (nearest venues first) and its back links, which keep the search."""
from datetime import datetime, timedelta

import pytest

from mhfa.areas import services as areas
from mhfa.courses import listings
from mhfa.courses.listings import FinderFilters
from mhfa.courses.models import DeliveryMode
from mhfa.errors import DomainError
from mhfa.extensions import db
from tests import factories


def _start(days: int) -> datetime:
    return datetime.combine(datetime.now().date() + timedelta(days=days), datetime.min.time()).replace(hour=9)


def test_a_postcode_gives_its_district_and_council_area():
    assert areas.postcode_district(" cv1 5ff ") == "CV1" and areas.postcode_district("b15") == "B15"
    assert areas.postcode_district("not a postcode") is None
    assert areas.district_area_code("CV21") == "E07000220"  # Rugby, its own line
    assert areas.district_area_code("CV4") == "E08000026"   # Coventry, by the postcode area
    assert areas.distance_km("E08000025", "E08000025") == 0
    assert 25 < areas.distance_km("E08000025", "E08000026") < 32  # Birmingham to Coventry


def test_nearest_venues_come_first_from_a_postcode(app_ctx):
    coventry_hall = factories.venue("Coventry Hall", council_area="Coventry", postcode="CV1 2AB")
    far = factories.course("AWARE", start=_start(5), venue_=factories.venue("Wolves Hall", council_area="Wolverhampton",
                                                                           postcode="WV1 1AA"))
    near = factories.course("AWARE", start=_start(20), venue_=coventry_hall)
    middle = factories.course("AWARE", start=_start(3), venue_=factories.venue("Brum Hall", council_area="Birmingham",
                                                                             postcode="B1 1AA"))
    online = factories.course("AWARE", start=_start(1), mode=DeliveryMode.ONLINE)
    db.session.commit()
    near_cv1 = listings.nearness("CV1 5FF")
    assert near_cv1.area.name == "Coventry" and near_cv1.district == "CV1"
    page = listings.find_courses(FinderFilters(near=near_cv1))
    assert [item.course for item in page.items] == [near, middle, far, online]
    assert near_cv1.same_district(near) and near_cv1.km(far) > near_cv1.km(middle) > 0


@pytest.mark.parametrize("typed, message", [("SW1A 1AA", "We cannot place SW1A"), ("12345", "Enter a postcode")])
def test_a_postcode_outside_the_region_or_not_one_is_refused_on_the_field(app_ctx, client, typed, message):
    with pytest.raises(DomainError, match=message):
        listings.nearness(typed)
    html = client.get("/courses", query_string={"postcode": typed}).get_data(as_text=True)
    assert message in html


def test_the_finder_page_lists_the_nearest_first_and_says_how_far(app_ctx, client):
    factories.course("AWARE", start=_start(5), venue_=factories.venue("Wolves Hall", council_area="Wolverhampton",
                                                                      postcode="WV1 1AA"))
    factories.course("AWARE", start=_start(9), venue_=factories.venue("Coventry Hall", council_area="Coventry",
                                                                      postcode="CV1 2AB"))
    db.session.commit()
    html = client.get("/courses?postcode=cv1+5ff").get_data(as_text=True)
    assert html.index("Coventry Hall") < html.index("Wolves Hall")
    assert "Nearest to CV1 (Coventry) first" in html and "In CV1" in html and "km away" in html


def test_the_course_page_back_link_returns_to_the_search(app_ctx, client):
    course = factories.course("AWARE", start=_start(5))
    db.session.commit()
    client.get("/courses?type=AWARE&mode=in_person&free_places=y&bogus=1")
    html = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert 'href="/courses?type=AWARE&amp;mode=in_person&amp;free_places=y" class="govuk-back-link"' in html
    assert "Back to your search" in html
