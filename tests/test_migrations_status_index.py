"""Migrating a database with rows in it: 2026_12_01_08 gives every existing certificate a distinct random
status-list index, and a database stamped with an old, word-named revision id migrates on. Both backends."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from mhfa import create_app
from mhfa.attendance.models import Completion, CompletionSource
from mhfa.extensions import db
from tests import factories

CERTIFICATES = 30


@pytest.fixture()
def fresh_database_url(backend, request, tmp_path):
    """An empty database of this test's own (a file on SQLite, a new database on PostgreSQL)."""
    if backend == "sqlite":
        yield "sqlite:///" + str(tmp_path / "migrate.db")
        return
    base = sa.engine.make_url(request.getfixturevalue("postgres_server_url"))
    name = f"mhfa_migrate_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@contextmanager
def migrating_app(database_url: str, tmp_path):
    """An application on ``database_url`` with nothing migrated yet; its connections closed afterwards."""
    application = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "migrate",
                              "SQLALCHEMY_DATABASE_URI": database_url, "MHFA_BASE_URL": "http://reach.test",
                              "MAIL_SERVER": ""})
    with application.app_context():
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()


def test_existing_certificates_get_distinct_random_indexes(fresh_database_url, tmp_path):
    with migrating_app(fresh_database_url, tmp_path):
        upgrade(revision="2026_12_01_07")
        # The schema is the old one: the reach listener would write the kept figures' newer columns.
        db.session.info["reach_listener"] = False
        factories.load_reference()
        kind = factories.course_type()
        completions = [Completion(person=factories.person(), course_type=kind, completed_on=date(2025, 3, 1),
                                  source=CompletionSource.IMPORT) for _ in range(CERTIFICATES)]
        db.session.add_all(completions)
        db.session.flush()
        for n, completion in enumerate(completions):
            db.session.execute(sa.text(
                "INSERT INTO certificate (number, verification_token, completion_id, person_id, course_type_id,"
                " title, issued_on, created_at, revision) VALUES (:number, :token, :completion, :person, :kind,"
                " 'Mental Health First Aider', '2025-03-01', '2025-03-01 12:00:00', 1)"),
                {"number": f"MR2025-{n:07d}", "token": f"token-{n}", "completion": completion.id,
                 "person": completion.person_id, "kind": kind.id})
        db.session.commit()

        upgrade()

        rows = db.session.execute(sa.text("SELECT id, status_index FROM certificate ORDER BY id")).all()
        indexes = [index for _, index in rows]
        assert len(rows) == CERTIFICATES and None not in indexes
        assert len(set(indexes)) == CERTIFICATES and all(0 <= i < 131_072 for i in indexes)
        assert indexes != sorted(indexes) and indexes != [i for i, _ in rows]  # not the order of issue
        if db.engine.dialect.name == "sqlite":  # the checks the migration turned off for the copy are back on
            assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(sa.exc.IntegrityError):  # the unique constraint holds from now on
            db.session.execute(sa.text("UPDATE certificate SET status_index = :taken WHERE id = :other"),
                               {"taken": indexes[0], "other": rows[1][0]})
        db.session.rollback()


def test_a_database_stamped_with_an_old_word_named_revision_migrates_on_to_the_head(fresh_database_url, tmp_path):
    with migrating_app(fresh_database_url, tmp_path) as application:
        upgrade(revision="2026_12_01_12")
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = 'erased_index'"))
        upgrade()
        with db.engine.connect() as connection:
            stamped = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        config = application.extensions["migrate"].migrate.get_config()
        assert stamped == ScriptDirectory.from_config(config).get_current_head()
