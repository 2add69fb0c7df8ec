"""Fixtures: the app on SQLite and on PostgreSQL, a clean database per test, clients and logins.

Tests commit for real (emails go after commit, concurrency tests use other connections), so each
test starts from an emptied database rather than a rolled-back transaction. Emptying every table
before every test was most of the suite's time on PostgreSQL, so only the tables written since the
last test are emptied (``WrittenTables`` watches every statement the app's engine runs, and the demo's
COPY), and the reference data (council areas, course types) is reloaded only when it was touched.

Every test that uses the ``app`` fixture runs twice, once per database backend (``[sqlite]`` and
``[postgresql]`` in the test id). PostgreSQL comes from ``TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``); each run creates its own database there and drops it
at the end. When the server cannot be reached the PostgreSQL tests are skipped, unless
``MHFA_REQUIRE_POSTGRES=1`` (set by CI), which makes that a failure.
"""
from __future__ import annotations

import os
import re
import sqlite3
import uuid
import weakref

import pytest
import sqlalchemy as sa
from flask import g
from flask_migrate import upgrade

from mhfa import create_app
from mhfa.auth.models import Role
from mhfa.demo import bulk
from mhfa.extensions import db, limiter
from mhfa.reach import importing as reach_importing
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
        # A commit returns before its WAL reaches the disk: what a test reads is the same (it is the
        # crash durability of a throwaway database that goes), and commits stop waiting on fsync.
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
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
        application.extensions["test_written_tables"] = WrittenTables.of(db.engine.url)

    @application.before_request
    def _load_the_signed_in_user_afresh():
        # Tests hold one app context around many client requests, so ``g`` outlives a request;
        # drop the user (Flask-Login) and CSRF token (Flask-WTF) cached there, so each request reads
        # them from its own session, as in production.
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    return application


#: What ``factories.load_reference`` fills: emptied and reloaded together, only when one was written to.
REFERENCE_TABLES = frozenset({"council_area", "area_population", "course_type", "course_type_prerequisite"})
_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_READ = re.compile(r"^\s*(?:SELECT|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|PRAGMA|SHOW)\b", re.IGNORECASE)
_WRITE_ANYWHERE = re.compile(r"\b(?:INSERT|UPDATE|DELETE|TRUNCATE|CREATE|ALTER|DROP)\b", re.IGNORECASE)


class WrittenTables:
    """The tables of one test database written to since the last clearing.

    Every statement any engine runs is seen (a test may build a second app on the same database,
    as the concurrency tests do). Anything not read as a plain INSERT, UPDATE or DELETE of one table
    (DDL, a write inside a CTE, a TRUNCATE) counts as a write to every table, so a test can never
    leave rows behind unseen. The demo's COPY bypasses the engine's events, so ``bulk.write`` is
    wrapped below to report its table.
    """

    _by_database: dict[str, WrittenTables] = {}
    _by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self):
        self.names: set[str] = set()
        self.everything = True  # the first test of a run starts from nothing known
        #: Rows a fixture left on purpose for the next tests that ask for it by name (see ``keep``).
        self.kept: str | None = None
        self.kept_tables: set[str] = set()

    @classmethod
    def of(cls, url: sa.URL) -> WrittenTables:
        cls._by_engine.clear()  # an engine seen before this database was watched
        return cls._by_database.setdefault(url.render_as_string(hide_password=False), cls())

    @classmethod
    def watching(cls, engine: sa.Engine) -> WrittenTables | None:
        if engine not in cls._by_engine:
            cls._by_engine[engine] = cls._by_database.get(engine.url.render_as_string(hide_password=False))
        return cls._by_engine[engine]

    def record(self, statement: str) -> None:
        match = _WRITE.match(statement)
        if match:
            self.names.add(match.group(1).lower())
        elif not _READ.match(statement) or (statement.lstrip()[:4].upper() == "WITH"
                                            and _WRITE_ANYWHERE.search(statement)):
            self.everything = True

    def forget(self) -> None:
        self.names.clear()
        self.everything = False

    def keep(self, fixture: str) -> None:
        """Leave what was written since the test began for the next tests using ``fixture``; any other
        test (or one that writes over it) empties it first."""
        self.kept, self.kept_tables = fixture, set(self.names)
        self.forget()

    def to_clear(self, fixtures) -> set[str] | None:
        """The tables to empty before a test using ``fixtures``; None for all of them."""
        if self.everything:
            self.kept, self.kept_tables = None, set()
            return None
        tables = set(self.names)
        if self.kept is not None and (self.kept not in fixtures or tables & self.kept_tables):
            tables |= self.kept_tables
            self.kept, self.kept_tables = None, set()
        return tables


