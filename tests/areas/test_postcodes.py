"""One UK postcode rule (mhfa.areas.services), used for venues and for people's profiles alike."""
import pytest

from mhfa.areas import services
from mhfa.auth.models import Role
from mhfa.errors import DomainError
from mhfa.people import services as people
from tests import factories

REAL = [("cv1 2ab", "CV1 2AB"), ("B11AA", "B1 1AA"), ("EC1A 1BB", "EC1A 1BB"), ("w1a0ax", "W1A 0AX"),
        (" m1  1ae ", "M1 1AE"), ("wv10 0qp", "WV10 0QP"), ("GIR 0AA", "GIR 0AA")]
NOT_REAL = ["B1", "12345", "BB1 1A1", "QQ1 1AA", "B1 1CI", "ZZ99 9ZZ", "V1 1AA"]


@pytest.mark.parametrize(("typed", "stored"), REAL)
def test_a_real_postcode_is_tidied(typed, stored):
    assert services.postcode_is_valid(typed)
    assert services.normalise_postcode(typed) == stored


@pytest.mark.parametrize("typed", NOT_REAL)
def test_an_impossible_postcode_is_refused(typed):
    assert not services.postcode_is_valid(typed)
    with pytest.raises(DomainError, match="Enter a real postcode, like B1 2ND") as refused:
        services.normalise_postcode(typed)
    assert refused.value.field == "postcode"


def test_an_empty_postcode_is_none_unless_one_is_required():
    assert services.normalise_postcode("  ") is None and services.normalise_postcode(None) is None
    with pytest.raises(DomainError, match="Enter the postcode"):
        services.normalise_postcode("", required=True)


@pytest.mark.parametrize("typed", ["QQ1 1AA", "B1 1CI"])
def test_profiles_and_venues_refuse_the_same_postcodes(app_ctx, typed):
    from mhfa.courses import venues

    user = factories.user(Role.TRAINEE)
    changes = people.profile_of(user.person)
    changes.postcode = typed
    with pytest.raises(DomainError, match="Enter a real postcode") as refused:
        people.update_profile(user, changes)
    assert refused.value.field == "postcode"
    with pytest.raises(DomainError, match="Enter a real postcode"):
        venues.create_venue(venues.VenueDetails(name="Hall", address_line1="1 Street", town="Town",
                                                  postcode=typed, council_area=factories.area()))
