"""The routing policy: which team's queue a contact that joined no case waits in, and its
first-response clock. Read from YAML (``routing_policy.yaml``) and checked at load through
``kernel.config_files``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from onethread.cases.policy import ClockRule, ClockRuleFile
from onethread.kernel import config_files
from onethread.kernel.config_files import STRICT

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


_Names = list[Annotated[str, StringConstraints(min_length=1)]]


def _listed(value):
    return value if isinstance(value, list) else [value]


class _When(BaseModel):
    model_config = STRICT
    channel: _Names | None = None
    market: _Names | None = None
    language: _Names | None = None
    segment: _Names | None = None
    vulnerable: list[bool] | None = None
    product: _Names | None = None

    _one_or_many = field_validator(*CONDITIONS, mode="before")(_listed)


class _RuleFile(BaseModel):
    model_config = STRICT
    name: str
    team: str
    when: _When = _When()

    @field_validator("when", mode="before")
    @classmethod
    def _empty(cls, value):
        return {} if value is None else value  # "when:" with nothing under it matches everything


class _RoutingFile(BaseModel):
    model_config = STRICT
    rules: Annotated[list[_RuleFile], Field(min_length=1)]
    first_response: ClockRuleFile = ClockRuleFile(after="PT4H", basis="business")


def parse(raw, where: str) -> RoutingPolicy:
    """The routing policy from parsed (``config_files.load_text``) YAML; ``ConfigError`` at the bad line."""
    policy = config_files.validate(_RoutingFile, raw, where)
    rules = tuple(Rule(r.name, r.team, {k: tuple(v) for k, v in r.when.model_dump(exclude_none=True).items()})
                  for r in policy.rules)
    return RoutingPolicy(rules, policy.first_response.rule())


@functools.lru_cache(maxsize=8)
def load(path: str | None = None) -> RoutingPolicy:
    data, source = config_files.read(Path(path) if path else DEFAULT_FILE)
    return parse(data, source)
