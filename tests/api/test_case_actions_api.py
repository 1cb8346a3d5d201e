"""onethread's case actions over HTTP (/api/v1): hand-overs, imposing an owner, commitments,
harms, participants, tasks, messages and replies, complaint steps, close, merge, split, routing
contacts onto their case, the brief, the log, escalations and the supervisor queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onethread.cases import clocks
from onethread.models import Case, Commitment, Contact, Handover, Harm, Task
from tests.support.case_actions_api import contact
from tests.support.trouble_ticket_api import BASE, count, make_world, open_case, party, ticket_body
from tests.tmf_schema import assert_tmf_error, validate

V1 = "/api/v1"


@pytest.fixture
def world(uow, clock):
    return make_world(uow, clock)


def owner_of(client, headers, case_id) -> dict:
    body = client.get(f"{BASE}/{case_id}", headers=headers).json()
    return body["owner"]


# --- hand-overs ------------------------------------------------------------------------------

def test_a_handover_changes_the_owner_only_when_the_receiver_accepts(client, world, container):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    r = client.post(f"{V1}/cases/{case_id}/handovers", json={"toOwnerId": world.sam, "reason": "billing expert"},
                    headers=world.as_alex)
    assert r.status_code == 201, r.text
    handover = r.json()
    assert handover["status"] == "pending" and handover["to"] == {"id": world.sam, "name": "Sam Patel"}
    assert handover["case"]["owner"] == {"id": world.alex, "name": "Alex Morgan"}
    assert r.headers["ETag"]
    assert owner_of(client, world.as_alex, case_id)["name"] == "Alex Morgan"  # not yet
    # Nobody but the receiver accepts: not the lead, not the one who asked.
    for other in (world.as_lead, world.as_alex):
        assert_tmf_error(client.post(f"{V1}/handovers/{handover['id']}/accept", headers=other), 403)
    assert owner_of(client, world.as_alex, case_id)["name"] == "Alex Morgan"
    ok = client.post(f"{V1}/handovers/{handover['id']}/accept", json={"note": "on it"}, headers=world.as_sam)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "accepted" and ok.json()["case"]["owner"]["name"] == "Sam Patel"
    ticket = client.get(f"{BASE}/{case_id}", headers=world.as_alex).json()
    validate("TMF621", "TroubleTicket", ticket)
    assert party(ticket, "owner")["name"] == "Sam Patel"
    assert [h["status"] for h in ticket["handovers"]] == ["accepted"]
    assert_tmf_error(client.post(f"{V1}/handovers/{handover['id']}/accept", headers=world.as_sam), 409)
    events = client.get(f"{V1}/cases/{case_id}/events", headers=world.as_alex).json()
    assert [e["kind"] for e in events if e["kind"].startswith(("handover", "owner"))] == [
        "handover_requested", "owner_changed"]
    changed = next(e for e in events if e["kind"] == "owner_changed")
    assert changed["actor"]["name"] == "Sam Patel" and changed["data"]["fromOwnerId"] == world.alex


def test_a_handover_can_be_declined_or_cancelled_and_the_owner_stays(client, world):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    ask = lambda: client.post(f"{V1}/cases/{case_id}/handovers",  # noqa: E731
                              json={"toOwnerId": world.sam, "reason": "please"}, headers=world.as_alex)
    first = ask().json()
    assert_tmf_error(ask(), 409)  # one pending hand-over at a time
    assert_tmf_error(client.post(f"{V1}/handovers/{first['id']}/decline", json={}, headers=world.as_sam), 400)
    declined = client.post(f"{V1}/handovers/{first['id']}/decline", json={"reason": "on leave next week"},
                           headers=world.as_sam)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    second = ask().json()
    assert_tmf_error(client.post(f"{V1}/handovers/{second['id']}/cancel", headers=world.as_sam), 403)
    cancelled = client.post(f"{V1}/handovers/{second['id']}/cancel", headers=world.as_alex)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert owner_of(client, world.as_alex, case_id)["name"] == "Alex Morgan"
    assert_tmf_error(client.post(f"{V1}/handovers/01HNOSUCHHANDOVER000000000/accept", headers=world.as_sam), 404)
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/handovers", json={"toOwnerId": world.alex, "reason": "x"},
                                 headers=world.as_alex), 409)
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/handovers", json={"toOwnerId": world.sam},
                                 headers=world.as_alex), 400)


def test_a_team_lead_imposes_an_owner_an_agent_may_not(client, world, token_for, container):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    body = {"toOwnerId": world.sam, "reason": "Alex is off sick"}
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/impose-owner", json=body, headers=world.as_alex), 403)
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/impose-owner", json=body, headers=token_for("agent")), 403)
    assert owner_of(client, world.as_alex, case_id)["id"] == world.alex
    r = client.post(f"{V1}/cases/{case_id}/impose-owner", json=body, headers=world.as_lead)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "imposed" and r.json()["case"]["owner"] == {"id": world.sam, "name": "Sam Patel"}
    assert owner_of(client, world.as_alex, case_id)["name"] == "Sam Patel"
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/impose-owner",
                                 json={"toOwnerId": "01HNOSUCHSTAFF00000000000", "reason": "x"},
                                 headers=world.as_lead), 404)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Handover)) == 1


# --- commitments, harms, participants, tasks -------------------------------------------------

def test_commitments_harms_participants_and_tasks(client, world, clock, container):
    case_id = open_case(client, world.as_alex, world.customer, kind="damage_claim")["id"]
    h = world.as_alex
    due = (clock.now() + timedelta(days=3)).isoformat()
    promise = client.post(f"{V1}/cases/{case_id}/commitments", json={
        "text": "call back with the plumber's date", "dueAt": due, "madeVia": "phone"}, headers=h)
    assert promise.status_code == 201, promise.text
    assert promise.json()["status"] == "open" and promise.json()["case"]["owner"]["name"] == "Alex Morgan"
    harm = client.post(f"{V1}/cases/{case_id}/harms", json={
        "kind": "no_heating", "description": "heating pipe drilled", "severity": "high",
        "reportedBy": "the technician"}, headers=h)
    assert harm.status_code == 201 and harm.json()["severity"] == "high"
    assert harm.json()["case"]["severity"] == "high"
    plumber = client.post(f"{V1}/cases/{case_id}/participants", json={
        "kind": "plumber", "name": "Dan", "organisation": "Dan's Plumbing"}, headers=h)
    assert plumber.status_code == 201
    task = client.post(f"{V1}/cases/{case_id}/tasks", json={
        "title": "repair the pipe", "assigneeKind": "participant", "assigneeId": plumber.json()["id"],
        "dueAt": due}, headers=h)
    assert task.status_code == 201 and task.json()["assignee"]["name"] == "Dan"
    ticket = client.get(f"{BASE}/{case_id}", headers=h).json()
    validate("TMF621", "TroubleTicket", ticket)
    assert [c["kind"] for c in ticket["clocks"] if c["refId"]] == ["commitment_due", "task_overdue"]
    assert len(ticket["closureBlockers"]) == 3
    # Closing needs a reason to cancel; kept, done and resolved items stop their clocks.
    assert_tmf_error(client.post(f"{V1}/commitments/{promise.json()['id']}/cancel", json={}, headers=h), 400)
    assert client.post(f"{V1}/commitments/{promise.json()['id']}/cancel", json={"note": "plumber came early"},
                       headers=h).json()["status"] == "cancelled"
    assert client.post(f"{V1}/tasks/{task.json()['id']}/done", headers=h).json()["status"] == "done"
    assert_tmf_error(client.post(f"{V1}/tasks/{task.json()['id']}/done", headers=h), 409)
    assert client.post(f"{V1}/harms/{harm.json()['id']}/resolve", json={"resolution": "pipe replaced"},
                       headers=h).json()["resolvedAt"]
    second = client.post(f"{V1}/cases/{case_id}/tasks", json={
        "title": "send the insurer the photos", "assigneeKind": "staff", "assigneeId": world.sam, "dueAt": due},
        headers=h).json()
    assert client.post(f"{V1}/tasks/{second['id']}/cancel", json={"note": "insurer has them"},
                       headers=h).json()["status"] == "cancelled"
    ticket = client.get(f"{BASE}/{case_id}", headers=h).json()
    assert ticket["closureBlockers"] == []
    assert all(c["state"] == "stopped" for c in ticket["clocks"] if c["refId"])


def test_item_input_errors_write_nothing(client, world, clock, container):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    h = world.as_alex
    past = (clock.now() - timedelta(days=1)).isoformat()
    future = (clock.now() + timedelta(days=1)).isoformat()
    naive = (clock.now() + timedelta(days=1)).replace(tzinfo=None).isoformat()
    bad = [
        ("commitments", {"text": "x", "dueAt": past, "madeVia": "phone"}, 400),
        ("commitments", {"text": "x", "dueAt": naive, "madeVia": "phone"}, 400),
        ("commitments", {"text": "x", "dueAt": future, "madeVia": "fax"}, 400),
        ("commitments", {"text": "x", "dueAt": future, "madeVia": "phone", "extra": 1}, 400),
        ("commitments", {"text": "x", "dueAt": "next week", "madeVia": "phone"}, 400),
        ("harms", {"kind": "boredom", "description": "x", "severity": "low"}, 400),
        ("harms", {"kind": "other", "description": "x", "severity": "extreme"}, 400),
        ("participants", {"kind": "wizard", "name": "Merlin"}, 400),
        ("tasks", {"title": "x", "assigneeKind": "robot", "assigneeId": "x", "dueAt": future}, 400),
        ("tasks", {"title": "x", "assigneeKind": "staff", "assigneeId": "01HNOSUCHSTAFF00000000000",
                   "dueAt": future}, 404),
        ("messages", {"text": "", "channel": "email"}, 400),
        ("messages", {"text": "hello", "channel": "pigeon"}, 400),
        ("steps", {"step": "grovel", "text": "sorry"}, 400),
    ]
    for path, body, status in bad:
        assert_tmf_error(client.post(f"{V1}/cases/{case_id}/{path}", json=body, headers=h), status)
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/harms", content=b"{oops", headers={
        **h, "Content-Type": "application/json"}), 400)
    assert_tmf_error(client.post(f"{V1}/cases/01HNOSUCHCASE0000000000000/harms",
                                 json={"kind": "other", "description": "x", "severity": "low"}, headers=h), 404)
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/harms", json={
        "kind": "other", "description": "x" * 70_000, "severity": "low"}, headers=h), 413)
    assert_tmf_error(client.post(f"{V1}/harms/01HNOSUCHHARM0000000000000/resolve", json={"resolution": "x"},
                                 headers=h), 404)
    for model in (Commitment, Harm, Task, Contact):
        assert count(container, model) == 0


def test_a_stale_if_match_on_an_action_is_412_and_writes_nothing(client, world, clock, container):
    r = client.post(BASE, json=ticket_body(world.customer), headers=world.as_alex)
    case_id, etag = r.json()["id"], r.headers["ETag"]
    fresh = client.patch(f"{BASE}/{case_id}", json={"severity": "high"},
                         headers={**world.as_alex, "Content-Type": "application/merge-patch+json"})
    assert fresh.headers["ETag"] != etag
    stale = client.post(f"{V1}/cases/{case_id}/harms", json={"kind": "other", "description": "x", "severity": "low"},
                        headers={**world.as_alex, "If-Match": etag})
    assert_tmf_error(stale, 412)
    assert count(container, Harm) == 0
    ok = client.post(f"{V1}/cases/{case_id}/harms", json={"kind": "other", "description": "x", "severity": "low"},
                     headers={**world.as_alex, "If-Match": fresh.headers["ETag"]})
    assert ok.status_code == 201 and ok.headers["ETag"] != fresh.headers["ETag"]


# --- messages, replies, steps, brief, log ----------------------------------------------------

def test_messages_replies_steps_the_brief_and_the_log(client, world, token_for):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    h = world.as_alex
    msg = client.post(f"{V1}/cases/{case_id}/messages", headers=token_for("integration"),
                      json={"text": "Still no calls", "channel": "portal", "onBehalfOf": "her son"})
    assert msg.status_code == 201, msg.text
    assert msg.json()["direction"] == "inbound" and msg.json()["case"]["owner"]["name"] == "Alex Morgan"
    assert client.get(f"{BASE}/{case_id}", headers=h).json()["awaitingReplySince"]
    # A reply comes from a named person, not a system token.
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/replies", json={"text": "x", "channel": "email"},
                                 headers=token_for("agent")), 403)
    reply = client.post(f"{V1}/cases/{case_id}/replies", json={"text": "We are on it", "channel": "email"},
                        headers=h)
    assert reply.status_code == 201 and reply.json()["direction"] == "outbound"
    step = client.post(f"{V1}/cases/{case_id}/steps", json={"step": "apology", "text": "I am sorry"}, headers=h)
    assert step.status_code == 201 and step.json()["label"] == "apology given" and step.json()["by"] == "Alex Morgan"
    ticket = client.get(f"{BASE}/{case_id}", headers=h).json()
    assert ticket["status"] == "inProgress" and ticket["awaitingReplySince"] is None
    assert ticket["complaintSteps"]["done"] == ["apology"]
    brief = client.get(f"{V1}/cases/{case_id}/brief", headers=world.as_sam)
    assert brief.status_code == 200
    assert brief.json()["owner"] == "Alex Morgan" and "Alex Morgan" in brief.json()["forCustomer"]
    events = client.get(f"{V1}/cases/{case_id}/events", params={"limit": 2}, headers=world.as_sam)
    assert events.headers["X-Total-Count"] == "4" and events.headers["X-Result-Count"] == "2"
    assert [e["kind"] for e in events.json()] == ["opened", "customer_message"]
    told = client.get(f"{V1}/cases/{case_id}/events", params={"audience": "customer"}, headers=world.as_sam).json()
    assert {e["kind"] for e in told} == {"customer_message", "replied", "step_apology"}
    assert_tmf_error(client.get(f"{V1}/cases/{case_id}/events", params={"audience": "all"}, headers=h), 400)
    assert_tmf_error(client.get(f"{V1}/cases/01HNOSUCHCASE0000000000000/brief", headers=h), 404)


def test_a_reply_goes_out_only_on_a_channel_that_reaches_the_customer(client, world, container, token_for):
    case_id = open_case(client, world.as_alex, world.customer)["id"]
    client.post(f"{V1}/cases/{case_id}/messages", headers=token_for("integration"),
                json={"text": "Any news?", "channel": "portal"})
    contacts_before = count(container, Contact)
    status_before = client.get(f"{BASE}/{case_id}", headers=world.as_alex).json()["status"]
    for channel in ("store", "field", "system"):
        body = assert_tmf_error(client.post(f"{V1}/cases/{case_id}/replies", json={"text": "On it", "channel": channel},
                                            headers=world.as_alex), 400)
        assert "reply by one of email, letter, sms, phone, social, chat, portal" in body["message"]
        assert repr(channel) in body["message"]
    assert count(container, Contact) == contacts_before  # nothing went out
    ticket = client.get(f"{BASE}/{case_id}", headers=world.as_alex).json()
    assert ticket["awaitingReplySince"] and ticket["status"] == status_before  # the customer still waits
    ok = client.post(f"{V1}/cases/{case_id}/replies", json={"text": "On it", "channel": "chat"},
                     headers=world.as_alex)
    assert ok.status_code == 201 and ok.json()["channel"] == "chat"


# --- close, merge, split, routing ------------------------------------------------------------

def test_close_action_names_what_is_open_then_closes(client, world, clock, container):
    case_id = open_case(client, world.as_alex, world.customer, kind="fault")["id"]
    h = world.as_alex
    harm = client.post(f"{V1}/cases/{case_id}/harms", json={"kind": "no_service", "description": "no calls",
                                                            "severity": "medium"}, headers=h).json()
    body = assert_tmf_error(client.post(f"{V1}/cases/{case_id}/close", json={
        "outcome": "the fibre works", "customerConfirmed": False}, headers=h), 409)
    assert body["details"]["open"] == ["open harm: no calls"]
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/close", json={"outcome": "x"}, headers=h), 400)
    client.post(f"{V1}/harms/{harm['id']}/resolve", json={"resolution": "line repaired"}, headers=h)
    done = client.post(f"{V1}/cases/{case_id}/close", json={"outcome": "line repaired", "customerConfirmed": True},
                       headers=h)
    assert done.status_code == 200, done.text
    validate("TMF621", "TroubleTicket", done.json())
    assert done.json()["status"] == "closed" and done.json()["owner"]["name"] == "Alex Morgan"
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/close", json={"outcome": "x", "customerConfirmed": True},
                                 headers=h), 409)


def test_merge_and_split(client, world, uow, clock, container):
    h = world.as_alex
    first = open_case(client, h, world.customer, kind="billing_dispute", name="April bill")["id"]
    second = open_case(client, h, world.customer, kind="billing_dispute", name="May bill")["id"]
    other = open_case(client, h, world.other, kind="fault")["id"]
    calls = [contact(uow, clock, world.customer, f"call {i}", i) for i in range(2)]
    for call_id in calls:
        assert client.post(f"{V1}/contacts/{call_id}/route", json={"kind": "billing_dispute", "title": "x",
                                                                   "caseId": second}, headers=h).status_code == 200
    assert_tmf_error(client.post(f"{V1}/cases/{second}/merge", json={"intoId": other, "reason": "same"},
                                 headers=h), 400)
    merged = client.post(f"{V1}/cases/{second}/merge", json={"intoId": first, "reason": "same SIM"}, headers=h)
    assert merged.status_code == 200, merged.text
    validate("TMF621", "TroubleTicket", merged.json())
    assert merged.json()["id"] == first
    assert merged.json()["troubleTicketRelationship"][0]["relationshipType"] == "mergedFrom"
    source = client.get(f"{BASE}/{second}", headers=h).json()
    assert source["status"] == "closed" and source["mergedIntoId"] == first
    assert source["troubleTicketRelationship"][0] == {"@type": "TroubleTicketRelationship", "id": first,
                                                      "href": f"{BASE}/{first}", "relationshipType": "mergedInto"}
    split = client.post(f"{V1}/cases/{first}/split", json={"contactIds": [calls[1]], "kind": "complaint",
                                                            "title": "Rude agent", "reason": "another problem"},
                        headers=h)
    assert split.status_code == 201, split.text
    assert split.headers["Location"] == f"{BASE}/{split.json()['id']}"
    assert split.json()["owner"]["id"] == world.alex and split.json()["ticketType"] == "complaint"
    assert_tmf_error(client.post(f"{V1}/cases/{first}/split", json={"contactIds": [calls[1]], "kind": "complaint",
                                                                     "title": "x", "reason": "y"}, headers=h), 400)


def test_a_second_contact_about_the_same_product_joins_the_open_case(client, world, uow, clock, container,
                                                                      token_for):
    h = world.as_alex
    first = contact(uow, clock, world.customer, "my line has no signal", 1)
    r = client.post(f"{V1}/contacts/{first}/route", json={"kind": "fault", "title": "No signal",
                                                          "productId": world.product}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "opened" and r.headers["Location"] == r.json()["case"]["href"]
    assert r.json()["case"]["owner"]["name"] == "Alex Morgan"
    case_id = r.json()["case"]["id"]
    again = client.post(f"{V1}/contacts/{first}/route", json={"kind": "fault", "title": "No signal",
                                                              "productId": world.product}, headers=h)
    assert again.status_code == 200 and again.json()["case"]["id"] == case_id  # a retry: the same answer
    clock.advance(timedelta(days=3))
    second = contact(uow, clock, world.customer, "still no signal", 2, channel="social")
    joined = client.post(f"{V1}/contacts/{second}/route", json={"kind": "complaint", "title": "Still nothing",
                                                                "productId": world.product},
                         headers=token_for("integration"))
    assert joined.status_code == 200, joined.text
    assert joined.json()["outcome"] == "joined" and joined.json()["case"]["id"] == case_id
    assert joined.json()["case"]["owner"]["name"] == "Alex Morgan"
    assert count(container, Case) == 1
    brief = client.get(f"{V1}/cases/{case_id}/brief", headers=h).json()
    assert brief["contacts"] == 2 and brief["channels"] == ["phone", "social"]
    # A system routing a contact that opens a case must name the owner.
    third = contact(uow, clock, world.other, "bill too high", 3)
    assert_tmf_error(client.post(f"{V1}/contacts/{third}/route", json={"kind": "billing_dispute", "title": "Bill"},
                                 headers=token_for("integration")), 400)
    assert_tmf_error(client.post(f"{V1}/contacts/01HNOSUCHCONTACT0000000000/route",
                                 json={"kind": "fault", "title": "x"}, headers=h), 404)
    assert count(container, Case) == 1


# --- clocks, escalations, the supervisor queue -----------------------------------------------

def test_the_supervisor_queue_lists_cases_past_their_clock_oldest_breach_first(client, world, uow, clock,
                                                                                container):
    older = open_case(client, world.as_alex, world.customer, kind="damage_claim", name="Pipe drilled")["id"]
    clock.advance(timedelta(hours=2))
    newer = open_case(client, world.as_sam, world.other, kind="complaint", name="Rude agent")["id"]
    quiet = open_case(client, world.as_sam, world.other, kind="fault", name="Answered in time")["id"]
    client.post(f"{V1}/cases/{quiet}/replies", json={"text": "Looking now", "channel": "phone"}, headers=world.as_sam)
    assert client.get(f"{V1}/supervisor/queue", headers=world.as_lead).json() == []
    clock.advance(timedelta(days=1))  # past every first-response clock
    with uow() as s:
        report = clocks.sweep(s, clock)
    assert report.fired >= 2
    r = client.get(f"{V1}/supervisor/queue", headers=world.as_lead)
    assert r.status_code == 200, r.text
    queue = r.json()
    assert [q["caseId"] for q in queue] == [older, newer]
    assert r.headers["X-Total-Count"] == "2" and r.headers["X-Result-Count"] == "2"
    assert queue[0]["owner"] == {"id": world.alex, "name": "Alex Morgan"}
    assert "first_response" in queue[0]["clocks"] and queue[0]["oldestBreachAt"] < queue[1]["oldestBreachAt"]
    page = client.get(f"{V1}/supervisor/queue", params={"offset": 1, "limit": 1}, headers=world.as_lead)
    assert [q["caseId"] for q in page.json()] == [newer] and page.headers["X-Total-Count"] == "2"
    # keyset pages: each full page names the one after it; the last (not full) names none
    first = client.get(f"{V1}/supervisor/queue", params={"limit": 1}, headers=world.as_lead)
    after = client.get(f"{V1}/supervisor/queue", params={"limit": 1, "cursor": first.headers["X-Next-Cursor"]},
                       headers=world.as_lead)
    assert [q["caseId"] for q in first.json() + after.json()] == [older, newer]
    last = client.get(f"{V1}/supervisor/queue", params={"limit": 1, "cursor": after.headers["X-Next-Cursor"]},
                      headers=world.as_lead)
    assert last.json() == [] and "X-Next-Cursor" not in last.headers
    assert_tmf_error(client.get(f"{V1}/supervisor/queue", params={"cursor": "not-a-cursor"}, headers=world.as_lead),
                     400)
    # a staff member's cases, newest first, page by page (two opened at the same moment: by id)
    seen, cursor = [], None
    while True:
        r = client.get(f"{V1}/staff/{world.sam}/cases", params={"limit": 1, **({"cursor": cursor} if cursor else {})},
                       headers=world.as_lead)
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()]
        cursor = r.headers.get("X-Next-Cursor")
        if not cursor:
            break
    assert seen == sorted([newer, quiet], reverse=True)
    assert_tmf_error(client.get(f"{V1}/staff/{world.sam}/cases", params={"cursor": "WyJ4Il0"}, headers=world.as_lead),
                     400)
    assert_tmf_error(client.get(f"{V1}/supervisor/queue", headers=world.as_alex), 403)

    escalations = client.get(f"{V1}/cases/{older}/escalations", headers=world.as_alex).json()
    assert escalations and escalations[0]["clock"] == "first_response"
    assert escalations[0]["to"]["name"] in ("Alex Morgan", "Lee Carter")
    ticket = client.get(f"{BASE}/{older}", headers=world.as_alex).json()
    validate("TMF621", "TroubleTicket", ticket)
    fired = next(c for c in ticket["clocks"] if c["kind"] == "first_response")
    assert fired["state"] == "breached" and fired["firedAt"] == fired["dueAt"]
    assert ticket["escalationLevel"] >= 1

    owners = client.get(f"{V1}/supervisor/owners", headers=world.as_lead).json()
    assert {(o["owner"]["name"], o["openCases"], o["pastClock"]) for o in owners} == {
        ("Alex Morgan", 1, 1), ("Sam Patel", 2, 1)}
    mine = client.get(f"{V1}/staff/{world.sam}/cases", headers=world.as_alex)
    assert mine.headers["X-Total-Count"] == "2"
    assert {c["id"] for c in mine.json()} == {newer, quiet}
    assert all(c["owner"]["name"] == "Sam Patel" for c in mine.json())
    assert_tmf_error(client.get(f"{V1}/staff/01HNOSUCHSTAFF00000000000/cases", headers=world.as_alex), 404)
