"""Backups and restores of the whole service: the database, and what it needs beside it to work again.

* SQLite (the embedded default): SQLite's online backup API, consistent while the app runs.
* PostgreSQL: ``pg_dump`` in its custom format (consistent: one snapshot), restored with ``pg_restore``;
  ``pg_dump`` must be at least the server's major version (``postgresql-client-<N>``).

Beside each database copy, ``mhfa-<time>.json`` holds what the data cannot work without: the schema
revision and each table's row count (checked after a restore), the Ed25519 key that signed every
credential (credentials signed by a lost key never verify again), the base URL whose host is the
issuer's ``did:web`` identity, the programme's name and the secret key (sessions, links in emails). It
holds secrets: every file is written owner-only (0600), in a folder only its owner can open; keep the
backups as safe as the database itself.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from mhfa.extensions import db
from mhfa.security.files import FILE_MODE, FOLDER_MODE, write_private
from mhfa.timeutil import utcnow

MANIFEST_VERSION = 1


class BackupError(ValueError):
    """A backup or restore that cannot be done, with what to do about it."""


@dataclass
class Backup:
    database: Path
    manifest: Path


def _folder(directory: str | Path) -> Path:
    folder = Path(directory)
    if not folder.exists():
        folder.mkdir(mode=FOLDER_MODE, parents=True)
    return folder


def table_counts(connection) -> dict[str, int]:
    """Rows in every table of the app's schema (what a restore must find again)."""
    return {table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def _revision(connection) -> str | None:
    try:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError:
        return None


def backup(directory: str | Path, needs: dict) -> Backup:
    """A consistent copy of the app's database in ``directory``, with its manifest (``needs``: the signing
    key and settings the data needs, gathered by the caller)."""
    url = db.engine.url
    folder = _folder(directory)
    stamp = f"{utcnow():%Y%m%dT%H%M%SZ}"
    if url.get_backend_name() == "sqlite":
        target = folder / f"mhfa-{stamp}.db"
        _backup_sqlite(url, target)
        counts, revision = _counts_of_sqlite(target)
    elif url.get_backend_name() == "postgresql":
        target = folder / f"mhfa-{stamp}.dump"
        counts, revision = _pg_dump(url, target)
    else:
        raise BackupError(f"backups cover SQLite and PostgreSQL, not {url.get_backend_name()}")
    manifest = folder / f"mhfa-{stamp}.json"
    write_private(manifest, json.dumps({
        "version": MANIFEST_VERSION, "created_at": utcnow().isoformat(), "database": url.get_backend_name(),
        "file": target.name, "schema_revision": revision, "row_counts": counts, **needs,
    }, indent=2).encode())
    return Backup(target, manifest)


def _backup_sqlite(url, target: Path) -> None:
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: there is nothing on disk to back up")
    source = sqlite3.connect(url.database)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy, pages=256)  # in steps, so writers are not held up for long
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the backup failed its integrity check: {check}")
    finally:
        copy.close()
        source.close()


def _counts_of_sqlite(path: Path) -> tuple[dict[str, int], str | None]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return table_counts(connection), _revision(connection)
    finally:
        engine.dispose()


def _pg_dump(url, target: Path) -> tuple[dict[str, int], str | None]:
    """``pg_dump`` of one exported snapshot, counted in the same snapshot: the counts are the dump's rows."""
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, \
            connection.begin():
        server = int(connection.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
        _require_client("pg_dump", server)
        snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        counts, revision = table_counts(connection), _revision(connection)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
              "--file", str(target)], url)
    os.chmod(target, FILE_MODE)
    return counts, revision


