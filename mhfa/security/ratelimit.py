"""Rate-limit counts in the app's own database (``RATELIMIT_STORAGE_URI=database://``, the default).

Every gunicorn worker and every host shares the database, so a count kept there holds however many
processes serve the app, with nothing else to run: ``limits`` (under Flask-Limiter) ships storages for
memory, Redis, Memcached and MongoDB only, so this is a small ``limits`` storage of its own, registered
under the ``database`` scheme. One row per counter; each increment is one atomic upsert in its own
short transaction (never the request's), which starts the window again once the row has expired.
Redis stays available for a large deployment (``RATELIMIT_STORAGE_URI=redis://…``).
"""
from __future__ import annotations

import hashlib
import time

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from mhfa.extensions import db

SCHEME = "database"


class RateLimitCounter(db.Model):
    """One rate-limit window: how many hits ``key`` has had, until ``expires_at`` (Unix time)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(index=True)


_TABLE = RateLimitCounter.__table__


def _key(key: str) -> str:
    """The counter's row key: a key too long for the column (a long address) ends in its digest."""
    if len(key) <= 255:
        return key
    return key[:180] + "#" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """A ``limits`` storage in the app's database (fixed and moving windows count the same way here: fixed)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    @staticmethod
    def _engine() -> sa.Engine:
        return db.engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        engine = self._engine()
        insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
        expired = _TABLE.c.expires_at <= now
        statement = insert(_TABLE).values(key=_key(key), count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(index_elements=[_TABLE.c.key], set_={
            "count": sa.case((expired, amount), else_=_TABLE.c.count + amount),
            "expires_at": sa.case((expired, now + expiry), else_=_TABLE.c.expires_at),
        }).returning(_TABLE.c.count)
        with engine.begin() as connection:
            return connection.execute(statement).scalar_one()

    def get(self, key: str) -> int:
        with self._engine().connect() as connection:
            count = connection.scalar(sa.select(_TABLE.c.count).where(
                _TABLE.c.key == _key(key), _TABLE.c.expires_at > time.time()))
        return count or 0

    def get_expiry(self, key: str) -> float:
        with self._engine().connect() as connection:
            expires = connection.scalar(sa.select(_TABLE.c.expires_at).where(
                _TABLE.c.key == _key(key), _TABLE.c.expires_at > time.time()))
        return expires or time.time()

    def check(self) -> bool:
        try:
            with self._engine().connect() as connection:
                connection.execute(sa.select(sa.literal(1)))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as connection:
            return connection.execute(sa.delete(_TABLE)).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as connection:
            connection.execute(sa.delete(_TABLE).where(_TABLE.c.key == _key(key)))


def purge_expired(session) -> int:
    """Delete the windows that have ended (in the caller's transaction; ``apply-retention`` runs it)."""
    return session.execute(sa.delete(_TABLE).where(_TABLE.c.expires_at <= time.time())).rowcount
