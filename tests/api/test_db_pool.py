"""A pooled PostgreSQL connection the server dropped while it sat idle is replaced, not handed
to a request (the pool pings connections idle for a while; it does not ping every checkout)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from onethread.db.engine import make_engine


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pg_url: str, pid: int) -> None:
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_dropped_while_idle_is_replaced(pg_url):
    engine = make_engine(pg_url, ping_after_idle=0)  # every idle connection counts as idle long
    try:
        pid = _backend_pid(engine)
        _terminate(pg_url, pid)  # e.g. the database restarted, or an idle timeout
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(pg_url):
    """The other side of the trade: within the idle window no ping runs, so a connection killed
    in that window fails its next use (once: the pool then discards its connections)."""
    engine = make_engine(pg_url, ping_after_idle=3600)
    try:
        pid = _backend_pid(engine)
        _terminate(pg_url, pid)
        with pytest.raises(OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with engine.connect() as conn:  # the next checkout gets a fresh connection
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
