"""Triage and routing (``/api/v1/triage``, presence, "not this case"): docs/api/triage.md.

Translation only: the rules live in ``cases.triage`` and ``cases.assignment``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onethread.access import service as access
from onethread.access.rules import ANYONE, CUSTOMER_SERVICE, SUPERVISORS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.conventions import ListParams, paged
from onethread.api.v1.answers import triage as out
from onethread.api.v1.match_queue import contact_json
from onethread.cases import assignment, triage, triage_items
from onethread.errors import ValidationFailed
from onethread.models import Contact, StaffUser, Team, TriageItem

router = APIRouter(prefix="/api/v1", tags=["triage and routing"], route_class=AnswerRoute)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotThisCaseIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    caseId: str | None = Field(None, max_length=26, description="the customer's open case it belongs to instead "
                                                                "(omitted: back to a triage queue)")


class AssignIn(_In):
    staffId: str = Field(..., min_length=1, max_length=26, description="who takes it (yourself, or anyone for a lead)")


class PresenceIn(_In):
    presence: str = Field(..., description="available, busy, away or off")
    backAt: datetime | None = Field(None, description="with away: when they expect to be back")
    capacity: int | None = Field(None, description="open triage items handed to them at most (0-500)")


class SkillsIn(_In):
    skills: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        ..., max_length=30, description="languages (fr) and product kinds (fibre) the person handles")


class TeamRuleIn(_In):
    rule: str = Field(..., max_length=20, description="least_loaded, round_robin or skills")


def item_json(item: TriageItem, contact: Contact) -> dict:
    return {
        "id": item.id, "href": f"/api/v1/triage/{item.id}", "@type": "TriageItem",
        "teamId": item.team_id, "rule": item.rule, "reason": item.reason,
        "customerId": item.customer_id, "assignedTo": item.assigned_to,
        "assignedAt": item.assigned_at.isoformat() if item.assigned_at else None,
        "createdAt": item.created_at.isoformat(), "dueAt": item.due_at.isoformat(),
        "escalationLevel": item.escalation_level, "escalatedTo": item.escalated_to,
        "doneAt": item.done_at.isoformat() if item.done_at else None, "resolution": item.resolution,
        "caseId": item.case_id,
        "contact": contact_json(contact),
    }


def _audit(session, clock, actor, rows: list[tuple[TriageItem, Contact]]) -> None:
    for customer_id in sorted({c.customer_id or "" for _, c in rows}):  # what customers wrote is personal data
        access.audit(session, clock, actor, action="read", resource_type="triage_item", resource_id=None,
                     customer_id=customer_id or None, channel="api", purpose="triage queue",
                     detail={"contactIds": [c.id for _, c in rows if (c.customer_id or "") == customer_id]})


@router.get("/triage", response_model=list[out.TriageItem],
            summary="Triage items (open ones by default): customers whose needs ask for priority "
            "first, then oldest first")
def list_items(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE),
               params: Annotated[ListParams, Depends()],
               teamId: str | None = Query(None, max_length=26, description="one team's queue"),
               assignedTo: str | None = Query(None, max_length=26, description="handed to this person ('me': you)"),
               unassigned: bool = Query(False, description="only items nobody has been handed"),
               state: str = Query("open", description="open (default) or done")) -> list[dict]:
    if state not in ("open", "done"):
        raise ValidationFailed("state is open or done", field="state")
    if assignedTo == "me":
        assignedTo = actor.id
    rows, total = triage_items.page(session, team_id=teamId, assigned_to=assignedTo, unassigned=unassigned,
                                    done=state == "done", offset=params.offset, limit=params.limit)
    _audit(session, clock, actor, rows)
    return paged(response, [item_json(i, c) for i, c in rows], total, params.fields)


@router.get("/triage/{item_id}", response_model=out.TriageItem, summary="One triage item with its contact")
def get_item(item_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE)) -> dict:
    item = triage_items.get(session, item_id)
    contact = session.get(Contact, item.contact_id)
    _audit(session, clock, actor, [(item, contact)])
    return item_json(item, contact)


@router.post("/triage/{item_id}/assign", response_model=out.TriageItem,
             summary="Take a waiting item, or (a lead) hand it to someone")
def assign(item_id: str, body: AssignIn, session: DbSession, clock: ClockDep,
           actor: allow(CUSTOMER_SERVICE)) -> dict:
    item = assignment.assign_item(session, clock, actor, triage_items.get(session, item_id), body.staffId)
    return item_json(item, session.get(Contact, item.contact_id))


@router.post("/contacts/{contact_id}/not-this-case", response_model=out.ContactMoved,
             summary="Move a contact off the case triage put it on: onto another case, or back to a queue")
def not_this_case(contact_id: str, body: NotThisCaseIn, session: DbSession, clock: ClockDep,
                  actor: allow(CUSTOMER_SERVICE)) -> dict:
    contact = triage.not_this_case(session, clock, actor, contact_id, reason=body.reason, to_case_id=body.caseId)
    item = triage_items.open_item(session, contact.id)
    return {"id": contact.id, "@type": "Contact", "caseId": contact.case_id, "caseReason": contact.case_reason,
            "triageItem": item_json(item, contact) if item else None}


def presence_json(user: StaffUser, handed: int | None = None) -> dict:
    body = {"id": user.id, "@type": "Presence", "displayName": user.display_name, "presence": user.presence,
            "backAt": user.back_at.isoformat() if user.back_at else None,
            "since": user.presence_since.isoformat() if user.presence_since else None,
            "capacity": user.capacity, "teamId": user.team_id, "skills": list(user.skills or [])}
    if handed is not None:
        body["handedOut"] = handed
    return body


@router.put("/staff/{staff_id}/presence", response_model=out.Presence,
            summary="Set a presence: your own, or anyone's for a team lead")
def set_presence(staff_id: str, body: PresenceIn, session: DbSession, clock: ClockDep,
                 actor: allow(ANYONE)) -> dict:
    if staff_id == "me":
        staff_id = actor.id
    user, handed = assignment.set_presence(session, clock, actor, staff_id, presence=body.presence,
                                           back_at=body.backAt, capacity=body.capacity)
    return presence_json(user, handed)


@router.get("/staff/{staff_id}/presence", response_model=out.Presence, summary="Someone's presence and capacity")
def get_presence(staff_id: str, session: DbSession, actor: allow(CUSTOMER_SERVICE)) -> dict:
    user = access.get_user(session, actor.id if staff_id == "me" else staff_id)
    return presence_json(user)


@router.put("/staff/{staff_id}/skills", response_model=out.Presence,
            summary="A team lead records the languages and products someone handles")
def set_skills(staff_id: str, body: SkillsIn, session: DbSession, actor: allow(SUPERVISORS)) -> dict:
    return presence_json(assignment.set_skills(session, actor, staff_id, body.skills))


def team_rule_json(team: Team) -> dict:
    return {"id": team.id, "@type": "TeamRouting", "name": team.name, "rule": team.routing_rule}


@router.put("/teams/{team_id}/routing-rule", response_model=out.TeamRouting,
            summary="A team lead chooses how the team's waiting work is handed out")
def set_team_rule(team_id: str, body: TeamRuleIn, session: DbSession, actor: allow(SUPERVISORS)) -> dict:
    return team_rule_json(assignment.set_team_rule(session, actor, team_id, body.rule))
