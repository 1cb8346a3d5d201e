"""The store and supervisor pages' world, signing in, and the fault a store advisor reports."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.inventory import service as inventory

PASSWORD = "correct horse battery"


def world(uow, clock) -> SimpleNamespace:
    with uow() as s:
        store = access.create_team(s, clock, name="High Street store", kind="store")
        centre = access.create_team(s, clock, name="Contact centre")
        advisor = access.create_user(s, clock, username="sol.store", display_name="Sol Reyes", role="store_advisor",
                                     password=PASSWORD, team_id=store.id)
        agent = access.create_user(s, clock, username="alex.agent", display_name="Alex Morgan", role="agent",
                                   password=PASSWORD, team_id=centre.id)
        away = access.create_user(s, clock, username="ava.away", display_name="Ava Away", role="agent",
                                  password=PASSWORD, team_id=centre.id)
        away.away = True
        lead = access.create_user(s, clock, username="lee.lead", display_name="Lee Carter", role="team_lead",
                                  password=PASSWORD, team_id=centre.id)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Daniel", family_name="Price")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="msisdn", value="07700 900461",
                                  region="GB")
        handset = inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, kind="handset", name="Nova X2",
                                        currency="GBP", model="Nova X2",
                                        purchased_on=clock.now().date() - timedelta(days=3))
        return SimpleNamespace(customer=cust.id, handset=handset.id, advisor=advisor.id, agent=agent.id,
                               away=away.id, lead=lead.id)


def sign_in(client, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


FAULT = {"product_id": "", "device_model": "Nova X2", "symptom": "no sound from the headphone jack",
         "purchased_on": "", "damage": "no", "in_stock": "no", "known_defect": "yes"}


def fault(clock, **changes) -> dict:
    return {**FAULT, "purchased_on": (clock.now().date() - timedelta(days=3)).isoformat(), **changes}
