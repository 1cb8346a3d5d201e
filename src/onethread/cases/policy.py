"""The clock policy: targets per market and case kind, read from YAML and checked at load."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

import yaml

from onethread.cases.rules import KINDS
from onethread.kernel.calendar import WEEKDAYS, BusinessCalendar, Duration

DEFAULT_FILE = Path(__file__).with_name("clock_policy.yaml")
CLOCK_KINDS = ("first_response", "customer_waiting", "no_activity", "resolution_target", "proactive_contact")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class ClockRule:
    after: Duration
    basis: str  # business | calendar


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


def rule_from(where: str, raw) -> ClockRule:
    if not isinstance(raw, dict) or set(raw) != {"after", "basis"}:
        raise PolicyError(f"{where}: expected {{after: <ISO-8601 duration>, basis: business|calendar}}")
    if raw["basis"] not in ("business", "calendar"):
        raise PolicyError(f"{where}: basis must be business or calendar")
    try:
        return ClockRule(Duration.parse(str(raw["after"])), raw["basis"])
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from exc


def _market(code: str, raw: dict, where: str) -> Market:
    hours = raw.get("business_hours", {})
    try:
        cal = BusinessCalendar(
            timezone=raw.get("timezone", "UTC"),
            country=raw.get("holidays", {}).get("country", code),
            subdiv=raw.get("holidays", {}).get("subdiv"),
            opens=time.fromisoformat(hours.get("opens", "09:00")),
            closes=time.fromisoformat(hours.get("closes", "17:00")),
            workdays=tuple(WEEKDAYS.index(d) for d in hours.get("days", WEEKDAYS[:5])),
        )
        cal.tz  # noqa: B018  (fails on an unknown time zone)
    except (ValueError, KeyError, TypeError) as exc:
        raise PolicyError(f"{where}.{code}: {exc}") from exc
    reg = raw.get("regulator") or {}
    clocks = {}
    for kind, table in (raw.get("clocks") or {}).items():
        if kind != "default" and kind not in KINDS:
            raise PolicyError(f"{where}.{code}.clocks: unknown case kind {kind!r}; one of default, "
                              f"{', '.join(KINDS)}")
        if not isinstance(table, dict):
            raise PolicyError(f"{where}.{code}.clocks.{kind}: expected a mapping of clock -> rule")
        unknown = set(table) - set(CLOCK_KINDS)
        if unknown:
            raise PolicyError(f"{where}.{code}.clocks.{kind}: unknown clock(s) {', '.join(sorted(unknown))}")
        clocks[kind] = {name: rule_from(f"{where}.{code}.clocks.{kind}.{name}", r) for name, r in table.items()}
    escalation = raw.get("escalation") or {}
    if not isinstance(escalation, dict) or set(escalation) - {"reminder_every"}:
        raise PolicyError(f"{where}.{code}.escalation: expected {{reminder_every: {{after: ..., basis: ...}}}}")
    reminder = (rule_from(f"{where}.{code}.escalation.reminder_every", escalation["reminder_every"])
                if "reminder_every" in escalation else Market.reminder)
    return Market(code, cal, rule_from(f"{where}.{code}.regulator.warning", reg.get("warning")),
                  rule_from(f"{where}.{code}.regulator.deadline", reg.get("deadline")),
                  reg.get("ombudsman", "the ombudsman"), clocks, reminder)


@functools.lru_cache(maxsize=8)
def load(path: str | None = None) -> dict[str, Market]:
    file = Path(path) if path else DEFAULT_FILE
    try:
        raw = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{file}: {exc}") from exc
    markets = (raw or {}).get("markets")
    if not isinstance(markets, dict) or not markets:
        raise PolicyError(f"{file}: expected a 'markets' mapping")
    return {code: _market(code, m, str(file)) for code, m in markets.items()}


def market(code: str, path: str | None = None) -> Market:
    markets = load(path)
    if code not in markets:
        raise PolicyError(f"no clock policy for market {code!r}; known: {', '.join(sorted(markets))}")
    return markets[code]
