"""Policies as data: parse and check a policy's YAML, check facts against it, evaluate it.

Pure: no database. A policy is ``name``, ``version``, the ``facts`` it needs, ordered ``rules``
(the first whose conditions all hold decides) and ``outcomes`` with a reason for staff and one
for the customer. Every error names the file and the line of the bad entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import yaml

FACT_TYPES = ("boolean", "integer", "number", "string")
OPERATORS = ("is", "equals", "in", "less_than", "at_most", "greater_than", "at_least")
NAME_MAX = 60


class PolicyError(ValueError):
    """A policy file that does not follow the schema; the message names the file and line."""

    def __init__(self, source_name: str, line: int | None, message: str):
        where = f"{source_name}, line {line}" if line else source_name
        super().__init__(f"{where}: {message}")
        self.source_name, self.line, self.detail = source_name, line, message


class FactError(ValueError):
    def __init__(self, fact: str, message: str):
        super().__init__(message)
        self.fact = fact


@dataclass(frozen=True)
class Fact:
    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class Condition:
    fact: str
    op: str
    value: Any

    def holds(self, facts: dict[str, Any]) -> bool:
        if self.fact not in facts:
            return False
        have = facts[self.fact]
        if self.op in ("is", "equals"):
            return have == self.value  # facts are checked against their declared type first
        if self.op == "in":
            return have in self.value
        return {"less_than": have < self.value, "at_most": have <= self.value,
                "greater_than": have > self.value, "at_least": have >= self.value}[self.op]

    def describe(self) -> str:
        symbol = {"is": "is", "equals": "=", "in": "in", "less_than": "<", "at_most": "<=", "greater_than": ">",
                  "at_least": ">="}[self.op]
        value = str(self.value).lower() if isinstance(self.value, bool) else self.value
        return f"{self.fact} {symbol} {value}"


@dataclass(frozen=True)
class Rule:
    id: str
    conditions: tuple[Condition, ...]
    outcome: str


@dataclass(frozen=True)
class Outcome:
    name: str
    staff_reason: str
    customer_reason: str
    due_in_days: int | None = None
    order: str | None = None  # what a replacement order promises the customer, if this outcome places one


@dataclass(frozen=True)
class Policy:
    name: str
    version: int
    description: str
    facts: dict[str, Fact]
    rules: tuple[Rule, ...]
    outcomes: dict[str, Outcome]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    rule: Rule


# --- loading ---------------------------------------------------------------------------------

class _Map(dict):
    line: int = 0
    lines: dict


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line, result.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise PolicyError(loader.name, key_node.start_mark.line + 1, f"'{key}' is given twice")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = value_node.start_mark.line + 1
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def checksum(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _line(m: Any, key: str | None = None) -> int | None:
    if isinstance(m, _Map):
        return m.lines.get(key, m.line) if key else m.line
    return None


def _keys(src: str, m: Any, what: str, required: set[str], optional: set[str] = frozenset()) -> None:
    if not isinstance(m, _Map):
        raise PolicyError(src, None, f"{what} must be a mapping")
    missing = sorted(required - set(m))
    if missing:
        raise PolicyError(src, m.line, f"{what} is missing {', '.join(missing)}")
    extra = sorted(set(m) - required - set(optional), key=str)
    if extra:
        raise PolicyError(src, _line(m, extra[0]), f"{what} has an unknown key '{extra[0]}'")


def _text(src: str, m: _Map, key: str, what: str) -> str:
    value = m[key]
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(src, _line(m, key), f"{what}: {key} must be non-empty text")
    return value.strip()


def _fits(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def parse(source: str, source_name: str = "<policy>") -> Policy:
    """Parse and check a policy; raise ``PolicyError`` naming ``source_name`` and the line."""
    src = source_name
    loader = _Loader(source)
    loader.name = src
    try:
        doc = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError(src, mark.line + 1 if mark else None, f"not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(src, None, f"not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    _keys(src, doc, "the policy", {"name", "version", "facts", "rules", "outcomes"}, {"description"})
    name = _text(src, doc, "name", "the policy")
    if len(name) > NAME_MAX or not name.replace("_", "").isalnum():
        raise PolicyError(src, _line(doc, "name"), "name must be letters, digits and _ (at most 60)")
    version = doc["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PolicyError(src, _line(doc, "version"), "version must be a whole number from 1")
    description = doc.get("description") or ""
    facts = _facts(src, doc)
    outcomes = _outcomes(src, doc)
    rules = _rules(src, doc, facts, outcomes)
    return Policy(name, version, str(description).strip(), facts, rules, outcomes)


def _facts(src: str, doc: _Map) -> dict[str, Fact]:
    raw = doc["facts"]
    if not isinstance(raw, list) or not raw:
        raise PolicyError(src, _line(doc, "facts"), "facts must be a non-empty list")
    facts: dict[str, Fact] = {}
    for item in raw:
        _keys(src, item, "a fact", {"name", "type"}, {"required", "description"})
        name = _text(src, item, "name", "a fact")
        if name in facts:
            raise PolicyError(src, item.line, f"fact '{name}' is declared twice")
        if item["type"] not in FACT_TYPES:
            raise PolicyError(src, _line(item, "type"), f"fact '{name}': type must be one of {', '.join(FACT_TYPES)}")
        required = item.get("required", True)
        if not isinstance(required, bool):
            raise PolicyError(src, _line(item, "required"), f"fact '{name}': required must be true or false")
        facts[name] = Fact(name, item["type"], required)
    return facts


def _outcomes(src: str, doc: _Map) -> dict[str, Outcome]:
    raw = doc["outcomes"]
    if not isinstance(raw, _Map) or not raw:
        raise PolicyError(src, _line(doc, "outcomes"), "outcomes must be a non-empty mapping")
    outcomes = {}
    for name, item in raw.items():
        what = f"outcome '{name}'"
        if not isinstance(item, _Map):
            raise PolicyError(src, _line(raw, name), f"{what} must be a mapping")
        _keys(src, item, what, {"staff_reason", "customer_reason"}, {"due_in_days", "order"})
        due = item.get("due_in_days")
        if due is not None and (not isinstance(due, int) or isinstance(due, bool) or due < 1):
            raise PolicyError(src, _line(item, "due_in_days"), f"{what}: due_in_days must be a whole number from 1")
        order = item.get("order")
        if order is not None and (not isinstance(order, str) or due is None):
            raise PolicyError(src, _line(item, "order"), f"{what}: an order needs a text and due_in_days")
        outcomes[str(name)] = Outcome(str(name), _text(src, item, "staff_reason", what),
                                      _text(src, item, "customer_reason", what), due, order)
    return outcomes


def _condition(src: str, raw: Any, facts: dict[str, Fact], what: str) -> Condition:
    if not isinstance(raw, _Map) or "fact" not in raw:
        raise PolicyError(src, _line(raw), f"{what}: a condition is {{fact: <name>, <operator>: <value>}}")
    ops = [k for k in raw if k != "fact"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        raise PolicyError(src, raw.line, f"{what}: give exactly one operator of {', '.join(OPERATORS)}")
    op, value, line = ops[0], raw[ops[0]], _line(raw, ops[0])
    fact = facts.get(raw["fact"])
    if fact is None:
        raise PolicyError(src, _line(raw, "fact"), f"{what}: '{raw['fact']}' is not a declared fact")
    if op == "is" and fact.type != "boolean":
        raise PolicyError(src, line, f"{what}: 'is' is for boolean facts; use equals")
    if op in ("less_than", "at_most", "greater_than", "at_least") and fact.type not in ("integer", "number"):
        raise PolicyError(src, line, f"{what}: {op} needs a number fact, '{fact.name}' is {fact.type}")
    if op == "in":
        if not isinstance(value, list) or not value or not all(_fits(fact.type, v) for v in value):
            raise PolicyError(src, line, f"{what}: 'in' needs a list of {fact.type} values")
        value = tuple(value)
    elif not _fits("number" if fact.type == "integer" and op != "equals" else fact.type, value):
        raise PolicyError(src, line, f"{what}: {value!r} is not a valid {fact.type}")
    return Condition(fact.name, op, value)


def _rules(src: str, doc: _Map, facts: dict[str, Fact], outcomes: dict[str, Outcome]) -> tuple[Rule, ...]:
    raw = doc["rules"]
    if not isinstance(raw, list) or not raw:
        raise PolicyError(src, _line(doc, "rules"), "rules must be a non-empty list")
    rules, seen = [], set()
    for item in raw:
        _keys(src, item, "a rule", {"id", "outcome"}, {"when"})
        rule_id = _text(src, item, "id", "a rule")
        if rule_id in seen:
            raise PolicyError(src, item.line, f"rule '{rule_id}' is declared twice")
        seen.add(rule_id)
        if item["outcome"] not in outcomes:
            raise PolicyError(src, _line(item, "outcome"), f"rule '{rule_id}': no outcome '{item['outcome']}'")
        when = item.get("when") or []
        if not isinstance(when, list):
            raise PolicyError(src, _line(item, "when"), f"rule '{rule_id}': when must be a list of conditions")
        conditions = tuple(_condition(src, c, facts, f"rule '{rule_id}'") for c in when)
        rules.append(Rule(rule_id, conditions, item["outcome"]))
    if rules[-1].conditions:
        raise PolicyError(src, _line(raw[-1]), "the last rule must have no conditions (the answer when none fits)")
    return tuple(rules)


# --- deciding --------------------------------------------------------------------------------

def check_facts(policy: Policy, facts: Any) -> dict[str, Any]:
    """The facts as the policy needs them; ``FactError`` for a missing, unknown or mistyped one."""
    if not isinstance(facts, dict):
        raise FactError("facts", "facts must be an object")
    unknown = sorted(set(facts) - set(policy.facts))
    if unknown:
        raise FactError(unknown[0], f"'{unknown[0]}' is not a fact of {policy.name} "
                                    f"(it needs {', '.join(policy.facts)})")
    for fact in policy.facts.values():
        if fact.name not in facts or facts[fact.name] is None:
            if fact.required:
                raise FactError(fact.name, f"{policy.name} needs the fact '{fact.name}' ({fact.type})")
            continue
        if not _fits(fact.type, facts[fact.name]):
            raise FactError(fact.name, f"the fact '{fact.name}' must be a {fact.type}")
    return {k: v for k, v in facts.items() if v is not None}


def evaluate(policy: Policy, facts: dict[str, Any]) -> Verdict:
    """The first rule whose conditions all hold (the last rule always holds). Same facts, same verdict."""
    for rule in policy.rules:
        if all(c.holds(facts) for c in rule.conditions):
            return Verdict(policy.outcomes[rule.outcome], rule)
    raise AssertionError("unreachable: the last rule has no conditions")
