"""Policies as data: parse and check a policy's YAML, check facts against it, evaluate it.

Pure: no database. A policy is ``name``, ``version``, the ``facts`` it needs, optional ``amounts``
(money in integer minor units, computed from the facts by a small declared arithmetic: no eval),
ordered ``rules`` (the first whose conditions all hold decides) and ``outcomes`` with a reason for
staff and one for the customer, which may show amounts and facts as ``{name}`` (amounts and integer
facts named ``*_minor`` are written as money). Every error names the file and the line of the bad entry.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from onethread.kernel import config_files
from onethread.kernel.config_files import ConfigError
from onethread.kernel.config_files import Marked as _Map
from onethread.kernel.money import format_money

FACT_TYPES = ("boolean", "integer", "number", "string")
OPERATORS = ("is", "equals", "in", "less_than", "at_most", "greater_than", "at_least")
NAME_MAX = 60
AMOUNT_OPS = ("add", "subtract", "multiply", "divide", "percent", "min", "max")
EXPR_DEPTH = 20
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


PolicyError = ConfigError  # the one configuration error (callers and tests catch it by this name)


class FactError(ValueError):
    def __init__(self, fact: str, message: str):
        super().__init__(message)
        self.fact = fact


@dataclass(frozen=True)
class Fact:
    name: str
    type: str
    required: bool
    default: Any = None  # used when an optional fact is not given (and recorded with the facts)
    minimum: int | float | None = None
    maximum: int | float | None = None
    one_of: tuple[str, ...] | None = None


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
class Ref:
    name: str  # an integer fact, or an amount declared above


@dataclass(frozen=True)
class Op:
    op: str
    args: tuple[Any, ...]  # int | Ref | Op | When


@dataclass(frozen=True)
class When:
    conditions: tuple[Condition, ...]
    then: Any
    otherwise: Any


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

    @property
    def shows_values(self) -> bool:
        return bool(PLACEHOLDER.search(self.staff_reason) or PLACEHOLDER.search(self.customer_reason))


@dataclass(frozen=True)
class Policy:
    name: str
    version: int
    description: str
    facts: dict[str, Fact]
    rules: tuple[Rule, ...]
    outcomes: dict[str, Outcome]
    amounts: dict[str, Any] = field(default_factory=dict)  # name -> expression, in declared order


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome  # its reasons with the amounts and facts filled in
    rule: Rule
    amounts: dict[str, int] = field(default_factory=dict)  # every computed amount, minor units


# --- loading ---------------------------------------------------------------------------------

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
    doc = config_files.load_text(source, src)
    _keys(src, doc, "the policy", {"name", "version", "facts", "rules", "outcomes"}, {"description", "amounts"})
    name = _text(src, doc, "name", "the policy")
    if len(name) > NAME_MAX or not name.replace("_", "").isalnum():
        raise PolicyError(src, _line(doc, "name"), "name must be letters, digits and _ (at most 60)")
    version = doc["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PolicyError(src, _line(doc, "version"), "version must be a whole number from 1")
    description = doc.get("description") or ""
    facts = _facts(src, doc)
    amounts = _amounts(src, doc, facts)
    outcomes = _outcomes(src, doc)
    _check_placeholders(src, doc, outcomes, facts, amounts)
    rules = _rules(src, doc, facts, outcomes, frozenset(amounts))
    return Policy(name, version, str(description).strip(), facts, rules, outcomes, amounts)


def _facts(src: str, doc: _Map) -> dict[str, Fact]:
    raw = doc["facts"]
    if not isinstance(raw, list) or not raw:
        raise PolicyError(src, _line(doc, "facts"), "facts must be a non-empty list")
    facts: dict[str, Fact] = {}
    for item in raw:
        _keys(src, item, "a fact", {"name", "type"},
              {"required", "description", "default", "minimum", "maximum", "one_of"})
        name = _text(src, item, "name", "a fact")
        if name in facts:
            raise PolicyError(src, item.line, f"fact '{name}' is declared twice")
        kind = item["type"]
        if kind not in FACT_TYPES:
            raise PolicyError(src, _line(item, "type"), f"fact '{name}': type must be one of {', '.join(FACT_TYPES)}")
        required = item.get("required", "default" not in item)
        if not isinstance(required, bool):
            raise PolicyError(src, _line(item, "required"), f"fact '{name}': required must be true or false")
        bounds = {}
        for key in ("minimum", "maximum"):
            if key in item:
                if kind not in ("integer", "number") or not _fits(kind, item[key]):
                    raise PolicyError(src, _line(item, key), f"fact '{name}': {key} must be a {kind} "
                                                             "(and only number facts have one)")
                bounds[key] = item[key]
        one_of = item.get("one_of")
        if one_of is not None:
            if kind != "string" or not isinstance(one_of, list) or not one_of \
                    or not all(isinstance(v, str) and v for v in one_of):
                raise PolicyError(src, _line(item, "one_of"), f"fact '{name}': one_of is a list of texts "
                                                              "(for a string fact)")
            one_of = tuple(one_of)
        fact = Fact(name, kind, required, None, bounds.get("minimum"), bounds.get("maximum"), one_of)
        if "default" in item:
            if required:
                raise PolicyError(src, _line(item, "default"), f"fact '{name}': a fact with a default is not required")
            problem = _problem(fact, item["default"])
            if problem:
                raise PolicyError(src, _line(item, "default"), f"fact '{name}': the default {problem}")
            fact = replace(fact, default=item["default"])
        facts[name] = fact
    return facts


def _problem(fact: Fact, value: Any) -> str | None:
    """Why ``value`` does not fit ``fact`` (type, bounds, allowed texts), or None."""
    if not _fits(fact.type, value):
        return f"must be {'an' if fact.type == 'integer' else 'a'} {fact.type}"
    if fact.minimum is not None and value < fact.minimum:
        return f"must be at least {fact.minimum}"
    if fact.maximum is not None and value > fact.maximum:
        return f"must be at most {fact.maximum}"
    if fact.one_of is not None and value not in fact.one_of:
        return f"must be one of {', '.join(fact.one_of)}"
    return None


# Amounts: money in integer minor units, each an expression of integer literals, integer facts and
# the amounts declared above it, e.g. ``refund: {multiply: [months_overcharged, monthly_charge_minor]}``
# or ``{if: [{fact: misinformed, is: true}], then: 1000, else: 0}``. No eval, no floats.

def _amounts(src: str, doc: _Map, facts: dict[str, Fact]) -> dict[str, Any]:
    raw = doc.get("amounts")
    if raw is None:
        return {}
    if not isinstance(raw, _Map) or not raw:
        raise PolicyError(src, _line(doc, "amounts"), "amounts must be a mapping of name: expression")
    amounts: dict[str, Any] = {}
    for name, expr in raw.items():
        line = _line(raw, name)
        if not isinstance(name, str) or not name.replace("_", "").isalnum() or name in facts:
            raise PolicyError(src, line, f"amount '{name}': a name of letters, digits and _ that is not a fact's")
        amounts[name] = _expr(src, expr, line, facts, amounts, f"amount '{name}'")
    return amounts


def _expr(src: str, raw: Any, line: int | None, facts: dict[str, Fact], known: dict[str, Any], what: str,
          depth: int = 0) -> Any:
    line = _line(raw) or line
    if depth > EXPR_DEPTH:
        raise PolicyError(src, line, f"{what}: nested more than {EXPR_DEPTH} deep; split it into amounts")
    if isinstance(raw, bool | float):
        raise PolicyError(src, line, f"{what}: {raw!r} is not a whole number of minor units")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        if raw in known:
            return Ref(raw)
        fact = facts.get(raw)
        if fact is None:
            raise PolicyError(src, line, f"{what}: '{raw}' is not a fact or an amount declared above")
        if fact.type != "integer":
            raise PolicyError(src, line, f"{what}: '{raw}' is a {fact.type} fact; amounts use integer facts")
        if not fact.required and fact.default is None:
            raise PolicyError(src, line, f"{what}: '{raw}' is optional; give it a default to use it in an amount")
        return Ref(raw)
    if isinstance(raw, _Map) and "if" in raw:
        _keys(src, raw, f"{what}: an if", {"if", "then", "else"})
        conds = raw["if"] if isinstance(raw["if"], list) else [raw["if"]]
        if not conds:
            raise PolicyError(src, _line(raw, "if"), f"{what}: if needs at least one condition")
        conditions = tuple(_condition(src, c, facts, what, frozenset(known)) for c in conds)
        return When(conditions, _expr(src, raw["then"], _line(raw, "then"), facts, known, what, depth + 1),
                    _expr(src, raw["else"], _line(raw, "else"), facts, known, what, depth + 1))
    if not isinstance(raw, _Map) or len(raw) != 1 or next(iter(raw)) not in AMOUNT_OPS:
        raise PolicyError(src, line, f"{what}: an expression is a whole number, a fact, an amount, "
                                     f"{{if, then, else}} or one of {', '.join(AMOUNT_OPS)}")
    op = next(iter(raw))
    args = raw[op]
    two = op in ("subtract", "divide", "percent")
    if not isinstance(args, list) or (len(args) != 2 if two else len(args) < 2):
        raise PolicyError(src, line, f"{what}: {op} takes {'two' if two else 'a list of two or more'} values")
    if op == "divide" and (isinstance(args[1], bool) or not isinstance(args[1], int) or args[1] < 1):
        raise PolicyError(src, line, f"{what}: divide by a whole number from 1")
    return Op(op, tuple(_expr(src, a, line, facts, known, what, depth + 1) for a in args))


def _round_div(n: int, d: int) -> int:
    """n / d rounded to the nearest whole number, halves away from zero (d > 0)."""
    q, r = divmod(abs(n), d)
    q += 2 * r >= d
    return q if n >= 0 else -q


def _value(expr: Any, env: dict[str, Any]) -> int:
    if isinstance(expr, int):
        return expr
    if isinstance(expr, Ref):
        return env[expr.name]
    if isinstance(expr, When):
        return _value(expr.then if all(c.holds(env) for c in expr.conditions) else expr.otherwise, env)
    values = [_value(a, env) for a in expr.args]
    if expr.op == "add":
        return sum(values)
    if expr.op == "subtract":
        return values[0] - values[1]
    if expr.op == "multiply":
        product = 1
        for v in values:
            product *= v
        return product
    if expr.op == "divide":
        return _round_div(values[0], values[1])
    if expr.op == "percent":
        return _round_div(values[0] * values[1], 100)
    return min(values) if expr.op == "min" else max(values)


def compute(policy: Policy, facts: dict[str, Any]) -> dict[str, int]:
    """Every amount of the policy for these (checked) facts, in declared order."""
    env = {**{f.name: f.default for f in policy.facts.values() if f.default is not None}, **facts}
    amounts: dict[str, int] = {}
    for name, expr in policy.amounts.items():
        amounts[name] = env[name] = _value(expr, env)
    return amounts


def money(minor: int, currency: str | None = None) -> str:
    """``12345, "GBP"`` -> ``£123.45``: the kernel's one money formatter (ISO 4217 exponents)."""
    return format_money(minor, currency)