def _client_major(program: str) -> int:
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed: install the PostgreSQL client tools "
                          "(Debian: apt-get install postgresql-client) of the server's version or newer")
    output = subprocess.run([program, "--version"], capture_output=True, text=True,  # noqa: S603 (our own arguments)
                            check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    return int(match.group(1)) if match else 0


def _require_client(program: str, server_major: int) -> None:
    major = _client_major(program)
    if major < server_major:
        raise BackupError(f"{program} {major} cannot read a PostgreSQL {server_major} server: install "
                          f"postgresql-client-{server_major} (or newer) and run the command again")


def _libpq_environment(url) -> dict[str, str]:
    """The connection as libpq's environment variables (a password never appears in a process list)."""
    env = dict(os.environ)
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value not in (None, ""):
            env[name] = str(value)
    return env


def _run(command: list[str], url) -> None:
    result = subprocess.run(command, env=_libpq_environment(url),  # noqa: S603 (pg_dump/pg_restore, our arguments)
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {(result.stderr or result.stdout).strip()[-2000:]}")


# --- restoring ---------------------------------------------------------------------------------------------

def read_manifest(path: str | Path) -> tuple[dict, Path]:
    """The manifest beside a backup (give either file) and the database copy it describes."""
    path = Path(path)
    manifest_path = path if path.suffix == ".json" else path.with_suffix(".json")
    if not manifest_path.exists():
        raise BackupError(f"{manifest_path} is missing: a backup is its database file and its .json manifest")
    manifest = json.loads(manifest_path.read_text())
    database = manifest_path.with_name(manifest["file"])
    if not database.exists():
        raise BackupError(f"{database} is missing: the manifest names it")
    return manifest, database


def _tables_in(connection) -> list[str]:
    return sorted(sa.inspect(connection).get_table_names())


def restore(path: str | Path) -> dict:
    """Restore a backup into the app's database, which must be empty (a new database, never over live data).
    Returns the manifest; raises BackupError when the restored rows differ from what it records."""
    manifest, database = read_manifest(path)
    url = db.engine.url
    if manifest["database"] != url.get_backend_name():
        raise BackupError(f"this is a {manifest['database']} backup and DATABASE_URL names a "
                          f"{url.get_backend_name()} database")
    with db.engine.connect() as connection:
        existing = _tables_in(connection)
    if existing:
        raise BackupError(f"the database named by DATABASE_URL is not empty ({len(existing)} tables): restore "
                          "into a new, empty database, then point the app at it")
    if url.get_backend_name() == "postgresql":
        with db.engine.connect() as connection:
            server = int(connection.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
        _require_client("pg_restore", server)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              "--dbname", url.database, str(database)], url)
    else:
        db.engine.dispose()
        target = Path(url.database)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        source, copy = sqlite3.connect(database), sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
    db.engine.dispose()
    with db.engine.connect() as connection:
        counts, revision = table_counts(connection), _revision(connection)
    if revision != manifest["schema_revision"]:
        raise BackupError(f"the restored schema is at {revision}, the backup recorded {manifest['schema_revision']}")
    differing = {name: (counts.get(name), expected) for name, expected in manifest["row_counts"].items()
                 if counts.get(name) != expected}
    if differing:
        raise BackupError("the restored rows differ from the backup's: " + ", ".join(
            f"{name} {found} (expected {expected})" for name, (found, expected) in sorted(differing.items())))
    return manifest


def install_signing_key(instance_path: str, private_multikey: str | None) -> str:
    """Put the backup's signing key where the app reads it (``instance/signing-key``), unless a key is there."""
    if not private_multikey:
        return "The backup holds no signing key: keep MHFA_SIGNING_KEY as it was set."
    if os.environ.get("MHFA_SIGNING_KEY"):
        same = os.environ["MHFA_SIGNING_KEY"].strip() == private_multikey
        return ("MHFA_SIGNING_KEY is the backup's key." if same else
                "MHFA_SIGNING_KEY is set to another key than the backup's: set it to the backup's "
                "signing_key, or credentials issued before will not verify.")
    path = Path(instance_path) / "signing-key"
    if path.exists():
        if path.read_text().strip() == private_multikey:
            return f"{path} is the backup's key."
        raise BackupError(f"{path} holds another key than the backup's: move it aside, then restore again "
                          "(credentials issued before only verify with the backup's key)")
    write_private(path, (private_multikey + "\n").encode())
    return f"The backup's signing key was written to {path}."
