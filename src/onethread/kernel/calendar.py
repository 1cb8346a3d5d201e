"""Business calendars: working hours and public holidays per market (``holidays``).

``add(start, duration, basis)`` is how every clock computes its due time: ``calendar`` adds
wall time; ``business`` counts only working time (days as whole working days, hours as
working hours), skipping nights, weekends and public holidays.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from onethread.kernel.durations import Duration  # the one ISO-8601 reader; here for case policies

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@functools.lru_cache(maxsize=64)
def _holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=year))


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Europe/London"
    country: str = "GB"
    subdiv: str | None = "ENG"
    opens: time = time(9)
    closes: time = time(17)
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0

    def __post_init__(self) -> None:
        # A calendar with no working time would make every business clock search forever.
        if not self.workdays or any(d not in range(7) for d in self.workdays):
            raise ValueError("working days: at least one of mon..sun")
        if self.opens >= self.closes:
            raise ValueError(f"business hours: opening ({self.opens:%H:%M}) must be before closing "
                             f"({self.closes:%H:%M})")
        try:
            _holidays(self.country, self.subdiv, 2000)
        except NotImplementedError as exc:
            raise ValueError(f"public holidays: {exc}") from exc

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in _holidays(self.country, self.subdiv, day.year)

    def _next_opening(self, local: datetime) -> datetime:
        """``local`` if it is inside working hours, else the next opening time."""
        day = local.date()
        if self.is_working_day(day) and local.time() < self.closes:
            return max(local, datetime.combine(day, self.opens, tzinfo=self.tz))
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.opens, tzinfo=self.tz)

    def add_business(self, start: datetime, duration: Duration) -> datetime:
        local = self._next_opening(start.astimezone(self.tz))
        for _ in range(duration.days):  # whole working days: same time on the next working day
            day = local.date() + timedelta(days=1)
            while not self.is_working_day(day):
                day += timedelta(days=1)
            local = datetime.combine(day, local.time(), tzinfo=self.tz)
        remaining = duration.time_part()
        while remaining > timedelta(0):
            local = self._next_opening(local)
            close = datetime.combine(local.date(), self.closes, tzinfo=self.tz)
            step = min(remaining, close - local)
            local += step
            remaining -= step
        return local.astimezone(UTC)

    def add(self, start: datetime, duration: Duration, basis: str) -> datetime:
        if basis == "calendar":
            return start + duration.as_timedelta()
        if basis == "business":
            return self.add_business(start, duration)
        raise ValueError(f"basis is 'calendar' or 'business', not {basis!r}")


class WorkingCalendar(Protocol):
    """What ``due_after_pauses`` needs of a calendar (``BusinessCalendar`` has it)."""

    opens: time
    closes: time

    @property
    def tz(self) -> ZoneInfo: ...

    def is_working_day(self, day: date) -> bool: ...


Interval = tuple[datetime, datetime | None]  # a pause: from, until (None: still paused)


def _merged(pauses: Iterable[Interval], start: datetime) -> list[tuple[datetime, datetime | None]]:
    """The pauses from ``start`` on, sorted and merged (an open one swallows everything after it)."""
    out: list[tuple[datetime, datetime | None]] = []
    for s, e in sorted(pauses, key=lambda p: p[0]):
        if e is not None and e <= start:
            continue
        s = max(s, start)
        if out and (out[-1][1] is None or s <= out[-1][1]):
            last_s, last_e = out[-1]
            out[-1] = (last_s, None if last_e is None or e is None else max(last_e, e))
        else:
            out.append((s, e))
    return out


def due_after_pauses(calendar: WorkingCalendar, start: datetime, duration: Duration, basis: str,
                     pauses: Iterable[Interval]) -> datetime | None:
    """When a clock started at ``start`` for ``duration`` falls due if it does not count the
    ``pauses``; None while a pause that the clock reaches is still open.

    ``calendar`` basis: the due time moves by the paused wall time. ``business`` basis: the
    clock counts working time that is not paused; a working day is the calendar's opening hours
    (so ``P1D`` is one working day of them, as ``add_business`` counts it).
    """
    merged = _merged(pauses, start)
    if basis == "calendar":
        due = start + duration.as_timedelta()
        for s, e in merged:
            if s >= due:
                break
            if e is None:
                return None
            due += e - s
        return due
    if basis != "business":
        raise ValueError(f"basis is 'calendar' or 'business', not {basis!r}")
    tz = calendar.tz
    day_length = datetime.combine(date(2000, 1, 3), calendar.closes) - datetime.combine(date(2000, 1, 3),
                                                                                       calendar.opens)
    remaining = day_length * duration.days + duration.time_part()
    day = start.astimezone(tz).date()
    index = 0
    while True:
        if calendar.is_working_day(day):
            lo = max(start, datetime.combine(day, calendar.opens, tzinfo=tz).astimezone(UTC))
            hi = datetime.combine(day, calendar.closes, tzinfo=tz).astimezone(UTC)
            while lo < hi:
                while index < len(merged):  # pauses ended by ``lo`` are behind us
                    ended = merged[index][1]
                    if ended is None or ended > lo:
                        break
                    index += 1
                pause = merged[index] if index < len(merged) else None
                if pause is not None and pause[0] <= lo:  # inside a pause: skip to its end
                    if pause[1] is None:
                        return None
                    lo = pause[1]
                    continue
                end = hi if pause is None else min(hi, pause[0])
                if remaining <= end - lo:
                    due = lo + remaining
                    if due == hi and duration.days and not duration.time_part():
                        # whole working days end at an opening, as add_business counts them
                        return calendar_next_opening(calendar, day)
                    return due
                remaining -= end - lo
                lo = end
        day += timedelta(days=1)


def calendar_next_opening(calendar: WorkingCalendar, after: date) -> datetime:
    """The opening time of the first working day after ``after`` (UTC)."""
    day = after + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, calendar.opens, tzinfo=calendar.tz).astimezone(UTC)
