"""S1 "Defective, not damaged": the store and the contact centre ask the decision service with the
same facts and get the same answer; the store places the doorstep replacement; the commitment and
its date are on the case; the decision and the order are on the customer's timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from onethread.access import service as access
from onethread.cases import service as cases
from onethread.models import Case, Commitment, StaffUser
from tests.support.s1_world import FACTS, V1, ask, setup_world


def test_store_and_contact_centre_get_one_answer_and_the_store_orders_the_doorstep_swap(client, uow, clock):
    w = setup_world(uow, clock)
    customer_id, handset_id, as_store, as_agent = w.customer, w.handset, w.as_store, w.as_agent

    in_store = ask(client, as_store, customer_id, handset_id, "store")
    clock.advance(timedelta(hours=2))  # he goes home and calls
    by_phone = ask(client, as_agent, customer_id, handset_id, "phone")

    for key in ("outcome", "policy", "reasons", "rule", "facts"):
        assert in_store[key] == by_phone[key], key
    assert in_store["channel"] == "store" and by_phone["channel"] == "phone"
    assert in_store["outcome"] == "doorstep_replacement"
    assert in_store["policy"]["name"] == "device_fault" and in_store["policy"]["version"] == 2
    assert "assessment" not in in_store["reasons"]["customer"].lower()

    # The store places the order itself: a fault case owned by the advisor, with the promise and its date.
    r = client.post(f"{V1}/decisions/{in_store['id']}/replacement-order", headers=as_store, json={"channel": "store"})
    assert r.status_code == 201, r.text
    order = r.json()
    due = in_store["dueAt"]
    assert order["commitment"]["dueAt"] == due
    assert order["order"]["channel"] == "store"
    with uow() as s:
        case = s.get(Case, order["commitment"]["caseId"])
        assert case.kind == "fault" and case.customer_id == customer_id and case.opened_via == "store"
        assert case.owner_id == w.advisor
        commitment = s.scalar(select(Commitment).where(Commitment.case_id == case.id))
        assert commitment.made_via == "store"
        assert commitment.due_at.isoformat() == due
        assert commitment.due_at - datetime.fromisoformat(in_store["decidedAt"]) == timedelta(days=5)

    # Ordering twice is refused.
    again = client.post(f"{V1}/decisions/{in_store['id']}/replacement-order", headers=as_agent,
                        json={"channel": "phone"})
    assert again.status_code == 409

    timeline = client.get(f"{V1}/customers/{customer_id}/timeline", headers=as_agent).json()["entries"]
    titles = [e["title"] for e in timeline]
    decisions = [e for e in timeline if e["title"].startswith("Decision (device_fault v2)")]
    assert {e["channel"] for e in decisions} == {"store", "phone"}
    assert any(t.startswith("Replacement ordered") for t in titles)
    assert any(t.startswith("Promised: Replacement device swapped at the customer's door") for t in titles)


def test_a_decision_asked_on_a_case_is_logged_there_and_the_order_joins_that_case(client, uow, clock):
    w = setup_world(uow, clock)
    customer_id, handset_id, as_store = w.customer, w.handset, w.as_store
    with uow() as s:
        advisor = access.staff_principal(s.get(StaffUser, w.advisor))
        case_id = cases.open_new(s, clock, advisor, customer_id=customer_id, kind="fault", title="Headphone jack",
                                 opened_via="store", product_id=handset_id).id
    in_stock = {**FACTS, "in_stock": True}
    r = client.post(f"{V1}/decisions", headers=as_store, json={
        "policy": "device_fault", "customerId": customer_id, "productId": handset_id, "caseId": case_id,
        "channel": "store", "facts": in_stock})
    assert r.status_code == 201, r.text
    decision = r.json()
    assert decision["outcome"] == "swap_in_store"
    log = client.get(f"{V1}/cases/{case_id}/events", headers=as_store)
    assert log.status_code == 200, log.text
    assert '"decision"' in log.text and decision["id"] in log.text
    order = client.post(f"{V1}/decisions/{decision['id']}/replacement-order", headers=as_store,
                        json={"channel": "store"})
    assert order.status_code == 201, order.text
    assert order.json()["commitment"]["caseId"] == case_id
