"""Historical import: whole-file checking, spreadsheet line numbers, encodings, matching, idempotence."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from mhfa.attendance.models import Completion
from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.people.models import Person
from mhfa.reach.counts import Filters, kept_counts
from mhfa.reach.importing import ImportRejected, import_completions
from tests import factories

HEADER = "first_name,last_name,email,course_type,completed_on,council_area,date_of_birth,employer\n"
GOOD = HEADER + (
    "Ada,Lovelace,ada@example.org,ADULT_2DAY,2019-05-01,Birmingham,,\n"
    "Alan,Turing,,Mental Health Aware (half day),2020-01-15,E08000026,1912-06-23,\n"
    'Grace,"Hopper, Jr",GRACE@Example.org,YOUTH_2DAY,2021-07-01,,,\n'
)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_good_file_adds_people_and_completions_and_reach(app_ctx):
    summary = import_completions(GOOD.encode())
    db.session.commit()
    assert (summary.people_added, summary.people_matched, summary.completions_added) == (3, 0, 3)
    assert sum(kept_counts("area", Filters()).values()) == 3
    assert db.session.scalar(sa.select(Person.email).where(Person.last_name == "Hopper, Jr")) == "grace@example.org"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "completions.imported")) == 1


def test_importing_the_same_file_twice_adds_nothing(app_ctx):
    import_completions(GOOD.encode())
    db.session.commit()
    again = import_completions(GOOD.encode())
    db.session.commit()
    assert (again.people_added, again.people_matched, again.completions_added) == (0, 3, 0)
    assert count(Completion) == 3


def test_people_are_matched_by_email_whatever_the_case_else_by_name_and_birth_date(app_ctx):
    factories.person("Ada", "Lovelace", email="Ada@Example.org")
    factories.person("alan", "TURING", email=None, date_of_birth=date(1912, 6, 23))
    db.session.commit()
    summary = import_completions(GOOD.encode())
    assert (summary.people_added, summary.people_matched) == (1, 2)


def test_bom_and_windows_line_endings_are_accepted(app_ctx):
    data = ("\ufeff" + GOOD).replace("\n", "\r\n").encode("utf-8")
    assert import_completions(data).completions_added == 3


@pytest.mark.parametrize("data, message", [
    ("Ada,Lovelace\n".encode("utf-16"), "UTF-16"),
    (GOOD.replace("Lovelace", "Lövelace").encode("latin-1"), "not UTF-8"),
    (b"", "empty"),
    (b"first_name,last_name\nA,B\n", "lacks the column(s) email"),
])
def test_other_encodings_and_bad_headers_are_refused_clearly(app_ctx, data, message):
    with pytest.raises(ImportRejected) as refused:
        import_completions(data)
    assert message in " ".join(refused.value.lines)


def test_every_bad_row_is_named_by_its_spreadsheet_line_and_nothing_is_written(app_ctx):
    bad = HEADER + (
        "Ada,Lovelace,ada@example.org,ADULT_2DAY,2019-05-01,Birmingham,,\n"      # line 2: fine
        "Bob,,bob@example.org,ADULT_2DAY,2019-05-01,Birmingham,,\n"              # line 3
        '"Multi\nline",Name,m@example.org,NOPE,2019-05-01,Atlantis,,\n'          # line 4 (one spreadsheet row)
        "Cy,Dee,,ADULT_2DAY,2099-01-01,Birmingham,,\n"                           # line 5
        "Di,Eve,not-an-email,ADULT_2DAY,2019-05-01,Birmingham,,Unknown Ltd\n"    # line 6
        "short,row\n"                                                            # line 7
        "\\N,Null,null@example.org,ADULT_2DAY,2019-05-01,Birmingham,,\n"          # line 8
    )
    with pytest.raises(ImportRejected) as refused:
        import_completions(bad.encode())
    problems = refused.value.lines
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "last_name is empty" in problems[0]
    assert "course_type 'NOPE'" in problems[1] and "Atlantis" in problems[1]
    assert "email address or a date of birth" in problems[2] and "completed_on" in problems[2]
    assert "not an email address" in problems[3] and "Unknown Ltd" in problems[3]
    assert "expected 8 columns, found 2" in problems[4]
    db.session.rollback()
    assert count(Person) == 0 and count(Completion) == 0


def test_formula_text_in_a_file_is_stored_as_text_and_dry_run_writes_nothing(app_ctx):
    data = (HEADER + "=cmd|' /C calc'!A0,Smith,s@example.org,ADULT_2DAY,2019-05-01,Birmingham,,\n").encode()
    summary = import_completions(data, dry_run=True)
    assert summary.people_added == 1 and summary.completions_added == 1
    db.session.rollback()
    assert count(Person) == 0


def test_coordinator_uploads_a_bad_file_then_a_good_one(client, auth, post_form, app_ctx):
    user = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(user)
    from io import BytesIO

    bad = (HEADER + "Bob,,bob@example.org,ADULT_2DAY,2019-05-01,Birmingham,,\n").encode()
    response = post_form("/reach/import", {"file": (BytesIO(bad), "bad.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "line 2: last_name is empty" in page
    assert count(Person) == 1  # only the coordinator
    response = post_form("/reach/import", {"file": (BytesIO(GOOD.encode()), "good.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 200 and "Completions added: 3" in response.get_data(as_text=True)
    assert count(Completion) == 3
    assert post_form("/reach/import", {}, content_type="multipart/form-data").status_code == 422


def test_cli_import_and_rebuild_check(runner, tmp_path):
    path = tmp_path / "completions.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["mhfa", "import-completions", str(path), "--dry-run"])
    assert result.exit_code == 0 and "Completions added: 3" in result.output
    assert count(Completion) == 0
    result = runner.invoke(args=["mhfa", "import-completions", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["mhfa", "rebuild-reach", "--check"])
    assert result.exit_code == 0 and "equal a fresh count" in result.output
    db.session.execute(sa.text("UPDATE reach_month SET people = people + 5"))
    db.session.commit()
    result = runner.invoke(args=["mhfa", "rebuild-reach", "--check"])
    assert result.exit_code == 1 and "differences found" in result.output
    assert runner.invoke(args=["mhfa", "rebuild-reach"]).exit_code == 0
    assert runner.invoke(args=["mhfa", "rebuild-reach", "--check"]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe" + "x".encode("utf-16-le"))
    result = runner.invoke(args=["mhfa", "import-completions", str(bad)])
    assert result.exit_code == 1 and "UTF-16" in result.output


def test_oversized_binary_and_formula_uploads_are_refused_or_kept_as_text(client, auth, post_form, app_ctx,
                                                                             monkeypatch):
    from io import BytesIO

    from mhfa.reach import importing

    user = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(user)
    monkeypatch.setattr(importing, "MAX_BYTES", 100)
    response = post_form("/reach/import", {"file": (BytesIO(GOOD.encode()), "big.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 422 and "larger than" in response.get_data(as_text=True)
    monkeypatch.setattr(importing, "MAX_BYTES", 64 * 1024 * 1024)
    response = post_form("/reach/import", {"file": (BytesIO(b"PK\x03\x04\x00\xff\xfe binary"), "x.xlsx")},
                         content_type="multipart/form-data")
    assert response.status_code == 422 and "not UTF-8" in response.get_data(as_text=True)
    hostile = HEADER + '"<script>alert(1)</script>",X,x@example.org,ADULT_2DAY,2019-05-01,<b>Nowhere</b>,,\n'
    response = post_form("/reach/import", {"file": (BytesIO(hostile.encode()), "x.csv")},
                         content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<b>Nowhere</b>" not in page and "&lt;b&gt;Nowhere" in page
    assert count(Person) == 1


@pytest.mark.parametrize("gathered_from", [1, 1_000_000])
def test_an_import_keeps_the_figures_exact_whether_its_counts_are_gathered_or_moved_chunk_by_chunk(
        app_ctx, monkeypatch, gathered_from):
    """A large import on PostgreSQL gathers the counts of all its chunks and moves them once; a small one (and
    SQLite) moves them chunk by chunk: either way the kept figures equal a recount, including for a person
    whose reach the import moves earlier."""
    from mhfa.reach import keeping

    monkeypatch.setattr(keeping, "BULK_PEOPLE", gathered_from)
    monkeypatch.setattr(keeping, "CHUNK", 2)
    monkeypatch.setattr(keeping, "SQLITE_CHUNK", 2)
    ada = factories.person("Ada", "Lovelace", email="ada@example.org")
    db.session.add(Completion(person=ada, course_type=factories.course_type(), completed_on=date(2023, 1, 3)))
    db.session.commit()
    summary = import_completions(GOOD.encode())
    db.session.flush()
    assert (summary.people_added, summary.people_matched, summary.completions_added) == (2, 1, 3)
    assert sum(kept_counts("area", Filters()).values()) == 3
    assert keeping.rebuild() == []
