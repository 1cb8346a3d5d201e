"""Four-eyes rules without a database: the shipped policy, who may approve, the write-off
threshold, how long someone held a number; and the pure bill rules the evidence relies on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from onethread.billing import rules as bill_rules
from onethread.decisions import approval_rules as rules
from onethread.decisions.approvals import POLICY_FILE


@pytest.fixture(scope="module")
def policy() -> rules.FourEyesPolicy:
    return rules.parse(POLICY_FILE.read_text(), str(POLICY_FILE))


def test_the_shipped_policy_names_every_action_and_its_approvers(policy):
    assert set(policy.actions) == set(rules.ACTIONS)
    assert policy.rule("terminate_line").approvers == {"team_lead", "admin"}
    assert policy.rule("flag_fraud").approvers == {"team_lead", "admin"}
    assert policy.rule("write_off").approvers == {"team_lead", "back_office"}
    assert policy.rule("close_unconfirmed").approvers == {"team_lead", "admin"}
    assert "agent" not in set().union(*(r.approvers for r in policy.actions.values()))


@pytest.mark.parametrize(("amount", "currency", "needed"), [
    (1, "GBP", False), (5000, "GBP", False), (5001, "GBP", True), (5000, "EUR", False),
    (1, "SEK", True),  # a currency without a threshold: every write-off needs a second person
])
def test_a_write_off_needs_a_second_person_only_above_its_currency_threshold(policy, amount, currency, needed):
    assert rules.needs_second_person(policy, "write_off", amount, currency) is needed


@pytest.mark.parametrize("action", ["terminate_line", "flag_fraud", "close_unconfirmed"])
def test_the_other_drastic_actions_always_need_a_second_person(policy, action):
    assert rules.needs_second_person(policy, action)


def refusal(approver_id="u2", role="team_lead", kind="staff", requester="u1", roles=("team_lead", "admin")):
    return rules.approval_refusal(requester_id=requester, approver_id=approver_id, approver_role=role,
                                  approver_kind=kind, required_roles=list(roles))


def test_never_the_requester_whatever_their_role():
    for role in ("team_lead", "admin"):
        message = refusal(approver_id="u1", role=role)
        assert message and "yourself" in message and "whatever your role" in message
    assert refusal() is None
    assert refusal(role="admin") is None


def test_the_right_role_and_a_named_person():
    assert "one of these roles: admin, team lead (your role: agent)" in refusal(role="agent")
    assert "named person" in refusal(kind="system", role="admin")
    assert rules.withdraw_refusal(requester_id="u1", caller_id="u2")
    assert rules.withdraw_refusal(requester_id="u1", caller_id="u1") is None
    assert rules.decided_refusal("approved") == "the request is already approved"
    assert rules.decided_refusal("pending") is None


BAD = [
    ("name: four_eyes\nversion: 1\nactions: [\n", "line"),
    ("name: other\nversion: 1\nactions: {}\n", "name: four_eyes"),
    ("name: four_eyes\nversion: 0\nactions: {}\n", "version"),
    ("name: four_eyes\nversion: 1\nactions: {terminate_line: {approvers: [team_lead]}}\n", "exactly"),
]


@pytest.mark.parametrize(("text", "says"), BAD)
def test_a_bad_policy_is_refused_naming_the_file(text, says):
    with pytest.raises(rules.PolicyError) as exc:
        rules.parse(text, "four_eyes.yaml")
    assert str(exc.value).startswith("four_eyes.yaml") and says in str(exc.value)


def test_unknown_roles_and_thresholds_on_other_actions_are_refused(policy):
    text = POLICY_FILE.read_text()
    with pytest.raises(rules.PolicyError, match="staff roles"):
        rules.parse(text.replace("approvers: [team_lead, back_office]", "approvers: [cashier]"), "f.yaml")
    with pytest.raises(rules.PolicyError, match="only a write-off"):
        rules.parse(text.replace("    approvers: [team_lead, admin]\n  flag_fraud",
                                 "    approvers: [team_lead, admin]\n    threshold_minor: {GBP: 1}\n  flag_fraud"),
                    "f.yaml")
    with pytest.raises(rules.PolicyError, match="whole minor units"):
        rules.parse(text.replace("GBP: 5000", "GBP: 50.5"), "f.yaml")


def at(y, m, d):
    return datetime(y, m, d, tzinfo=UTC)


def test_days_held_count_each_day_once_and_only_up_to_now():
    now = at(2026, 3, 2)
    assert rules.held_days([(at(2019, 9, 1), None)], now) == (date(2026, 3, 2) - date(2019, 9, 1)).days
    assert rules.held_days([(at(2020, 1, 1), at(2020, 1, 11)), (at(2020, 1, 6), at(2020, 1, 21))], now) == 20
    assert rules.held_days([(at(2020, 1, 1), at(2020, 1, 11)), (at(2021, 1, 1), at(2021, 1, 3))], now) == 12
    assert rules.held_days([(at(2027, 1, 1), None)], now) == 0


@pytest.mark.parametrize(("start", "today", "words"), [
    (date(2019, 9, 1), date(2026, 3, 2), "6 years 6 months"),
    (date(2025, 3, 2), date(2026, 3, 2), "1 year"),
    (date(2026, 2, 3), date(2026, 3, 2), "less than a month"),
    (date(2025, 4, 15), date(2026, 3, 2), "10 months"),
    (date(2026, 3, 5), date(2026, 3, 2), "less than a month"),
])
def test_tenure_in_words(start, today, words):
    assert rules.years_and_months(start, today) == words


def test_bill_rules_take_whole_minor_units_and_charges_that_add_up():
    ok = {"bill_number": "B-1", "period_start": date(2026, 2, 1), "period_end": date(2026, 2, 28),
          "issued_on": date(2026, 3, 1), "due_on": date(2026, 3, 20)}
    assert bill_rules.bill_problems(**ok, amount_minor=1500, charges_total=1500) == []
    assert bill_rules.bill_problems(**ok, amount_minor=15.0, charges_total=None)[0][0] == "amount"
    assert bill_rules.bill_problems(**ok, amount_minor=True, charges_total=None)[0][0] == "amount"
    assert bill_rules.bill_problems(**ok, amount_minor=1500, charges_total=1400)[0][0] == "charges"
    assert bill_rules.charge_problems(kind="credit", amount_minor=100, period_start=None, period_end=None,
                                      description="x")[0][0] == "amount"
    assert bill_rules.charge_problems(kind="write_off", amount_minor=-100, period_start=None, period_end=None,
                                      description="x")[0][0] == "kind"
    assert bill_rules.status_after(1500, 1000, 500, "issued") == "written_off"
    assert bill_rules.status_after(1500, 1500, 0, "overdue") == "paid"
    assert bill_rules.status_after(1500, 1000, 0, "issued") == "issued"
