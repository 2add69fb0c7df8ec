"""``Idempotency-Key`` on API calls that create something: a retried call returns the first result.

A client that lost the answer to ``POST /courses/{id}/bookings`` sends the same request with the same
key and gets the first answer again (status and body), instead of a second booking or a confusing
"already booked". The first successful result is stored per user and key, in the same transaction as
the booking; refusals are not stored, so a retry after fixing the cause can succeed.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mhfa.db_types import UTCDateTime
from mhfa.extensions import db
from mhfa.timeutil import utcnow

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH))
    request: Mapped[str] = mapped_column(sa.String(300))  # method and path the key was first used for
    status_code: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    headers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def key_problem(key: str) -> str | None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        return f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters (a UUID will do)"
    return None


def stored(user, key: str) -> IdempotencyKey | None:
    return db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                             IdempotencyKey.key == key))


def remember(user, key: str, request: str, status_code: int, body: dict, headers: dict | None = None) -> None:
    """Store the first result for this key (in the caller's transaction)."""
    db.session.add(IdempotencyKey(user_id=user.id, key=key, request=request, status_code=status_code,
                                  body=body, headers=headers or {}))


def purge_older_than(days: int) -> int:
    return db.session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - timedelta(days=days))).rowcount
