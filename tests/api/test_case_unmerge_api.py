"""Undoing a case merge over HTTP: both cases back exactly as they were, refused (409) when that
can no longer be exact, only by a team lead or an administrator as a named person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from onethread.models import CaseClock, Commitment, Contact, Handover, Harm, Participant, Task
from tests.support.case_actions_api import contact
from tests.support.case_unmerge_api import sign_in
from tests.support.trouble_ticket_api import BASE, make_world, open_case
from tests.tmf_schema import assert_tmf_error, validate

V1 = "/api/v1"


@pytest.fixture
def world(uow, clock):
    return make_world(uow, clock)


def state(client, uow, headers, *case_ids) -> dict:
    """Everything a user could notice about the cases, and the rows behind them."""
    # The brief tells the story from the log, which keeps the merge and its undo (the audit trail).
    tickets = {i: {k: v for k, v in client.get(f"{BASE}/{i}", headers=headers).json().items() if k != "brief"}
               for i in case_ids}
    with uow() as s:
        rows = {m.__name__: sorted((r.id, r.case_id) for r in s.scalars(select(m).where(m.case_id.in_(case_ids))))
                for m in (Contact, Commitment, Harm, Task, Participant)}
        rows["clocks"] = sorted((c.id, c.case_id, c.kind, c.due_at, c.stopped_at, c.fired_at)
                                for c in s.scalars(select(CaseClock).where(CaseClock.case_id.in_(case_ids))))
        rows["handovers"] = sorted((h.id, h.case_id, h.status, h.decided_at, h.decision_note)
                                   for h in s.scalars(select(Handover).where(Handover.case_id.in_(case_ids))))
    return {"tickets": tickets, "rows": rows}


def busy_pair(client, world, uow, clock, token_for) -> tuple[str, str]:
    """Two cases of one customer; the second with contacts, a promise, a harm, a task, a pending
    hand-over and a customer waiting for a reply."""
    h = world.as_alex
    first = open_case(client, h, world.customer, kind="damage_claim", name="Drilled pipe")["id"]
    second = open_case(client, h, world.customer, kind="damage_claim", name="No heating")["id"]
    clock.advance(timedelta(hours=1))
    for i in range(2):
        call = contact(uow, clock, world.customer, f"call {i}", i)
        assert client.post(f"{V1}/contacts/{call}/route", json={"kind": "damage_claim", "title": "x",
                                                                "caseId": second}, headers=h).status_code == 200
    due = (clock.now() + timedelta(days=3)).isoformat()
    assert client.post(f"{V1}/cases/{second}/commitments", json={"text": "call back", "dueAt": due,
                                                                  "madeVia": "phone"}, headers=h).status_code == 201
    assert client.post(f"{V1}/cases/{second}/harms", json={"kind": "no_heating", "description": "cold flat",
                                                            "severity": "high"}, headers=h).status_code == 201
    plumber = client.post(f"{V1}/cases/{second}/participants", json={"kind": "plumber", "name": "Dan"}, headers=h)
    assert client.post(f"{V1}/cases/{second}/tasks", json={
        "title": "repair the pipe", "assigneeKind": "participant", "assigneeId": plumber.json()["id"],
        "dueAt": due}, headers=h).status_code == 201
    assert client.post(f"{V1}/cases/{second}/handovers", json={"toOwnerId": world.sam, "reason": "expert"},
                       headers=h).status_code == 201
    assert client.post(f"{V1}/cases/{second}/messages", headers=token_for("integration"),
                       json={"text": "Still cold", "channel": "portal"}).status_code == 201
    clock.advance(timedelta(hours=1))
    return first, second


def test_an_undone_merge_puts_both_cases_back_exactly(client, world, uow, clock, token_for):
    first, second = busy_pair(client, world, uow, clock, token_for)
    before = state(client, uow, world.as_lead, first, second)
    merged = client.post(f"{V1}/cases/{second}/merge", json={"intoId": first, "reason": "same pipe"},
                         headers=world.as_alex)
    assert merged.status_code == 200, merged.text
    assert state(client, uow, world.as_lead, first, second) != before
    clock.advance(timedelta(minutes=30))
    undone = client.post(f"{V1}/cases/{second}/unmerge", json={"reason": "two different pipes"},
                         headers=world.as_lead)
    assert undone.status_code == 200, undone.text
    validate("TMF621", "TroubleTicket", undone.json())
    assert undone.json()["id"] == second and undone.json()["status"] != "closed" and undone.headers["ETag"]
    after = state(client, uow, world.as_lead, first, second)
    # The source's status changed twice; its last change is the undo, with its reason.
    changed = {k: after["tickets"][second].pop(k, None) for k in ("statusChangeDate", "statusChangeReason")}
    assert changed == {"statusChangeDate": clock.now().isoformat(), "statusChangeReason": "two different pipes"}
    for k in changed:
        before["tickets"][second].pop(k, None)
    for case_id in (first, second):
        for key in set(before["tickets"][case_id]) | set(after["tickets"][case_id]):
            assert after["tickets"][case_id].get(key) == before["tickets"][case_id].get(key), (case_id, key)
    assert after == before
    # The audit trail says who merged, who undid, when and why, on both cases.
    log = client.get(f"{V1}/cases/{second}/events", headers=world.as_lead)
    assert log.status_code == 200, log.text
    text = log.text
    assert "two different pipes" in text and "Lee Carter" in text and "same pipe" in text
    brief = client.get(f"{BASE}/{first}", headers=world.as_lead).json()["brief"]["done"]
    assert any("took a merged case back out: two different pipes" in line for line in brief)
    # Once undone there is nothing to undo.
    assert_tmf_error(client.post(f"{V1}/cases/{second}/unmerge", json={"reason": "again"},
                                 headers=world.as_lead), 404)


def test_an_undo_is_refused_when_it_can_no_longer_be_exact(client, world, uow, clock, token_for):
    first, second = busy_pair(client, world, uow, clock, token_for)
    assert client.post(f"{V1}/cases/{second}/merge", json={"intoId": first, "reason": "same pipe"},
                       headers=world.as_alex).status_code == 200
    assert client.post(f"{V1}/cases/{first}/replies", json={"text": "We are on it", "channel": "email"},
                       headers=world.as_alex).status_code == 201
    body = assert_tmf_error(client.post(f"{V1}/cases/{second}/unmerge", json={"reason": "wrong"},
                                        headers=world.as_lead), 409)
    assert "changed since the merge" in body["reason"] + body.get("message", "")
    assert client.get(f"{BASE}/{second}", headers=world.as_lead).json()["status"] == "closed"


def test_only_a_team_lead_or_an_administrator_as_a_person_undoes_a_merge(client, world, uow, clock, token_for):
    h = world.as_alex
    first = open_case(client, h, world.customer, kind="fault")["id"]
    second = open_case(client, h, world.customer, kind="fault")["id"]
    assert client.post(f"{V1}/cases/{second}/merge", json={"intoId": first, "reason": "same"},
                       headers=h).status_code == 200
    assert_tmf_error(client.post(f"{V1}/cases/{second}/unmerge", json={"reason": "x"}, headers=h), 403)
    assert_tmf_error(client.post(f"{V1}/cases/{second}/unmerge", json={"reason": "x"},
                                 headers=token_for("admin")), 403)
    assert_tmf_error(client.post(f"{V1}/cases/{second}/unmerge", json={"reason": " "},
                                 headers=world.as_lead), 400)
    assert_tmf_error(client.post(f"{V1}/cases/{first}/unmerge", json={"reason": "x"}, headers=world.as_lead), 404)
    assert client.post(f"{V1}/cases/{second}/unmerge", json={"reason": "x"},
                       headers=world.as_lead).status_code == 200


def test_a_split_case_links_back_to_its_origin_which_shows_where_its_contacts_went(client, world, uow, clock):
    h = world.as_alex
    origin = open_case(client, h, world.customer, kind="billing_dispute", name="April bill")["id"]
    calls = [contact(uow, clock, world.customer, f"call {i}", i) for i in range(3)]
    for call in calls:
        assert client.post(f"{V1}/contacts/{call}/route", json={"kind": "billing_dispute", "title": "x",
                                                                "caseId": origin}, headers=h).status_code == 200
    new = client.post(f"{V1}/cases/{origin}/split", json={"contactIds": calls[1:], "kind": "complaint",
                                                           "title": "Rude agent", "reason": "another problem"},
                      headers=h).json()
    assert new["splitFrom"] == {"id": origin, "href": f"{BASE}/{origin}", "name": "April bill"}
    ticket = client.get(f"{BASE}/{origin}", headers=h).json()
    validate("TMF621", "TroubleTicket", ticket)
    assert ticket["splitInto"] == [{"id": new["id"], "href": f"{BASE}/{new['id']}", "name": "Rude agent",
                                    "contactIds": sorted(calls[1:])}]
    sign_in(client, uow, world.alex)
    page = client.get(f"/cases/{origin}")
    assert page.status_code == 200
    assert f'href="/cases/{new["id"]}"' in page.text and "Rude agent" in page.text and "2 contacts" in page.text
    back = client.get(f"/cases/{new['id']}").text
    assert f'href="/cases/{origin}"' in back and "Split from" in back


def test_the_merged_case_page_offers_the_undo_to_a_team_lead_only(client, world, uow, clock):
    h = world.as_alex
    first = open_case(client, h, world.customer, kind="fault", name="No signal")["id"]
    second = open_case(client, h, world.customer, kind="fault", name="No calls")["id"]
    assert client.post(f"{V1}/cases/{second}/merge", json={"intoId": first, "reason": "same mast"},
                       headers=h).status_code == 200
    sign_in(client, uow, world.alex)
    assert f'action="/cases/{second}/unmerge"' not in client.get(f"/cases/{second}").text
    assert client.post(f"/cases/{second}/unmerge", data={"reason": "x"}).status_code == 403
    sign_in(client, uow, world.lead)
    assert f'action="/cases/{second}/unmerge"' in client.get(f"/cases/{second}").text
    empty = client.post(f"/cases/{second}/unmerge", data={"reason": ""})
    assert empty.status_code == 400 and "say why the merge is undone" in empty.text
    done = client.post(f"/cases/{second}/unmerge", data={"reason": "two masts"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/cases/{second}?done=unmerge")
    page = client.get(f"/cases/{second}").text
    assert "Undo the merge" not in page and "two masts" in page


ITEMS = st.fixed_dictionaries({"calls": st.integers(0, 2), "promise": st.booleans(), "harm": st.booleans(),
                               "handover": st.booleans(), "waiting": st.booleans(),
                               "severity": st.sampled_from(["low", "medium", "high"])})


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=ITEMS, target=ITEMS)
def test_any_merge_then_its_undo_is_a_round_trip(client, world, uow, clock, token_for, source, target):
    h, ids = world.as_alex, []
    for plan in (source, target):
        case_id = open_case(client, h, world.customer, kind="fault")["id"]
        ids.append(case_id)
        for _ in range(plan["calls"]):
            call = contact(uow, clock, world.customer, "call", f"{case_id}-{len(ids)}-{_}")
            client.post(f"{V1}/contacts/{call}/route", json={"kind": "fault", "title": "x", "caseId": case_id},
                        headers=h)
        if plan["promise"]:
            client.post(f"{V1}/cases/{case_id}/commitments", json={
                "text": "call back", "dueAt": (clock.now() + timedelta(days=2)).isoformat(), "madeVia": "phone"},
                headers=h)
        if plan["harm"]:
            client.post(f"{V1}/cases/{case_id}/harms", json={"kind": "no_service", "description": "no calls",
                                                              "severity": plan["severity"]}, headers=h)
        if plan["handover"]:
            client.post(f"{V1}/cases/{case_id}/handovers", json={"toOwnerId": world.sam, "reason": "x"}, headers=h)
        if plan["waiting"]:
            client.post(f"{V1}/cases/{case_id}/messages", headers=token_for("integration"),
                        json={"text": "hello?", "channel": "portal"})
        clock.advance(timedelta(minutes=5))
    before = state(client, uow, world.as_lead, *ids)
    assert client.post(f"{V1}/cases/{ids[0]}/merge", json={"intoId": ids[1], "reason": "one"},
                       headers=h).status_code == 200
    clock.advance(timedelta(minutes=5))
    assert client.post(f"{V1}/cases/{ids[0]}/unmerge", json={"reason": "two"},
                       headers=world.as_lead).status_code == 200
    after = state(client, uow, world.as_lead, *ids)
    for side in (before, after):
        for k in ("statusChangeDate", "statusChangeReason"):
            side["tickets"][ids[0]].pop(k, None)
    assert after == before
