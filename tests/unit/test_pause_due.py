"""Paused clocks: the due time after pauses, checked against a minute-by-minute walk written
here independently (working minute = working day, not a holiday, inside opening hours; paused
minutes do not count)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onethread.kernel.calendar import BusinessCalendar, due_after_pauses
from onethread.kernel.durations import Duration

BASE = datetime(2026, 3, 23, tzinfo=UTC)  # a Monday, a week before the clocks change in Europe
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class TestCalendar:
    opens: time
    closes: time
    timezone: str
    workdays: frozenset[int]
    holidays: frozenset[date]

    __test__ = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays


def reference(cal: TestCalendar, start: datetime, duration: Duration, pauses) -> datetime | None:
    target = int(((datetime.combine(date.min, cal.closes) - datetime.combine(date.min, cal.opens)) * duration.days
                  + duration.time_part()) / MINUTE)
    counted, t = 0, start
    if target == 0:
        raise AssertionError("the walk needs at least one minute")
    while True:
        paused = [p for p in pauses if p[0] <= t and (p[1] is None or t < p[1])]
        if any(p[1] is None for p in paused):
            return None
        local = t.astimezone(cal.tz)
        working = (local.weekday() in cal.workdays and local.date() not in cal.holidays
                   and cal.opens <= local.time() < cal.closes)
        if working and not paused:
            counted += 1
            if counted == target:
                due = t + MINUTE
                if duration.days and not duration.time_part() and due.astimezone(cal.tz).time() == cal.closes:
                    # whole working days land on the next working day's opening, not at a closing
                    day = due.astimezone(cal.tz).date() + timedelta(days=1)
                    while day.weekday() not in cal.workdays or day in cal.holidays:
                        day += timedelta(days=1)
                    due = datetime.combine(day, cal.opens, tzinfo=cal.tz).astimezone(UTC)
                return due
        t += MINUTE


minutes = st.integers(min_value=0, max_value=10 * 24 * 60).map(lambda m: BASE + m * MINUTE)


@st.composite
def pause_lists(draw):
    out = []
    for _ in range(draw(st.integers(0, 4))):
        s = draw(minutes)
        length = draw(st.integers(1, 3 * 24 * 60))
        out.append((s, s + length * MINUTE))
    if draw(st.booleans()) and draw(st.booleans()):
        out.append((draw(minutes), None))  # still waiting
    return out


calendars = st.builds(
    TestCalendar,
    opens=st.integers(6 * 2, 11 * 2).map(lambda h: time(h // 2, 30 * (h % 2))),
    closes=st.integers(14 * 2, 20 * 2).map(lambda h: time(h // 2, 30 * (h % 2))),
    timezone=st.sampled_from(["UTC", "Europe/London", "Europe/Amsterdam", "America/New_York"]),
    workdays=st.frozensets(st.integers(0, 6), min_size=2),
    holidays=st.frozensets(st.integers(0, 16).map(lambda d: (BASE + timedelta(days=d)).date()), max_size=4),
)
durations = st.builds(Duration, days=st.integers(0, 2), hours=st.integers(0, 7), minutes=st.integers(0, 59)).filter(
    lambda d: d.days or d.hours or d.minutes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cal=calendars, start=minutes, duration=durations, pauses=pause_lists())
def test_business_due_time_skips_paused_working_time(cal, start, duration, pauses):
    assert due_after_pauses(cal, start, duration, "business", pauses) == reference(cal, start, duration, pauses)


@settings(max_examples=100, deadline=None)
@given(start=minutes, duration=durations, pauses=pause_lists())
def test_calendar_due_time_moves_by_the_paused_wall_time(start, duration, pauses):
    cal = TestCalendar(time(9), time(17), "UTC", frozenset(range(7)), frozenset())
    # every minute of every day counts: business time on a 24-hour calendar is wall time
    wall = TestCalendar(time(0), time(23, 59), "UTC", frozenset(range(7)), frozenset())
    got = due_after_pauses(cal, start, duration, "calendar", pauses)
    t, left = start, duration.as_timedelta() / MINUTE
    while left > 0:
        if any(p[0] <= t and p[1] is None for p in pauses):
            assert got is None
            return
        if not any(p[0] <= t and (p[1] is None or t < p[1]) for p in pauses):
            left -= 1
        t += MINUTE
    assert got == t
    assert wall.is_working_day(start.date())


@settings(max_examples=60, deadline=None)
@given(start=minutes, duration=durations)
def test_without_pauses_it_is_the_business_calendar_own_due_time(start, duration):
    gb = BusinessCalendar()
    assert due_after_pauses(gb, start, duration, "business", []) == gb.add_business(start, duration)


def test_a_pause_over_the_weekend_moves_nothing_and_one_in_hours_moves_the_due_time():
    gb = BusinessCalendar()
    friday_4pm = datetime(2026, 5, 1, 15, tzinfo=UTC)  # 16:00 in London; Monday 4 May is a bank holiday
    eight_hours = Duration(hours=8)
    assert due_after_pauses(gb, friday_4pm, eight_hours, "business", []) == datetime(2026, 5, 5, 15, tzinfo=UTC)
    weekend = [(datetime(2026, 5, 1, 17, tzinfo=UTC), datetime(2026, 5, 4, 7, tzinfo=UTC))]
    assert due_after_pauses(gb, friday_4pm, eight_hours, "business", weekend) == datetime(2026, 5, 5, 15, tzinfo=UTC)
    tuesday_morning = [(datetime(2026, 5, 5, 8, tzinfo=UTC), datetime(2026, 5, 5, 10, tzinfo=UTC))]  # 9-11 local
    assert due_after_pauses(gb, friday_4pm, eight_hours, "business", tuesday_morning) == \
        datetime(2026, 5, 6, 9, tzinfo=UTC)  # two working hours later: Wednesday 10:00 in London
    assert due_after_pauses(gb, friday_4pm, eight_hours, "business",
                            [(datetime(2026, 5, 4, 9, tzinfo=UTC), None)]) is None
