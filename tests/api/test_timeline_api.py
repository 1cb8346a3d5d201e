"""The customer's timeline: every channel, newest first, keyset pages with no gaps or repeats."""

from __future__ import annotations

from datetime import timedelta

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import service as interactions
from tests.tmf_schema import assert_tmf_error

CHANNELS = ["store", "phone", "email", "chat", "social", "letter", "field", "portal"]


def seed(uow, clock, n: int) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Tess", family_name="Line")
        cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="msisdn", value="07700 900555", region="GB")
    for i in range(n):
        clock.advance(timedelta(minutes=7))
        with uow() as s:
            interactions.record(s, clock, SYSTEM, interactions.Intake(
                channel=CHANNELS[i % len(CHANNELS)], direction="inbound", occurred_at=clock.now(),
                text=f"message {i}", identifiers={"msisdn": "07700900555"}, channel_message_id=f"m{i}"), region="GB")
    return cid


def test_pages_cover_everything_once_newest_first(client, admin, uow, clock):
    cid = seed(uow, clock, 60)
    seen, cursor = [], None
    while True:
        params = {"limit": 25, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"/api/v1/customers/{cid}/timeline", params=params, headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        seen.extend(body["entries"])
        cursor = body["nextCursor"]
        if not cursor:
            break
    contacts = [e for e in seen if e["kind"] == "contact"]
    assert len(contacts) == 60
    assert len({e["id"] for e in seen}) == len(seen)
    times = [e["occurredAt"] for e in seen]
    assert times == sorted(times, reverse=True)
    assert contacts[0]["detail"] == "message 59"


def test_filter_by_channel_and_kind(client, admin, uow, clock):
    cid = seed(uow, clock, 16)
    r = client.get(f"/api/v1/customers/{cid}/timeline", params={"channel": ["email", "letter"]}, headers=admin)
    entries = r.json()["entries"]
    assert {e["channel"] for e in entries} == {"email", "letter"}
    assert len(entries) == 4
    r = client.get(f"/api/v1/customers/{cid}/timeline", params={"kind": "customer"}, headers=admin)
    assert [e["title"] for e in r.json()["entries"]] == ["Became a customer"]


def test_bad_cursor_unknown_kind_and_unknown_customer_are_4xx(client, admin, uow, clock):
    cid = seed(uow, clock, 1)
    assert_tmf_error(client.get(f"/api/v1/customers/{cid}/timeline", params={"cursor": "garbage!"}, headers=admin),
                     400)
    assert_tmf_error(client.get(f"/api/v1/customers/{cid}/timeline", params={"kind": "gossip"}, headers=admin), 400)
    assert_tmf_error(client.get("/api/v1/customers/NOPE/timeline", headers=admin), 404)
    assert_tmf_error(client.get(f"/api/v1/customers/{cid}/timeline"), 401)
