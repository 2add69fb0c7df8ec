"""Files the service writes are its owner's alone: the instance folder 0700, what is in it 0600.

The instance folder holds the SQLite database, the secret and signing keys, the outbox's ``.eml``
files and backups: all personal data or secrets, so no other user of the machine may read them,
whatever the process's umask.
"""
from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: str | Path) -> Path:
    """``path`` as a folder only its owner can open (created if missing, tightened if not)."""
    folder = Path(path)
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    _tighten(folder, FOLDER_MODE)
    return folder


def private_file(path: str | Path) -> Path:
    """``path`` as a file only its owner can read: created empty if missing, tightened if not."""
    file = Path(path)
    if not file.exists():
        private_folder(file.parent)
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    _tighten(file, FILE_MODE)
    return file


def write_private(path: str | Path, data: bytes) -> Path:
    """Write a new file only its owner can read (never an existing one)."""
    file = Path(path)
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return file


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:  # another user's folder or a read-only mount: leave it as it is
        pass


def private_sqlite(database: str | None, instance_path: str) -> None:
    """An SQLite database in the instance folder created owner-only (and its journals, which SQLite
    creates with the database file's mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    file = Path(database).resolve()
    if Path(instance_path).resolve() not in file.parents:
        return
    private_file(file)
    for suffix in ("-wal", "-shm", "-journal"):
        journal = file.with_name(file.name + suffix)
        if journal.exists():
            _tighten(journal, FILE_MODE)
