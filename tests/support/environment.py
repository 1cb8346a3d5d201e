"""What the test environment asks for: the start of every test's clock, and whether a test that
cannot run here (no PostgreSQL, Dovecot, Chromium, ...) skips or fails (ONETHREAD_REQUIRE_ALL=1)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

REQUIRE_ALL = os.environ.get("ONETHREAD_REQUIRE_ALL") == "1"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"ONETHREAD_REQUIRE_ALL=1 and {reason}")
    pytest.skip(reason)


def admin_sql(url, *statements: str) -> None:
    """Run statements on the server's maintenance database (CREATE/DROP DATABASE)."""
    engine = create_engine(url.set(database="postgres").render_as_string(hide_password=False),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for sql in statements:
            conn.execute(text(sql))
    engine.dispose()
