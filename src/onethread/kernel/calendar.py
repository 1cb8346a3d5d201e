"""Business calendars: working hours and public holidays per market (``holidays``).

``add(start, duration, basis)`` is how every clock computes its due time: ``calendar`` adds
wall time; ``business`` counts only working time (days as whole working days, hours as
working hours), skipping nights, weekends and public holidays.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
