"""The retention-offer policy: never a "please stay" offer in place of fixing an open complaint, no
standard pitch to a customer who has just chosen to spend more, and offers that grow with tenure and
value but stay capped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.decisions import rules
from onethread.decisions.service import shipped_files

PATH = next(p for p in shipped_files() if p.name == "retention_offer.yaml")
POLICY = rules.parse(PATH.read_text(), str(PATH))
DISCOUNT = {"loyalty_offer": "loyalty_discount", "standard_offer": "standard_discount"}

facts = st.fixed_dictionaries({
    "tenure_months": st.integers(0, 400),
    "monthly_value_minor": st.integers(0, 40000),
    "open_complaints": st.integers(0, 3),
    "in_contract": st.booleans(),
    "currency": st.just("GBP"),
}, optional={"days_since_commitment_increase": st.integers(0, 2000)})


def decide(f: dict) -> rules.Verdict:
    return rules.evaluate(POLICY, rules.check_facts(POLICY, f))


def monthly_discount(f: dict) -> int:
    v = decide(f)
    return v.amounts[DISCOUNT[v.outcome.name]] if v.outcome.name in DISCOUNT else 0


@given(facts)
def test_an_open_complaint_is_fixed_first_never_bought_off(f):
    f = {**f, "open_complaints": max(1, f["open_complaints"])}
    v = decide(f)
    assert v.outcome.name == "fix_first"
    assert "fix" in v.outcome.customer_reason and "not make it hard" in v.outcome.customer_reason
    assert "Do not make a retention offer in place of a fix" in v.outcome.staff_reason


@given(facts, st.integers(0, 90))
def test_a_customer_who_just_chose_to_spend_more_gets_no_standard_pitch(f, days):
    v = decide({**f, "open_complaints": 0, "days_since_commitment_increase": days})
    assert v.outcome.name == ("cooling_off" if days <= 14 else "ask_what_changed")
    assert monthly_discount({**f, "open_complaints": 0, "days_since_commitment_increase": days}) == 0


@given(facts)
def test_an_offer_is_at_most_a_fifth_of_the_monthly_spend_and_at_most_the_cap(f):
    v = decide(f)
    if v.outcome.name in DISCOUNT:
        amount = v.amounts[DISCOUNT[v.outcome.name]]
        assert 0 <= amount <= 2000 and amount * 5 <= f["monthly_value_minor"] + 2
        assert rules.money(amount, "GBP") in v.outcome.customer_reason


@given(facts, st.sampled_from(["tenure_months", "monthly_value_minor"]), st.integers(1, 200))
def test_a_longer_standing_or_more_valuable_customer_is_never_offered_less(f, more_of, by):
    assert monthly_discount({**f, more_of: f[more_of] + by}) >= monthly_discount(f)


@pytest.mark.parametrize(("f", "outcome", "discount"), [
    ({"tenure_months": 130, "monthly_value_minor": 7200, "in_contract": False}, "loyalty_offer", 1440),
    ({"tenure_months": 130, "monthly_value_minor": 15000, "in_contract": True}, "loyalty_offer", 2000),  # capped
    ({"tenure_months": 30, "monthly_value_minor": 3000, "in_contract": False}, "standard_offer", 300),
    ({"tenure_months": 6, "monthly_value_minor": 3000, "in_contract": True}, "plan_review", 0),
    ({"tenure_months": 6, "monthly_value_minor": 1000, "in_contract": False}, "no_offer", 0),
    ({"tenure_months": 130, "monthly_value_minor": 7200, "in_contract": False,
      "days_since_commitment_increase": 400}, "loyalty_offer", 1440),  # an old upgrade changes nothing
])
def test_each_offer(f, outcome, discount):
    f = {**f, "open_complaints": 0, "currency": "GBP"}
    v = decide(f)
    assert v.outcome.name == outcome and monthly_discount(f) == discount
    assert "{" not in v.outcome.staff_reason + v.outcome.customer_reason


def test_the_s2_customer_with_a_year_old_complaint_is_not_offered_a_discount_to_stay():
    v = decide({"tenure_months": 125, "monthly_value_minor": 7000, "open_complaints": 1, "in_contract": True,
                "currency": "GBP"})
    assert v.outcome.name == "fix_first" and v.amounts["loyalty_discount"] == 1400  # computed, not offered
    assert "£" not in v.outcome.customer_reason


@pytest.mark.parametrize(("bad", "fact"), [({"tenure_months": -1}, "tenure_months"),
                                           ({"open_complaints": "none"}, "open_complaints"),
                                           ({"in_contract": None}, "in_contract")])
def test_bad_facts_are_named(bad, fact):
    good = {"tenure_months": 10, "monthly_value_minor": 100, "open_complaints": 0, "in_contract": True,
            "currency": "GBP"}
    with pytest.raises(rules.FactError) as exc:
        rules.check_facts(POLICY, {**good, **bad})
    assert exc.value.fact == fact
