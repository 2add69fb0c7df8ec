"""Delivering the email outbox: claim what is due, send it, mark it sent; retry failures with backoff.

At most once per message, however many senders run at the same time: a sender first *claims* rows by
moving them from ``pending`` to ``sending`` in its own committed transaction — on PostgreSQL with
``SELECT … FOR UPDATE SKIP LOCKED`` (two senders take different rows without waiting), on SQLite with
``UPDATE … WHERE status = 'pending'`` per row (only one sender's update can match). Only the claimer
sends. A failed attempt goes back to ``pending`` with a later ``next_attempt_at``; after
``MAX_ATTEMPTS`` the row is ``failed`` and logged. A claim older than ``MHFA_OUTBOX_CLAIM_TIMEOUT``
seconds (a sender killed mid-batch) is released for another attempt; the message keeps its
Message-ID, so a receiver can tell a repeat.
"""
from __future__ import annotations

import logging
import os
import smtplib
import socket
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from mhfa.extensions import db
from mhfa.locks import claim_unlocked
from mhfa.notify.models import OutboxMessage, OutboxStatus
from mhfa.notify.services import QUEUE_KEY, delete_mail_files, mail_transport, render
from mhfa.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
_TABLE = OutboxMessage.__table__


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 5, 25 minutes… at most 6 hours."""
    return timedelta(seconds=min(60 * 5 ** max(attempts - 1, 0), 6 * 3600))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    dropped: int = 0  # written as what to say, but nobody to say it to any more (booking gone, person erased)

    def __str__(self) -> str:
        dropped = f"; with nobody to tell any more: {self.dropped}" if self.dropped else ""
        return (f"Emails sent: {self.sent}; to retry later: {self.retrying}; given up: {self.failed}; "
                f"stale claims released: {self.released}{dropped}")


def sender_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


_CLAIMED = (_TABLE.c.id, _TABLE.c.raw, _TABLE.c.attempts, _TABLE.c.kind, _TABLE.c.payload, _TABLE.c.recipient,
            _TABLE.c.message_id)


def _claim(connection, now, *, limit: int, only_ids: list[int] | None, sender: str) -> list:
    """Move up to ``limit`` due messages to ``sending`` for this sender; returns the rows claimed (by id)."""
    due = (sa.select(_TABLE.c.id)
           .where(_TABLE.c.status == OutboxStatus.PENDING, _TABLE.c.next_attempt_at <= now)
           .order_by(_TABLE.c.id).limit(limit))
    if only_ids is not None:
        due = due.where(_TABLE.c.id.in_(only_ids))
    claim = dict(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=sender, attempts=_TABLE.c.attempts + 1)
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            sa.update(_TABLE).where(_TABLE.c.id.in_(claim_unlocked(due).scalar_subquery()))
            .values(**claim).returning(*_CLAIMED)
        ).all()
    else:
        rows = []
        for message_id in connection.scalars(due).all():
            taken = connection.execute(
                sa.update(_TABLE).where(_TABLE.c.id == message_id, _TABLE.c.status == OutboxStatus.PENDING)
                .values(**claim).returning(*_CLAIMED)
            ).all()
            rows.extend(taken)
    return sorted(rows, key=lambda row: row.id)


def _release_stale_claims(connection, now) -> int:
    timeout = timedelta(seconds=current_app.config["MHFA_OUTBOX_CLAIM_TIMEOUT"])
    return connection.execute(
        sa.update(_TABLE).where(_TABLE.c.status == OutboxStatus.SENDING, _TABLE.c.claimed_at < now - timeout)
        .values(status=OutboxStatus.PENDING, claimed_by=None)
    ).rowcount


def deliver_due(*, limit: int = 100, only_ids: list[int] | None = None) -> DeliveryReport:
    """Send up to ``limit`` due messages (or only these ids); each claim and each outcome commits at once.

    Runs on connections of its own, so it can follow a request's commit (``MHFA_DELIVER_AFTER_COMMIT``)
    and never commits the caller's session.
    """
    report = DeliveryReport()
    sender = sender_name()
    with db.engine.begin() as connection:
        now = utcnow()
        if only_ids is None:
            report.released = _release_stale_claims(connection, now)
        claimed = _claim(connection, now, limit=limit, only_ids=only_ids, sender=sender)
    if not claimed:
        return report
    claimed, report.dropped = _rendered(claimed)
    outcomes: dict[int, str | None] = {}
    try:
        with mail_transport() as send:
            for message_id, raw, _ in claimed:
                try:
                    send(bytes(raw))
                except smtplib.SMTPRecipientsRefused as error:  # this message only: the others still go
                    outcomes[message_id] = f"recipient refused: {error.recipients}"
                else:
                    outcomes[message_id] = None
                    _mark_sent(message_id)
    except (OSError, smtplib.SMTPException) as error:
        reason = f"{type(error).__name__}: {error}"
        for message_id, _, _ in claimed:
            outcomes.setdefault(message_id, reason)
    for message_id, _, attempts in claimed:
        problem = outcomes.get(message_id, "not attempted")
        if problem is None:
            report.sent += 1
        elif _retry_or_give_up(message_id, attempts, problem):
            report.retrying += 1
        else:
            report.failed += 1
    if report.retrying or report.failed:
        log.warning("outbox: %d message(s) not sent (%d to retry, %d given up): %s",
                    report.retrying + report.failed, report.retrying, report.failed,
                    next(p for p in outcomes.values() if p) if any(outcomes.values()) else "")
    return report


def _rendered(claimed: list) -> tuple[list[tuple[int, bytes, int]], int]:
    """(id, raw, attempts) of each claimed message, rendering those written as a kind and payload (and storing
    their bytes at once, so a retry sends the same message); those with nothing to send any more are deleted."""
    ready, dropped = [], 0
    for row in claimed:
        raw = row.raw
        if raw is None:
            try:
                raw = render(row.kind, row.payload or {}, to=row.recipient, message_id=row.message_id)
            except Exception as error:  # noqa: BLE001 (a message that cannot be rendered is retried, then kept as failed)
                log.exception("outbox: message %s (%s) could not be rendered", row.id, row.kind)
                _retry_or_give_up(row.id, row.attempts, f"could not be rendered: {type(error).__name__}: {error}")
                continue
            with db.engine.begin() as connection:
                if raw is None:  # its booking is gone or its person erased: nobody to tell
                    connection.execute(sa.delete(_TABLE).where(_TABLE.c.id == row.id))
                    dropped += 1
                    continue
                connection.execute(sa.update(_TABLE).where(_TABLE.c.id == row.id).values(raw=raw))
        ready.append((row.id, raw, row.attempts))
    return ready, dropped


def _mark_sent(message_id: int) -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.update(_TABLE).where(_TABLE.c.id == message_id)
                           .values(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None))


def _retry_or_give_up(message_id: int, attempts: int, problem: str) -> bool:
    retry = attempts < MAX_ATTEMPTS
    with db.engine.begin() as connection:
        connection.execute(sa.update(_TABLE).where(_TABLE.c.id == message_id).values(
            status=OutboxStatus.PENDING if retry else OutboxStatus.FAILED,
            next_attempt_at=utcnow() + backoff(attempts), claimed_by=None, last_error=problem[:2000],
        ))
    return retry


def purge_delivered(older_than_days: int) -> tuple[int, int]:
    """Delete sent messages older than this (personal data kept no longer than needed), in the session, with
    their ``.eml`` files and any other file that old; returns (messages, files) deleted."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    message_ids = list(db.session.scalars(
        sa.delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < cutoff)
        .returning(OutboxMessage.message_id)))
    return len(message_ids), delete_mail_files(message_ids, older_than_days)


def pending_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))) or 0


# Delivery right after commit (MHFA_DELIVER_AFTER_COMMIT: development and tests), registered when
# this module is imported (the app factory does).
_DELIVER_KEY = "mhfa_outbox_committed"


@event.listens_for(Session, "after_commit")
def _note_committed(session: Session) -> None:
    entries = session.info.pop(QUEUE_KEY, [])
    if entries and has_app_context() and current_app.config.get("MHFA_DELIVER_AFTER_COMMIT"):
        # No SQL inside after_commit: note the committed rows' keys (read without loading them) ...
        ids = [identity[0] for _, row in entries if (identity := sa.inspect(row).identity)]
        session.info.setdefault(_DELIVER_KEY, []).extend(ids)


@event.listens_for(Session, "after_transaction_end")
def _deliver_after_commit(session: Session, transaction) -> None:
    # ... and deliver them once the transaction has given its connection back to the pool, so delivery
    # never holds a second connection while the request holds the first.
    if transaction.parent is None and (ids := session.info.pop(_DELIVER_KEY, None)) and has_app_context():
        deliver_due(only_ids=ids)
