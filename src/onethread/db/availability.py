"""Telling "the database is not available now" apart from a bug.

A request that could not reach the database (PostgreSQL down, refusing connections, its database
dropped; every pooled connection in use for too long; SQLite's write lock not free within the
busy timeout) is answered 503 with ``Retry-After``: the caller should try again. Any other
database error is a bug and stays a 500.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# PostgreSQL SQLSTATEs that mean "not now" rather than "wrong": connection exceptions (class
# 08), the server shutting down or starting (57P01-57P03), the database gone; busy: too many
# connections, and a statement or lock wait cut short by a timeout.
_PG_UNREACHABLE = ("08", "57P0", "3D000")
_PG_BUSY = ("53300", "57014", "55P03")

# SQLite's messages for the same: the lock not free in time, the file not openable.
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_SQLITE_CANNOT_OPEN = "unable to open database"


def unavailable_reason(exc: BaseException) -> tuple[str, bool] | None:
    """Why the database was not available (for the answer) and whether it was only busy (rather
    than unreachable), or None when ``exc`` is no such case."""
    if isinstance(exc, PoolTimeout):
        return "every database connection stayed in use for too long", True
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    if (type(orig).__module__ or "").startswith("sqlite3"):
        text = str(orig).lower()
        if any(m in text for m in _SQLITE_BUSY):
            return "the database is busy", True
        return ("the database file cannot be opened", False) if _SQLITE_CANNOT_OPEN in text else None
    if exc.connection_invalidated:
        return "the connection to the database was lost", False
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is None:
        # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all
        # (refused, unreachable, authentication, the database missing as libpq reports it).
        return ("the database cannot be reached", False) if type(orig).__name__ == "OperationalError" else None
    if sqlstate.startswith(_PG_BUSY):
        return "the database is busy", True
    if sqlstate.startswith(_PG_UNREACHABLE):
        return "the database is not accepting work now", False
    return None
