"""The routing policy: which team's queue a contact that joined no case waits in, and its
first-response clock. Read from YAML (``routing_policy.yaml``) and checked at load."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from onethread.cases.policy import ClockRule, PolicyError, rule_from

DEFAULT_FILE = Path(__file__).with_name("routing_policy.yaml")
CONDITIONS = ("channel", "market", "language", "segment", "vulnerable", "product")


@dataclass(frozen=True)
class Facts:
    """What routing may look at: the contact's channel and the customer's attributes (None: unknown)."""

    channel: str
    market: str
    language: str | None = None
    segment: str | None = None
    vulnerable: bool | None = None
    product: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    team: str  # a team's name or kind
    when: dict[str, tuple]  # condition -> accepted values

    def matches(self, facts: Facts) -> bool:
        return all(getattr(facts, key) in values for key, values in self.when.items())


@dataclass(frozen=True)
class RoutingPolicy:
    rules: tuple[Rule, ...]
    first_response: ClockRule

    def needs(self, condition: str) -> bool:
        """Whether any rule looks at ``condition`` (a fact nobody asks about is not read)."""
        return any(condition in r.when for r in self.rules)

    def choose(self, facts: Facts) -> Rule | None:
        return next((r for r in self.rules if r.matches(facts)), None)


def _values(where: str, key: str, raw) -> tuple:
    values = tuple(raw) if isinstance(raw, list) else (raw,)
    if key == "vulnerable" and not all(isinstance(v, bool) for v in values):
        raise PolicyError(f"{where}.vulnerable: true or false")
    if key != "vulnerable" and not all(isinstance(v, str) and v for v in values):
        raise PolicyError(f"{where}.{key}: a name or a list of names")
    return values


def parse(raw, where: str) -> RoutingPolicy:
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list) or not raw["rules"]:
        raise PolicyError(f"{where}: expected a non-empty 'rules' list")
    rules = []
    for n, r in enumerate(raw["rules"]):
        at = f"{where}.rules[{n}]"
        if not isinstance(r, dict) or not isinstance(r.get("name"), str) or not isinstance(r.get("team"), str):
            raise PolicyError(f"{at}: each rule has a name and a team")
        unknown = set(r) - {"name", "team", "when"}
        when = r.get("when") or {}
        if unknown or not isinstance(when, dict):
            raise PolicyError(f"{at}: only name, team and when (a mapping of conditions)")
        bad = set(when) - set(CONDITIONS)
        if bad:
            raise PolicyError(f"{at}.when: unknown condition(s) {', '.join(sorted(bad))}; "
                              f"one of {', '.join(CONDITIONS)}")
        rules.append(Rule(r["name"], r["team"], {k: _values(f"{at}.when", k, v) for k, v in when.items()}))
    first = rule_from(f"{where}.first_response", raw.get("first_response", {"after": "PT4H", "basis": "business"}))
    return RoutingPolicy(tuple(rules), first)


@functools.lru_cache(maxsize=8)
def load(path: str | None = None) -> RoutingPolicy:
    file = Path(path) if path else DEFAULT_FILE
    try:
        raw = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{file}: {exc}") from exc
    return parse(raw, str(file))
