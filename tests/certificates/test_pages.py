"""Public verification (link and form), and the coordinators' revoke and reissue pages."""
from datetime import date, timedelta

import pytest

from mhfa.auth.models import Role
from mhfa.certificates import services
from mhfa.extensions import db
from mhfa.timeutil import utcnow
from tests import factories


def test_the_link_says_valid_and_shows_only_name_title_dates_and_programme(client):
    person = factories.person("Vera", "Valid", postcode="B1 1AA")
    cert = factories.certificate(person)
    db.session.commit()
    html = client.get(f"/verify/{cert.verification_token}").get_data(as_text=True)
    assert "Valid certificate" in html and "Vera Valid" in html and cert.title in html
    assert "West Midlands" in html
    assert person.email not in html and "B1 1AA" not in html and "1985" not in html


@pytest.mark.parametrize("kind,expected", [("expired", "expired on"), ("revoked", "was revoked on"),
                                           ("erased", "Record erased")])
def test_the_link_says_expired_revoked_or_erased(client, kind, expected):
    person = factories.person("Nora", "Notvalid")
    if kind == "expired":
        cert = factories.certificate(person, issued_on=date.today() - timedelta(days=1500))
    else:
        cert = factories.certificate(person, revoked=kind == "revoked")
    if kind == "erased":
        person.erased_at = utcnow()
    db.session.commit()
    html = client.get(f"/verify/{cert.verification_token}").get_data(as_text=True)
    assert expected in html
    if kind == "erased":
        assert "Nora" not in html


def test_a_made_up_link_is_a_404(client):
    assert client.get("/verify/not-a-real-token").status_code == 404
    assert client.get("/verify/" + "x" * 200).status_code == 404


def test_the_form_finds_a_certificate_by_number_and_surname(client, post_form):
    cert = factories.certificate(factories.person("Sam", "O'Neill"))
    cert.number = "MR2026-7K3Q-9XHD"
    db.session.commit()
    response = post_form("/verify", {"number": "mr2026 7k3q 9xhd", "surname": " o'neill "})
    assert response.status_code == 200 and "Valid certificate" in response.get_data(as_text=True)


@pytest.mark.parametrize("number,surname,status,message", [
    ("MR2026-7K3Q-9XHE", "Jones", 404, "No certificate matches that number and last name"),
    ("MR2026-7K3Q-9XHD", "Jonas", 404, "No certificate matches that number and last name"),
    ("hello", "Jones", 422, "Enter the certificate number as it is printed"),
    ("", "Jones", 422, "Enter the certificate number"),
    ("MR2026-7K3Q-9XHD", "", 422, "Enter the certificate holder"),
])
def test_the_form_answers_a_mistyped_number_or_wrong_surname_clearly(client, post_form, number, surname, status,
                                                                      message):
    cert = factories.certificate(factories.person("Jo", "Jones"))
    cert.number = "MR2026-7K3Q-9XHD"
    db.session.commit()
    response = post_form("/verify", {"number": number, "surname": surname})
    html = response.get_data(as_text=True)
    assert response.status_code == status and message in html and "Jo Jones" not in html


def test_the_form_is_rate_limited(throttled):
    from tests.conftest import posted_again

    app = throttled(MHFA_VERIFY_RATE_LIMIT="3 per minute")
    answers = posted_again(app, app.test_client(), "/verify", {"number": "MR2026-AAAA-AAAA", "surname": "X"}, 5)
    assert [r.status_code for r in answers] == [404, 404, 404, 429, 429]


def test_a_coordinator_revokes_and_the_link_says_revoked(client, auth, post_form):
    cert = factories.certificate(factories.person("Rob", "Revoke"))
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/certificates/{cert.id}"
    response = post_form(f"{page}/revoke", {"revoke-reason": ""}, page=page)
    assert response.status_code == 422 and "Enter the reason for revoking" in response.get_data(as_text=True)
    response = post_form(f"{page}/revoke", {"revoke-reason": "Issued in error"}, page=page)
    assert response.status_code == 302
    assert "was revoked on" in client.get(f"/verify/{cert.verification_token}").get_data(as_text=True)


def test_a_coordinator_reissues_with_a_corrected_name_keeping_the_number(client, auth, post_form):
    cert = factories.certificate(factories.person("Jon", "Smyth"))
    number = cert.number
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/certificates/{cert.id}"
    response = post_form(f"{page}/reissue", {"reissue-first_name": "John", "reissue-last_name": "Smith",
                                             "reissue-reason": "Name misspelt"}, page=page, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "John Smith" in html and number in html and "Revision 2" in html and "Name misspelt" in html
    assert client.get(f"/manage/certificates?number={number.lower()}").status_code == 302


def test_coordinator_pages_are_for_coordinators_only(client, auth):
    holder = factories.user(Role.TRAINEE)
    cert = factories.certificate(holder.person)
    db.session.commit()
    auth.login(holder)
    assert client.get(f"/manage/certificates/{cert.id}").status_code == 403


def test_the_form_says_record_erased_for_an_erased_holder(client, post_form):
    person = factories.person("Ellie", "Erased")
    cert = factories.certificate(person)
    cert.number = "MR2026-ERAS-ED00"
    person.first_name, person.last_name, person.erased_at = "Erased", "Person", utcnow()
    db.session.commit()
    response = post_form("/verify", {"number": "MR2026-ERAS-ED00", "surname": "Erased"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Record erased" in html and "Ellie" not in html


def test_the_link_reads_the_certificate_and_all_it_shows_in_three_statements(client, count_queries):
    course, teacher, _bookings = factories.taught_course("ADULT_2DAY", trainees=1, days_ago=9)
    factories.mark_everyone(course)
    certificate = services.complete_course_and_issue(course, teacher).certificates[0]
    db.session.commit()
    days, token = [s.starts_at for s in course.sessions], certificate.verification_token
    db.session.expire_all()  # nothing the request reads is in the session already
    with count_queries() as statements:
        html = client.get(f"/verify/{token}").get_data(as_text=True)
    assert "Valid certificate" in html and "Adult" in html
    assert all(f"{day:%-d %B %Y}" in html for day in days)
    # The certificate with its holder, course type, the certificate it refreshes and its course; the course's
    # sessions; the certificates that refresh it (six statements before they were read together).
    assert len(statements) == 3, statements