@sa.event.listens_for(sa.Engine, "before_cursor_execute")
def _record_writes(conn, cursor, statement, parameters, context, executemany) -> None:
    written = WrittenTables.watching(conn.engine)
    if written is not None:
        written.record(statement)


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_without_fsync(dbapi_connection, connection_record) -> None:
    """Test databases on SQLite do not wait on fsync either (as ``synchronous_commit`` off on PostgreSQL)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.close()


_bulk_write = bulk.write


def _reported_bulk_write(connection, table, frame, *args, **kwargs):
    written = WrittenTables.watching(connection.engine)
    if written is not None:
        written.names.add(table)
    return _bulk_write(connection, table, frame, *args, **kwargs)


bulk.write = _reported_bulk_write

# The historical import COPYs people and completions on PostgreSQL: report those tables too.
_import_copy = reach_importing._copy


def _reported_import_copy(table, columns, rows):
    written = WrittenTables.watching(db.engine)
    if written is not None:
        written.names.add(table)
    return _import_copy(table, columns, rows)


reach_importing._copy = _reported_import_copy


def _serial_sequences() -> dict[str, list[str]]:
    """PostgreSQL: each table's id sequences (read once per database)."""
    rows = db.session.execute(sa.text(
        "SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), column_name) "
        "FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND (column_default LIKE 'nextval%' OR is_identity = 'YES')"
    ))
    sequences: dict[str, list[str]] = {}
    for table, sequence in rows:
        if sequence:
            sequences.setdefault(table, []).append(sequence)
    return sequences


_SEQUENCES: dict[str, dict[str, list[str]]] = {}


def _clear_tables(only: set[str] | None = None) -> None:
    """Empty the tables (``only`` those named), children first; on PostgreSQL their ids start again at 1."""
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "alembic_version"]
    if only is not None:
        tables = [t for t in tables if t.name in only]
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql and only is None:
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # DELETE, not TRUNCATE: a handful of small tables empty far faster row by row on PostgreSQL.
        for table in tables:
            db.session.execute(table.delete())
        if postgresql and tables:
            url = str(db.engine.url)
            if url not in _SEQUENCES:
                _SEQUENCES[url] = _serial_sequences()
            sequences = _SEQUENCES[url]
            restarts = [f"setval('{seq}', 1, false)" for t in tables for seq in sequences.get(t.name, [])]
            if restarts:
                db.session.execute(sa.text("SELECT " + ", ".join(restarts)))
    db.session.commit()


@pytest.fixture()
def app_ctx(app, request):
    """An app context over a clean database holding the reference data (areas, course types)."""
    written: WrittenTables = app.extensions["test_written_tables"]
    with app.app_context():
        dirty = written.to_clear(request.fixturenames)
        if dirty is None:
            _clear_tables()
            factories.load_reference()
        elif dirty:
            reference_touched = bool(dirty & REFERENCE_TABLES)
            _clear_tables(dirty | (REFERENCE_TABLES if reference_touched else set()))
            if reference_touched:
                factories.load_reference()
        db.session.commit()
        written.forget()
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

    def new(self, *roles, **fields):
        """A new user with ``roles`` (and ``fields`` for their person), committed and signed in."""
        user = factories.user(*roles, **fields)
        db.session.commit()
        self.login(user)
        return user


@pytest.fixture()
def throttled(app_ctx, tmp_path):
    """Build apps with the (shared) limiter switched on; switched off again afterwards."""

    def build(storage="memory://", **config):
        app = create_app({
            "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app_ctx.config["SQLALCHEMY_DATABASE_URI"],
            "MHFA_PASSWORD_HASH_METHOD": factories.CHEAP_HASH_METHOD,
            "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}", **config,
        })

        @app.before_request
        def _fresh_request_state():  # one app context spans many requests here, as in conftest's app
            g.pop("_login_user", None)
            g.pop("csrf_token", None)

        return app

    yield build
    limiter.enabled = False


@pytest.fixture()
def auth(client):
    return Auth(client)


@pytest.fixture()
def coordinator(client, auth, app_ctx):
    """A coordinator, signed in (a test file that needs one who is not signed in defines its own)."""
    return auth.new(Role.COORDINATOR, first_name="Cora")


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, page: str) -> str:
    """The CSRF token from a page's form, as a browser would send it back."""
    html = client.get(page).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def posted_again(app, client, url: str, data: dict, times: int) -> list:
    """``data`` posted to ``url`` ``times`` times by ``client`` in one app context of ``app``, each time with
    the CSRF token of a fresh copy of the page; the responses."""
    with app.app_context():
        return [client.post(url, data={**data, "csrf_token": csrf_token(client, url)}) for _ in range(times)]


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


@pytest.fixture(autouse=True)
def _forecast_runs_end_with_their_test():
    """A forecast run started from the page (a background thread) finishes before the next test empties tables."""
    yield
    from mhfa.forecast import jobs

    while jobs.started:
        jobs.started.pop().join(timeout=300)
