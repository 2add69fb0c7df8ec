"""Backups of the embedded SQLite database with SQLite's online backup API (consistent while in use)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from mhfa.extensions import db
from mhfa.timeutil import utcnow


def backup_sqlite(directory: str | Path) -> Path:
    """Write a consistent copy of the app's SQLite database into ``directory``; returns its path."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ValueError("The backup command copies the embedded SQLite database; for PostgreSQL use "
                         "pg_dump -Fc (see docs/operations.md, \"Backups\").")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"mhfa-{utcnow():%Y%m%dT%H%M%SZ}.db"
    source = sqlite3.connect(url.database)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy, pages=256)  # in steps, so writers are not held up for long
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise ValueError(f"the backup failed its integrity check: {check}")
    finally:
        copy.close()
        source.close()
    return target
