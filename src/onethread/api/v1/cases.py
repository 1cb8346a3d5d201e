"""onethread's own case actions (``/api/v1``): messages, replies, complaint steps, close, merge,
split, routing a contact onto its case, the brief, the case log, escalations, the supervisor
queue and cases per owner. The items on a case (hand-overs, commitments, harms, participants,
tasks) are in ``case_items``. The case itself is TMF621 (api/tmf/trouble_ticket.py).

Translation only: every rule is in ``onethread.cases``. Actions that change a case honour
``If-Match`` (the case's ETag) and answer with its new ``ETag``. See docs/api/cases.md.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_SERVICE, CUSTOMER_WRITERS, SUPERVISORS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession
from onethread.api.tmf.answers import TroubleTicket
from onethread.api.tmf.conventions import CURSOR, check_if_match, created, paged
from onethread.api.tmf.trouble_ticket import (
    fresh_etag,
    iso,
    person,
    render,
    summary,
    ticket_path,
)
from onethread.api.v1.answers import cases as out
from onethread.api.v1.schemas import ServiceNeedsOut
from onethread.cases import merge_undo, queries, reads, rules
from onethread.cases import service as cases
from onethread.customers import queries as customer_queries
from onethread.decisions import direct_actions
from onethread.interactions.rules import CHANNELS
from onethread.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, next_cursor
from onethread.models import Case

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread cases"], route_class=AnswerRoute)
TEXT_MAX = 20_000
CHANNEL_HELP = " | ".join(CHANNELS)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageIn(_In):
    text: str = Field(..., min_length=1, max_length=TEXT_MAX)
    channel: str = Field(..., max_length=20, description=CHANNEL_HELP)
    onBehalfOf: str | None = Field(None, max_length=200, description="a representative writing for the customer")


class ReplyIn(_In):
    text: str = Field(..., min_length=1, max_length=TEXT_MAX)
    channel: str | None = Field(None, max_length=20, description=" | ".join(rules.REPLY_CHANNELS) + "; absent: the "
                                "customer's chosen channel (their preferences or recorded needs), else email")


class StepIn(_In):
    step: str = Field(..., description=" | ".join(rules.COMPLAINT_STEPS))
    text: str = Field(..., min_length=1, max_length=TEXT_MAX)


class CloseIn(_In):
    outcome: str = Field(..., min_length=1, max_length=5_000)
    customerConfirmed: bool


class MergeIn(_In):
    intoId: str = Field(..., max_length=26)
    reason: str = Field(..., min_length=1, max_length=5_000)


class UnmergeIn(_In):
    reason: str = Field(..., min_length=1, max_length=5_000)


class SplitIn(_In):
    contactIds: list[str] = Field(..., min_length=1, max_length=500)
    kind: str = Field(..., description=" | ".join(rules.KINDS))
    title: str = Field(..., min_length=1, max_length=rules.TITLE_MAX)
    reason: str = Field(..., min_length=1, max_length=5_000)


class RouteIn(_In):
    kind: str = Field(..., description=" | ".join(rules.KINDS))
    title: str = Field(..., min_length=1, max_length=rules.TITLE_MAX, description="the title if a case is opened")
    productId: str | None = Field(None, max_length=26)
    category: str | None = Field(None, max_length=rules.CATEGORY_MAX)
    ownerId: str | None = Field(None, max_length=26, description="the owner if a case is opened (default: you)")
    caseId: str | None = Field(None, max_length=26, description="put it on this case, whatever threading says")


# --- shared by the case actions ------------------------------------------------------------

def case_for_action(session: Session, request: Request, case_id: str) -> Case:
    """The case an action changes; a stale ``If-Match`` is refused before anything is written."""
    case = reads.get(session, case_id)
    check_if_match(request, case.version)
    return case


def answer(session: Session, response: Response, case: Case, item: dict) -> dict:
    """An action's answer: the item, and the case it is on (with its owner's name), plus the case's ETag."""
    fresh_etag(session, response, case)
    return {**item, "case": summary(session, case)}


OFFSET = Query(0, ge=0)
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# --- messages, replies, steps ----------------------------------------------------------------

def _contact(contact) -> dict:
    return {"@type": "CaseMessage", "contactId": contact.id, "channel": contact.channel,
            "direction": contact.direction, "at": iso(contact.occurred_at), "text": contact.text,
            "href": f"/tmf-api/partyInteraction/v5/partyInteraction/{contact.id}"}


@router.post("/cases/{case_id}/messages", response_model=out.CaseMessage, status_code=201,
             summary="A message from the customer (or their representative) to the owner; starts the reply clock")
