"""A database that cannot be reached (or a statement, lock or connection that timed out) is a 503.

The answer carries ``Retry-After`` and the log gets one line per failure, not a traceback per request.
The pool's pre-ping and the next request's fresh connection bring the app back by itself once the
database answers again: no restart.
"""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_login import AnonymousUserMixin
from sqlalchemy import exc

from mhfa.extensions import db

log = logging.getLogger("mhfa.database")
RETRY_AFTER_SECONDS = 30


def _database_unavailable(error: exc.SQLAlchemyError):

    original = getattr(error, "orig", None) or error
    log.error("database unavailable on %s %s: %s: %s", request.method, request.path,
              type(original).__name__, str(original).strip().splitlines()[0] if str(original).strip() else "")
    try:
        db.session.rollback()
    except exc.SQLAlchemyError:
        db.session.close()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return {"error": "The service is briefly unavailable: try again in a minute."}, 503, headers
    try:
        body = render_template("errors/error.html", code=503, title="Sorry, the service is unavailable",
                               detail="We could not reach our records. Try again in a minute.",
                               current_user=AnonymousUserMixin())  # the header must not ask the database
    except Exception:  # noqa: BLE001 (the page must go out whatever else is failing)
        body = "<h1>Sorry, the service is unavailable</h1><p>Try again in a minute.</p>"
    return body, 503, headers


def register_fault_handlers(app: Flask) -> None:
    for error_type in (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError):
        app.register_error_handler(error_type, _database_unavailable)


def with_postgres_timeouts(config: dict) -> dict:
    """The engine options with connect, statement, lock and idle-in-transaction timeouts on PostgreSQL.

    A stuck query or lock then fails (and answers 503) instead of holding a worker and a connection.
    Options already given (``connect_args``) win; SQLite is left as it is.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return options
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", config["MHFA_DB_CONNECT_TIMEOUT_S"])
    connect_args.setdefault("options", (
        f"-c statement_timeout={config['MHFA_DB_STATEMENT_TIMEOUT_MS']} "
        f"-c lock_timeout={config['MHFA_DB_LOCK_TIMEOUT_MS']} "
        f"-c idle_in_transaction_session_timeout={config['MHFA_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS']}"
    ))
    options["connect_args"] = connect_args
    return options


def lift_statement_timeouts(engine) -> None:
    """Batch commands (imports, demo data, retention) may run long: no statement or idle timeout for them."""
    from sqlalchemy import event

    if engine.dialect.name != "postgresql" or getattr(engine, "_mhfa_batch_timeouts", False):
        return
    engine._mhfa_batch_timeouts = True

    @event.listens_for(engine, "connect")
    def _no_timeouts(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0")
        cursor.close()
        dbapi_connection.commit()

    engine.dispose()  # connections made before this listener get replaced