def _check_placeholders(src: str, doc: _Map, outcomes: dict[str, Outcome], facts: dict[str, Fact],
                        amounts: dict[str, Any]) -> None:
    raw = doc["outcomes"]
    for outcome in outcomes.values():
        item = raw[outcome.name]
        for key, text in (("staff_reason", outcome.staff_reason), ("customer_reason", outcome.customer_reason)):
            for name in PLACEHOLDER.findall(text):
                fact = facts.get(name)
                if name in amounts or (fact is not None and fact.type != "boolean"
                                       and (fact.required or fact.default is not None)):
                    continue
                raise PolicyError(src, _line(item, key), f"outcome '{outcome.name}': {{{name}}} is not an amount "
                                                         "or a non-boolean fact that is always given")


def _render(text: str, values: dict[str, Any], amounts: dict[str, int], currency: str | None) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1)
        if name in amounts:
            return money(amounts[name], currency)
        value = values[name]
        return money(value, currency) if name.endswith("_minor") and isinstance(value, int) else str(value)
    return PLACEHOLDER.sub(one, text)


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


def _condition(src: str, raw: Any, facts: dict[str, Fact], what: str,
               amounts: frozenset[str] = frozenset()) -> Condition:
    if not isinstance(raw, _Map) or len({"fact", "amount"} & set(raw)) != 1:
        raise PolicyError(src, _line(raw), f"{what}: a condition is {{fact: <name>, <operator>: <value>}} "
                                           "or {amount: <name>, <operator>: <value>}")
    key = "fact" if "fact" in raw else "amount"
    ops = [k for k in raw if k != key]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        raise PolicyError(src, raw.line, f"{what}: give exactly one operator of {', '.join(OPERATORS)}")
    op, value, line = ops[0], raw[ops[0]], _line(raw, ops[0])
    if key == "amount":
        if raw["amount"] not in amounts:
            raise PolicyError(src, _line(raw, "amount"), f"{what}: '{raw['amount']}' is not a declared amount")
        fact = Fact(raw["amount"], "integer", True)
    else:
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


