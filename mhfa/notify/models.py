"""A record of each reminder sent (so a reminder goes once however often the job runs), and the email outbox."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mhfa.db_types import UTCDateTime, str_enum
from mhfa.extensions import db
from mhfa.timeutil import utcnow


class SentReminder(db.Model):
    __tablename__ = "sent_reminder"
    __table_args__ = (sa.UniqueConstraint("kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxStatus(enum.Enum):
    PENDING = "pending"  # waiting to be sent (again, after a failed attempt: see next_attempt_at)
    SENDING = "sending"  # claimed by one sender
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; kept for an operator to look at


class OutboxMessage(db.Model):
    """One outgoing email, written in the same transaction as the change it announces.

    A sender claims it (only one can), sends it and marks it sent; a failed attempt is retried with
    backoff. The built message is stored whole (with its Message-ID), so a retry sends the same bytes.

    A message can also be written as what to say: its ``kind`` and a small JSON ``payload`` (a booking's id,
    say), with ``raw`` empty. The sender renders it when it first claims the row (``mhfa.notify.services.render``)
    and stores the bytes, so the request that wrote it never renders an email, and a retry still sends the
    same bytes under the same Message-ID (chosen when the row is written).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.PENDING)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(255))
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    raw: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # None until a kind/payload message is rendered
    kind: Mapped[str | None] = mapped_column(sa.String(40))  # what to render (a registered renderer's name)
    payload: Mapped[dict | None] = mapped_column(sa.JSON)  # what the renderer needs, e.g. {"booking_id": 12}
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
