"""``/api/v1/match-queue``: open items oldest first, link (optionally adding identifiers), dismiss."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.interactions import service as interactions
from onethread.models import Contact, IdentifierHolding, MatchItem
from tests.support.sessions_api import make_customer, make_staff
from tests.tmf_schema import assert_tmf_error

Q = "/api/v1/match-queue"


def contact(uow, clock, identifiers: dict[str, str], text: str = "hello", channel: str = "email", **kw):
    with uow() as s:
        rec = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel=channel, direction="inbound", occurred_at=kw.pop("at", clock.now()), text=text,
            identifiers=identifiers, **kw), region="GB")
        return rec.contact.id, rec.match_item.id if rec.match_item else None


def test_the_queue_lists_open_items_oldest_first_with_candidates_and_paging(client, uow, clock):
    _, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    ann = make_customer(uow, clock, "Ann", "Lee")
    bob = make_customer(uow, clock, "Bob", "Ray")
    with uow() as s:
        identifier_service.assign(s, clock, SYSTEM, customer_id=ann, kind="email", value="ann@example.com")
        identifier_service.assign(s, clock, SYSTEM, customer_id=bob, kind="msisdn", value="07700 900123", region="GB")
    clock.advance(timedelta(minutes=1))
    _, first = contact(uow, clock, {"email": "stranger@example.com"}, "who am I")
    clock.advance(timedelta(minutes=1))
    c2, second = contact(uow, clock, {"email": "ann@example.com", "msisdn": "07700900123"}, "mixed up")
    clock.advance(timedelta(minutes=1))
    contact(uow, clock, {"email": "ann@example.com"}, "attached: not queued")

    r = client.get(Q, headers=hdr)
    assert r.status_code == 200, r.text
    assert r.headers["X-Total-Count"] == "2" and r.headers["X-Result-Count"] == "2"
    items = r.json()
    assert [i["id"] for i in items] == [first, second]
    assert items[0]["reason"] == "no_match" and items[0]["candidates"] == []
    mixed = items[1]
    assert mixed["@type"] == "MatchItem" and mixed["reason"] == "conflict"
    assert sorted((c["id"], c["name"]) for c in mixed["candidates"]) == sorted([(ann, "Ann Lee"), (bob, "Bob Ray")])
    assert mixed["identifiers"] == {"email": "ann@example.com", "msisdn": "+447700900123"}
    assert mixed["contact"]["id"] == c2 and mixed["contact"]["text"] == "mixed up"
    assert mixed["contact"]["customerId"] is None and mixed["contact"]["matchStatus"] == "queued"
    assert "different customers" in mixed["explanation"]

    page = client.get(Q, params={"offset": 1, "limit": 1, "fields": "reason"}, headers=hdr)
    assert page.headers["X-Total-Count"] == "2" and page.headers["X-Result-Count"] == "1"
    assert page.json() == [{"id": second, "href": f"{Q}/{second}", "@type": "MatchItem", "reason": "conflict"}]
    one = client.get(Q, params={"limit": 1}, headers=hdr)
    two = client.get(Q, params={"limit": 1, "cursor": one.headers["X-Next-Cursor"]}, headers=hdr)
    assert [i["id"] for i in one.json() + two.json()] == [first, second]
    assert client.get(Q, params={"cursor": two.headers["X-Next-Cursor"]}, headers=hdr).json() == []
    assert client.get(Q, params={"cursor": "%%%"}, headers=hdr).status_code == 400


def test_link_attaches_the_contact_and_puts_it_on_the_timeline(client, uow, clock):
    _, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    ann = make_customer(uow, clock, "Ann", "Lee")
    _, item = contact(uow, clock, {"email": "new@example.com"}, "my new address")
    r = client.post(f"{Q}/{item}/link", json={"customerId": ann}, headers=hdr)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resolution"] == "linked" and body["resolvedCustomerId"] == ann
    assert body["contact"]["customerId"] == ann and body["contact"]["matchStatus"] == "linked"
    assert body["identifiersAdded"] == [] and body["identifiersSkipped"] == []
    assert client.get(Q, headers=hdr).json() == []
    timeline = client.get(f"/api/v1/customers/{ann}/timeline", params={"kind": "contact"}, headers=hdr).json()
    assert timeline["entries"][0]["title"] == "E-mail contact linked from the match queue"
    # without addIdentifiers the address is not recorded as hers
    with uow() as s:
        assert identifier_service.resolve(s, "email", "new@example.com", clock.now(), region="GB").status == "none"
    # deciding twice is refused
    assert_tmf_error(client.post(f"{Q}/{item}/link", json={"customerId": ann}, headers=hdr), 409)
    assert_tmf_error(client.post(f"{Q}/{item}/dismiss", json={"reason": "spam"}, headers=hdr), 409)


def test_dismiss_takes_it_off_the_queue_attached_to_nobody(client, uow, clock, container):
    _, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    cid, item = contact(uow, clock, {"email": "win@prize.example"}, "you won")
    assert_tmf_error(client.post(f"{Q}/{item}/dismiss", json={"reason": "  "}, headers=hdr), 400)
    r = client.post(f"{Q}/{item}/dismiss", json={"reason": "spam"}, headers=hdr)
    assert r.status_code == 200 and r.json()["resolution"] == "dismissed"
    assert r.json()["explanation"].endswith("dismissed: spam")
    assert client.get(Q, headers=hdr).json() == []
    with container.sessions() as s:
        assert s.get(Contact, cid).customer_id is None


def test_errors_are_tmf_4xx_and_change_nothing(client, uow, clock, container, token_for):
    _, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    ann = make_customer(uow, clock, "Ann", "Lee")
    cid, item = contact(uow, clock, {"msisdn": "07700 900999"}, "hi")
    cases = [
        (client.post(f"{Q}/NOPE/link", json={"customerId": ann}, headers=hdr), 404),
        (client.post(f"{Q}/{item}/link", json={"customerId": "NOPE", "addIdentifiers": True}, headers=hdr), 404),
        (client.post(f"{Q}/{item}/link", json={"customerId": ann, "extra": 1}, headers=hdr), 400),
        (client.post(f"{Q}/{item}/link", json={}, headers=hdr), 400),
        (client.post(f"{Q}/{item}/link", json={"customerId": ann, "addIdentifiers": "maybe"}, headers=hdr), 400),
        (client.post(f"{Q}/NOPE/dismiss", json={"reason": "spam"}, headers=hdr), 404),
        (client.post(f"{Q}/{item}/dismiss", json={}, headers=hdr), 400),
        (client.get(Q, params={"limit": 0}, headers=hdr), 400),
        (client.get(Q), 401),
        (client.get(Q, headers=token_for("field_subcontractor")), 403),
        (client.post(f"{Q}/{item}/link", json={"customerId": ann}, headers=token_for("integration")), 403),
    ]
    for response, status in cases:
        assert_tmf_error(response, status)
    with container.sessions() as s:
        assert s.get(MatchItem, item).resolved_at is None
        assert s.get(Contact, cid).customer_id is None
        assert s.scalar(select(func.count()).select_from(IdentifierHolding)) == 0