def customer_message(case_id: str, body: MessageIn, request: Request, response: Response, session: DbSession,
                     clock: ClockDep, actor: person(CUSTOMER_WRITERS)) -> dict:
    case = case_for_action(session, request, case_id)
    contact = cases.customer_message(session, clock, actor, case.id, text=body.text, channel=body.channel,
                                     on_behalf=body.onBehalfOf)
    return answer(session, response, case, _contact(contact))


@router.post("/cases/{case_id}/replies", response_model=out.CaseMessage, status_code=201,
             summary="A named person answers the customer; the waiting and first-response clocks stop")
def reply(case_id: str, body: ReplyIn, request: Request, response: Response, session: DbSession, clock: ClockDep,
          actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    contact = cases.reply(session, clock, actor, case.id, text=body.text, channel=body.channel)
    return answer(session, response, case, _contact(contact))


@router.post("/cases/{case_id}/steps", response_model=out.CaseStep, status_code=201,
             summary="Record a complaint step: acknowledged, customer_account, apology, resolution_offer")
def record_step(case_id: str, body: StepIn, request: Request, response: Response, session: DbSession,
                clock: ClockDep, actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    entry = cases.record_step(session, clock, actor, case.id, step=body.step, text=body.text)
    return answer(session, response, case, {"@type": "CaseStep", "id": entry.id, "step": body.step,
                                            "label": rules.STEP_LABELS[body.step], "text": entry.text,
                                            "at": iso(entry.at), "by": entry.actor_name})


# --- close, merge, split -------------------------------------------------------------------

@router.post("/cases/{case_id}/close", response_model=TroubleTicket,
             summary="Close with the outcome; 409 naming everything still open (harms, commitments, tasks, ...)")
def close(case_id: str, body: CloseIn, request: Request, response: Response, session: DbSession, clock: ClockDep,
          actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    direct_actions.close_case(session, clock, actor, case.id, outcome=body.outcome,
                              customer_confirmed=body.customerConfirmed)
    fresh_etag(session, response, case)
    return render(session, clock, [case], with_brief=False)[0]


@router.post("/cases/{case_id}/merge", response_model=TroubleTicket,
             summary="Merge this case into another of the same customer; answers with the case merged into")
def merge(case_id: str, body: MergeIn, request: Request, response: Response, session: DbSession, clock: ClockDep,
          actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    target = cases.merge(session, clock, actor, case.id, into_id=body.intoId, reason=body.reason)
    fresh_etag(session, response, target)
    return render(session, clock, [target], with_brief=False)[0]


@router.post("/cases/{case_id}/unmerge", response_model=TroubleTicket,
             summary="Undo the merge of this (merged, closed) case: both cases back exactly as they were; 409 "
                     "naming why when that can no longer be exact. Team leads and administrators, as persons")
def unmerge(case_id: str, body: UnmergeIn, response: Response, session: DbSession, clock: ClockDep,
            actor: person(SUPERVISORS)) -> dict:
    case = merge_undo.unmerge(session, clock, actor, case_id, reason=body.reason)
    fresh_etag(session, response, case)
    return render(session, clock, [case], with_brief=False)[0]


@router.post("/cases/{case_id}/split", response_model=TroubleTicket, status_code=201,
             summary="Move some contacts to a new case with the same owner; answers with the new case")
def split(case_id: str, body: SplitIn, request: Request, response: Response, session: DbSession, clock: ClockDep,
          actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    new = cases.split(session, clock, actor, case.id, contact_ids=body.contactIds, kind=body.kind, title=body.title,
                      reason=body.reason)
    created(response, ticket_path(new.id))
    fresh_etag(session, response, new)
    return render(session, clock, [new], with_brief=False)[0]


@router.post("/contacts/{contact_id}/route", response_model=out.ContactRouting,
             summary="Put a contact on its case: the one named, else the open case about the same problem, else a "
                     "new one (201); the answer says which")
def route_contact(contact_id: str, body: RouteIn, response: Response, session: DbSession, clock: ClockDep,
                  actor: person(CUSTOMER_WRITERS)) -> dict:
    case, joined = cases.route_contact(session, clock, actor, contact_id, kind=body.kind, title=body.title,
                                       product_id=body.productId, category=body.category, owner_id=body.ownerId,
                                       case_id=body.caseId)
    if not joined:
        response.status_code = 201
        created(response, ticket_path(case.id))
    fresh_etag(session, response, case)
    return {"@type": "ContactRouting", "contactId": contact_id, "outcome": "joined" if joined else "opened",
            "case": summary(session, case)}


# --- reads -----------------------------------------------------------------------------------

@router.get("/cases/{case_id}/brief", response_model=out.Brief,
            summary="The story so far, for whoever picks the case up (and the customer)")
def brief(case_id: str, session: DbSession, clock: ClockDep, actor: person(CUSTOMER_READERS)) -> dict:
    found = reads.read_brief(session, clock, actor, case_id, channel="api")
    needs = customer_queries.service_needs(session, session.get(Case, case_id).customer_id, clock.now())
    return {"@type": "CaseBrief", "href": f"{V1}/cases/{case_id}/brief", **found.as_dict(),
            "customerNeeds": ServiceNeedsOut.of(needs).model_dump(mode="json")}


@router.get("/cases/{case_id}/events", response_model=list[out.CaseEvent],
            summary="The case's log, oldest first: who did what, when, by which channel")
def events(case_id: str, response: Response, session: DbSession, clock: ClockDep, actor: person(CUSTOMER_READERS),
           offset: int = OFFSET, limit: int = LIMIT,
           audience: Literal["internal", "customer"] | None = Query(None, description="customer: what the "
                                                                     "customer was told or sent")) -> list[dict]:
    rows, total = reads.read_events(session, clock, actor, case_id, offset=offset, limit=limit, audience=audience,
                                    channel="api")
    items = [{"@type": "CaseEvent", "id": e.id, "at": iso(e.at), "kind": e.kind,
              "actor": {"id": e.actor_id, "name": e.actor_name}, "text": e.text, "audience": e.audience,
              "data": e.data or {}} for e in rows]
    return paged(response, items, total, None)


@router.get("/cases/{case_id}/escalations", response_model=list[out.Escalation],
            summary="The case's escalations, oldest first, with whom they went to")
def escalations(case_id: str, session: DbSession, clock: ClockDep, actor: person(CUSTOMER_READERS)) -> list[dict]:
    rows, names = reads.read_escalations(session, clock, actor, case_id, channel="api")
    return [{"@type": "Escalation", "id": e.id, "at": iso(e.at), "level": e.level, "rung": rules.ladder_rung(e.level),
             "clock": e.clock_kind, "clockId": e.clock_id, "reason": e.reason,
             "to": {"id": e.to_staff_id, "name": names.get(e.to_staff_id)} if e.to_staff_id else None,
             "acknowledgedAt": iso(e.acknowledged_at)} for e in rows]


@router.get("/supervisor/queue", response_model=list[out.BreachedCase],
            summary="Every open case past a clock, oldest breach first (supervisors)")
def supervisor_queue(response: Response, session: DbSession, clock: ClockDep, actor: person(SUPERVISORS),
                     offset: int = OFFSET, limit: int = LIMIT, cursor: str | None = CURSOR) -> list[dict]:
    rows, total = reads.supervisor_queue(session, clock, actor, offset=offset, limit=limit, channel="api",
                                         cursor=cursor)
    items = [{"@type": "BreachedCase", "caseId": b.case_id, "href": ticket_path(b.case_id), "title": b.title,
              "kind": b.kind, "customer": b.customer, "owner": {"id": b.owner_id, "name": b.owner},
              "oldestBreachAt": iso(b.oldest_breach_at), "clocks": b.clocks, "escalationLevel": b.escalation_level}
             for b in rows]
    nxt = next_cursor((rows[-1].oldest_breach_at, rows[-1].case_id) if rows else None, len(rows), limit)
    return paged(response, items, total, None, nxt)


@router.get("/supervisor/owners", response_model=list[out.OwnerLoad],
            summary="Open cases per owner, and how many are past a clock (supervisors)")
def owners(session: DbSession, actor: person(SUPERVISORS)) -> list[dict]:
    return [{"@type": "OwnerLoad", "owner": {"id": oid, "name": name}, "openCases": n, "pastClock": late,
             "href": f"{V1}/staff/{oid}/cases"} for oid, name, n, late in queries.cases_per_owner(session)]


@router.get("/staff/{staff_id}/cases", response_model=list[out.OwnedCase],
            summary="The cases a staff member owns (open ones unless includeClosed)")
def staff_cases(staff_id: str, response: Response, session: DbSession, clock: ClockDep,
                actor: person(CUSTOMER_READERS), offset: int = OFFSET, limit: int = LIMIT,
                include_closed: bool = Query(False, alias="includeClosed"),
                cursor: str | None = CURSOR) -> list[dict]:
    _, rows, total = reads.owner_cases(session, clock, actor, staff_id, offset=offset, limit=limit,
                                       include_closed=include_closed, channel="api", cursor=cursor)
    items = [{**summary(session, c), "@type": "CaseSummary", "customerId": c.customer_id,
              "openedAt": iso(c.opened_at), "lastActivityAt": iso(c.last_activity_at)} for c in rows]
    nxt = next_cursor((rows[-1].opened_at, rows[-1].id) if rows else None, len(rows), limit)
    return paged(response, items, total, None, nxt)
