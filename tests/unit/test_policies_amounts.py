"""The policy language computes money: declared amounts in integer minor units, fact defaults, bounds
and allowed texts, and reasons that show the amounts. Bad declarations name their file and line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.decisions import rules

HEAD = """name: sums
version: 1
facts:
  - {name: a, type: integer}
  - {name: b, type: integer, minimum: 0, maximum: 1000}
  - {name: flag, type: boolean}
  - {name: extra, type: integer, default: 7}
  - {name: currency, type: string, one_of: [GBP, EUR, JPY, BHD, VND]}
"""
TAIL = """rules:
  - id: big
    when:
      - {amount: total, greater_than: 100}
    outcome: big
  - id: otherwise
    outcome: small
outcomes:
  big: {staff_reason: "Total {total} from {a} and {b}.", customer_reason: "We owe you {total}."}
  small: {staff_reason: "Small.", customer_reason: "Small: {total}."}
"""


def policy(amounts: str) -> rules.Policy:
    return rules.parse(HEAD + "amounts:\n" + amounts + TAIL, "sums.yaml")


def total(expr: str, **facts) -> int:
    p = policy(f"  total: {expr}\n")
    given_facts = rules.check_facts(p, {"a": 0, "b": 0, "flag": False, "currency": "GBP", **facts})
    return rules.evaluate(p, given_facts).amounts["total"]


@pytest.mark.parametrize(("expr", "facts", "expected"), [
    ("{add: [a, b, 5]}", {"a": 10, "b": 20}, 35),
    ("{subtract: [a, b]}", {"a": 10, "b": 25}, -15),
    ("{multiply: [a, b, 2]}", {"a": 3, "b": 4}, 24),
    ("{divide: [a, 3]}", {"a": 10}, 3),
    ("{divide: [a, 4]}", {"a": 10}, 3),   # 2.5 rounds away from zero
    ("{divide: [a, 4]}", {"a": -10}, -3),
    ("{percent: [a, 15]}", {"a": 1999}, 300),  # 299.85
    ("{percent: [a, 10]}", {"a": 5}, 1),      # 0.5 rounds away from zero
    ("{min: [a, b, 50]}", {"a": 80, "b": 60}, 50),
    ("{max: [{subtract: [a, 1]}, 0]}", {"a": 0}, 0),
    ("{add: [a, extra]}", {"a": 1}, 8),  # an optional fact with a default
    ("{add: [a, extra]}", {"a": 1, "extra": 2}, 3),
    ("{if: [{fact: flag, is: true}], then: 1000, else: 0}", {"flag": True}, 1000),
    ("{if: {fact: flag, is: true}, then: 1000, else: {add: [a, 1]}}", {"flag": False, "a": 4}, 5),
])
def test_each_operation_computes_whole_minor_units(expr, facts, expected):
    assert total(expr, **facts) == expected


def test_amounts_build_on_amounts_declared_above_and_decide_rules_and_fill_reasons():
    p = policy("  base: {multiply: [a, b]}\n  total: {add: [base, 1]}\n")
    v = rules.evaluate(p, rules.check_facts(p, {"a": 3, "b": 50, "flag": False, "currency": "GBP"}))
    assert v.amounts == {"base": 150, "total": 151}
    assert v.rule.id == "big"
    assert v.outcome.staff_reason == "Total £1.51 from 3 and 50." and v.outcome.customer_reason == "We owe you £1.51."
    # The policy keeps its template, so an old decision is explained by the words of its version.
    assert p.outcomes["big"].customer_reason == "We owe you {total}."
    small = rules.evaluate(p, rules.check_facts(p, {"a": 1, "b": 1, "flag": False, "currency": "JPY"}))
    assert small.outcome.name == "small" and small.outcome.customer_reason == "Small: JP¥2."


@pytest.mark.parametrize(("currency", "said"), [("BHD", "BHD\u00a01.234"), ("VND", "₫1,234"), ("GBP", "£12.34")])
def test_a_customer_reason_states_the_amount_in_the_currency_s_own_minor_units(currency, said):
    # 1234 fils is 1.234 dinar (ISO 4217: BHD has three decimals), never 12.34; 1234 dong is 1,234 dong.
    p = policy("  base: {multiply: [a, b]}\n  total: {add: [base, 1]}\n")
    v = rules.evaluate(p, rules.check_facts(p, {"a": 1233, "b": 1, "flag": False, "currency": currency}))
    assert v.amounts["total"] == 1234
    assert v.outcome.customer_reason == f"We owe you {said}."


@given(st.integers(-10**12, 10**12), st.integers(1, 10**6))
def test_divide_rounds_to_the_nearest_whole_unit(n, d):
    p = policy(f"  total: {{divide: [a, {d}]}}\n")
    got = rules.evaluate(p, rules.check_facts(p, {"a": n, "b": 0, "flag": False, "currency": "GBP"})).amounts["total"]
    assert abs(got * d - n) * 2 <= d  # never more than half a unit away
    assert got == -total(f"{{divide: [a, {d}]}}", a=-n)  # symmetric around zero


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (123456, "GBP", "£1,234.56"), (5, "EUR", "€0.05"), (-250, "USD", "-US$2.50"), (1500, "JPY", "JP¥1,500"),
    (1500, "SEK", "SEK\u00a015.00"), (1500, None, "15.00"), (1234, "BHD", "BHD\u00a01.234"),
    (-1234, "KWD", "-KWD\u00a01.234"),
])
def test_money_is_written_for_people(minor, currency, text):
    assert rules.money(minor, currency) == text


def test_facts_are_checked_against_bounds_and_allowed_texts_and_defaults_are_recorded():
    p = policy("  total: {add: [a, b]}\n")
    good = {"a": 1, "b": 2, "flag": True, "currency": "EUR"}
    assert rules.check_facts(p, good) == {**good, "extra": 7}
    for bad, fact, words in [({**good, "b": -1}, "b", "at least 0"), ({**good, "b": 1001}, "b", "at most 1000"),
                             ({**good, "currency": "pounds"}, "currency", "one of GBP, EUR, JPY"),
                             ({**good, "extra": "x"}, "extra", "must be an integer")]:
        with pytest.raises(rules.FactError) as exc:
            rules.check_facts(p, bad)
        assert exc.value.fact == fact and words in str(exc.value)


@pytest.mark.parametrize(("amounts", "words"), [
    ("  total: 1.5\n", "not a whole number of minor units"),
    ("  total: true\n", "not a whole number of minor units"),
    ("  total: {add: [a, currency]}\n", "'currency' is a string fact"),
    ("  total: {add: [a, nope]}\n", "'nope' is not a fact or an amount declared above"),
    ("  total: {add: [a, later]}\n  later: 1\n", "'later' is not a fact or an amount declared above"),
    ("  total: {divide: [a, 0]}\n", "divide by a whole number from 1"),
    ("  total: {divide: [a, b]}\n", "divide by a whole number from 1"),
    ("  total: {power: [a, 2]}\n", "one of add, subtract"),
    ("  total: {subtract: [a, b, 1]}\n", "subtract takes two values"),
    ("  total: {add: [a]}\n", "add takes a list of two or more values"),
    ("  total: {if: [{fact: flag, is: true}], then: 1}\n", "missing else"),
    ("  total: {if: [{amount: total, is: true}], then: 1, else: 0}\n", "'total' is not a declared amount"),
    ("  a: 1\n  total: 2\n", "amount 'a': a name of letters, digits and _ that is not a fact's"),
    ("  total: " + "{add: [1, " * 25 + "1" + "]}" * 25 + "\n", "nested more than 20 deep"),
])
def test_a_bad_amount_is_rejected_with_its_file_and_line(amounts, words):
    text = HEAD + "amounts:\n" + amounts + TAIL
    with pytest.raises(rules.PolicyError) as exc:
        rules.parse(text, "sums.yaml")
    assert words in str(exc.value), str(exc.value)
    assert str(exc.value).startswith(f"sums.yaml, line {HEAD.count(chr(10)) + 2}: ")


@pytest.mark.parametrize(("fact", "words"), [
    ("{name: x, type: integer, required: false}\namounts:\n  total: {add: [x, 1]}\n",
     "'x' is optional; give it a default"),
    ("{name: x, type: string, minimum: 1}\namounts:\n  total: 1\n", "minimum must be a string"),
    ("{name: x, type: integer, one_of: [a]}\namounts:\n  total: 1\n", "one_of is a list of texts"),
    ("{name: x, type: integer, default: 1, required: true}\namounts:\n  total: 1\n", "a fact with a default"),
    ("{name: x, type: integer, minimum: 5, default: 1}\namounts:\n  total: 1\n", "the default must be at least 5"),
])
def test_a_bad_fact_declaration_is_rejected_with_its_line(fact, words):
    text = HEAD.replace("  - {name: extra", f"  - {fact.splitlines()[0]}\n  - {{name: extra") + \
        "\n".join(fact.splitlines()[1:]) + "\n" + TAIL
    with pytest.raises(rules.PolicyError) as exc:
        rules.parse(text, "sums.yaml")
    assert words in str(exc.value), str(exc.value)
    assert exc.value.line is not None


def test_a_reason_may_only_show_amounts_and_facts_that_are_always_given():
    for placeholder in ("{nope}", "{flag}"):
        text = HEAD + "amounts:\n  total: 1\n" + TAIL.replace("We owe you {total}.", f"We owe you {placeholder}.")
        with pytest.raises(rules.PolicyError) as exc:
            rules.parse(text, "sums.yaml")
        line = next(i for i, t in enumerate(text.splitlines(), 1) if placeholder in t)
        assert str(exc.value).startswith(f"sums.yaml, line {line}: outcome 'big': {placeholder} is not an amount")
