"""Column types shared by every area."""
from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

# Primary keys are INTEGER columns on both databases: a larger number names no row (and must not reach
# the driver, which refuses it: OverflowError on SQLite, "integer out of range" on PostgreSQL).
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator):
    """A moment in time, stored as naive UTC and always returned timezone-aware (UTC).

    Naive datetimes are refused on the way in, so a local wall-clock time can never be stored
    by mistake.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def str_enum(enum_cls: type[enum.Enum], length: int = 20) -> sa.Enum:
    """A portable enum column stored as its values in a VARCHAR (no native PostgreSQL type)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate: write UTCDateTime as a plain DateTime, so migrations need no app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


#: Memory for a rebuild's sorts and hashes on PostgreSQL: with the server's default (4 MB) the window
#: over every completion spills to disk and a rebuild at millions of people takes many minutes longer.
REBUILD_WORK_MEM = "256MB"
#: Memory for the sorts and hashes of a bulk write (an import matching its 100,000 rows' people).
BULK_WORK_MEM = "64MB"


def plan_for_whole_tables(connection) -> None:
    """For the rest of this transaction only (a rebuild that reads every row), let PostgreSQL sort and hash
    whole tables in memory, and join them by hashing rather than by a nested loop: a rebuild inside the
    transaction that bulk-loaded its tables sees no statistics for them yet, and a nested loop planned for
    empty tables re-reads a whole table per row (at 500,000 people, hundreds of gigabytes of pages)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'"))
        connection.execute(sa.text("SET LOCAL enable_nestloop = off"))


def plan_for_bulk_writes(connection) -> None:
    """For the rest of this transaction only (a bulk write such as an import of 100,000 rows), plan without
    JIT compilation and with room to hash in memory on PostgreSQL: the kept-figure statements are estimated
    far above their real size (grouped rows read by many unions), so the server would compile them with
    LLVM, which at 100,000 people costs seconds per statement against a fraction of a second to run them."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SET LOCAL jit = off"))
        connection.execute(sa.text(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'"))
