"""One rule for names everywhere: control characters, line breaks and bidirectional controls refused at every
entry point; a name starting like a formula kept as text and neutralised wherever it is exported."""
from __future__ import annotations

import io
import unicodedata
from datetime import date

import pytest
import sqlalchemy as sa

from mhfa import names
from mhfa.auth.models import Role, User
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.reach import importing
from tests import factories

HOSTILE = {
    "ESC": ("Ann\x1b[31m", "must not contain a control character"),
    "BEL": ("Ann\x07", "must not contain a control character"),
    "TAB": ("Ann\tBee", "must not contain a control character"),
    "LF": ("Ann\nBee", "must not contain a line break"),
    "CR": ("Ann\rBee", "must not contain a line break"),
    "LINE SEPARATOR": ("Ann\u2028Bee", "must not contain a line break"),
    "RLO": ("\u202eeeB", "must not contain a right-to-left or left-to-right control character"),
    "RLI": ("Ann\u2067Bee", "must not contain a right-to-left or left-to-right control character"),
    "RLM": ("Ann\u200f", "must not contain a right-to-left or left-to-right control character"),
    "BOM": ("\ufeffAnn", "must not contain a character that is not a letter"),
    "PRIVATE USE": ("Ann\ue000", "must not contain a character that is not a letter"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_rule_refuses_what_no_name_holds(kind):
    text, reason = HOSTILE[kind]
    assert names.problem(text, "First name") == f"First name {reason}"


def test_the_rule_keeps_names_of_any_script_and_tidies_spaces():
    for name in ("Zoë", "O'Brien", "Smith-Jones", "Nguyễn Thị", "Ἀλέξανδρος", "محمد", "李", "Anne\u00a0Marie",
                 "\u0915\u094d\u200d\u0937"):  # a zero-width joiner some scripts need
        assert names.problem(name, "Name") is None, name
    assert names.check("  Ann   Marie ") == "Ann Marie"
    decomposed = unicodedata.normalize("NFD", "José")
    assert names.check(decomposed) == "José" and len(names.check(decomposed)) == 4
    assert names.problem("x" * 101, "Last name") == "Last name must be 100 characters or fewer"
    assert names.problem("   ", "Last name") == "Enter the last name"


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil\")", "+44", "-Smith", "@SUM(A1)"])
def test_a_name_starting_like_a_formula_is_kept_and_neutralised_on_export(name):
    assert names.check(name) == name
    assert names.spreadsheet_text(name) == "'" + name


# --- through each entry point -----------------------------------------------------------------------------

IMPORT_HEADER = "first_name,last_name,email,course_type,completed_on,council_area\n"


@pytest.mark.parametrize("kind", ["ESC", "BEL", "LF", "RLO", "LINE SEPARATOR"])
def test_the_completions_import_refuses_them(app_ctx, kind):
    text, reason = HOSTILE[kind]
    row = '"' + text + '",Smith,a@example.org,AWARE,2024-01-01,Birmingham\n'
    with pytest.raises(importing.ImportRejected) as refused:
        importing.parse(IMPORT_HEADER + row)
    assert refused.value.lines == [f"line 2: first_name {reason}"]


def test_the_completions_import_keeps_a_formula_name_and_the_exports_neutralise_it(client, auth, app_ctx):
    text = IMPORT_HEADER + '"=HYPERLINK(""http://evil"")",Smith,formula@example.org,AWARE,2024-01-01,Birmingham\n'
    importing.import_completions(text.encode())
    db.session.commit()
    person = db.session.scalar(sa.select(Person).where(Person.email == "formula@example.org"))
    assert person.first_name == '=HYPERLINK("http://evil")'
    auth.login(_user(Role.COORDINATOR))
    csv_text = client.get(f"/manage/people/{person.id}/data.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text


def _refused(post_form, url: str, data: dict, message: str, page: str | None = None) -> None:
    """Posting ``data`` to ``url`` is refused (422) with ``message`` on the page."""
    response = post_form(url, data, page=page)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def _user(*roles):
    user = factories.user(*roles)
    db.session.commit()
    return user


@pytest.mark.parametrize("kind", ["ESC", "LF", "RLO"])
def test_the_staff_file_refuses_them(app_ctx, kind):
    from mhfa.employers.staff import CsvRejected, parse_staff_csv

    text, reason = HOSTILE[kind]
    with pytest.raises(CsvRejected) as refused:
        parse_staff_csv(('first_name,last_name,email\n"' + text + '",Begum,a@acme.example\n').encode())
    assert refused.value.lines == [f"line 2: first name {reason}"]


@pytest.mark.parametrize("kind", ["ESC", "LF", "RLO"])
def test_the_profile_form_refuses_them(client, auth, post_form, kind):
    text, reason = HOSTILE[kind]
    user = _user(Role.TRAINEE)
    auth.login(user)
    before = db.session.get(Person, user.person_id).first_name
    response = post_form("/profile", {"first_name": text, "last_name": "Bee", "home_council_area": "",
                                      "work_council_area": "", "postcode": "", "employer": ""})
    assert response.status_code == 422 and f"First name {reason}" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, user.person_id).first_name == before


