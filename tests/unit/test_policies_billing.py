"""The billing-error goodwill policy (S4): every overcharged period refunded in full, goodwill that
grows with the trouble we caused and is capped, a second person for a large credit, and usage
recorded after a removal never held against the customer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.decisions import rules
from onethread.decisions.service import shipped_files

PATH = next(p for p in shipped_files() if p.name == "billing_error_goodwill.yaml")
POLICY = rules.parse(PATH.read_text(), str(PATH))
CAP, LIMIT = 5000, 25000

facts = st.fixed_dictionaries({
    "months_overcharged": st.integers(0, 24),
    "monthly_charge_minor": st.integers(0, 20000),
    "other_overcharge_minor": st.integers(0, 50000),
    "contacts_made": st.integers(0, 30),
    "told_wrong_information": st.booleans(),
    "usage_recorded_after_removal": st.booleans(),
    "currency": st.sampled_from(["GBP", "EUR", "SEK"]),
})


def decide(f: dict) -> rules.Verdict:
    return rules.evaluate(POLICY, rules.check_facts(POLICY, f))


def test_s4_april_and_may_are_both_refunded_with_goodwill_for_the_trouble():
    # The old iPad SIM was removed on 10 March and still charged at 12.50 in April and May; the
    # customer told the store, an online form, the helpline and Twitter, and was told "usage was
    # made that month".
    v = decide({"months_overcharged": 2, "monthly_charge_minor": 1250, "contacts_made": 4,
                "told_wrong_information": True, "usage_recorded_after_removal": True, "currency": "GBP"})
    assert v.outcome.name == "refund_and_goodwill"
    # refund 2 x 12.50; goodwill 5.00 (a second month) + 3 x 5.00 (contacts after the first) + 10.00
    assert (v.amounts["refund"], v.amounts["goodwill"], v.amounts["total_credit"]) == (2500, 3000, 5500)
    assert "£25.00" in v.outcome.customer_reason and "£30.00" in v.outcome.customer_reason
    assert "£55.00 in all" in v.outcome.customer_reason
    assert "usage recorded after a removal is a data error" in v.outcome.staff_reason
    assert v.outcome.due_in_days == 5


@given(facts)
def test_the_refund_is_every_overcharged_period_in_full(f):
    v = decide(f)
    assert v.amounts["refund"] == f["months_overcharged"] * f["monthly_charge_minor"] + f["other_overcharge_minor"]
    assert v.amounts["total_credit"] == v.amounts["refund"] + v.amounts["goodwill"]
    if v.amounts["refund"] > 0:
        assert v.outcome.name.startswith("refund")
        assert rules.money(v.amounts["refund"], f["currency"]) in v.outcome.customer_reason


@given(facts)
def test_goodwill_is_never_negative_and_never_above_the_cap(f):
    assert 0 <= decide(f).amounts["goodwill"] <= CAP


@given(facts, st.sampled_from(["months_overcharged", "contacts_made", "told_wrong_information"]))
def test_more_trouble_never_means_less_goodwill(f, worse):
    more = {**f, worse: True if worse == "told_wrong_information" else f[worse] + 1}
    assert decide(more).amounts["goodwill"] >= decide(f).amounts["goodwill"]


@given(facts)
def test_usage_recorded_after_a_removal_never_changes_the_answer(f):
    assert decide({**f, "usage_recorded_after_removal": True}) == decide({**f, "usage_recorded_after_removal": False})


@given(facts)
def test_a_credit_above_one_persons_write_off_limit_needs_a_second_person(f):
    v = decide(f)
    needs = v.amounts["refund"] > 0 and v.amounts["total_credit"] > LIMIT
    assert (v.outcome.name == "refund_and_goodwill_with_approval") == needs


@pytest.mark.parametrize(("f", "outcome"), [
    ({"months_overcharged": 1, "monthly_charge_minor": 999, "contacts_made": 1, "told_wrong_information": False},
     "refund_only"),
    ({"months_overcharged": 0, "monthly_charge_minor": 999, "other_overcharge_minor": 350, "contacts_made": 0,
      "told_wrong_information": False}, "refund_only"),
    ({"months_overcharged": 0, "monthly_charge_minor": 0, "contacts_made": 1, "told_wrong_information": False},
     "no_credit"),
    ({"months_overcharged": 0, "monthly_charge_minor": 0, "contacts_made": 3, "told_wrong_information": False},
     "goodwill_only"),
    ({"months_overcharged": 3, "monthly_charge_minor": 2000, "contacts_made": 1, "told_wrong_information": False},
     "refund_and_goodwill"),
    ({"months_overcharged": 12, "monthly_charge_minor": 2000, "contacts_made": 2, "told_wrong_information": False},
     "refund_and_goodwill_with_approval"),  # 240.00 + 50.00 (capped) = 290.00, above 250.00
])
def test_each_outcome(f, outcome):
    v = decide({**f, "currency": "GBP"})
    assert v.outcome.name == outcome
    assert "{" not in v.outcome.staff_reason + v.outcome.customer_reason  # every amount filled in


def test_the_limit_itself_is_still_one_persons_to_credit():
    # one month at 240.00, refunded, plus 10.00 for telling the customer something wrong: exactly 250.00
    v = decide({"months_overcharged": 1, "monthly_charge_minor": 24000, "contacts_made": 1,
                "told_wrong_information": True, "currency": "GBP"})
    assert v.amounts["total_credit"] == LIMIT and v.outcome.name == "refund_and_goodwill"
    over = decide({"months_overcharged": 1, "monthly_charge_minor": 24001, "contacts_made": 1,
                   "told_wrong_information": True, "currency": "GBP"})
    assert over.outcome.name == "refund_and_goodwill_with_approval"
    assert "£250.00" in over.outcome.staff_reason and "second person" in over.outcome.customer_reason


@pytest.mark.parametrize(("bad", "fact"), [
    ({"months_overcharged": -1}, "months_overcharged"), ({"monthly_charge_minor": 12.5}, "monthly_charge_minor"),
    ({"currency": "pounds"}, "currency"), ({"contacts_made": None}, "contacts_made"),
    ({"told_wrong_information": "yes"}, "told_wrong_information"),
])
def test_bad_facts_are_named(bad, fact):
    good = {"months_overcharged": 2, "monthly_charge_minor": 1250, "contacts_made": 4, "told_wrong_information": True,
            "currency": "GBP"}
    with pytest.raises(rules.FactError) as exc:
        rules.check_facts(POLICY, {**good, **bad})
    assert exc.value.fact == fact
