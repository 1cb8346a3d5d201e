"""``/api/v1/me/work``: the caller's own work list (docs/api/my-work.md). Polled by the My work
page for live updates. Translation only: the read model is ``cases.my_work``."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_SERVICE, Principal
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.v1.answers import work as out
from onethread.cases import my_work
from onethread.cases.items_service import open_case
from onethread.decisions import approval_queries
from onethread.errors import Forbidden
from onethread.models import StaffUser

router = APIRouter(prefix="/api/v1", tags=["my work"], route_class=AnswerRoute)


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caseId: str = Field(..., min_length=1, max_length=26)


def _me(session, actor: Principal) -> StaffUser:
    user = access.user_of(session, actor)
    if user is None:
        raise Forbidden("My work is a person's: call as a staff member (or with a token issued to one)")
    return user


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def work_json(session, clock, actor: Principal, user: StaffUser) -> dict:
    work = my_work.my_work(session, clock, user)
    approvals = approval_queries.waiting_for(session, staff_id=user.id, role=user.role)
    shown = {c.case.customer_id for c in work.cases} | {t[0].customer_id for t in work.triage if t[0].customer_id}
    shown |= {h[1].customer_id for h in work.handovers} | {a.customer_id for a in approvals}
    for customer_id in sorted(shown):  # names and what customers wrote are personal data
        access.audit(session, clock, actor, action="read", resource_type="my_work", resource_id=None,
                     customer_id=customer_id, channel="api", purpose="my work")
    if any(t[0].customer_id is None for t in work.triage):
        access.audit(session, clock, actor, action="read", resource_type="my_work", resource_id=None,
                     customer_id=None, channel="api", purpose="my work: unmatched contacts")
    return {
        "@type": "MyWork", "staffId": user.id, "displayName": user.display_name, "presence": user.presence,
        "counts": {**work.counts, "approvals": len(approvals)},
        "cases": [{"id": c.case.id, "href": f"/api/v1/cases/{c.case.id}", "title": c.case.title,
                   "kind": c.case.kind, "status": c.case.status, "customerId": c.case.customer_id,
                   "customerName": c.customer_name, "nextDueAt": _iso(c.next_due_at), "nextDue": c.next_due,
                   "breached": c.breached, "lastActivityAt": _iso(c.last_activity_at), "unread": c.unread}
                  for c in work.cases],
        "handovers": [{"id": h.id, "caseId": case.id, "caseTitle": case.title, "customerId": case.customer_id,
                       "reason": h.reason, "requestedAt": _iso(h.requested_at), "requestedByName": by}
                      for h, case, by in work.handovers],
        "approvals": [{"id": a.id, "href": f"/api/v1/approvals/{a.id}", "action": a.action,
                       "customerId": a.customer_id, "caseId": a.case_id, "reason": a.reason,
                       "requestedAt": _iso(a.requested_at), "requestedByName": a.requested_by_name}
                      for a in approvals],
        "triage": [{"id": item.id, "href": f"/api/v1/triage/{item.id}", "contactId": contact.id,
                    "channel": contact.channel, "subject": contact.subject, "text": (contact.text or "")[:280],
                    "customerId": item.customer_id, "customerName": name, "teamId": item.team_id,
                    "assignedTo": item.assigned_to, "mine": item.assigned_to == user.id,
                    "createdAt": _iso(item.created_at), "dueAt": _iso(item.due_at),
                    "escalationLevel": item.escalation_level, "reason": item.reason}
                   for item, contact, name in work.triage],
    }


@router.get("/me/work", response_model=out.MyWork,
            summary="My work: my cases by what is due next, hand-overs and approvals for me, "
                                "triage items")
def get_work(session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE)) -> dict:
    return work_json(session, clock, actor, _me(session, actor))


@router.post("/me/work/read", status_code=204, summary="Mark a case read (clears its unread marker for me)")
def mark_read(body: ReadIn, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE)) -> None:
    user = _me(session, actor)
    my_work.mark_read(session, clock, user.id, open_case(session, body.caseId).id)
