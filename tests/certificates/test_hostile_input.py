"""Hostile input on the certificate pages: a clear 4xx and nothing changed, never a 500 (both databases).

PostgreSQL refuses a NUL byte in text with an error (SQLite stores it), so these fail only there unless the
app refuses such text first.
"""
from datetime import date, timedelta

import pytest

from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories


def _refused(response) -> bool:
    """Refused as bad input: a NUL byte is stopped by the app's input guard (400) before any form sees it;
    other unprintable text is refused on its field (422)."""
    if response.status_code == 400:
        return True
    return response.status_code == 422 and "not allowed" in response.get_data(as_text=True)


def test_a_malformed_verification_link_is_refused_not_a_500(client):
    """A NUL byte is refused before any route (400, by the app's guard); other characters no token has are 404."""
    factories.certificate(factories.person("Nia", "Null"))
    db.session.commit()
    for path in ("/verify/abc%00def", "/verify/%00"):
        assert client.get(path).status_code == 400, path
    for path in ("/verify/%C3%A9t%C3%A9", "/verify/a.b"):
        assert client.get(path).status_code == 404, path


def test_a_nul_byte_in_the_verification_form_is_refused(client, post_form):
    cert = factories.certificate(factories.person("Nia", "Null"))
    db.session.commit()
    for data in ({"number": cert.number + "\x00", "surname": "Null"}, {"number": cert.number, "surname": "Nu\x00ll"}):
        response = post_form("/verify", data)
        assert _refused(response)
        assert "NUL character" in response.get_data(as_text=True)  # the guard says what was wrong


def test_a_nul_byte_in_the_coordinators_search_is_refused(client, auth):
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    response = client.get("/manage/certificates?number=MR2026-%00")
    assert _refused(response)


@pytest.mark.parametrize("action,data", [
    ("revoke", {"revoke-reason": "Issued\x00in error"}),
    ("reissue", {"reissue-first_name": "Jo\x00", "reissue-last_name": "Smith", "reissue-reason": "Typo"}),
    ("reissue", {"reissue-first_name": "Jo", "reissue-last_name": "Smith", "reissue-reason": "Ty\x00po"}),
])
def test_a_nul_byte_in_revoke_or_reissue_is_refused_and_changes_nothing(client, auth, post_form, action, data):
    cert = factories.certificate(factories.person("Jon", "Smyth"))
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(coordinator)
    page = f"/manage/certificates/{cert.id}"
    response = post_form(f"{page}/{action}", data, page=page)
    assert _refused(response)
    db.session.expire_all()
    assert cert.revoked_at is None and cert.revision == 1 and cert.person.first_name == "Jon"


def test_a_nul_byte_in_a_register_correction_is_refused(client, auth, post_form):
    course, teacher, (a, _) = factories.taught_course()
    factories.mark_everyone(course)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    from mhfa.certificates import services

    services.complete_course_and_issue(course, teacher)
    db.session.commit()
    auth.login(coordinator)
    url = f"/teaching/sessions/{course.sessions[0].id}/correct"
    response = post_form(url, {"booking_id": str(a.id), "status": "absent", "reason": "Left\x00early"})
    assert _refused(response)
    db.session.expire_all()
    assert all(c.revoked_at is None for c in services.certificates_of_course(course))


def test_no_cache_keeps_a_verification_answer_so_revocation_shows_at_once(client, post_form):
    cert = factories.certificate(factories.person("Cass", "Cache"))
    cert.number = "MR2026-CACH-E000"
    db.session.commit()
    link = client.get(f"/verify/{cert.verification_token}")
    form = post_form("/verify", {"number": cert.number, "surname": "Cache"})
    status_list = client.get("/credentials/status/revocation")
    assert link.status_code == form.status_code == 200
    assert link.headers["Cache-Control"] == form.headers["Cache-Control"] == "no-store"
    assert status_list.headers["Cache-Control"] in ("no-cache", "no-store")


def test_a_surname_typed_with_a_phones_curly_apostrophe_or_dash_matches(client, post_form):
    cert = factories.certificate(factories.person("Sean", "O'Neill-Smith"))
    cert.number = "MR2026-APXS-TRPH"
    db.session.commit()
    for typed in ("O’Neill-Smith", "o’neill–smith", "O\u02bcNeill-Smith"):
        response = post_form("/verify", {"number": cert.number, "surname": typed})
        assert response.status_code == 200 and "Valid certificate" in response.get_data(as_text=True), typed
    assert post_form("/verify", {"number": cert.number, "surname": "ONeill-Smith"}).status_code == 404


def test_the_verification_page_shows_name_title_dates_and_programme_but_no_certificate_numbers(client):
    trainee = factories.person("Rosa", "Renewed")
    original = factories.certificate(trainee, issued_on=date.today() - timedelta(days=1000))
    refresher = factories.certificate(trainee, "REFRESHER", issued_on=date.today() - timedelta(days=5))
    refresher.refreshes = original
    db.session.commit()
    for cert, other in ((original, refresher), (refresher, original)):
        html = client.get(f"/verify/{cert.verification_token}").get_data(as_text=True)
        assert "Rosa Renewed" in html and cert.title in html and other.title in html
        assert cert.number not in html and other.number not in html
