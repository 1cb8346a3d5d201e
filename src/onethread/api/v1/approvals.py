"""Four eyes (``/api/v1/approvals``): ask for a drastic action with its evidence, and let a second
person approve, reject, or the requester withdraw it.

Translation only: every rule is in ``onethread.decisions.approvals``. See docs/api/approvals.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from onethread.access.rules import CUSTOMER_SERVICE
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.conventions import CURSOR, ListParams, created, paged
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.answers.approvals import Approval
from onethread.decisions import approval_rules, approvals
from onethread.interactions.rules import CHANNELS
from onethread.kernel.pagination import next_cursor
from onethread.models import ApprovalRequest

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread four eyes"], route_class=AnswerRoute)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApprovalIn(_In):
    action: Literal["terminate_line", "flag_fraud", "write_off", "close_unconfirmed"]
    reason: str = Field(..., max_length=approval_rules.REASON_MAX)
    customerId: str | None = Field(None, max_length=26)
    productId: str | None = Field(None, max_length=26, description="terminate_line: the line")
    identifierId: str | None = Field(None, max_length=26, description="the identifier in question (default: the "
                                                                      "line's number)")
    caseId: str | None = Field(None, max_length=26, description="close_unconfirmed: the complaint; else optional")
    billId: str | None = Field(None, max_length=26, description="write_off: the bill")
    amount: StrictInt | None = Field(None, description="write_off: minor units of the bill's currency")
    outcome: str | None = Field(None, max_length=approval_rules.OUTCOME_MAX, description="close_unconfirmed")
    channel: str | None = Field(None, max_length=20, description=" | ".join(CHANNELS))


class DecideIn(_In):
    note: str | None = Field(None, max_length=approval_rules.NOTE_MAX)
    version: StrictInt | None = Field(None, description="the version you read: 409 when it has changed")


def approval_json(r: ApprovalRequest, *, evidence: bool = True) -> dict:
    body = {
        "@type": "ApprovalRequest", "id": r.id, "href": f"{V1}/approvals/{r.id}", "action": r.action,
        "status": r.status, "version": r.version, "customerId": r.customer_id, "productId": r.product_id,
        "identifierId": r.identifier_id, "caseId": r.case_id, "billId": r.bill_id,
        "amount": r.amount_minor, "currency": r.currency, "reason": r.reason, "params": r.params,
        "requiredRoles": r.required_roles,
        "requestedAt": iso(r.requested_at), "requestedBy": {"id": r.requested_by, "name": r.requested_by_name},
        "decidedAt": iso(r.decided_at),
        "decidedBy": None if r.decided_by_name is None else {"id": r.decided_by, "name": r.decided_by_name},
        "decisionNote": r.decision_note, "executedAt": iso(r.executed_at), "result": r.result or None,
    }
    if evidence:
        body["evidence"] = r.evidence
    return body


@router.post("/approvals", response_model=Approval, status_code=201,
             summary="Ask for a drastic action; the evidence is captured now and nothing happens until approved")
def request_approval(body: ApprovalIn, response: Response, session: DbSession, clock: ClockDep,
                     actor: allow(CUSTOMER_SERVICE)) -> dict:
    r = approvals.request(session, clock, actor, action=body.action, reason=body.reason, customer_id=body.customerId,
                          product_id=body.productId, identifier_id=body.identifierId, case_id=body.caseId,
                          bill_id=body.billId, amount_minor=body.amount, outcome=body.outcome, channel=body.channel)
    created(response, f"{V1}/approvals/{r.id}")
    return approval_json(r)


@router.get("/approvals", response_model=list[Approval],
            summary="Requests, oldest first; filter by status and customer")
def list_approvals(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE),
                   params: Annotated[ListParams, Depends()],
                   status: str | None = Query(None, description=" | ".join(approval_rules.STATUSES)),
                   customerId: str | None = Query(None, max_length=26), cursor: str | None = CURSOR) -> list[dict]:
    rows, total = approvals.list_requests(session, clock, actor, status=status, customer_id=customerId,
                                          offset=params.offset, limit=params.limit, cursor=cursor)
    nxt = next_cursor((rows[-1].requested_at, rows[-1].id) if rows else None, len(rows), params.limit)
    return paged(response, [approval_json(r, evidence=False) for r in rows], total, params.fields, nxt)


@router.get("/approvals/{approval_id}", response_model=Approval,
            summary="One request with the evidence recorded when it was asked")
def get_approval(approval_id: str, response: Response, session: DbSession, clock: ClockDep,
                 actor: allow(CUSTOMER_SERVICE)) -> dict:
    return approval_json(approvals.read_request(session, clock, actor, approval_id))


@router.post("/approvals/{approval_id}/approve", response_model=Approval,
             summary="A second person with the right role approves: the action runs now (never the requester)")
def approve(approval_id: str, body: DecideIn, session: DbSession, clock: ClockDep,
            actor: allow(CUSTOMER_SERVICE)) -> dict:
    return approval_json(approvals.approve(session, clock, actor, approval_id, note=body.note,
                                           expected_version=body.version))


@router.post("/approvals/{approval_id}/reject", response_model=Approval,
             summary="A second person with the right role says no, with a note")
def reject(approval_id: str, body: DecideIn, session: DbSession, clock: ClockDep,
           actor: allow(CUSTOMER_SERVICE)) -> dict:
    return approval_json(approvals.reject(session, clock, actor, approval_id, note=body.note or "",
                                          expected_version=body.version))


@router.post("/approvals/{approval_id}/withdraw", response_model=Approval,
             summary="The requester takes the request back")
def withdraw(approval_id: str, body: DecideIn, session: DbSession, clock: ClockDep,
             actor: allow(CUSTOMER_SERVICE)) -> dict:
    return approval_json(approvals.withdraw(session, clock, actor, approval_id, note=body.note,
                                            expected_version=body.version))
