"""Fixtures: the app on SQLite and on PostgreSQL, a clean database per test, clients and logins.

Every test that uses the ``app`` fixture runs twice, once per database backend (``[sqlite]`` and
``[postgresql]`` in the test id). PostgreSQL comes from ``TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``); each run creates its own database there and drops it
at the end. When the server cannot be reached the PostgreSQL tests are skipped, unless
``MHFA_REQUIRE_POSTGRES=1`` (set by CI), which makes that a failure.
"""
from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import upgrade

from mhfa import create_app
from mhfa.extensions import db
from tests import factories
from tests.smtp import smtp  # noqa: F401  (fixture: a real SMTP server on localhost)

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# The rate limiter is one object shared by every app built in a process: keep it off for the suite
# (tests/test_auth.py switches it on for the one test of it).
os.environ["RATELIMIT_ENABLED"] = "false"
BACKENDS = [b.strip() for b in os.environ.get("MHFA_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


def _require_postgres() -> bool:
    return os.environ.get("MHFA_REQUIRE_POSTGRES", "") not in ("", "0", "false")


def _psycopg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


@pytest.fixture(scope="session")
def postgres_server_url():
    """The PostgreSQL server for tests, or a skip (a failure when PostgreSQL is required)."""
    url = _psycopg_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        message = f"PostgreSQL is not reachable at {url}: {error.orig}"
        if _require_postgres():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_database_url(postgres_server_url):
    """A database of this test run's own on the PostgreSQL server, dropped at the end."""
    base = sa.engine.make_url(postgres_server_url)
    name = f"mhfa_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
        ), {"name": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def app(backend, request, tmp_path_factory):
    """The application, migrated to the latest schema, on one backend."""
    instance = tmp_path_factory.mktemp(f"instance-{backend}")
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_database_url")
    else:
        url = "sqlite:///" + str(instance / "test.db")
    application = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "MAIL_SERVER": "",
        "MHFA_BASE_URL": "http://reach.test",
        "SERVER_NAME": None,
        "RATELIMIT_ENABLED": False,
        "MHFA_PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD,
        # Emails are delivered from the outbox right after each commit, so a test reads them at once
        # (tests of the outbox itself switch this off and deliver with tests.outbox.deliver_outbox).
        "MHFA_DELIVER_AFTER_COMMIT": True,
    })
    with application.app_context():
        upgrade()

    @application.before_request
    def _load_the_signed_in_user_afresh():
        # Tests hold one app context around many client requests, so ``g`` outlives a request;
        # drop the user (Flask-Login) and CSRF token (Flask-WTF) cached there, so each request reads
        # them from its own session, as in production.
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    return application


def _clear_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "alembic_version"]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture()
def app_ctx(app):
    """An app context over a clean database holding the reference data (areas, course types)."""
    with app.app_context():
        _clear_tables()
        factories.load_reference()
        db.session.commit()
        yield app
        db.session.rollback()
        db.session.remove()


@pytest.fixture()
def client(app_ctx):
    return app_ctx.test_client()


@pytest.fixture()
def runner(app_ctx):
    return app_ctx.test_cli_runner()


class Auth:
    """Signs a test client in as a user (through the real login form)."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = factories.PASSWORD):
        response = self.client.post(
            "/login",
            data={"email": user.email, "password": password, "csrf_token": csrf_token(self.client, "/login")},
        )
        assert response.status_code == 302, f"login failed for {user.email}"
        return response

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/")})


@pytest.fixture()
def auth(client):
    return Auth(client)


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, page: str) -> str:
    """The CSRF token from a page's form, as a browser would send it back."""
    html = client.get(page).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


@pytest.fixture()
def post_form(client):
    """POST a form the way a browser does: fetch the page, take its CSRF token, submit."""

    def submit(url: str, data: dict, page: str | None = None, **kwargs):
        payload = {"csrf_token": csrf_token(client, page or url), **data}
        return client.post(url, data=payload, **kwargs)

    return submit


@pytest.fixture()
def count_queries(app_ctx):
    """``with count_queries() as queries: ...`` then ``len(queries)``: the SQL statements run inside."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)

    return counting


def pytest_terminal_summary(terminalreporter):
    """One line per database backend, so every run shows that the PostgreSQL tests ran (or did not)."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if report.when != "call" and outcome == "passed":
                continue
            for backend in BACKENDS:
                if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid:
                    counts.setdefault(backend, {}).setdefault(outcome, 0)
                    counts[backend][outcome] += 1
    terminalreporter.section("database backends")
    for backend in BACKENDS:
        tally = counts.get(backend, {})
        text = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items())) or "no tests"
        where = _psycopg_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)) if backend == "postgresql" else "file"
        terminalreporter.write_line(f"{backend} ({where}): {text}")