@pytest.mark.parametrize("kind", ["BEL", "RLO"])
def test_registration_refuses_them(client, post_form, kind):
    text, reason = HOSTILE[kind]
    response = post_form("/register", {"first_name": "Ann", "last_name": text, "email": "new@example.org",
                                       "password": "a long enough passphrase",
                                       "password_confirm": "a long enough passphrase"})
    assert response.status_code == 422 and f"Last name {reason}" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.org")) is None


def test_the_services_refuse_them_whatever_calls_them(app_ctx):
    from mhfa.auth.services import create_user, register
    from mhfa.employers.staff import check_member

    text, reason = HOSTILE["RLO"]
    with pytest.raises(DomainError, match=f"First name {reason}"):
        register("a@example.org", "a long enough passphrase", first_name=text, last_name="Bee")
    with pytest.raises(DomainError, match=f"Last name {reason}"):
        create_user("b@example.org", [Role.TRAINEE], first_name="Ann", last_name=text)
    with pytest.raises(DomainError, match=f"First name {reason}"):
        check_member(text, "Bee", "c@example.org")


def test_create_user_refuses_them(runner):
    result = runner.invoke(args=["mhfa", "create-user", "--email", "cli@example.org", "--role", "trainee",
                                 "--name", "Ann \x1bBee"])
    assert result.exit_code != 0 and "Last name must not contain a control character" in result.output


def test_a_phone_booking_refuses_them(client, auth, post_form):
    auth.login(_user(Role.COORDINATOR))
    course = factories.course("AWARE")
    db.session.commit()
    _refused(post_form, f"/manage/courses/{course.id}/book-person", {
        "first_name": "Ann\u202e", "last_name": "Bee", "email": "ann@example.org", "date_of_birth": "1990-01-01",
        "voucher_code": ""}, "First name must not contain a right-to-left")


def test_the_instructor_form_refuses_them(client, auth, post_form):
    auth.login(_user(Role.COORDINATOR))
    _refused(post_form, "/manage/instructors/new", {
        "first_name": "Ian", "last_name": "Struct\nor", "email": "ian@example.org", "licence_number": "MHFA-1",
        "licence_expires_on": date.today().replace(year=date.today().year + 1).isoformat(), "active": "y"},
        "Last name must not contain a line break")


def test_a_reissued_certificate_refuses_them(client, auth, post_form):
    person = factories.person("Ann", "Bee", email="ann@example.org")
    certificate = factories.certificate(person)
    auth.login(_user(Role.COORDINATOR))
    _refused(post_form, f"/manage/certificates/{certificate.id}/reissue", {
        "reissue-first_name": "Ann\x07", "reissue-last_name": "Bee", "reissue-reason": "spelling"},
        "First name must not contain a control character", page=f"/manage/certificates/{certificate.id}")


def test_a_place_given_by_the_staff_form_refuses_them(client, auth, post_form):
    acme, contact, order = factories.ordered(1)
    db.session.commit()
    auth.login(contact)
    _refused(post_form, f"/employer/orders/{order.id}/allocate", {
        "first_name": "Ann", "last_name": "Bee\u2066", "email": "ann@acme.example"},
        "Last name must not contain a right-to-left", page=f"/employer/orders/{order.id}")


def test_names_kept_in_an_upload_are_written_as_text(client, auth, app_ctx):
    from tests.conftest import csrf_token

    auth.login(_user(Role.COORDINATOR))
    body = IMPORT_HEADER + "@SUM(A1),Bee,sum@example.org,AWARE,2024-01-01,Birmingham\n"
    response = client.post("/reach/import", data={"file": (io.BytesIO(body.encode()), "x.csv"),
                                                  "csrf_token": csrf_token(client, "/reach/import")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert db.session.scalar(sa.select(Person.first_name).where(Person.email == "sum@example.org")) == "@SUM(A1)"
