"""Policies as data, without a database: the shipped device-fault policy's promises, and bad policy
files rejected with their file and line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.decisions import rules
from onethread.decisions.service import shipped_files

DEVICE_FAULT = next(p for p in shipped_files() if p.name == "device_fault.yaml")
POLICY = rules.parse(DEVICE_FAULT.read_text(), str(DEVICE_FAULT))
# Best first: a swap or a replacement, then a repair, then an assessment before any remedy.
RANK = {"swap_in_store": 0, "doorstep_replacement": 0, "repair": 1, "assessment": 2}

facts = st.fixed_dictionaries({
    "device_model": st.sampled_from(["Nova X2", "Pixel 9", "Galaxy A5"]),
    "symptom": st.sampled_from(["headphone jack", "no sound in earphones", "screen flicker"]),
    "days_since_purchase": st.integers(min_value=0, max_value=800),
    "physical_damage_evidence": st.booleans(),
    "in_stock": st.booleans(),
    "known_defect": st.booleans(),
    "is_existing_customer": st.booleans(),
})


def outcome(f: dict) -> str:
    return rules.evaluate(POLICY, rules.check_facts(POLICY, f)).outcome.name


def test_the_shipped_policy_loads_and_names_its_outcomes():
    assert POLICY.name == "device_fault" and POLICY.version == 2
    assert set(POLICY.outcomes) == set(RANK)
    assert POLICY.outcomes["doorstep_replacement"].due_in_days == 5


@given(facts)
def test_an_existing_customer_is_never_less_eligible_than_a_new_one(f):
    existing = outcome({**f, "is_existing_customer": True})
    new = outcome({**f, "is_existing_customer": False})
    assert RANK[existing] <= RANK[new]


@given(facts)
def test_a_recognised_defect_within_the_window_never_needs_an_assessment(f):
    f = {**f, "known_defect": True, "days_since_purchase": f["days_since_purchase"] % 31}
    expected = "swap_in_store" if f["in_stock"] else "doorstep_replacement"
    assert outcome(f) == expected


@given(facts)
def test_assessment_only_with_damage_evidence_or_outside_the_window_without_a_known_defect(f):
    if outcome(f) == "assessment":
        assert f["physical_damage_evidence"] or (f["days_since_purchase"] > 30 and not f["known_defect"])


@given(facts)
def test_the_same_facts_always_give_the_same_answer(f):
    first = rules.evaluate(POLICY, f)
    assert all(rules.evaluate(POLICY, dict(reversed(list(f.items())))) == first for _ in range(3))


def test_missing_unknown_and_mistyped_facts_are_named():
    good = {"device_model": "X", "symptom": "s", "days_since_purchase": 3, "physical_damage_evidence": False,
            "in_stock": True, "known_defect": False, "is_existing_customer": True}
    for bad, fact in [({k: v for k, v in good.items() if k != "symptom"}, "symptom"),
                      ({**good, "colour": "red"}, "colour"),
                      ({**good, "days_since_purchase": "three"}, "days_since_purchase"),
                      ({**good, "in_stock": "yes"}, "in_stock"),
                      ({**good, "days_since_purchase": True}, "days_since_purchase")]:
        with pytest.raises(rules.FactError) as exc:
            rules.check_facts(POLICY, bad)
        assert exc.value.fact == fact


GOOD_HEAD = """name: tiny
version: 1
facts:
  - {name: age, type: integer}
"""


@pytest.mark.parametrize(("text", "line", "words"), [
    (GOOD_HEAD + "rules:\n  - id: r\n    when:\n      - {fact: age, at_most: soon}\n    outcome: ok\n"
     "outcomes:\n  ok: {staff_reason: s, customer_reason: c}\n", 8, "not a valid integer"),
    (GOOD_HEAD + "rules:\n  - id: r\n    outcome: nope\noutcomes:\n  ok: {staff_reason: s, customer_reason: c}\n",
     7, "no outcome 'nope'"),
    (GOOD_HEAD + "rules:\n  - id: r\n    when:\n      - {fact: colour, equals: red}\n    outcome: ok\n"
     "  - id: last\n    outcome: ok\noutcomes:\n  ok: {staff_reason: s, customer_reason: c}\n", 8,
     "not a declared fact"),
    (GOOD_HEAD + "rules:\n  - id: r\n    outcome: ok\noutcomes:\n  ok: {staff_reason: s}\n", 9, "customer_reason"),
    (GOOD_HEAD.replace("version: 1", "version: one") + "rules:\n  - id: r\n    outcome: ok\n"
     "outcomes:\n  ok: {staff_reason: s, customer_reason: c}\n", 2, "version must be a whole number"),
    ("name: tiny\nversion: 1\nfacts: [\n", 4, "not valid YAML"),
])
def test_a_bad_policy_file_is_rejected_with_its_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "broken_policy.yaml"
    path.write_text(text)
    with pytest.raises(rules.PolicyError) as exc:
        rules.parse(path.read_text(), str(path))
    message = str(exc.value)
    assert message.startswith(f"{path}, line {line}: "), message
    assert words in message
    assert exc.value.line == line
