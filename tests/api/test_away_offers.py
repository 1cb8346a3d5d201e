"""An owner away past the threshold (issue 15): each case is offered to a colleague by the team's
rule, not imposed; the offer is on the colleague's My work; accepting makes them the owner,
recorded; a decline or no answer in time offers it to the next; an owner back keeps it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from onethread.access import service as access
from onethread.cases import handover_service
from onethread.models import Case, CaseEvent, Handover, StaffUser
from tests.support.routing_api import presence
from tests.support.sessions_api import make_staff
from tests.support.triage_api import customer_with_email, open_case


def team(uow, clock):
    jo, team_id, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reid", "agent", "Contact centre")
    al, _, al_hdr = make_staff(uow, clock, "al.agent", "Al Morgan", "agent", "Contact centre")
    bo, _, bo_hdr = make_staff(uow, clock, "bo.agent", "Bo Lind", "agent", "Contact centre")
    lee, _, lee_hdr = make_staff(uow, clock, "lee.lead", "Lee Lead", "team_lead", "Contact centre")
    with uow() as s:
        access.set_team_lead(s, team_id, lee)
    case_id = open_case(uow, clock, customer_with_email(uow, clock), jo)
    return case_id, {"jo": (jo, jo_hdr), "al": (al, al_hdr), "bo": (bo, bo_hdr), "lee": (lee, lee_hdr)}


def sweep(uow, clock) -> int:
    with uow() as s:
        return handover_service.replace_away_owners(s, clock)


def offers(uow, case_id) -> list[tuple[str, str]]:
    with uow() as s:
        names = dict(s.execute(select(StaffUser.id, StaffUser.username)).all())
        return [(names[h.to_owner_id], h.status) for h in s.scalars(
            select(Handover).where(Handover.case_id == case_id).order_by(Handover.requested_at, Handover.id))]


def owner(uow, case_id) -> str:
    with uow() as s:
        return s.get(Case, case_id).owner_id


def offered_to_me(client, hdr) -> list[dict]:
    r = client.get("/api/v1/me/work", headers=hdr)
    assert r.status_code == 200, r.text
    return r.json()["handovers"]


def test_an_away_owners_case_is_offered_in_turn_until_a_colleague_accepts_it(client, uow, clock):
    case_id, who = team(uow, clock)
    jo, jo_hdr = who["jo"]
    assert presence(client, jo_hdr, "me", presence="away", backAt="2026-03-20T09:00:00Z").status_code == 200
    clock.advance(timedelta(hours=2))
    assert sweep(uow, clock) == 0  # a short absence hands nothing over
    clock.advance(timedelta(hours=23))  # away for more than ONETHREAD_AWAY_HANDOVER_HOURS (24)
    assert sweep(uow, clock) == 1
    assert owner(uow, case_id) == jo and offers(uow, case_id) == [("al.agent", "pending")]  # the least loaded
    [offer] = offered_to_me(client, who["al"][1])
    assert offer["caseId"] == case_id and offer["reason"].startswith("Jo Reid is away; offered by the team's rule")
    assert offer["requestedByName"] is None  # the rule, not a person
    assert sweep(uow, clock) == 0  # one offer at a time

    # Al declines: the next sweep offers it to Bo
    r = client.post(f"/api/v1/handovers/{offer['id']}/decline", json={"reason": "full this week"},
                    headers=who["al"][1])
    assert r.status_code == 200, r.text
    clock.advance(timedelta(minutes=1))
    assert sweep(uow, clock) == 1
    assert offers(uow, case_id)[1:] == [("bo.agent", "pending")]
    assert offered_to_me(client, who["al"][1]) == []

    # Bo does not answer within ONETHREAD_AWAY_OFFER_HOURS (4): it expires and goes to the lead
    clock.advance(timedelta(hours=3))
    assert sweep(uow, clock) == 0
    clock.advance(timedelta(hours=1))
    assert sweep(uow, clock) == 1
    assert offers(uow, case_id) == [("al.agent", "declined"), ("bo.agent", "expired"), ("lee.lead", "pending")]
    with uow() as s:
        expired = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "handover_expired"))
        assert expired is not None and expired.text == "not answered within 4 hours"

    # Lee accepts: Lee owns the case, recorded like any hand-over
    [offer] = offered_to_me(client, who["lee"][1])
    r = client.post(f"/api/v1/handovers/{offer['id']}/accept", headers=who["lee"][1])
    assert r.status_code == 200, r.text
    assert owner(uow, case_id) == who["lee"][0]
    with uow() as s:
        changed = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "owner_changed"))
        assert changed.actor_id == who["lee"][0] and changed.data["status"] == "accepted"
        assert changed.data["fromOwnerId"] == jo
    clock.advance(timedelta(hours=5))
    assert sweep(uow, clock) == 0  # the new owner is at work: nothing more


def test_everyone_asked_leaves_the_case_with_its_owner_and_an_owner_back_keeps_it(client, uow, clock):
    case_id, who = team(uow, clock)
    jo, jo_hdr = who["jo"]
    presence(client, jo_hdr, "me", presence="off")
    for _ in range(3):  # al, bo, then the lead: none answers
        clock.advance(timedelta(hours=25))
        sweep(uow, clock)
    clock.advance(timedelta(hours=5))
    assert sweep(uow, clock) == 0
    assert [status for _, status in offers(uow, case_id)] == ["expired", "expired", "expired"]
    assert owner(uow, case_id) == jo  # nobody left to ask: it stays, for a lead to impose

    case2 = open_case(uow, clock, customer_with_email(uow, clock, "Bea", "Ng", "bea@example.com"), who["al"][0])
    presence(client, who["al"][1], "me", presence="away")
    clock.advance(timedelta(hours=25))
    assert sweep(uow, clock) == 1
    assert offers(uow, case2) == [("bo.agent", "pending")]
    presence(client, who["al"][1], "me", presence="available")  # back before anyone answered
    assert sweep(uow, clock) == 0
    assert offers(uow, case2) == [("bo.agent", "cancelled")] and owner(uow, case2) == who["al"][0]


def test_an_agent_away_for_a_week_has_new_work_handed_to_a_colleague_recorded(client, uow, clock):
    from tests.support.triage_api import email, item_of

    case_id, who = team(uow, clock)
    jo, jo_hdr = who["jo"]
    back = (clock.now() + timedelta(days=7)).isoformat()
    assert presence(client, jo_hdr, "me", presence="away", backAt=back).status_code == 200
    clock.advance(timedelta(days=2))
    # Her customer writes about something new: not to Jo, who is away, but to a colleague at work
    contact = email(uow, clock, "ann@example.com", text="a new question while Jo is away")
    item = item_of(uow, contact)
    assert item.assigned_to == who["al"][0] and "owner of the customer's open case" not in item.reason
    assert contact in [t["contactId"] for t in client.get("/api/v1/me/work", headers=who["al"][1]).json()["triage"]]
    # and her case is offered by the team's rule; accepted, the change of owner is on the case log
    assert sweep(uow, clock) == 1
    [offer] = offered_to_me(client, who["al"][1])
    assert client.post(f"/api/v1/handovers/{offer['id']}/accept", headers=who["al"][1]).status_code == 200
    assert owner(uow, case_id) == who["al"][0]
    with uow() as s:
        changed = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "owner_changed"))
        assert changed.data["fromOwnerId"] == jo and changed.actor_id == who["al"][0]
        assert changed.text.startswith("Jo Reid is away; offered by the team's rule")
