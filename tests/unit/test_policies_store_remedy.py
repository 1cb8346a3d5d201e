"""The store-remedy policy: what a store advisor may grant on the spot (a small goodwill credit, a
loan phone from the store, a same-day swap of a recognised defect) and what a specialist must; every
outcome says who may grant it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.decisions import rules
from onethread.decisions.service import shipped_files

PATH = next(p for p in shipped_files() if p.name == "store_remedy.yaml")
POLICY = rules.parse(PATH.read_text(), str(PATH))
REMEDIES = POLICY.facts["remedy"].one_of
CAP = 2500

facts = st.fixed_dictionaries({
    "remedy": st.sampled_from(REMEDIES),
    "currency": st.just("GBP"),
}, optional={"goodwill_minor": st.integers(0, 20000), "recognised_defect": st.booleans(),
             "days_since_purchase": st.integers(0, 400), "in_stock": st.booleans(),
             "loan_phone_available": st.booleans()})


def decide(f: dict) -> rules.Verdict:
    return rules.evaluate(POLICY, rules.check_facts(POLICY, f))


def advisor_may(v: rules.Verdict) -> bool:
    return v.outcome.name.startswith("advisor_")


def test_every_outcome_says_who_may_grant_it():
    for outcome in POLICY.outcomes.values():
        who = "you, the store advisor, now" if outcome.name.startswith("advisor_") else "specialist"
        assert outcome.staff_reason.startswith("Who may grant it: ") and who in outcome.staff_reason.split(".")[0]


@given(facts)
def test_goodwill_above_the_store_limit_is_never_the_advisors_alone(f):
    v = decide(f)
    if f["remedy"] == "goodwill_credit":
        assert advisor_may(v) == (f.get("goodwill_minor", 0) <= CAP)
        assert rules.money(f.get("goodwill_minor", 0), "GBP") in v.outcome.staff_reason


@given(facts)
def test_only_small_goodwill_a_free_loan_phone_or_a_recognised_defect_swap_is_granted_in_store(f):
    v = decide(f)
    allowed = ((f["remedy"] == "goodwill_credit" and f.get("goodwill_minor", 0) <= CAP)
               or (f["remedy"] == "loan_phone" and f.get("loan_phone_available", False))
               or (f["remedy"] == "same_day_swap" and f.get("recognised_defect", False) and f.get("in_stock", False)
                   and f.get("days_since_purchase", 10**6) <= 30))
    assert advisor_may(v) == allowed


@pytest.mark.parametrize(("f", "outcome"), [
    ({"remedy": "goodwill_credit", "goodwill_minor": 2500}, "advisor_grants_goodwill"),
    ({"remedy": "goodwill_credit", "goodwill_minor": 2501}, "specialist_grants_goodwill"),
    ({"remedy": "loan_phone", "loan_phone_available": True}, "advisor_lends_phone"),
    ({"remedy": "loan_phone"}, "specialist_sends_loan_phone"),
    ({"remedy": "same_day_swap", "recognised_defect": True, "days_since_purchase": 3, "in_stock": True},
     "advisor_swaps_today"),
    ({"remedy": "same_day_swap", "recognised_defect": True, "days_since_purchase": 3}, "specialist_decides"),
    ({"remedy": "same_day_swap", "recognised_defect": True, "in_stock": True}, "specialist_decides"),
    ({"remedy": "refund"}, "specialist_decides"),
])
def test_each_outcome(f, outcome):
    v = decide({**f, "currency": "GBP"})
    assert v.outcome.name == outcome
    assert "{" not in v.outcome.staff_reason + v.outcome.customer_reason


def test_a_hand_over_keeps_the_customer_from_starting_again():
    v = decide({"remedy": "compensation", "currency": "GBP"})
    assert "do not have to explain it again" in v.outcome.customer_reason
    assert "hand the contact over" in v.outcome.staff_reason


def test_an_unknown_remedy_is_refused_by_name():
    with pytest.raises(rules.FactError) as exc:
        rules.check_facts(POLICY, {"remedy": "free_phone_for_life", "currency": "GBP"})
    assert exc.value.fact == "remedy" and "goodwill_credit" in str(exc.value)
