"""The one ISO-8601 duration reader: weeks, days, hours, minutes, seconds; never months or years."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.errors import ValidationFailed
from onethread.kernel.durations import Duration, DurationError, parse_duration
from onethread.sandbox import service as sandbox


@pytest.mark.parametrize(("text", "duration", "delta"), [
    ("P8W", Duration(days=56), timedelta(weeks=8)),
    ("P14D", Duration(days=14), timedelta(days=14)),
    ("PT36H", Duration(hours=36), timedelta(hours=36)),
    ("p1dt4h30m", Duration(days=1, hours=4, minutes=30), timedelta(days=1, hours=4, minutes=30)),
    ("PT90S", Duration(seconds=90), timedelta(seconds=90)),
    ("P1W2DT3H4M5S", Duration(days=9, hours=3, minutes=4, seconds=5),
     timedelta(days=9, hours=3, minutes=4, seconds=5)),
    (" P30D ", Duration(days=30), timedelta(days=30)),
])
def test_a_duration_is_read_in_weeks_days_hours_minutes_and_seconds(text, duration, delta):
    assert Duration.parse(text) == duration
    assert parse_duration(text) == duration.as_timedelta() == delta


@pytest.mark.parametrize("bad", ["", "P", "PT", "P1DT", "P1M", "P1Y", "P1M1D", "30", "8 weeks", "P-1D", "P1.5D",
                                 "PT1H1D", None])
def test_anything_else_is_refused_saying_what_a_duration_looks_like(bad):
    with pytest.raises(DurationError, match="not an ISO-8601 duration like P8W") as exc:
        Duration.parse(bad)
    assert isinstance(exc.value, ValueError)
    if bad in ("P1M", "P1Y"):
        assert "months and years are not allowed" in str(exc.value)


@given(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99))
def test_writing_and_reading_a_duration_gives_it_back(w, d, h, m, s):
    text = f"P{w}W{d}DT{h}H{m}M{s}S"
    assert parse_duration(text) == timedelta(weeks=w, days=d, hours=h, minutes=m, seconds=s)


def test_the_sandbox_clock_reads_durations_the_same_way_and_refuses_on_its_advance_field():
    assert sandbox.parse_duration("PT90S") == timedelta(seconds=90)
    with pytest.raises(ValidationFailed, match="months and years are not allowed") as exc:
        sandbox.parse_duration("P1M")
    assert exc.value.field == "advance"
