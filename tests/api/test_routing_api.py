"""Routing and presence (issue 15, item 2) and My work (item 3): waiting contacts are handed to
available people by the team's rule, oldest first when someone becomes available; a returning
customer reaches their case's owner; ``GET /api/v1/me/work`` is the agent's own list."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.cases import handover_service
from onethread.models import Team, TriageItem
from tests.support.routing_api import presence
from tests.support.sessions_api import make_customer, make_staff
from tests.support.triage_api import customer_with_email, email, item_of, open_case
from tests.tmf_schema import assert_tmf_error


def test_waiting_contacts_go_to_the_least_loaded_available_agent_and_wait_when_nobody_is(client, uow, clock):
    jo, _, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    al, _, al_hdr = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    customer_with_email(uow, clock)
    first = email(uow, clock, "ann@example.com")
    second = email(uow, clock, "ann@example.com", text="again")
    assert {item_of(uow, first).assigned_to, item_of(uow, second).assigned_to} == {jo, al}
    for hdr in (jo_hdr, al_hdr):
        r = presence(client, hdr, "me", presence="busy")
        assert r.status_code == 200, r.text
        assert r.json()["presence"] == "busy"
    clock.advance(timedelta(minutes=1))
    waiting = [email(uow, clock, "ann@example.com", text=f"waiting {n}") for n in range(3)]
    assert [item_of(uow, w).assigned_to for w in waiting] == [None, None, None]
    r = presence(client, jo_hdr, "me", presence="available", capacity=3)  # room for two more
    assert r.status_code == 200 and r.json()["handedOut"] == 2
    assert [item_of(uow, w).assigned_to for w in waiting] == [jo, jo, None]  # oldest first
    mine = client.get("/api/v1/triage", params={"assignedTo": "me"}, headers=jo_hdr)
    assert mine.headers["X-Total-Count"] == "3"


def test_a_team_lead_becoming_available_is_not_handed_the_queue(client, uow, clock):
    """Team leads are the escalation, not the pool: their presence hands them nothing."""
    _, _, lead_hdr = make_staff(uow, clock, "lee.lead", "Lee Carter", "team_lead", "Contact centre")
    jo, _, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    customer_with_email(uow, clock)
    assert presence(client, jo_hdr, "me", presence="busy").status_code == 200
    assert presence(client, lead_hdr, "me", presence="busy").status_code == 200
    waiting = [email(uow, clock, "ann@example.com", text=f"waiting {n}") for n in range(2)]
    r = presence(client, lead_hdr, "me", presence="available")
    assert r.status_code == 200 and r.json()["handedOut"] == 0
    assert [item_of(uow, w).assigned_to for w in waiting] == [None, None]
    r = presence(client, jo_hdr, "me", presence="available")
    assert r.status_code == 200 and r.json()["handedOut"] == 2
    assert [item_of(uow, w).assigned_to for w in waiting] == [jo, jo]


def test_round_robin_and_presence_rules(client, uow, clock):
    _, team, lead_hdr = make_staff(uow, clock, "lee.lead", "Lee Carter", "team_lead", "Contact centre")
    jo, _, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    al, _, _ = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    with uow() as s:
        s.get(Team, team).routing_rule = "round_robin"
    customer_with_email(uow, clock)
    got = []
    for n in range(4):
        clock.advance(timedelta(minutes=1))
        got.append(item_of(uow, email(uow, clock, "ann@example.com", text=f"n{n}")).assigned_to)
    assert got[0] != got[1] and got[:2] == got[2:] and set(got) == {jo, al}
    # someone else's presence: a lead only; a back date goes with away, in the future
    assert_tmf_error(presence(client, jo_hdr, al, presence="off"), 403)
    assert presence(client, lead_hdr, al, presence="away", backAt="2026-03-09T09:00:00Z").status_code == 200
    assert_tmf_error(presence(client, jo_hdr, "me", presence="busy", backAt="2026-03-09T09:00:00Z"), 400)
    assert_tmf_error(presence(client, jo_hdr, "me", presence="away", backAt="2026-01-01T09:00:00Z"), 400)
    assert_tmf_error(presence(client, jo_hdr, "me", presence="sleeping"), 400)
    assert client.get(f"/api/v1/staff/{al}/presence", headers=jo_hdr).json()["presence"] == "away"


def test_round_robin_in_a_batch_turns_within_it_and_the_next_contact_continues_after_it(client, admin, uow,
                                                                                        clock):
    jo, team, _ = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    al, _, _ = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    with uow() as s:
        s.get(Team, team).routing_rule = "round_robin"
    customer_with_email(uow, clock)

    def batch(*texts: str) -> list[str | None]:
        clock.advance(timedelta(minutes=1))
        body = {"partyInteraction": [
            {"@type": "OnethreadPartyInteraction", "direction": "inbound", "reason": "No signal", "description": text,
             "interactionDate": {"startDateTime": clock.now().isoformat()}, "identifiers": {"email": "ann@example.com"},
             "relatedChannel": [{"@type": "RelatedChannel", "role": "interactionChannel",
                                 "channel": {"@type": "ChannelRef", "id": "email"}}]} for text in texts]}
        r = client.post("/api/v1/contact-batches", json=body, headers=admin)
        assert r.status_code == 200, r.text
        return [item_of(uow, x["id"]).assigned_to for x in r.json()["results"]]

    assert item_of(uow, email(uow, clock, "ann@example.com", text="first")).assigned_to == al  # nobody had one
    assert batch("second") == [jo]
    clock.advance(timedelta(minutes=1))  # Al's turn: the batch recorded Jo's hand-out
    assert item_of(uow, email(uow, clock, "ann@example.com", text="third")).assigned_to == al
    assert batch("fourth", "fifth") == [jo, al]


def test_a_returning_customer_reaches_the_owner_else_the_queue_and_the_owner_still_sees_it(client, uow, clock):
    _, _, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    al, _, _ = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    cid = customer_with_email(uow, clock)
    case_id = open_case(uow, clock, cid, al)
    back = email(uow, clock, "ann@example.com", text="something else entirely")
    item = item_of(uow, back)
    assert item.assigned_to == al and "owner of the customer's open case" in item.reason
    presence(client, jo_hdr, "me", presence="busy")
    with uow() as s:
        from onethread.cases import assignment
        assignment.set_presence(s, clock, SYSTEM, al, presence="off")
    clock.advance(timedelta(minutes=1))
    queued = email(uow, clock, "ann@example.com", text="and another thing")
    assert item_of(uow, queued).assigned_to is None
    with uow() as s:  # the owner, off now, still sees it on My work (through a token of theirs)
        from onethread.access import service as access
        from onethread.models import StaffUser
        _, secret = access.create_token(s, clock, name="al", role="agent", staff_user_id=al)
        assert s.get(StaffUser, al).presence == "off"
    work = client.get("/api/v1/me/work", headers={"Authorization": f"Bearer {secret}"}).json()
    assert queued in [t["contactId"] for t in work["triage"]]
    assert [c["id"] for c in work["cases"]] == [case_id]


def test_my_work_lists_cases_by_next_due_unread_handovers_approvals_and_triage(client, uow, clock):
    jo, _, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    al, _, _ = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    ann = customer_with_email(uow, clock)
    bob = make_customer(uow, clock, "Bob", "Ray")
    slow = open_case(uow, clock, ann, jo, kind="request", title="Move my line")  # first response in 8 h
    fast = open_case(uow, clock, bob, jo, kind="damage_claim", title="Flooded box")  # in 2 h
    theirs = open_case(uow, clock, bob, al, kind="fault", title="Bob's other fault")
    with uow() as s:
        handover_service.request(s, clock, SYSTEM, theirs, to_owner_id=jo, reason="Al is off next week")
    r = client.get("/api/v1/me/work", headers=jo_hdr)
    assert r.status_code == 200, r.text
    work = r.json()
    assert [c["id"] for c in work["cases"]] == [fast, slow]
    assert work["cases"][0]["nextDue"] == "first response"
    assert [h["caseId"] for h in work["handovers"]] == [theirs]
    assert work["counts"]["cases"] == 2 and work["counts"]["handovers"] == 1
    assert all(c["unread"] for c in work["cases"])  # opened for me by someone else: news
    for case_id in (fast, slow):
        assert client.post("/api/v1/me/work/read", json={"caseId": case_id}, headers=jo_hdr).status_code == 204
    assert not any(c["unread"] for c in client.get("/api/v1/me/work", headers=jo_hdr).json()["cases"])
    # a new contact on my case: unread until I open it
    clock.advance(timedelta(minutes=5))
    email(uow, clock, "ann@example.com", subject=f"case {slow}", text="any news?")
    work = client.get("/api/v1/me/work", headers=jo_hdr).json()
    assert {c["id"]: c["unread"] for c in work["cases"]} == {fast: False, slow: True}
    assert work["counts"]["unread"] == 1
    assert client.post("/api/v1/me/work/read", json={"caseId": slow}, headers=jo_hdr).status_code == 204
    assert not any(c["unread"] for c in client.get("/api/v1/me/work", headers=jo_hdr).json()["cases"])
    # a triage item handed to me (Al is busy)
    clock.advance(timedelta(minutes=5))
    with uow() as s:
        from onethread.cases import assignment
        assignment.set_presence(s, clock, SYSTEM, al, presence="busy")
    contact = email(uow, clock, "stranger@example.com", text="hello?")
    work = client.get("/api/v1/me/work", headers=jo_hdr).json()
    assert [(t["contactId"], t["mine"]) for t in work["triage"]] == [(contact, True)]
    assert work["counts"]["triageMine"] == 1
    # a system token has no work of its own
    assert_tmf_error(client.get("/api/v1/me/work", headers={**_token(uow, clock)}), 403)
    with uow() as s:
        assert s.scalar(select(TriageItem.id).where(TriageItem.contact_id == contact)) is not None


def _token(uow, clock) -> dict:
    from onethread.access import service as access
    with uow() as s:
        _, secret = access.create_token(s, clock, name="crm", role="agent")
    return {"Authorization": f"Bearer {secret}"}
