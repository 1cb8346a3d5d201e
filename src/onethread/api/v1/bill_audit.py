"""The bill audit (``/api/v1/bill-audits``, ``/api/v1/customers/{id}/bill-findings``,
``/api/v1/cases/{id}/bill-findings``, ``/api/v1/bill-findings/{id}/review``): run the audit rules on
demand (new overcharges go on the customer's billing case with the refund), read findings with
the money at stake, and a named person confirms or dismisses one.

Translation only: the rules are in ``onethread.billing.audit`` and ``onethread.decisions.bill_audit``.
See docs/api/bill-audit.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import ADMIN, BACK_OFFICE, CUSTOMER_READERS, SPECIALIST, TEAM_LEAD
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.answers import bills as out
from onethread.api.v1.bills import BILLING_WRITERS
from onethread.billing import findings, rules
from onethread.cases.service import get_case
from onethread.customers.service import get_customer
from onethread.decisions import bill_audit

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread bill audit"], route_class=AnswerRoute)
REVIEWERS = frozenset({BACK_OFFICE, SPECIALIST, TEAM_LEAD, ADMIN})  # people, never a system token


class AuditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customerId: str | None = Field(None, max_length=26, description="one customer's charges (default: all)")


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: str = Field(..., max_length=10, description="confirm | dismiss")
    note: str | None = Field(None, max_length=rules.REVIEW_NOTE_MAX, description="why (required to dismiss)")


def finding_json(v: findings.FindingView) -> dict:
    f = v.finding
    return {"@type": "BillFinding", "id": f.id, "href": f"{V1}/bill-findings/{f.id}", "code": f.code,
            "rule": v.rule, "explanation": v.explanation, "customerId": f.customer_id, "billId": f.bill_id,
            "billNumber": v.bill_number, "chargeId": f.charge_id, "productId": f.product_id,
            "periodStart": f.period_start.isoformat(), "periodEnd": f.period_end.isoformat(),
            "referenceOn": f.reference_on.isoformat() if f.reference_on else None, "charged": f.charged_minor,
            "atStake": f.at_stake_minor, "currency": f.currency, "status": f.status, "foundAt": iso(f.found_at),
            "caseId": f.case_id, "decisionId": f.decision_id, "reviewedBy": f.reviewed_by,
            "reviewedByName": f.reviewed_by_name, "reviewedAt": iso(f.reviewed_at), "reviewNote": f.review_note}


@router.post("/bill-audits", response_model=out.AuditRun,
             summary="Run the bill audit rules on every charge, or on one customer's")
def run_audit(body: AuditIn, session: DbSession, clock: ClockDep, actor: allow(BILLING_WRITERS)) -> dict:
    if body.customerId is not None:
        get_customer(session, body.customerId)
    done = bill_audit.audit_and_follow_up(session, clock, actor,
                                          customer_ids=[body.customerId] if body.customerId else None)
    return {"found": done.run.found, "total": done.run.total, "caseIds": done.case_ids,
            "customersWithoutOwner": done.unowned}


@router.get("/customers/{customer_id}/bill-findings", response_model=list[out.BillFinding],
            summary="The customer's bill audit findings")
def customer_findings(customer_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                      status: str | None = Query(None, description=" | ".join(rules.FINDING_STATUSES))
                      ) -> list[dict]:
    get_customer(session, customer_id)
    return [finding_json(v) for v in findings.customer_findings(session, clock, actor, customer_id, status=status,
                                                                channel="api")]


@router.get("/cases/{case_id}/bill-findings", response_model=list[out.BillFinding],
            summary="The bill audit findings on a case")
def case_findings(case_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS)) -> list[dict]:
    case = get_case(session, case_id)
    return [finding_json(v) for v in findings.customer_findings(session, clock, actor, case.customer_id,
                                                                case_id=case.id, channel="api")]


@router.post("/bill-findings/{finding_id}/review", response_model=out.BillFinding,
             summary="Confirm or dismiss a finding (a named person)")
def review_finding(finding_id: str, body: ReviewIn, session: DbSession, clock: ClockDep,
                   actor: allow(REVIEWERS)) -> dict:
    finding = bill_audit.review(session, clock, actor, finding_id, verdict=body.verdict, note=body.note)
    (view,) = findings.views(session, findings.by_id(finding.id))
    return finding_json(view)
