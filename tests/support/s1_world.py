"""S1's world: Daniel's handset with a dead headphone jack, the facts the store asks the policy about
(``FACTS``), ``setup_world`` and ``ask``."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.inventory import service as inventory
from tests.support.trouble_ticket_api import staff_headers

V1 = "/api/v1"


FACTS = {"device_model": "Nova X2", "symptom": "headphone jack not working", "days_since_purchase": 3,
         "physical_damage_evidence": False, "in_stock": False, "known_defect": True, "is_existing_customer": True}


def setup_world(uow, clock):
    with uow() as s:
        store = access.create_team(s, clock, name="High Street store")
        centre = access.create_team(s, clock, name="Contact centre")
        advisor = access.create_user(s, clock, username="sol.store", display_name="Sol Reyes", role="store_advisor",
                                     password=None, team_id=store.id)
        agent = access.create_user(s, clock, username="alex.agent", display_name="Alex Morgan", role="agent",
                                   password=None, team_id=centre.id)
        party = customers.create_individual(s, clock, SYSTEM, given_name="David", family_name="Okafor")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        handset = inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, kind="handset", name="Nova X2",
                                        currency="GBP", model="Nova X2",
                                        purchased_on=clock.now().date() - timedelta(days=3))
        ids = SimpleNamespace(customer=cust.id, handset=handset.id, advisor=advisor.id, agent=agent.id)
    ids.as_store = staff_headers(uow, clock, ids.advisor, "store_advisor")
    ids.as_agent = staff_headers(uow, clock, ids.agent, "agent")
    return ids


def ask(client, headers, customer_id, product_id, channel, facts=FACTS):
    r = client.post(f"{V1}/decisions", headers=headers, json={
        "policy": "device_fault", "customerId": customer_id, "productId": product_id, "channel": channel,
        "facts": facts})
    assert r.status_code == 201, r.text
    return r.json()
