"""Engine creation: SQLite gets WAL, foreign keys and a busy timeout on every connection.

Also the *read engine* (:func:`reads_engine`): the same pool, for the requests that only read
(GET, HEAD, OPTIONS). The only rows they may write are the trail of the read itself
(:data:`READ_TRAIL_TABLES`), and on SQLite they do not take the write lock to read.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

# A pooled PostgreSQL connection that sat unused for longer than this is pinged before it is
# handed out (and replaced if the server dropped it meanwhile: a restart, an idle timeout). One
# used moments ago is not: pinging on every checkout would add a round trip to every request.
PING_AFTER_IDLE_SECONDS = 10.0


# The execution option that marks a connection of the read engine, and the one that marks the
# statements writing a read's trail (db.session.finish_read, and nothing else).
READS = "onethread_reads"
TRAIL = "onethread_trail"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "MERGE")

# What a read may write: the audit row saying who read which personal data, the API token's
# last-use stamp, and the mark that a person opened a case (My work's unread marker). Anything
# else written by a GET is a bug, refused before it reaches the database.
READ_TRAIL_TABLES = frozenset({"audit_entry", "api_token", "case_read_mark"})


class WriteInRead(RuntimeError):
    """A read-only request tried to change data (a GET must not)."""


def reads_engine(engine: Engine) -> Engine:
    """The engine for requests that only read, sharing ``engine``'s pool.

    Its connections refuse any write but the read's own trail. On SQLite a read's transaction
    is a plain (deferred) ``BEGIN``: it reads from one snapshot without taking the write lock,
    so reads no longer queue behind each other and behind every writer; the trail is written
    after it, in a short transaction of its own (``db.session.finish_read``). On PostgreSQL,
    where readers never wait for writers, a read's transaction is as any other."""
    return engine.execution_options(**{READS: True})


def _guard_reads(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes(conn, _cursor, statement, _parameters, context, _executemany):
        if not conn.get_execution_options().get(READS):
            return
        verb = statement.lstrip()[:6].upper()
        writes = verb.startswith(_WRITE_VERBS) or (
            context is not None and (context.isinsert or context.isupdate or context.isdelete)) or (
            verb == "WITH" and re.search(r"\b(INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE) is not None)
        if not writes:
            return
        table = getattr(getattr(getattr(context, "compiled", None), "statement", None), "table", None)
        name = getattr(table, "name", None)
        if name in READ_TRAIL_TABLES and context.execution_options.get(TRAIL):
            return  # the read's own trail, written by finish_read when the read is over
        raise WriteInRead(f"a read-only request (GET) tried to write to {name or 'the database'}: "
                          f"{' '.join(statement.split()[:3])}")


# How long opening a PostgreSQL connection may take before it counts as unreachable (a host that
# drops packets would otherwise hold a request for the operating system's TCP timeout, minutes).
CONNECT_TIMEOUT_SECONDS = 10


def make_engine(url: str, *, echo: bool = False, ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
                pool_timeout: float = 30.0) -> Engine:
    """``pool_timeout``: how long a checkout waits for a pooled connection when all are in use
    (then ``sqlalchemy.exc.TimeoutError``, which a request answers 503)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, pool_timeout=pool_timeout,
                               connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # The sqlite3 module's implicit transactions are turned off so that
            # SQLAlchemy's BEGIN (IMMEDIATE, below) is the one that counts.
            dbapi_connection.isolation_level = None
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Take the write lock at the start: no "database is locked" upgrade failures
            # halfway through a transaction when two writers meet. A read takes no lock up front.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READS) else "BEGIN IMMEDIATE")

        _guard_reads(engine)
        return engine
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_timeout=pool_timeout,
                           connect_args=connect_args)
    _ping_when_idle(engine, ping_after_idle)
    _guard_reads(engine)
    return engine


def _ping_when_idle(engine: Engine, after_seconds: float) -> None:
    """Pessimistic disconnect handling, only where it can matter: on checkout, a connection idle
    in the pool for ``after_seconds`` or more is pinged; if the ping fails the pool discards it
    and hands out a fresh one (SQLAlchemy retries a checkout that raises DisconnectionError)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < after_seconds:
            return  # new, or used moments ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection was dropped by the server while idle") from exc
