"""The one reader of ISO-8601 durations (``P8W``, ``P1DT4H30M``, ``PT90S``).

Weeks, days, hours, minutes and seconds only: months and years have no fixed length, so a clock,
a token's lifetime or a move of the sandbox clock never uses them. Case clocks, the sandbox clock
and the command line all read durations here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
EXAMPLES = "P8W, P14D, PT36H or P1DT4H30M"


class DurationError(ValueError):
    """Text that is not an ISO-8601 duration this reader accepts; the message says what is."""


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration as written: whole days (weeks count as seven) and a time of day part. Kept apart,
    not folded into one ``timedelta``, because a business calendar counts days as working days and
    hours as working hours."""

    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        raw = (text or "").strip().upper()
        m = _DURATION.fullmatch(raw)
        if not m or not any(m.groups()) or raw.endswith("T"):
            raise DurationError(f"{text!r} is not an ISO-8601 duration like {EXAMPLES} "
                                "(months and years are not allowed: they have no fixed length)")
        weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
        return cls(days=weeks * 7 + days, hours=hours, minutes=minutes, seconds=seconds)

    def time_part(self) -> timedelta:
        """The hours, minutes and seconds (what a business calendar counts in working time)."""
        return timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    def as_timedelta(self) -> timedelta:
        return timedelta(days=self.days) + self.time_part()


def parse_duration(text: str) -> timedelta:
    """``"P1DT2H"`` -> ``timedelta(days=1, hours=2)``; ``DurationError`` for anything else."""
    return Duration.parse(text).as_timedelta()
