"""The injected clock. Nothing else in onethread reads the wall clock.

Every service takes a ``Clock``; production uses :class:`SystemClock`, tests use
:class:`SettableClock` and move it by months.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused (they are ambiguous)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: onethread needs timezone-aware times")
    return value.astimezone(UTC)


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that only moves when told to (tests, simulations). Thread-safe."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, value: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(value)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now
