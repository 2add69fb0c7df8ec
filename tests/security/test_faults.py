"""A database outage answers 503 with Retry-After and one log line; PostgreSQL connections carry timeouts."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from mhfa import SECURITY_HEADERS, create_app
from mhfa.extensions import db

DOWN = "postgresql+psycopg://nobody@127.0.0.1:1/none"


@pytest.fixture()
def down_app(tmp_path):
    return create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": DOWN,
                       "MHFA_DB_CONNECT_TIMEOUT_S": 1})


@pytest.mark.parametrize("url", ["/courses", "/courses/1", "/courses?page=2", "/api/v1/courses"])
def test_pages_answer_503_with_retry_after_and_one_log_line_when_the_database_is_down(down_app, url, caplog):
    with caplog.at_level(logging.ERROR):
        response = down_app.test_client().get(url)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    for header in SECURITY_HEADERS:
        assert header in response.headers
    ours = [r for r in caplog.records if r.name == "mhfa.database"]
    assert len(ours) == 1 and ours[0].exc_info is None  # one line, no traceback
    assert not [r for r in caplog.records if r.exc_info]
    if url.startswith("/api/"):
        assert "unavailable" in response.json["error"]
    else:
        assert "Sorry, the service is unavailable" in response.get_data(as_text=True)


def test_postgresql_connections_carry_statement_lock_and_idle_timeouts(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    # A fresh engine from the app's settings: the shared test engine may have had its timeouts lifted by a
    # batch command (demo data, imports) run earlier in the same process, as the CLI does on purpose.
    engine = sa.create_engine(app_ctx.config["SQLALCHEMY_DATABASE_URI"], **app_ctx.config["SQLALCHEMY_ENGINE_OPTIONS"])
    with engine.connect() as connection:
        settings = {name: connection.execute(sa.text(f"SHOW {name}")).scalar() for name in (
            "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
    engine.dispose()
    assert settings == {"statement_timeout": "30s", "lock_timeout": "10s",
                        "idle_in_transaction_session_timeout": "1min"}
    assert app_ctx.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["connect_timeout"] == 5


def test_a_statement_over_the_timeout_is_a_503_not_a_hung_worker(app_ctx, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    client = app_ctx.test_client()
    db.session.execute(sa.text("SET statement_timeout = 50"))

    def slow_view():
        db.session.execute(sa.text("SELECT pg_sleep(1)"))
        return "never"

    monkeypatch.setitem(app_ctx.view_functions, "main.home", slow_view)
    monkeypatch.setitem(app_ctx.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/")
    assert response.status_code == 503 and response.headers["Retry-After"]
    db.session.rollback()
