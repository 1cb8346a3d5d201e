"""One session per request, job or CLI command: commit on success, roll back on error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from onethread.db.engine import TRAIL
from onethread.db.outbox import insert_now
from onethread.kernel.events import EventBus


def make_sessionmaker(engine: Engine, bus: EventBus, settings=None, *, reads: bool = False) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after the scope commits (API responses).
    # The settings ride along so services can read market rules without a global.
    # reads=True: sessions of requests that only read (see record_trail).
    factory = sessionmaker(bind=engine, expire_on_commit=False,
                           info={"bus": bus, "settings": settings, "reads": reads})
    if reads:
        event.listen(factory, "before_commit", _trail_written)
    return factory


def _trail_written(session: Session) -> None:
    if session.info.get("trail"):
        raise RuntimeError("a read's session was committed with its audit trail unwritten: end it with "
                           "db.session.finish_read")


def record_trail(session: Session, statement, params: dict) -> None:
    """Write a row that records a read (the audit row, the token's last-use stamp).

    In a session that changes data it is written at once, in the change's transaction. In a
    read's session it waits for :func:`finish_read`: the read itself then never holds a write
    lock (SQLite has one for the whole database), and the trail is still written before the
    answer goes out, or the answer is an error."""
    if session.info.get("reads"):
        session.info.setdefault("trail", []).append((statement, params))
        return
    insert_now(session, statement, params)  # after the pending changes it may refer to


def finish_read(session: Session) -> None:
    """End a read's session: its trail written, then committed.

    On SQLite the read's own transaction (one snapshot, no write lock) ends first and the trail
    gets a short write transaction of its own; on PostgreSQL, where readers and writers do not
    block each other, the trail goes in the read's transaction, just before its commit."""
    trail = session.info.pop("trail", None)
    if trail and session.get_bind().dialect.name == "sqlite":
        session.commit()
    for statement, params in trail or ():
        session.execute(statement, params, execution_options={TRAIL: True})
    session.commit()


def settings_of(session: Session):
    """The Settings the session was made with (defaults when a bare session is used)."""
    settings = session.info.get("settings")
    if settings is None:
        from onethread.config import Settings

        settings = Settings()
    return settings


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
