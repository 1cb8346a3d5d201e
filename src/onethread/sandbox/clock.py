"""``DatabaseClock``: the time is a row in the database (ONETHREAD_CLOCK=manual).

Every process (server, worker, CLI) reads the same row, so moving it moves them all. The
read goes through a raw driver connection outside any transaction: it never waits for (or
blocks) a writer, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from onethread.kernel.clock import SystemClock


class DatabaseClock:
    def __init__(self, engine: Engine):
        self.engine = engine

    def _read(self) -> datetime | None:
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SELECT now FROM manual_clock WHERE id = 1")
            row = cur.fetchone()
            cur.close()
            if self.engine.dialect.name != "sqlite":
                raw.rollback()
        finally:
            raw.close()
        if row is None:
            return None
        value = row[0]
        if isinstance(value, str):  # SQLite stores text
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def now(self) -> datetime:
        value = self._read()
        if value is None:  # first use: the manual clock starts at the real time
            return SystemClock().now()
        return value


def ensure_row(engine: Engine) -> None:
    """Pin the manual clock at the real time the first time a manual-clock process starts."""
    from sqlalchemy import insert, select

    from onethread.models import ManualClockRow

    with engine.begin() as conn:
        if conn.execute(select(ManualClockRow.id).where(ManualClockRow.id == 1)).first() is None:
            start = SystemClock().now()
            conn.execute(insert(ManualClockRow).values(id=1, now=start, updated_at=start))
