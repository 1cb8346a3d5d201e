"""The customer 360: one call, everything a person needs, in a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.demo import loader
from onethread.interactions import service as interactions
from onethread.inventory import service as inventory
from onethread.models import Customer
from tests.tmf_schema import assert_tmf_error


def test_360_of_a_demo_customer_tells_who_what_and_what_happened(client, admin, container, uow):
    with uow() as s:
        loader.load(s, container)
    with container.sessions() as s:
        edith = s.query(Customer).filter(Customer.name == "Edith Clarke").one()
    r = client.get(f"/api/v1/customers/{edith.id}/360", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["profile"]["tenure"]["years"] >= 25
    assert {v["kind"] for v in body["profile"]["vulnerabilities"]} == {"age", "digital_exclusion"}
    assert {rep["relationship"] for rep in body["profile"]["representatives"]} == {"son", "social_worker"}
    assert [p["kind"] for p in body["products"]] == ["fibre"]
    assert body["timeline"]["entries"] and body["timeline"]["nextCursor"]  # a page, and more behind it
    damage = [c for c in body["openCases"] if c["kind"] == "damage_claim"]
    assert damage and damage[0]["owner"]["name"] and damage[0]["severity"] == "urgent"
    contacts = client.get(f"/api/v1/customers/{edith.id}/timeline", params={"kind": "contact", "limit": 200},
                          headers=admin).json()["entries"]
    assert {"phone", "field", "letter"} <= {e["channel"] for e in contacts}
    assert_tmf_error(client.get("/api/v1/customers/NOPE/360", headers=admin), 404)


def count_queries(container, fn) -> int:
    seen = []

    def hook(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(container.engine, "before_cursor_execute", hook)
    try:
        fn()
    finally:
        event.remove(container.engine, "before_cursor_execute", hook)
    return len(seen)


def make_customer(uow, clock, n_products: int, n_contacts: int, number: str) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Q", family_name=f"Count{number}")
        cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        customers.open_billing_account(s, clock, SYSTEM, customer_id=cid, account_number=f"Q-{number}",
                                       currency="GBP")
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="msisdn", value=number, region="GB")
        for k in range(n_products):
            inventory.add_product(s, clock, SYSTEM, customer_id=cid, kind="broadband", name=f"P{k}",
                                  price_minor=1000, currency="GBP")
        for k in range(n_contacts):
            interactions.record(s, clock, SYSTEM, interactions.Intake(
                channel="email", direction="inbound", occurred_at=clock.now() - timedelta(minutes=k),
                text=f"c{k}", customer_id=cid, channel_message_id=f"{number}-{k}"), region="GB")
    return cid


def test_query_count_does_not_grow_with_history(client, admin, container, uow, clock):
    small = make_customer(uow, clock, 1, 1, "07700900901")
    big = make_customer(uow, clock, 25, 300, "07700900902")
    client.get(f"/api/v1/customers/{small}/360", headers=admin)  # warm: the token's first use writes
    n_small = count_queries(container, lambda: client.get(f"/api/v1/customers/{small}/360", headers=admin))
    n_big = count_queries(container, lambda: client.get(f"/api/v1/customers/{big}/360", headers=admin))
    assert n_big == n_small
    assert n_small <= 30
