"""The clock policy: targets per market and case kind, read from YAML and checked at load
(through ``kernel.config_files``: an error names the file, the line and the field)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from pydantic import BaseModel, field_validator, model_validator

from onethread.cases.rules import KINDS, ClockKind
from onethread.kernel import config_files
from onethread.kernel.calendar import WEEKDAYS, BusinessCalendar, Duration
from onethread.kernel.config_files import STRICT, ConfigError

DEFAULT_FILE = Path(__file__).with_name("clock_policy.yaml")
CLOCK_KINDS = (ClockKind.FIRST_RESPONSE, ClockKind.CUSTOMER_WAITING, ClockKind.NO_ACTIVITY, ClockKind.RESOLUTION_TARGET,
               ClockKind.PROACTIVE_CONTACT)

PolicyError = ConfigError  # the one configuration error (callers and tests catch it by this name)


@dataclass(frozen=True)
class ClockRule:
    after: Duration
    basis: str  # business | calendar


class ClockRuleFile(BaseModel):
    """``{after: <ISO-8601 duration>, basis: business|calendar}``."""

    model_config = STRICT
    after: str
    basis: str

    @field_validator("after")
    @classmethod
    def _duration(cls, value: str) -> str:
        Duration.parse(value)  # raises "not an ISO-8601 duration"
        return value

    @field_validator("basis")
    @classmethod
    def _basis(cls, value: str) -> str:
        if value not in ("business", "calendar"):
            raise ValueError("basis must be business or calendar")
        return value

    def rule(self) -> ClockRule:
        return ClockRule(Duration.parse(self.after), self.basis)


class _Holidays(BaseModel):
    model_config = STRICT
    country: str | None = None
    subdiv: str | None = None


class _Hours(BaseModel):
    model_config = STRICT
    opens: str = "09:00"
    closes: str = "17:00"
    days: list[str] = list(WEEKDAYS[:5])


class _Regulator(BaseModel):
    model_config = STRICT
    warning: ClockRuleFile
    deadline: ClockRuleFile
    ombudsman: str = "the ombudsman"


class _Escalation(BaseModel):
    model_config = STRICT
    reminder_every: ClockRuleFile | None = None


class _MarketFile(BaseModel):
    model_config = STRICT
    timezone: str = "UTC"
    holidays: _Holidays = _Holidays()
    business_hours: _Hours = _Hours()
    regulator: _Regulator
    escalation: _Escalation = _Escalation()
    clocks: dict[str, dict[str, ClockRuleFile]] = {}

    @field_validator("escalation", mode="before")
    @classmethod
    def _empty(cls, value):
        return {} if value is None else value  # "escalation:" with nothing under it: the default

    @field_validator("clocks", mode="before")
    @classmethod
    def _known(cls, value):
        for kind, table in (value or {}).items() if isinstance(value, dict) else ():
            if kind != "default" and kind not in KINDS:
                raise ValueError(f"unknown case kind {kind!r}; one of default, {', '.join(KINDS)}")
            unknown = set(table) - set(CLOCK_KINDS) if isinstance(table, dict) else set()
            if unknown:
                raise ValueError(f"{kind}: unknown clock(s) {', '.join(sorted(unknown))}")
        return value or {}


class _PolicyFile(BaseModel):
    model_config = STRICT
    markets: dict[str, _MarketFile]

    @model_validator(mode="before")
    @classmethod
    def _has_markets(cls, value):
        if not isinstance(value, dict) or not isinstance(value.get("markets"), dict) or not value["markets"]:
            raise ValueError("expected a 'markets' mapping")
        return value


@dataclass(frozen=True)
class Market:
    code: str
    calendar: BusinessCalendar
    regulator_warning: ClockRule
    regulator_deadline: ClockRule
    ombudsman: str
    clocks: dict[str, dict[str, ClockRule]]  # kind -> clock -> rule ("default" included)
    # Once a case's quiet streak has reached the top of the ladder, the next no-activity clock
    # runs this long and its breach is a reminder, not a new escalation.
    reminder: ClockRule = ClockRule(Duration.parse("P10D"), "business")

    def rule(self, case_kind: str, clock_kind: str) -> ClockRule | None:
        return self.clocks.get(case_kind, {}).get(clock_kind) or self.clocks.get("default", {}).get(clock_kind)

    def due(self, start: datetime, rule: ClockRule) -> datetime:
        return self.calendar.add(start, rule.after, rule.basis)


def _market(code: str, m: _MarketFile, data, source: str) -> Market:
    hours = m.business_hours
    try:
        cal = BusinessCalendar(
            timezone=m.timezone,
            country=m.holidays.country or code,
            subdiv=m.holidays.subdiv,
            opens=time.fromisoformat(hours.opens),
            closes=time.fromisoformat(hours.closes),
            workdays=tuple(WEEKDAYS.index(d) for d in hours.days),
        )
        cal.tz  # noqa: B018  (fails on an unknown time zone)
    except (ValueError, KeyError, TypeError) as exc:
        raise config_files.error_at(source, data, ("markets", code), str(exc)) from exc
    clocks = {kind: {name: r.rule() for name, r in table.items()} for kind, table in m.clocks.items()}
    every = m.escalation.reminder_every
    return Market(code, cal, m.regulator.warning.rule(), m.regulator.deadline.rule(), m.regulator.ombudsman,
                  clocks, every.rule() if every else Market.reminder)


@functools.lru_cache(maxsize=8)
def load(path: str | None = None) -> dict[str, Market]:
    data, source = config_files.read(Path(path) if path else DEFAULT_FILE)
    policy = config_files.validate(_PolicyFile, data, source)
    return {code: _market(code, m, data, source) for code, m in policy.markets.items()}


def market(code: str, path: str | None = None) -> Market:
    markets = load(path)
    if code not in markets:
        raise PolicyError(str(Path(path) if path else DEFAULT_FILE), None,
                          f"no clock policy for market {code!r}; known: {', '.join(sorted(markets))}")
    return markets[code]
