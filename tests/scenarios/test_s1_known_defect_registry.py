"""S1 with the known-defect registry: the store advisor does not have to know (or say) that the
headphone jack is a recognised defect of the model. The decision service finds the confirmed entry
in the registry from the customer's own words, records which entry it used, and never sends the
handset for a damage assessment; the contact centre gets the same answer; the demo's S1 handset is
in the registry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from onethread.demo import loader
from onethread.models import Customer, Product, StaffUser
from tests.support.s1_world import FACTS, ask, setup_world
from tests.support.trouble_ticket_api import staff_headers

V1 = "/api/v1"
# The advisor notes a scuff on the case and says nothing about known defects.
STORE_FACTS = {**{k: v for k, v in FACTS.items() if k != "known_defect"},
               "symptom": "no sound in my earphones", "physical_damage_evidence": True}


def test_the_registry_turns_a_store_assessment_into_a_replacement_and_the_phone_agrees(
        client, uow, clock, token_for):
    w = setup_world(uow, clock)
    # Before anyone confirmed the defect, a scuffed handset goes for assessment: that is the policy.
    before = ask(client, w.as_store, w.customer, w.handset, "store", STORE_FACTS)
    assert before["outcome"] == "assessment" and before["facts"]["known_defect"] is False

    r = client.post(f"{V1}/known-defects", headers=token_for("team_lead"),
                    json={"deviceModel": "Nova X2", "symptom": "headphone jack",
                          "description": "Headphone jack fails in the first weeks"})
    assert r.status_code == 201, r.text
    defect = r.json()

    clock.advance(timedelta(minutes=10))
    in_store = ask(client, w.as_store, w.customer, w.handset, "store", STORE_FACTS)
    assert in_store["outcome"] == "doorstep_replacement" and in_store["rule"] == "known_defect_in_window"
    assert in_store["facts"]["known_defect"] is True
    used = in_store["facts"]["known_defect_registry"]
    assert used["source"] == "registry" and used["known_defect_id"] == defect["id"]
    assert used["symptom"] == "audio_jack" and "earphone" in used["matched"]
    assert "assess" not in in_store["reasons"]["customer"].lower()

    clock.advance(timedelta(hours=2))  # he goes home and calls; the agent words it differently
    by_phone = ask(client, w.as_agent, w.customer, w.handset, "phone",
                   {**STORE_FACTS, "symptom": "audio socket faulty"})
    for key in ("outcome", "policy", "reasons", "rule"):
        assert in_store[key] == by_phone[key], key
    assert by_phone["facts"]["known_defect_registry"]["known_defect_id"] == defect["id"]

    explained = client.get(f"{V1}/decisions/{in_store['id']}", headers=w.as_agent).json()
    assert explained["explanation"]["conditions"][0] == "known_defect is true"
    assert explained["facts"]["known_defect_registry"]["known_defect_id"] == defect["id"]

    order = client.post(f"{V1}/decisions/{in_store['id']}/replacement-order", headers=w.as_store,
                        json={"channel": "store"})
    assert order.status_code == 201, order.text
    assert order.json()["commitment"]["dueAt"] == in_store["dueAt"]

    # The decisions were reports too: the registry entry shows both wordings.
    detail = client.get(defect["href"], headers=w.as_agent).json()["reports"]
    assert {x["wording"] for x in detail["wordings"]} == {"no sound in my earphones", "audio socket faulty"}
    assert detail["distinctCustomers"] == 1


def test_the_demo_store_advisor_finds_the_s1_handset_in_the_registry(client, uow, clock, container):
    with uow() as s:
        loader.load(s, container)
    with container.sessions() as s:
        daniel = s.scalar(select(Customer).where(Customer.name == "Daniel Okafor"))
        handset = s.scalar(select(Product).where(Product.customer_id == daniel.id, Product.kind == "handset"))
        sam = s.scalar(select(StaffUser).where(StaffUser.username == "sam.store"))
        ids = daniel.id, handset.id, handset.model, sam.id
    customer_id, handset_id, model, sam_id = ids
    as_sam = staff_headers(uow, clock, sam_id, "store_advisor")
    facts = {**STORE_FACTS, "device_model": model, "symptom": "headphone jack dead"}
    decision = ask(client, as_sam, customer_id, handset_id, "store", facts)
    assert decision["outcome"] in ("doorstep_replacement", "swap_in_store")
    assert decision["facts"]["known_defect"] is True
    entry = client.get(f"{V1}/known-defects/{decision['facts']['known_defect_registry']['known_defect_id']}",
                       headers=as_sam).json()
    assert entry["status"] == "confirmed" and entry["symptom"] == "audio_jack"
    assert entry["deviceModel"] == model.lower()
