"""The store and supervisor pages' world, signing in, and the fault a store advisor reports."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.demo import worlds
from onethread.inventory import service as inventory

PASSWORD = "correct horse battery"


def world(uow, clock) -> SimpleNamespace:
    with uow() as s:
        store_staff = worlds.S1_STORE_STAFF
        users, _ = worlds.staff(s, clock, [*store_staff[:2], ("ava.away", "Ava Away", "agent", "Contact centre"),
                                           *store_staff[2:]], worlds.S1_STORE_TEAMS, password=PASSWORD)
        advisor, agent, away, lead = (users[u] for u in ("sol.store", "alex.agent", "ava.away", "lee.lead"))
        away.away = True
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