def _rules(src: str, doc: _Map, facts: dict[str, Fact], outcomes: dict[str, Outcome],
           amounts: frozenset[str] = frozenset()) -> tuple[Rule, ...]:
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
        conditions = tuple(_condition(src, c, facts, f"rule '{rule_id}'", amounts) for c in when)
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
    checked = {k: v for k, v in facts.items() if v is not None}
    for fact in policy.facts.values():
        if fact.name not in checked:
            if fact.required:
                raise FactError(fact.name, f"{policy.name} needs the fact '{fact.name}' ({fact.type})")
            if fact.default is not None:
                checked[fact.name] = fact.default  # recorded: the decision shows what it used
            continue
        problem = _problem(fact, checked[fact.name])
        if problem:
            raise FactError(fact.name, f"the fact '{fact.name}' {problem}")
    return checked


def evaluate(policy: Policy, facts: dict[str, Any]) -> Verdict:
    """The first rule whose conditions all hold (the last rule always holds), with the policy's amounts
    and the outcome's reasons filled in from them and the facts. Same facts, same verdict."""
    defaults = {f.name: f.default for f in policy.facts.values() if f.default is not None}
    values = {**defaults, **facts} if defaults else facts
    amounts = compute(policy, values) if policy.amounts else {}
    env = {**values, **amounts} if amounts else values
    for rule in policy.rules:
        if all(c.holds(env) for c in rule.conditions):
            outcome = policy.outcomes[rule.outcome]
            if outcome.shows_values:
                currency = values.get("currency") if isinstance(values.get("currency"), str) else None
                outcome = replace(outcome,
                                  staff_reason=_render(outcome.staff_reason, values, amounts, currency),
                                  customer_reason=_render(outcome.customer_reason, values, amounts, currency))
            return Verdict(outcome, rule, amounts)
    raise AssertionError("unreachable: the last rule has no conditions")
