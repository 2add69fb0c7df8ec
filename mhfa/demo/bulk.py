"""Bulk loading of generated frames: COPY on PostgreSQL, executemany elsewhere.

Frames hold ints, strings, booleans, dates as ``YYYY-MM-DD`` strings and moments as naive-UTC
``datetime64`` columns (NaT for missing). Moments are written as ``YYYY-MM-DD HH:MM:SS.ffffff``,
the format SQLAlchemy stores and compares on SQLite and that PostgreSQL parses; they are turned
into text one chunk at a time, so a large table never exists twice in memory as strings.
Table and column names come from this package's own code, never from input.
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

NULL = "\\N"


def moments(values: np.ndarray) -> np.ndarray:
    """Naive-UTC moments, to the second."""
    return np.asarray(values).astype("datetime64[s]")


def days(values: np.ndarray) -> np.ndarray:
    """datetime64[D] → ``YYYY-MM-DD``, NaT → None."""
    values = np.asarray(values).astype("datetime64[D]")
    out = np.datetime_as_string(values, unit="D").astype(object)
    out[np.isnat(values)] = None
    return out


def _moment_text(series: pd.Series) -> pd.Series:
    values = series.to_numpy().astype("datetime64[us]")
    text = np.char.replace(np.datetime_as_string(values, unit="us"), "T", " ").astype(object)
    text[np.isnat(values)] = None
    return pd.Series(text, index=series.index)


def _as_text(part: pd.DataFrame) -> pd.DataFrame:
    moment_columns = [c for c in part.columns if pd.api.types.is_datetime64_any_dtype(part[c])]
    if not moment_columns:
        return part
    return part.assign(**{c: _moment_text(part[c]) for c in moment_columns})


def write(connection: Connection, table: str, frame: pd.DataFrame, chunk_rows: int = 100_000) -> int:
    """Append ``frame`` (columns named as the table's) to ``table``; returns the rows written."""
    if frame.empty:
        return 0
    columns = list(frame.columns)
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        statement = f'COPY "{table}" ({names}) FROM STDIN WITH (FORMAT csv, NULL \'{NULL}\')'
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for start in range(0, len(frame), chunk_rows):
                buffer = io.StringIO()
                _as_text(frame.iloc[start:start + chunk_rows]).to_csv(
                    buffer, header=False, index=False, na_rep=NULL
                )
                copy.write(buffer.getvalue())
    else:
        placeholders = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({placeholders})'  # noqa: S608
        for start in range(0, len(frame), chunk_rows):
            part = _as_text(frame.iloc[start:start + chunk_rows])
            rows = list(zip(*(_python_values(part[c]) for c in columns), strict=True))
            connection.exec_driver_sql(sql, rows)
    return len(frame)


def _python_values(series: pd.Series) -> list:
    """Plain Python values (no numpy scalars, NA → None) for the DB-API driver."""
    values = series.astype(object).where(series.notna(), None).tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in values]


@contextmanager
def set_aside(connection: Connection, tables: list[str], say: Callable[[str], None]) -> Iterator[None]:
    """On PostgreSQL, the foreign keys and the secondary indexes of ``tables`` are dropped while they are
    bulk-loaded in this transaction, then put back as they were (the same definitions, from the catalogue).

    Checking each row's foreign keys and inserting it into every index as it is copied is most of a large
    load's time; an index built once over the loaded rows, and a foreign key checked once by a join when
    it is added, cost a fraction of it. Unique constraints are set aside too (but for those a foreign key
    refers to) and checked when they are put back; the primary keys stay, so ids are checked as the rows
    come and a cohort's rows can be read back by id. The loaded tables are then analysed, so the statements
    that follow in the same transaction (the kept figures' rebuild) are planned from their real sizes, not
    from empty tables': without it the funnel's rebuild at 500,000 people ran for minutes instead of seconds.
    All of it is in the caller's transaction: a failed load (a duplicate, a missing row) rolls it back whole.
    Elsewhere (SQLite) it does nothing.
    """
    if connection.dialect.name != "postgresql" or not tables:
        yield
        return
    names = {"t": list(tables)}
    foreign_keys = connection.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%(t)s) ORDER BY conrelid::regclass::text, conname",
        names).all()
    # Unique constraints no foreign key refers to (those stay, with the primary keys).
    uniques = connection.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint c "
        "WHERE contype = 'u' AND conrelid::regclass::text = ANY(%(t)s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid) "
        "ORDER BY conrelid::regclass::text, conname", names).all()
    indexes = connection.exec_driver_sql(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid::regclass::text = ANY(%(t)s) AND NOT indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = pg_index.indexrelid) "
        "ORDER BY indexrelid::regclass::text", names).all()
    for table, name, _definition in foreign_keys:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for table, name, _definition in uniques:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    began = time.perf_counter()
    for table, name, definition in uniques:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        connection.exec_driver_sql(definition)
    for table, name, definition in foreign_keys:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for table in tables:  # what the kept figures' rebuild, in this transaction, plans its reads by
        connection.exec_driver_sql(f'ANALYZE "{table}"')
    say(f"  {len(uniques) + len(indexes)} indexes built, {len(foreign_keys)} foreign keys checked and "
        f"{len(tables)} tables analysed over the loaded rows in {time.perf_counter() - began:.1f} s")


def reset_sequences(connection: Connection, tables: list[str]) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the highest id."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        has_id = connection.exec_driver_sql(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %(t)s AND column_name = 'id'", {"t": table}
        ).first()
        if has_id:
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE(MAX(id), 0) + 1, false) "  # noqa: S608
                f'FROM "{table}"'
            )


def settle(engine: Engine) -> None:
    """After a bulk load on PostgreSQL (committed): ``VACUUM (ANALYZE)``, as autovacuum leaves a live database.

    Rows written by COPY are not yet in the visibility map, so counts that could be answered from an
    index alone (the finder's free places) read every row until a vacuum; a few seconds at 500,000 people.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
