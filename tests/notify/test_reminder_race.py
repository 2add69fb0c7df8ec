"""Two ``send-reminders`` runs at the same time send each reminder once, and neither fails.

Each run is a thread with its own app context, database session and connection, doing what the
cron command does: read what is due, claim and queue each reminder, commit (the emails go after the
commit). A barrier holds every run after it has read the due list until all of them have, so they
all start claiming the same reminders, none of which is recorded yet: the overlap cron can produce
when one run is slow. On PostgreSQL the second claim of a row waits for the first run's transaction
and then finds the row; on SQLite the second run's claim waits for the database write lock.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mhfa import reminders
from mhfa.bookings import reminders as course_reminders
from mhfa.certificates import reminders as expiry_reminders
from mhfa.extensions import db
from mhfa.notify.models import SentReminder
from tests import factories

RUNS = 2
DUE = 6


def _due_course_reminders() -> set[str]:
    """Six trainees confirmed on two courses starting tomorrow; the addresses their reminders go to."""
    addresses = set()
    for course in (factories.course(start=datetime.now() + timedelta(days=1)),
                   factories.course("AWARE", start=datetime.now() + timedelta(days=1, hours=3))):
        for _ in range(DUE // 2):
            addresses.add(factories.booking_on(course, factories.person("Rita")).person.email)
    return addresses


def _due_expiry_reminders() -> set[str]:
    """Six people whose certificates expire next month; the addresses their reminders go to."""
    today = date.today()
    return {
        factories.certificate(factories.person("Cato"), issued_on=today - timedelta(days=1060),
                              expires_on=today + timedelta(days=30)).person.email
        for _ in range(DUE)
    }


def _overlapping_runs(app, monkeypatch, gated: str) -> tuple[list[dict], list[int], list[BaseException]]:
    """Run the reminder sweep ``RUNS`` times at once, each held after reading the due list ``gated``."""
    module = {"due_course_reminders": course_reminders, "due_expiry_reminders": expiry_reminders}[gated]
    real = getattr(module, gated)
    barrier = threading.Barrier(RUNS, timeout=60)
    seen: list[int] = []
    counts: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def read_then_wait_for_the_others(*args):
        due = real(*args)
        with lock:
            seen.append(len(due))
        barrier.wait()
        return due

    monkeypatch.setattr(module, gated, read_then_wait_for_the_others)

    def run() -> None:
        with app.app_context():
            try:
                result = reminders.send_due_reminders()
                db.session.commit()
            except BaseException as error:  # reported by the test, not lost in the thread
                db.session.rollback()
                with lock:
                    errors.append(error)
                barrier.abort()
            else:
                with lock:
                    counts.append(result)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a reminder run hung"
    monkeypatch.setattr(module, gated, real)  # later runs go ungated
    return counts, seen, errors


@pytest.mark.parametrize(("kind", "make_due", "gated"), [
    ("course", _due_course_reminders, "due_course_reminders"),
    ("certificate", _due_expiry_reminders, "due_expiry_reminders"),
], ids=["course-reminders", "certificate-expiry-reminders"])
def test_overlapping_runs_send_each_reminder_once(app_ctx, smtp, monkeypatch, kind, make_due, gated):
    addresses = make_due()
    db.session.commit()

    counts, seen, errors = _overlapping_runs(app_ctx, monkeypatch, gated)

    assert errors == []
    assert seen == [DUE] * RUNS  # every run read every reminder as due before any was claimed
    assert sorted(c[kind] for c in counts) == [0] * (RUNS - 1) + [DUE]  # one run sent them all
    assert sorted(m["To"] for m in smtp.messages) == sorted(addresses)  # each person once
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(SentReminder.id))) == DUE
    # and a later run finds nothing left to send
    assert reminders.send_due_reminders()[kind] == 0
    db.session.commit()
    assert len(smtp.messages) == DUE
