"""Online backup of a SQLite database, and the row count of every table (to check a restore).

SQLite's backup API copies the database page by page while the server and the worker keep
running: the copy is one consistent snapshot (a writer that commits meanwhile makes the copy
start again from the changed pages), with the WAL's committed pages included. A plain ``cp`` of
a WAL-mode database is not safe while it is in use. PostgreSQL has its own tools (``pg_dump``,
``pg_restore``); see docs/operations.md.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

PAGES_PER_STEP = 1024  # copy 4 MiB, then let writers in, then go on
BUSY_TIMEOUT_MS = 30_000


class BackupRefused(ValueError):
    """The backup cannot be made (a message for the operator)."""


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        raise BackupRefused("`onethread db backup` copies SQLite databases; for PostgreSQL use "
                            "`pg_dump -Fc` (docs/operations.md)")
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("an in-memory database cannot be backed up")
    return Path(parsed.database)


def backup_sqlite(url: str, destination: Path, overwrite: bool = False) -> Path:
    """Copy the live database at ``url`` to ``destination``; return the path written.

    The copy is written next to ``destination`` and renamed into place only when complete and
    checked, so a failed or interrupted backup never leaves a half-written file under that name."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupRefused(f"there is no database file at {source}")
    destination = Path(destination)
    if destination.exists() and not overwrite:
        raise BackupRefused(f"{destination} exists; choose another name or pass --overwrite")
    if destination.resolve() == source.resolve():
        raise BackupRefused("the backup cannot replace the database itself")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)  # reads only: the backup never writes to it
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=PAGES_PER_STEP)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            problems = dst.execute("PRAGMA integrity_check").fetchall()
        finally:
            dst.close()
    finally:
        src.close()
    if problems != [("ok",)]:
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed its integrity check: {problems[:3]}")
    os.replace(partial, destination)
    return destination


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table the database holds (onethread's and Alembic's version row), by name."""
    names = sorted(inspect(engine).get_table_names())
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect() as conn:
        return {name: conn.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar() for name in names}
