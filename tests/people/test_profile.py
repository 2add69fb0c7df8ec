"""The profile page: name, date of birth, areas, employer and the optional equality questions."""
from datetime import date

from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Person, Sex
from tests import factories


def _form(**overrides):
    data = {
        "first_name": "Grace", "last_name": "Hopper", "date_of_birth-day": "9", "date_of_birth-month": "12",
        "date_of_birth-year": "1986", "home_council_area": str(factories.area("Wolverhampton").id),
        "work_council_area": str(factories.area("Walsall").id), "postcode": "wv1 1aa", "employer": "",
        "age_band": "35-44", "sex": "prefer-not-to-say", "ethnic_group": "mixed", "disability": "no",
    }
    data.update(overrides)
    return data


def _signed_in(auth, *roles, **fields):
    user = factories.user(*(roles or (Role.TRAINEE,)), **fields)
    db.session.commit()
    auth.login(user)
    return user


def test_profile_saves_every_answer(client, auth, post_form):
    user = _signed_in(auth)
    employer = factories.employer("Walsall Housing Group")
    db.session.commit()
    page = client.get("/profile").get_data(as_text=True)
    assert "Council area where you live" in page and "Prefer not to say" in page
    assert "Walsall Housing Group" in page and "Mixed or multiple ethnic groups" in page
    response = post_form("/profile", _form(employer=str(employer.id)))
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, user.person_id)
    assert (person.first_name, person.last_name, person.date_of_birth) == ("Grace", "Hopper", date(1986, 12, 9))
    assert person.home_council_area.name == "Wolverhampton" and person.work_council_area.name == "Walsall"
    assert person.postcode == "WV1 1AA" and person.employer_id == employer.id
    assert (person.age_band, person.sex, person.ethnic_group, person.disability) == (
        AgeBand.AGE_35_44, Sex.PREFER_NOT_TO_SAY, EthnicGroup.MIXED, Disability.NO)
    page = client.get("/profile").get_data(as_text=True)
    assert 'value="1986"' in page and 'value="WV1 1AA"' in page


def test_equality_questions_and_postcode_are_optional(client, auth, post_form):
    user = _signed_in(auth)
    data = _form(postcode="", work_council_area="")
    for question in ("age_band", "sex", "ethnic_group", "disability"):
        data.pop(question)
    assert post_form("/profile", data).status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, user.person_id)
    assert person.postcode is None and person.work_council_area_id is None
    assert (person.age_band, person.sex, person.ethnic_group, person.disability) == (None, None, None, None)


def test_bad_answers_name_the_field_and_keep_the_input(client, auth, post_form):
    user = _signed_in(auth)
    before = db.session.get(Person, user.person_id).date_of_birth
    response = post_form("/profile", _form(**{"date_of_birth-day": "31", "date_of_birth-month": "2",
                                              "last_name": "", "postcode": "zzz"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#date_of_birth-day"' in html and "Date of birth must be a real date" in html
    assert "Enter your last name" in html and "Enter a real postcode" in html  # every problem at once
    assert 'value="31"' in html
    assert 'value="Grace"' in html
    missing = post_form("/profile", _form(**{"date_of_birth-year": ""})).get_data(as_text=True)
    assert "Date of birth must include a year" in missing
    future = post_form("/profile", _form(**{"date_of_birth-year": str(date.today().year + 1)}))
    assert "Date of birth must be in the past" in future.get_data(as_text=True)
    postcode = post_form("/profile", _form(postcode="NOT A POSTCODE")).get_data(as_text=True)
    assert 'href="#postcode"' in postcode and "Enter a real postcode" in postcode
    assert 'value="NOT A POSTCODE"' in postcode
    db.session.expire_all()
    assert db.session.get(Person, user.person_id).date_of_birth == before


def test_an_employer_contact_cannot_move_themselves_to_another_employer(client, auth, post_form):
    mine, other = factories.employer("Mine Ltd"), factories.employer("Other Ltd")
    user = _signed_in(auth, Role.EMPLOYER, Role.TRAINEE, employer=mine)
    page = client.get("/profile").get_data(as_text=True)
    assert "set by the programme team" in page and 'name="employer"' not in page
    assert post_form("/profile", _form(employer=str(other.id))).status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, user.person_id).employer_id == mine.id


def test_an_account_without_a_confirmed_record_is_asked_to_confirm(client, auth):
    from mhfa.auth import services
    from mhfa.people.models import PersonSource

    factories.person("Pat", "Pending", email="pending@example.org", source=PersonSource.IMPORT)
    user = services.register("pending@example.org", "lantern-orchard-pebble", first_name="P", last_name="P")
    db.session.commit()
    assert user.person is None
    auth.login(user, "lantern-orchard-pebble")
    html = client.get("/profile").get_data(as_text=True)
    assert "Confirm your email address" in html
    assert "Confirm your email address" in client.get("/my-courses").get_data(as_text=True)
