"""Reading and moving the manual clock. Time never moves backwards."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from onethread.errors import Conflict, ValidationFailed
from onethread.kernel import durations
from onethread.kernel.clock import Clock, ensure_utc
from onethread.models import ManualClockRow


def parse_duration(text: str) -> timedelta:
    """How far a move of the clock goes: the kernel's ISO-8601 reader, its refusal a 400 on ``advance``."""
    try:
        return durations.parse_duration(text)
    except durations.DurationError as exc:
        raise ValidationFailed(str(exc), field="advance") from exc


def current(session: Session, clock: Clock) -> datetime:
    row = session.get(ManualClockRow, 1)
    return row.now if row else clock.now()


def target_of(session: Session, clock: Clock, *, now: datetime | None, advance: str | None) -> datetime:
    """Where a move request wants the clock: an absolute ``now`` or an ``advance`` duration."""
    if (now is None) == (advance is None):
        raise ValidationFailed("give exactly one of 'now' (a date-time) or 'advance' (an ISO-8601 duration)")
    start = current(session, clock)
    if now is not None:
        try:
            target = ensure_utc(now)
        except ValueError as exc:
            raise ValidationFailed("'now' needs a time zone, e.g. 2026-05-01T09:00:00Z", field="now") from exc
    else:
        target = start + parse_duration(advance)
    if target < start:
        raise Conflict(f"time never moves backwards: the clock is at {start.isoformat()}, "
                       f"{target.isoformat()} is earlier", field="now")
    return target


def set_row(session: Session, value: datetime, updated_at: datetime) -> None:
    row = session.get(ManualClockRow, 1)
    if row is None:
        session.add(ManualClockRow(id=1, now=value, updated_at=updated_at))
    else:
        if value < row.now:
            raise Conflict("time never moves backwards")
        row.now, row.updated_at = value, updated_at
    session.flush()
