"""Races in tests: a second app on the test database, and jobs released at the same moment, each in its
own thread (and, through ``race``, its own app context, database session and connection).

On PostgreSQL the jobs meet on row and advisory locks; on SQLite on the database's write lock.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

from flask import Flask

from mhfa import create_app
from mhfa.errors import DomainError
from mhfa.extensions import db

DATABASE = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "MHFA_BASE_URL")
MAIL = ("MAIL_SERVER", "MAIL_PORT")


@contextlib.contextmanager
def app_beside(app: Flask, *keys: str, **engine_options) -> Iterator[Flask]:
    """A second app on ``app``'s database (with ``app``'s settings ``keys`` too) and its own engine:
    ``engine_options`` size its pool. Its connections are closed afterwards."""
    config = {key: app.config[key] for key in (*DATABASE, *keys)}
    if engine_options:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    application = create_app({**config, "TESTING": True, "INSTANCE_PATH": app.instance_path})
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()


def together(jobs: Sequence[Callable[[], object]], *, timeout: float = 120, what: str = "a thread") -> None:
    """Run every job in a thread of its own, all released by one barrier; fails if one has not ended
    ``timeout`` seconds after the others were waited for."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        job()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), f"{what} hung"


def settle(application: Flask, job: Callable[[], object]) -> tuple[str, object]:
    """``job()`` in an app context of its own, then commit: ("ok", what it returned); ("refused", the
    message) for a ``DomainError``, ("error", the exception) for anything else, both rolled back."""
    with application.app_context():
        try:
            value = job()
            db.session.commit()
            return "ok", value
        except DomainError as error:
            db.session.rollback()
            return "refused", error.message
        except BaseException as error:  # noqa: BLE001 - a deadlock, a lock timeout, a unique index …: the test reports it
            db.session.rollback()
            return "error", error
        finally:
            db.session.remove()


def race(application: Flask, jobs: Sequence[Callable[[], object]], *, timeout: float = 120) -> list[tuple[str, object]]:
    """Every job at the same moment, each settled in its own app context; the outcomes in the order
    they ended."""
    outcomes: list[tuple[str, object]] = []
    lock = threading.Lock()

    def settled(job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            outcome = settle(application, job)
            with lock:
                outcomes.append(outcome)
        return run

    together([settled(job) for job in jobs], timeout=timeout)
    return outcomes


def refusals(application: Flask, jobs: Sequence[Callable[[], object]], *, timeout: float = 120) -> list[str]:
    """``race`` the jobs; fails on any error but a refusal, and gives the refusals' messages."""
    outcomes = race(application, jobs, timeout=timeout)
    assert of_kind(outcomes, "error") == [], outcomes
    return of_kind(outcomes, "refused")


def of_kind(outcomes: Sequence[tuple[str, object]], kind: str) -> list:
    """The values of the outcomes of one kind ("ok", "refused" or "error")."""
    return [value for each, value in outcomes if each == kind]
