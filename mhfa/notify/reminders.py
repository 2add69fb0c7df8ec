"""Each reminder once, however often ``flask mhfa send-reminders`` runs (the mechanics every area's reminders use).

Before a reminder is queued, a ``SentReminder`` row (kind, subject id) is written in the same
transaction (``claim``). The row's unique constraint makes a second run (even one running at the
same time) skip it; the email goes out only when the transaction commits, together with its row.
The reminders themselves live beside their area (``bookings/reminders.py``,
``certificates/reminders.py``); ``mhfa/reminders.py`` runs them all.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mhfa.extensions import db
from mhfa.notify.models import SentReminder
from mhfa.timeutil import utcnow


def not_sent(kind, subject_id):
    """A condition: no reminder of this kind was recorded for this subject."""
    return ~sa.exists().where(SentReminder.kind == kind, SentReminder.subject_id == subject_id)


def claim(kind: str, subject_id: int) -> bool:
    """Record that this reminder is being sent; False if it already was (or another run has it).

    ``INSERT … ON CONFLICT DO NOTHING`` rather than a savepoint: on PostgreSQL it waits for a run
    that inserted the same row to finish, and on SQLite a savepoint opened before any other write
    would commit on release (pysqlite starts transactions only at the first INSERT/UPDATE).
    """
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    statement = (
        insert(SentReminder.__table__)
        .values(kind=kind, subject_id=subject_id, sent_at=utcnow())
        .on_conflict_do_nothing(index_elements=["kind", "subject_id"])
        .returning(SentReminder.__table__.c.id)
    )
    return db.session.execute(statement).first() is not None
