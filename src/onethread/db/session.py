"""One session per request, job or CLI command: commit on success, roll back on error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from onethread.kernel.events import EventBus


def make_sessionmaker(engine: Engine, bus: EventBus, settings=None) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after the scope commits (API responses).
    # The settings ride along so services can read market rules without a global.
    return sessionmaker(bind=engine, expire_on_commit=False, info={"bus": bus, "settings": settings})


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
