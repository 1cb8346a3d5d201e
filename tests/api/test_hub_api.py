"""Issue 20: TMF hubs and webhooks, delivered by the worker to a real HTTP listener in the test.

Registration is for administrators, and a callback that points at an internal address is
refused, at registration and again before every delivery. Each API's events arrive signed, in
the TMF envelope, valid against the official event schemas; a hub's query filters them; a 500 is
tried again after a wait and, after the last attempt, the delivery is dead and listed for admins,
who can send it again. (The worker killed mid-delivery: tests/scenarios/test_hub_worker_crash.py.)
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db.session import session_scope
from onethread.integrations import delivery
from onethread.jobs.runner import run_once
from onethread.models import EventDelivery, EventSubscription
from tests.listener import Listener, verify
from tests.support.s1_world import FACTS
from tests.tmf_schema import assert_tmf_error, validate

PASSWORD = "correct horse battery"
MERGE = {"Content-Type": "application/merge-patch+json"}
HUB = "/tmf-api/troubleTicket/v5/hub"
APIS = {"troubleTicket": "TMF621", "customer": "TMF629", "party": "TMF632", "productInventory": "TMF637",
        "partyInteraction": "TMF683"}


@pytest.fixture
def settings(database_url) -> Settings:
    """The listener runs on this machine: 127.0.0.1 is allow-listed, as an operator would list an
    internal receiver. Three attempts before a delivery is dead."""
    return Settings(database_url=database_url, env="test", max_body_bytes=64_000, callback_allowlist="127.0.0.1",
                    webhook_max_attempts=3)


@pytest.fixture
def world(client, container, admin):
    with session_scope(container.sessions) as s:
        team = access.create_team(s, container.clock, name="Contact centre")
        lead = access.create_user(s, container.clock, username="lee.lead", display_name="Lee Carter",
                                  role="team_lead", password=None, team_id=team.id)
        access.set_team_lead(s, team.id, lead.id)
        alex = access.create_user(s, container.clock, username="alex.agent", display_name="Alex Morgan",
                                  role="agent", password=None, team_id=team.id)
        ada = access.create_user(s, container.clock, username="ada.admin", display_name="Ada Admin", role="admin",
                                 password=PASSWORD)
        tokens = {u.id: access.create_token(s, container.clock, name=u.username, role=u.role,
                                            staff_user_id=u.id)[1] for u in (lead, alex)}
    person = client.post("/tmf-api/party/v5/individual", headers=admin,
                         json={"@type": "Individual", "givenName": "Margaret", "familyName": "Hughes"}).json()
    customer = client.post("/tmf-api/customer/v5/customer", headers=admin,
                           json={"@type": "Customer", "engagedParty": {"id": person["id"]}}).json()
    return SimpleNamespace(admin=admin, ada=ada.username, alex_id=alex.id, lead_id=lead.id, person=person["id"],
                           customer=customer["id"], alex={"Authorization": f"Bearer {tokens[alex.id]}"},
                           lead={"Authorization": f"Bearer {tokens[lead.id]}"})


def open_case(client, world, **extra) -> dict:
    r = client.post("/tmf-api/troubleTicket/v5/troubleTicket", headers=world.alex, json={
        "@type": "TroubleTicket", "description": "No incoming calls since March", "severity": "medium",
        "ticketType": "fault", "channel": {"id": "phone"},
        "relatedParty": [{"role": "customer", "partyOrPartyRole": {"@type": "PartyRoleRef", "id": world.customer}}],
        **extra})
    assert r.status_code == 201, r.text
    return r.json()


def hub(client, world, api: str, callback: str, query: str | None = None) -> dict:
    r = client.post(f"/tmf-api/{api}/v5/hub", json={"callback": callback, **({"query": query} if query else {})},
                    headers=world.admin)
    assert r.status_code == 201, r.text
    return r.json()


def deliveries(container, **where) -> list[EventDelivery]:
    with container.sessions() as s:
        query = select(EventDelivery).order_by(EventDelivery.id)
        for key, value in where.items():
            query = query.where(getattr(EventDelivery, key) == value)
        return list(s.scalars(query))


def test_only_administrators_register_listeners(client, world, token_for):
    body = {"callback": "http://127.0.0.1:9/cb"}
    for role in ("agent", "team_lead", "integration"):
        assert_tmf_error(client.post(HUB, json=body, headers=token_for(role)), 403)
        assert_tmf_error(client.post("/api/v1/webhooks", json={**body, "name": "x", "events": ["*"]},
                                     headers=token_for(role)), 403)
        assert_tmf_error(client.get("/api/v1/event-deliveries", headers=token_for(role)), 403)
    assert_tmf_error(client.post(HUB, json=body), 401)


def test_a_callback_to_a_forbidden_address_is_refused_and_nothing_is_registered(client, world, container):
    refused = {
        "http://10.20.30.40/cb": "an internal address",
        "http://169.254.169.254/latest/meta-data": "an internal address",  # a cloud's metadata service
        "http://192.168.1.1:8080/": "an internal address",
        "http://[::1]:8080/cb": "an internal address",
        "http://0.0.0.0:80/": "an internal address",
        "http://user:secret@127.0.0.1:9/cb": "no user name or password",
        "ftp://127.0.0.1/cb": "http or https",
        "/listener": "http or https",
        "http://no-such-host.invalid/cb": "does not resolve",
    }
    for callback, why in refused.items():
        body = assert_tmf_error(client.post(HUB, json={"callback": callback}, headers=world.admin), 400)
        assert why in body["message"] and body["field"] == "callback", (callback, body["message"])
    bad_query = assert_tmf_error(client.post(HUB, json={"callback": "http://127.0.0.1:9/cb",
                                                        "query": "eventType=CustomerCreateEvent"},
                                             headers=world.admin), 400)
    assert "CustomerCreateEvent is not an event of this API" in bad_query["message"]
    filters = assert_tmf_error(client.post(HUB, json={"callback": "http://127.0.0.1:9/cb",
                                                      "query": "event.troubleTicket.owner=x"},
                                           headers=world.admin), 400)
    assert "cannot filter on 'event.troubleTicket.owner'" in filters["message"]
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(EventSubscription)) == 0


def test_without_the_allow_list_even_this_machine_is_refused(database_url, clock):
    container = build(Settings(database_url=database_url, env="test"), clock=clock)
    try:
        with session_scope(container.sessions) as s:
            _, secret = access.create_token(s, clock, name="root", role="admin")
        with TestClient(create_app(container=container)) as client:
            r = client.post(HUB, json={"callback": "http://127.0.0.1:9/cb"},
                            headers={"Authorization": f"Bearer {secret}"})
            assert "127.0.0.1 is an internal address" in assert_tmf_error(r, 400)["message"]
    finally:
        container.dispose()


def test_a_hub_is_created_read_and_removed(client, world):
    made = client.post(HUB, json={"@type": "Hub", "callback": "http://127.0.0.1:9/cb",
                                  "query": "eventType=TroubleTicketStatusChangeEvent"}, headers=world.admin)
    assert made.status_code == 201
    body = made.json()
    assert made.headers["Location"] == body["href"] == f"{HUB}/{body['id']}"
    validate("TMF621", "Hub", body)
    assert len(body["secret"]) >= 40  # shown once, to sign with
    read = client.get(body["href"], headers=world.admin)
    assert read.status_code == 200 and "secret" not in read.json()
    assert read.json()["query"] == "eventType=TroubleTicketStatusChangeEvent"
    assert_tmf_error(client.get(f"/tmf-api/customer/v5/hub/{body['id']}", headers=world.admin), 404)  # another API's
    listed = client.get("/api/v1/event-subscriptions", headers=world.admin).json()
    assert [(s["id"], s["api"]) for s in listed] == [(body["id"], "troubleTicket")]
    assert client.delete(body["href"], headers=world.admin).status_code == 204
    assert_tmf_error(client.get(body["href"], headers=world.admin), 404)
    assert_tmf_error(client.delete(body["href"], headers=world.admin), 404)


def test_every_api_s_events_arrive_signed_in_the_tmf_envelope(client, world, container, clock):
    with Listener() as listener:
        secrets = {api: hub(client, world, api, f"{listener.url}/{api}")["secret"] for api in APIS}
        org = client.post("/tmf-api/party/v5/organization", json={"@type": "Organization", "name": "Acme"},
                          headers=world.admin).json()
        client.patch(f"/tmf-api/customer/v5/customer/{world.customer}", json={"status": "validated"},
                     headers={**world.admin, **MERGE})
        product = client.post("/tmf-api/productInventory/v5/product", headers=world.admin, json={
            "@type": "Product", "name": "Fibre 500", "productCharacteristic": [{"name": "kind", "value": "fibre"}],
            "relatedParty": [{"role": "customer", "partyOrPartyRole": {"@type": "PartyRoleRef",
                                                                       "id": world.customer}}]}).json()
        case = open_case(client, world)
        client.patch(case["href"], json={"status": "pending", "statusChangeReason": "need the handset's IMEI"},
                     headers={**world.alex, **MERGE})
        contact = client.post("/tmf-api/partyInteraction/v5/partyInteraction", headers=world.alex, json={
            "@type": "PartyInteraction", "direction": "inbound", "reason": "No calls",
            "relatedChannel": [{"role": "interactionChannel", "channel": {"id": "phone"}}],
            "relatedParty": [{"role": "customer", "partyOrPartyRole": {"@type": "PartyRoleRef",
                                                                       "id": world.customer}}]}).json()
        report = run_once(container)
        got = listener.wait_for(report.sent)
    assert report.send_failures == 0
    by_type = {r.body["eventType"]: r for r in got}
    expected = {
        "troubleTicket": {"TroubleTicketCreateEvent", "TroubleTicketStatusChangeEvent",
                          "TroubleTicketInformationRequiredEvent"},
        "customer": {"CustomerStateChangeEvent"},  # the customer itself was created before the hub
        "party": {"OrganizationCreateEvent"},
        "productInventory": {"ProductCreateEvent"},
        "partyInteraction": {"PartyInteractionCreateEvent"},
    }
    for api, types in expected.items():
        mine = [r for r in got if r.path.startswith(f"/{api}/")]
        assert {r.body["eventType"] for r in mine} >= types, (api, [r.body["eventType"] for r in mine])
        for r in mine:
            verify(secrets[api], r, clock.now().timestamp())
            body = r.body
            assert r.path == f"/{api}/listener/{body['eventType'][0].lower()}{body['eventType'][1:]}"
            assert body["@type"] == body["eventType"] and body["eventId"] == r.event_id == body["id"]
            validate(APIS[api], body["eventType"], body)
    status = by_type["TroubleTicketStatusChangeEvent"].body["event"]["troubleTicket"]
    assert (status["id"], status["status"], status["@baseType"]) == (case["id"], "pending", "TroubleTicket")
    assert status["relatedParty"][0]["partyOrPartyRole"]["id"] == world.customer
    assert "name" not in status and "description" not in status  # personal data: read it through the API
    assert by_type["OrganizationCreateEvent"].body["event"]["organization"]["id"] == org["id"]
    assert by_type["ProductCreateEvent"].body["event"]["product"]["id"] == product["id"]
    assert by_type["PartyInteractionCreateEvent"].body["event"]["partyInteraction"]["id"] == contact["id"]
    assert len({r.event_id for r in got}) == len(got)  # one event id per event
    assert run_once(container).sent == 0  # delivered once: nothing is sent again


def test_a_hub_query_filters_the_events(client, world, container, clock):
    with Listener() as listener:
        secret = hub(client, world, "troubleTicket", listener.url,
                     "eventType=TroubleTicketStatusChangeEvent&event.troubleTicket.status=resolved,closed")["secret"]
        case = open_case(client, world)
        for status in ("inProgress", "resolved"):
            client.patch(case["href"], json={"status": status}, headers={**world.alex, **MERGE})
        assert run_once(container).sent == 1
        (got,) = listener.wait_for(1)
    verify(secret, got, clock.now().timestamp())
    assert got.body["event"]["troubleTicket"]["status"] == "resolved"


def test_a_500_is_tried_again_after_a_wait_then_dead_listed_and_sent_again(client, world, container, clock):
    with Listener(statuses=(500, 204)) as listener:
        made = client.post("/api/v1/webhooks", headers=world.admin, json={
            "name": "field service", "callback": f"{listener.url}/onethread", "events": ["case.opened"]}).json()
        case = open_case(client, world)
        first = run_once(container)
        assert (first.sent, first.send_failures) == (0, 1)
        (pending,) = deliveries(container)
        assert (pending.attempts, pending.last_status, pending.delivered_at) == (1, 500, None)
        assert pending.available_at == clock.now() + timedelta(seconds=30)
        assert run_once(container).send_failures == 0 and len(listener.received) == 1  # not due yet
        clock.advance(timedelta(seconds=30))
        assert run_once(container).sent == 1
        one, two = listener.wait_for(2)
    assert one.event_id == two.event_id == one.body["id"]  # the same event: the receiver deduplicates on it
    assert (one.headers["x-onethread-attempt"], two.headers["x-onethread-attempt"]) == ("1", "2")
    verify(made["secret"], two, clock.now().timestamp())
    assert two.body["type"] == "case.opened" and two.body["data"]["caseId"] == case["id"]
    assert two.body["data"]["caseHref"] == case["href"]
    (done,) = deliveries(container)
    assert done.delivered_at == clock.now() and done.attempts == 2
    assert client.delete(made["href"], headers=world.admin).status_code == 204

    with Listener(statuses=(503, 503, 503, 204)) as down:
        client.post("/api/v1/webhooks", headers=world.admin, json={
            "name": "BI", "callback": down.url, "events": ["case.opened"]})
        open_case(client, world)
        for _ in range(3):
            run_once(container)
            clock.advance(timedelta(hours=7))
        assert len(down.received) == 3 and run_once(container).sent == 0  # dead after the third attempt
        dead = client.get("/api/v1/event-deliveries", params={"state": "dead"}, headers=world.admin)
        assert dead.headers["X-Total-Count"] == "1"
        (row,) = dead.json()
        assert (row["attempts"], row["lastStatus"], row["state"]) == (3, 503, "dead")
        assert row["lastError"].startswith("HTTP 503") and row["subscription"]["name"] == "BI"
        client.post("/login", data={"username": world.ada, "password": PASSWORD})
        page = client.get("/integrations", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "Dead deliveries (1)" in page.text and "HTTP 503" in page.text
        again = client.post(f"/integrations/deliveries/{row['id']}/retry", follow_redirects=False)
        assert again.status_code == 303
        assert run_once(container).sent == 1
        assert down.wait_for(4)[-1].event_id == row["eventId"]
    assert client.get(row["href"], headers=world.admin).json()["state"] == "delivered"
    assert_tmf_error(client.post(f"{row['href']}/retry", headers=world.admin), 409)  # only the dead are retried


def test_webhooks_carry_onethread_s_own_events_without_what_people_wrote(client, world, container, clock):
    with Listener() as listener:
        made = client.post("/api/v1/webhooks", headers=world.admin, json={
            "name": "everything", "callback": listener.url, "events": ["*"]}).json()
        assert made["events"] == ["*"]
        case = open_case(client, world)
        client.post(f"/api/v1/cases/{case['id']}/impose-owner", headers=world.lead,
                    json={"toOwnerId": world.lead_id, "reason": "Alex is away"})
        assert client.post("/api/v1/decisions", headers=world.alex, json={
            "policy": "device_fault", "customerId": world.customer, "channel": "store", "facts": FACTS}
        ).status_code == 201
        assert client.post("/api/v1/approvals", headers=world.alex, json={
            "action": "flag_fraud", "customerId": world.customer, "reason": "a stranger asked for a SIM swap"}
        ).status_code == 201
        clock.advance(timedelta(days=3))  # the first-response clock runs out: a breach
        run_once(container)
        run_once(container)  # the escalation's event, recorded by the sweep, goes out too
        got = listener.received
    kinds = [r.body["type"] for r in got]
    assert {"case.opened", "case.owner_changed", "decision.made", "approval.requested", "case.escalated"} <= set(kinds)
    for r in got:
        verify(made["secret"], r, clock.now().timestamp())
        assert r.path == "/"
        assert not {"timelineDetail", "text", "reason", "summary", "caseTitle"} & set(r.body["data"])
    decided = next(r.body for r in got if r.body["type"] == "decision.made")
    assert decided["data"]["policy"] == "device_fault" and decided["data"]["outcome"]  # the outcome's name
    owner = next(r.body for r in got if r.body["type"] == "case.owner_changed")
    assert (owner["data"]["toOwnerId"], owner["customerId"]) == (world.lead_id, world.customer)
    assert_tmf_error(client.post("/api/v1/webhooks", headers=world.admin, json={
        "name": "x", "callback": listener.url, "events": ["case.deleted"]}), 400)


def test_the_address_is_checked_again_when_sending(client, world, container, database_url, clock):
    with Listener() as listener:
        hub(client, world, "troubleTicket", listener.url)
        open_case(client, world)
        strict = build(Settings(database_url=database_url, env="test"), clock=clock)  # no allow-list any more
        try:
            run_once(strict)
        finally:
            strict.dispose()
        assert listener.received == []
    (row,) = deliveries(container)
    assert row.delivered_at is None and row.attempts == 1
    assert "127.0.0.1 is an internal address" in row.last_error


def test_a_removed_hub_is_sent_nothing_more(client, world, container):
    with Listener() as listener:
        made = hub(client, world, "troubleTicket", listener.url)
        open_case(client, world)
        with container.sessions() as s:  # the fan-out happens; the removal drops what waits
            from onethread.db import outbox
            outbox.deliver(container.sessions, container.subscriptions, container.clock)
            assert s.scalar(select(func.count()).select_from(EventDelivery)) == 1
        assert client.delete(made["href"], headers=world.admin).status_code == 204
        report = delivery.send_due(container.sessions, container.clock, container.clock, container.settings, "w")
        assert report.delivered == 0 and listener.received == []
        open_case(client, world)
        assert run_once(container).sent == 0
