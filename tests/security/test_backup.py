"""Recovery: a backup of a populated database (PostgreSQL with pg_dump, SQLite with its backup API) restores into an
empty database with every booking, certificate, kept reach figure and outbox message equal, and the signing key
that makes the credentials verify."""
from __future__ import annotations

import json
import stat
import uuid

import pytest
import sqlalchemy as sa

from mhfa import create_app
from mhfa.auth.models import Role
from mhfa.bookings import services as bookings
from mhfa.certificates import services as certificates
from mhfa.extensions import db
from mhfa.security import backup as backups
from tests import factories

COMPARED = ("booking", "certificate", "completion", "reach_first", "reach_month", "reach_group_month",
            "reach_group_area_month",
            "reach_spend_month", "outbox_message", "person", "audit_event")


def _populate() -> None:
    trainee = factories.user(Role.TRAINEE)
    bookings.book_for_user(trainee, factories.course("AWARE"))
    run, teacher, _ = factories.taught_course("ADULT_2DAY", trainees=3)
    factories.mark_everyone(run)
    db.session.commit()
    certificates.complete_course_and_issue(run, teacher)
    db.session.commit()


def _rows(connection) -> dict[str, list[tuple]]:
    tables = {t.name: t for t in db.metadata.sorted_tables}
    return {name: [tuple(row) for row in connection.execute(
        sa.select(tables[name]).order_by(*tables[name].primary_key.columns))] for name in COMPARED}


def _empty_target(request, backend: str, tmp_path) -> tuple[str, callable]:
    """A new, empty database to restore into, and how to drop it."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}", lambda: None
    server = request.getfixturevalue("postgres_server_url")
    name = f"mhfa_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                                 "AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False), drop


def test_a_backup_restores_into_an_empty_database_with_every_row_equal(app_ctx, runner, tmp_path, request, backend):
    _populate()
    made = runner.invoke(args=["mhfa", "backup", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    [manifest_path] = (tmp_path / "backups").glob("mhfa-*.json")
    [database_file] = [p for p in (tmp_path / "backups").iterdir() if p.suffix in (".db", ".dump")]
    assert database_file.suffix == (".dump" if backend == "postgresql" else ".db")
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (manifest_path, database_file)} == {0o600}
    manifest = json.loads(manifest_path.read_text())
    assert manifest["row_counts"]["certificate"] == 3 and manifest["signing_key"].startswith("z")
    with db.engine.connect() as connection:
        before = _rows(connection)
    assert all(before[name] for name in ("booking", "certificate", "reach_first", "reach_month", "outbox_message"))

    url, drop = _empty_target(request, backend, tmp_path)
    restored = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "restored-instance"),
                           "SECRET_KEY": "another-secret", "SQLALCHEMY_DATABASE_URI": url,
                           "MHFA_BASE_URL": app_ctx.config["MHFA_BASE_URL"]})
    try:
        with restored.app_context():
            result = restored.test_cli_runner().invoke(args=["mhfa", "restore", str(manifest_path)])
            assert result.exit_code == 0, result.output
            assert "every table's count checked" in result.output and "signing key was written" in result.output
            assert "SECRET_KEY differs" in result.output
            with db.engine.connect() as connection:
                after = _rows(connection)
            assert after == before
            key = (tmp_path / "restored-instance" / "signing-key").read_text().strip()
            assert key == manifest["signing_key"]
            again = restored.test_cli_runner().invoke(args=["mhfa", "restore", str(manifest_path)])
            assert again.exit_code != 0 and "is not empty" in again.output  # never over live data
            db.engine.dispose()
    finally:
        drop()


def test_a_restore_refuses_a_backup_whose_rows_do_not_match_its_manifest(app_ctx, runner, tmp_path, request,
                                                                         backend):
    _populate()
    assert runner.invoke(args=["mhfa", "backup", str(tmp_path / "b")]).exit_code == 0
    [manifest_path] = (tmp_path / "b").glob("*.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["row_counts"]["booking"] += 1  # a manifest of another moment
    manifest_path.write_text(json.dumps(manifest))
    url, drop = _empty_target(request, backend, tmp_path)
    restored = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "r"), "SECRET_KEY": "x",
                           "SQLALCHEMY_DATABASE_URI": url})
    try:
        with restored.app_context():
            result = restored.test_cli_runner().invoke(args=["mhfa", "restore", str(manifest_path)])
            assert result.exit_code != 0 and "booking" in result.output and "expected" in result.output
            db.engine.dispose()
    finally:
        drop()


def test_an_old_pg_dump_is_refused_with_what_to_install(app_ctx, runner, tmp_path, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("pg_dump backs up PostgreSQL only")
    monkeypatch.setattr(backups, "_client_major", lambda program: 9)
    result = runner.invoke(args=["mhfa", "backup", str(tmp_path)])
    assert result.exit_code != 0 and "install postgresql-client-" in result.output
