"""The goodwill, retention and store-remedy policies over HTTP: the same facts give the same answer
from the store and the contact centre, the amounts are in the reasons, the decision is on the
customer's timeline, and bad facts are a TMF error with nothing recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.models import CaseEvent, Decision, OutboxEvent, TimelineEntry
from tests.support.s1_world import setup_world
from tests.support.trouble_ticket_api import count
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"
S4 = {"months_overcharged": 2, "monthly_charge_minor": 1250, "contacts_made": 4, "told_wrong_information": True,
      "usage_recorded_after_removal": True, "currency": "GBP"}
ASKS = {
    "billing_error_goodwill": S4,
    "retention_offer": {"tenure_months": 130, "monthly_value_minor": 7200, "open_complaints": 0,
                        "in_contract": False, "currency": "GBP"},
    "store_remedy": {"remedy": "goodwill_credit", "goodwill_minor": 1500, "currency": "GBP"},
}


@pytest.fixture
def customer_id(uow, clock) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Marcus", family_name="Lindqvist")
        return customers.create_customer(s, clock, SYSTEM, party_id=party.id).id


def ask(client, headers, customer_id, policy, facts, channel):
    return client.post(f"{V1}/decisions", headers=headers, json={
        "policy": policy, "customerId": customer_id, "channel": channel, "facts": facts})


@pytest.mark.parametrize("policy", sorted(ASKS))
def test_the_store_and_the_contact_centre_get_the_same_answer(client, token_for, customer_id, policy):
    in_store = ask(client, token_for("store_advisor"), customer_id, policy, ASKS[policy], "store")
    by_phone = ask(client, token_for("agent"), customer_id, policy, ASKS[policy], "phone")
    assert in_store.status_code == by_phone.status_code == 201, in_store.text
    a, b = in_store.json(), by_phone.json()
    for key in ("outcome", "rule", "policy", "reasons", "facts"):
        assert a[key] == b[key], key
    assert a["policy"]["name"] == policy and a["policy"]["version"] == 1
    assert (a["channel"], b["channel"]) == ("store", "phone") and a["id"] != b["id"]
    assert "{" not in a["reasons"]["staff"] + a["reasons"]["customer"]


def test_s4_both_months_refunded_with_goodwill_and_on_the_timeline(client, token_for, customer_id, clock):
    agent = token_for("agent")
    r = ask(client, agent, customer_id, "billing_error_goodwill", {**S4, "usage_recorded_after_removal": None},
            "social")
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["outcome"] == "refund_and_goodwill" and d["rule"] == "goodwill_owed"
    assert "We are refunding £25.00 and adding £30.00 as an apology: £55.00 in all" in d["reasons"]["customer"]
    # the defaults the policy used are recorded with the facts
    assert d["facts"]["other_overcharge_minor"] == 0 and d["facts"]["usage_recorded_after_removal"] is False
    assert datetime.fromisoformat(d["dueAt"]) == clock.now() + timedelta(days=5)  # the credit's promised date
    timeline = client.get(f"{V1}/customers/{customer_id}/timeline", headers=agent).json()
    entry = next(e for e in timeline["entries"] if e["title"].startswith("Decision (billing_error_goodwill v1)"))
    assert entry["title"].endswith("refund and goodwill") and entry["channel"] == "social"
    assert "£55.00 in all" in entry["detail"]

    explained = client.get(f"{V1}/decisions/{d['id']}", headers=agent).json()
    assert explained["explanation"]["rule"] == "goodwill_owed"
    assert explained["explanation"]["conditions"] == ["goodwill > 0"]
    assert explained["explanation"]["rulesBefore"] == ["nothing_overcharged_nothing_owed",
                                                       "nothing_overcharged_but_let_down",
                                                       "above_one_person_write_off"]


def test_a_large_credit_asks_for_a_second_person(client, token_for, customer_id):
    r = ask(client, token_for("agent"), customer_id, "billing_error_goodwill",
            {**S4, "months_overcharged": 12, "monthly_charge_minor": 2500}, "phone")
    assert r.json()["outcome"] == "refund_and_goodwill_with_approval"
    assert "£300.00" in r.json()["reasons"]["customer"] and "£350.00 in all" in r.json()["reasons"]["customer"]
    assert "Raise a write-off approval" in r.json()["reasons"]["staff"]


def test_an_open_complaint_comes_before_any_offer_as_the_record_says_not_the_caller(client, token_for,
                                                                                    customer_id, uow, clock):
    # The caller claims no complaint; the customer's record has one open (issue 16).
    with uow() as s:
        owner = access.create_user(s, clock, username="olive.owner", display_name="Olive Owner", role="agent",
                                   password=None)
        cases.open_new(s, clock, access.staff_principal(owner), customer_id=customer_id, kind="complaint",
                       title="No incoming calls", opened_via="phone")
    d = ask(client, token_for("agent"), customer_id, "retention_offer", ASKS["retention_offer"], "phone").json()
    assert d["outcome"] == "fix_first" and "£" not in d["reasons"]["customer"]
    assert d["facts"]["open_complaints"] == 1
    assert d["facts"]["open_complaints_record"] == {"source": "record", "record": 1, "caller": 0,
                                                    "caller_overruled": True}


def test_without_a_complaint_on_record_the_callers_one_is_not_believed_either(client, token_for, customer_id):
    facts = {**ASKS["retention_offer"], "open_complaints": 1}
    stays = ask(client, token_for("agent"), customer_id, "retention_offer", facts, "phone").json()
    assert stays["outcome"] == "loyalty_offer" and "£14.40 off your bill every month" in stays["reasons"]["customer"]


def test_the_store_remedy_says_who_may_grant_it(client, token_for, customer_id):
    store = token_for("store_advisor")
    small = ask(client, store, customer_id, "store_remedy", ASKS["store_remedy"], "store").json()
    assert small["outcome"] == "advisor_grants_goodwill"
    assert small["reasons"]["staff"].startswith("Who may grant it: you, the store advisor, now.")
    large = ask(client, store, customer_id, "store_remedy", {**ASKS["store_remedy"], "goodwill_minor": 4000},
                "store").json()
    assert large["outcome"] == "specialist_grants_goodwill"
    assert large["reasons"]["staff"].startswith("Who may grant it: a complaints specialist.")
    assert "£40.00 is above the store's limit of £25.00" in large["reasons"]["staff"]


@pytest.mark.parametrize(("policy", "bad", "words"), [
    ("billing_error_goodwill", {"months_overcharged": -2}, "months_overcharged' must be at least 0"),
    ("billing_error_goodwill", {"monthly_charge_minor": 12.5}, "monthly_charge_minor' must be an integer"),
    ("billing_error_goodwill", {"currency": "pounds"}, "currency' must be one of GBP"),
    ("billing_error_goodwill", {"monthly_charge_minor": 10**40}, "monthly_charge_minor' must be at most 10000000"),
    ("billing_error_goodwill", {"contacts_made": None}, "needs the fact 'contacts_made'"),
    ("billing_error_goodwill", {"refund_please": True}, "'refund_please' is not a fact"),
    ("retention_offer", {"tenure_months": "ten years"}, "tenure_months"),
    ("retention_offer", {"days_since_commitment_increase": -1}, "days_since_commitment_increase"),
    ("store_remedy", {"remedy": "free_phone_for_life"}, "remedy' must be one of goodwill_credit"),
    ("store_remedy", {"goodwill_minor": -100}, "goodwill_minor' must be at least 0"),
])
def test_bad_facts_are_a_tmf_error_and_nothing_is_recorded(client, token_for, customer_id, container, policy, bad,
                                                           words):
    before = [count(container, m) for m in (Decision, CaseEvent, TimelineEntry, OutboxEvent)]
    r = ask(client, token_for("store_advisor"), customer_id, policy, {**ASKS[policy], **bad}, "store")
    body = assert_tmf_error(r, 400)
    assert words in body["message"], body
    assert [count(container, m) for m in (Decision, CaseEvent, TimelineEntry, OutboxEvent)] == before


def test_asked_on_the_billing_case_the_decision_is_in_the_case_log_for_both_channels(client, uow, clock):
    w = setup_world(uow, clock)
    with uow() as s:
        case_id = cases.open_new(s, clock, SYSTEM, customer_id=w.customer, kind="billing_dispute",
                                 title="Removed SIM still charged", opened_via="store", owner_id=w.agent).id
    for headers, channel in ((w.as_store, "store"), (w.as_agent, "phone")):
        r = client.post(f"{V1}/decisions", headers=headers, json={
            "policy": "billing_error_goodwill", "customerId": w.customer, "caseId": case_id, "channel": channel,
            "facts": S4})
        assert r.status_code == 201 and r.json()["caseId"] == case_id, r.text
    with uow() as s:
        logged = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "decision")
                                .order_by(CaseEvent.at, CaseEvent.id)))
    assert [e.actor_name for e in logged] == ["Sol Reyes", "Alex Morgan"]  # the store advisor, then the agent
    assert logged[0].text == logged[1].text and "£55.00 in all" in logged[0].text
    assert logged[0].data["outcome"] == logged[1].data["outcome"] == "refund_and_goodwill"
