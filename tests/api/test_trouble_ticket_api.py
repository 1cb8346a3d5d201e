"""TMF621 troubleTicket over HTTP: cases with one named owner, paging, ETags, concurrent edits,
the status mapping, closing refused while anything is open, and bad input that writes nothing."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onethread.api.tmf import trouble_ticket
from onethread.models import AuditEntry, Case, CaseEvent, OutboxEvent
from tests.support.trouble_ticket_api import (
    BASE,
    PATCH,
    count,
    make_world,
    open_case,
    party,
    ticket_body,
)
from tests.tmf_schema import assert_tmf_error, validate

V1 = "/api/v1"


@pytest.fixture
def world(uow, clock):
    return make_world(uow, clock)


# --- create, read, list --------------------------------------------------------------------

def test_create_is_201_with_location_etag_and_a_valid_ticket_owned_by_the_caller(client, world):
    r = client.post(BASE, json=ticket_body(world.customer, product_id=world.product, category="network"),
                    headers=world.as_alex)
    assert r.status_code == 201, r.text
    body = r.json()
    validate("TMF621", "TroubleTicket", body)
    assert r.headers["Location"] == body["href"] == f"{BASE}/{body['id']}"
    assert r.headers["ETag"]
    assert body["@type"] == "OnethreadTroubleTicket" and body["@baseType"] == "TroubleTicket"
    assert body["status"] == "acknowledged" and body["ticketType"] == "complaint"
    assert body["name"] == "No incoming calls"
    assert body["description"] == "I cannot receive calls or voicemail since March"
    assert body["creationDate"].startswith("2026-03-02T09:00:00")
    assert body["channel"]["id"] == "phone"
    assert party(body, "customer")["id"] == world.customer
    assert party(body, "customer")["name"] == "Margaret Hughes"
    # The owner's name is always there: in relatedParty and in the extension.
    assert party(body, "owner")["name"] == "Alex Morgan"
    assert body["owner"]["id"] == world.alex and body["owner"]["name"] == "Alex Morgan"
    assert body["relatedEntity"][0]["entity"]["id"] == world.product
    assert body["troubleTicketCharacteristic"][0] == {"@type": "StringCharacteristic", "name": "category",
                                                      "valueType": "string", "value": "network"}
    kinds = {c["kind"]: c for c in body["clocks"]}
    assert {"first_response", "no_activity", "resolution_target", "regulator_warning",
            "regulator_deadline"} <= set(kinds)
    assert kinds["regulator_deadline"]["dueAt"].startswith("2026-04-27T09:00:00")  # eight weeks
    assert kinds["first_response"]["state"] == "running" and kinds["first_response"]["firedAt"] is None
    assert body["expectedResolutionDate"] == kinds["resolution_target"]["dueAt"]
    assert body["escalationLevel"] == 0
    assert body["complaintSteps"]["missing"] == ["acknowledged", "customer_account", "apology", "resolution_offer"]
    assert "complaint step missing: apology given" in body["closureBlockers"]
    assert body["brief"]["owner"] == "Alex Morgan"
    assert body["handovers"] == [] and body["harms"] == [] and body["commitments"] == []


def test_a_system_caller_names_the_owner_and_may_use_a_party_ref(client, token_for, world, container):
    system = token_for("integration")
    r = client.post(BASE, json=ticket_body(world.customer, kind="fault"), headers=system)
    body = assert_tmf_error(r, 400)
    assert "owner" in body["message"]
    assert count(container, Case) == 0
    req = ticket_body(world.customer, kind="fault", owner_id=world.sam, severity="high")
    req["relatedParty"][0]["partyOrPartyRole"] = {"@type": "PartyRef", "id": world.party}
    created = open_case(client, system, world.customer, kind="fault", owner_id=world.sam, severity="high")
    assert party(created, "owner")["name"] == "Sam Patel"
    by_party = client.post(BASE, json=req, headers=system)
    assert by_party.status_code == 201, by_party.text
    assert party(by_party.json(), "customer")["id"] == world.customer


def test_get_list_filters_fields_and_paging_headers(client, world, container):
    ids = [open_case(client, world.as_alex, world.customer, kind=k, name=f"Case {i}")["id"]
           for i, k in enumerate(["complaint", "fault", "billing_dispute"])]
    open_case(client, world.as_alex, world.other, kind="fault")
    one = client.get(f"{BASE}/{ids[0]}", headers=world.as_sam)
    assert one.status_code == 200 and one.headers["ETag"]
    validate("TMF621", "TroubleTicket", one.json())
    assert one.json()["owner"]["name"] == "Alex Morgan"
    assert set(client.get(f"{BASE}/{ids[0]}", params={"fields": "status,name"}, headers=world.as_sam).json()) == {
        "id", "href", "@type", "@baseType", "@schemaLocation", "status", "name"}

    r = client.get(BASE, params={"relatedParty.id": world.customer}, headers=world.as_sam)
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "3" and r.headers["X-Result-Count"] == "3"
    assert [t["id"] for t in r.json()] == list(reversed(ids))  # newest first
    for item in r.json():
        validate("TMF621", "TroubleTicket", item)
        assert "brief" not in item
    page = client.get(BASE, params={"relatedParty.id": world.customer, "offset": 1, "limit": 1,
                                    "fields": "name,brief"}, headers=world.as_sam)
    assert page.headers["X-Total-Count"] == "3" and page.headers["X-Result-Count"] == "1"
    assert set(page.json()[0]) == {"id", "href", "@type", "@baseType", "@schemaLocation", "name", "brief"}
    faults = client.get(BASE, params={"ticketType": "fault"}, headers=world.as_sam)
    assert faults.headers["X-Total-Count"] == "2"
    assert client.get(BASE, params={"status": "acknowledged,inProgress"}, headers=world.as_sam
                      ).headers["X-Total-Count"] == "4"
    held = client.get(BASE, params={"status": "held"}, headers=world.as_sam)
    assert held.status_code == 200 and held.json() == [] and held.headers["X-Total-Count"] == "0"
    assert_tmf_error(client.get(BASE, params={"status": "open"}, headers=world.as_sam), 400)
    assert_tmf_error(client.get(BASE, params={"ticketType": "incident"}, headers=world.as_sam), 400)
    assert_tmf_error(client.get(BASE, params={"limit": 0}, headers=world.as_sam), 400)


def test_reads_are_in_the_audit_log_with_the_customer(client, world, container):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    client.get(f"{BASE}/{case_id}", headers=world.as_sam)
    client.get(BASE, params={"relatedParty.id": world.customer}, headers=world.as_sam)
    with container.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.resource_type == "case")
                         .order_by(AuditEntry.at, AuditEntry.id)).all()
    assert [(r.customer_id, r.action, r.actor_name) for r in rows] == [
        (world.customer, "read", "Sam Patel"), (world.customer, "read", "Sam Patel")]
    assert rows[0].resource_id == case_id and rows[1].purpose == "list"


# --- bad input ------------------------------------------------------------------------------

def test_bad_input_is_a_tmf_error_and_writes_nothing(client, world, token_for, container):
    h = world.as_alex
    raw = {**h, "Content-Type": "application/json"}
    assert_tmf_error(client.post(BASE, content=b'{"name": "x",', headers=raw), 400)
    assert_tmf_error(client.post(BASE, content=b"[1, 2]", headers=raw), 400)
    cases = [
        ticket_body(world.customer, severity=5),
        ticket_body(world.customer, severity="catastrophic"),
        ticket_body(world.customer, kind="outage of the soul"),
        ticket_body(world.customer, channel="pigeon"),
        ticket_body(world.customer, colour="red"),
        ticket_body(world.customer, **{"@type": "Ticket"}),
        ticket_body(world.customer, contactId="01HZZZZZZZZZZZZZZZZZZZZZZZ"),  # extension without its @type
        ticket_body(world.customer, status="cancelled"),
        ticket_body(world.customer, name="x" * 301),
        ticket_body(world.customer, description="   "),
        {k: v for k, v in ticket_body(world.customer).items() if k != "description"},
        ticket_body(world.customer, relatedParty=[]),
        ticket_body(world.customer, attachment={"name": "not a list"}),  # a TMF attribute of the wrong type
        ticket_body(world.other, product_id=world.product),  # someone else's line
    ]
    for body in cases:
        r = client.post(BASE, json=body, headers=h)
        assert_tmf_error(r, 400)
    ticket = ticket_body(world.customer)
    ticket["relatedParty"][0]["partyOrPartyRole"]["id"] = "01HNOSUCHCUSTOMER000000000"
    assert_tmf_error(client.post(BASE, json=ticket, headers=h), 404)
    assert_tmf_error(client.post(BASE, json=ticket_body(world.customer, owner_id="01HNOSUCHSTAFF00000000000"),
                                 headers=h), 404)
    assert_tmf_error(client.post(BASE, json=ticket_body(world.customer, description="x" * 70_000), headers=h), 413)
    assert_tmf_error(client.post(BASE, json=ticket_body(world.customer)), 401)
    assert_tmf_error(client.post(BASE, json=ticket_body(world.customer), headers=token_for("field_subcontractor")),
                     403)
    assert_tmf_error(client.get(f"{BASE}/01HNOSUCHCASE0000000000000", headers=h), 404)
    assert count(container, Case) == 0
    assert count(container, CaseEvent) == 0
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type.like("case.%"))) == 0


# --- PATCH, ETag, concurrency ----------------------------------------------------------------

def test_patch_with_if_match_and_a_stale_etag_is_412(client, world, container):
    r = client.post(BASE, json=ticket_body(world.customer), headers=world.as_alex)
    case_id, etag = r.json()["id"], r.headers["ETag"]
    ok = client.patch(f"{BASE}/{case_id}", json={"name": "No calls, no voicemail", "severity": "high"},
                      headers={**world.as_alex, **PATCH, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    validate("TMF621", "TroubleTicket", ok.json())
    assert ok.json()["name"] == "No calls, no voicemail" and ok.json()["severity"] == "high"
    assert ok.headers["ETag"] != etag
    assert client.get(f"{BASE}/{case_id}", headers=world.as_alex).headers["ETag"] == ok.headers["ETag"]
    stale = client.patch(f"{BASE}/{case_id}", json={"name": "Lost update"},
                         headers={**world.as_alex, **PATCH, "If-Match": etag})
    body = assert_tmf_error(stale, 412)
    assert body["details"]["currentETag"] == ok.headers["ETag"]
    assert client.get(f"{BASE}/{case_id}", headers=world.as_alex).json()["name"] == "No calls, no voicemail"


def test_two_concurrent_patches_one_wins_and_the_other_is_refused(client, world, container, monkeypatch):
    r = client.post(BASE, json=ticket_body(world.customer), headers=world.as_alex)
    case_id, etag = r.json()["id"], r.headers["ETag"]
    # Both requests read the case and pass If-Match before either writes (PostgreSQL); on SQLite
    # the second waits for the first's write lock and then sees the new version.
    barrier = threading.Barrier(2, timeout=3)
    real_check = trouble_ticket.check_if_match

    def check_then_wait(request, version):
        real_check(request, version)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    monkeypatch.setattr(trouble_ticket, "check_if_match", check_then_wait)
    results: dict[str, object] = {}

    def patch(name: str) -> None:
        results[name] = client.patch(f"{BASE}/{case_id}", json={"name": name},
                                     headers={**world.as_alex, **PATCH, "If-Match": etag})

    threads = [threading.Thread(target=patch, args=(n,)) for n in ("Title A", "Title B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(results[n].status_code for n in results)
    assert codes[0] == 200 and codes[1] in (409, 412), [(n, results[n].text) for n in results]
    winner = next(n for n in results if results[n].status_code == 200)
    loser = next(n for n in results if n != winner)
    assert_tmf_error(results[loser], results[loser].status_code)
    monkeypatch.setattr(trouble_ticket, "check_if_match", real_check)
    now = client.get(f"{BASE}/{case_id}", headers=world.as_alex)
    assert now.json()["name"] == winner
    assert now.headers["ETag"] == results[winner].headers["ETag"]
    with container.sessions() as s:
        changes = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                    CaseEvent.kind == "details_changed")).all()
    assert len(changes) == 1 and changes[0].data["title"]["to"] == winner


def test_status_changes_map_to_tmf621_statuses(client, world):
    case_id = open_case(client, world.as_alex, world.customer, kind="fault")["id"]
    for tmf in ("inProgress", "pending", "resolved", "acknowledged"):
        r = client.patch(f"{BASE}/{case_id}", json={"status": tmf, "statusChangeReason": "as agreed"},
                         headers={**world.as_alex, **PATCH})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == tmf
        validate("TMF621", "TroubleTicket", r.json())
    for bad in ("held", "cancelled", "rejected", "open", "in_progress"):
        body = assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"status": bad},
                                             headers={**world.as_alex, **PATCH}), 400)
        assert body["field"] == "status"
    assert "/wait" in client.patch(f"{BASE}/{case_id}", json={"status": "held"},
                                  headers={**world.as_alex, **PATCH}).json()["message"]
    events = client.get(f"{V1}/cases/{case_id}/events", headers=world.as_alex).json()
    changes = [e["data"] for e in events if e["kind"] == "status_changed"]
    assert changes[0] == {"from": "open", "to": "in_progress"}


def test_patch_refuses_what_it_cannot_change(client, world):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    h = {**world.as_alex, **PATCH}
    other_owner = {"@type": "RelatedPartyRefOrPartyRoleRef", "role": "owner",
                   "partyOrPartyRole": {"@type": "PartyRoleRef", "id": world.sam}}
    owner = assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"relatedParty": [other_owner]}, headers=h), 400)
    assert "handovers" in owner["message"]
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"ticketType": "fault"}, headers=h), 400)
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"name": None}, headers=h), 400)
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"severity": 3}, headers=h), 400)
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"colour": "red"}, headers=h), 400)
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"customerConfirmed": True, "status": "closed",
                                                            "statusChangeReason": "x"}, headers=h), 400)
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", content=b"{", headers=h), 400)
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"name": "x"},
                                  headers={**world.as_alex, "Content-Type": "text/plain"}), 400)
    assert_tmf_error(client.patch(f"{BASE}/01HNOSUCHCASE0000000000000", json={"name": "x"}, headers=h), 404)
    assert client.get(f"{BASE}/{case_id}", headers=world.as_alex).json()["name"] == "No incoming calls"


# --- closing --------------------------------------------------------------------------------

def test_closing_is_refused_naming_everything_open_then_allowed(client, world, clock, container):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    h = world.as_alex
    due = (clock.now() + timedelta(days=5)).isoformat()
    harm = client.post(f"{V1}/cases/{case_id}/harms", json={"kind": "no_service", "description": "no incoming calls",
                                                            "severity": "high"}, headers=h).json()
    promise = client.post(f"{V1}/cases/{case_id}/commitments", json={
        "text": "engineer to check the mast", "dueAt": due, "madeVia": "social", "public": True}, headers=h).json()
    assert client.post(f"{V1}/cases/{case_id}/messages", json={"text": "any news?", "channel": "email"},
                       headers=h).status_code == 201
    close = {"status": "closed", "statusChangeReason": "the fibre works"}
    r = client.patch(f"{BASE}/{case_id}", json=close, headers={**h, **PATCH})
    body = assert_tmf_error(r, 409)
    for expected in ("open harm: no incoming calls", "open commitment: engineer to check the mast",
                     "is unanswered", "complaint step missing: acknowledged by a person",
                     "complaint step missing: apology given"):
        assert expected in body["message"]
    assert any("unanswered" in o for o in body["details"]["open"])
    after = client.get(f"{BASE}/{case_id}", headers=h).json()
    assert after["status"] == "acknowledged" and len(after["closureBlockers"]) == len(body["details"]["open"])
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"status": "closed"}, headers={**h, **PATCH}), 400)

    assert client.post(f"{V1}/harms/{harm['id']}/resolve", json={"resolution": "mast repaired"},
                       headers=h).status_code == 200
    assert client.post(f"{V1}/commitments/{promise['id']}/kept", json={}, headers=h).status_code == 200
    assert client.post(f"{V1}/cases/{case_id}/replies", json={"text": "fixed on Tuesday", "channel": "email"},
                       headers=h).status_code == 201
    for step in ("acknowledged", "customer_account", "apology", "resolution_offer"):
        assert client.post(f"{V1}/cases/{case_id}/steps", json={"step": step, "text": f"{step} given"},
                           headers=h).status_code == 201
    assert client.get(f"{BASE}/{case_id}", headers=h).json()["closureBlockers"] == []
    done = client.patch(f"{BASE}/{case_id}", json={**close, "@type": "OnethreadTroubleTicket",
                                                   "customerConfirmed": True}, headers={**h, **PATCH})
    assert done.status_code == 200, done.text
    closed = done.json()
    validate("TMF621", "TroubleTicket", closed)
    assert closed["status"] == "closed" and closed["resolutionDate"] and closed["customerConfirmed"] is True
    assert closed["statusChangeReason"] == closed["outcome"] == "the fibre works"
    assert all(c["state"] == "stopped" for c in closed["clocks"])
    assert_tmf_error(client.patch(f"{BASE}/{case_id}", json={"name": "again"}, headers={**h, **PATCH}), 409)
