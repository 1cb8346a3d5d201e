"""The bill audit (``/api/v1/bill-audits``, ``/api/v1/customers/{id}/bill-findings``): run the audit
rules on demand and read a customer's findings with the money at stake.

Translation only: the rules are in ``onethread.billing.audit``. See docs/api/bill-audit.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import CUSTOMER_READERS
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.bills import BILLING_WRITERS
from onethread.billing import audit, findings, rules
from onethread.customers.service import get_customer

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread bill audit"])


class AuditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customerId: str | None = Field(None, max_length=26, description="one customer's charges (default: all)")


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


@router.post("/bill-audits", summary="Run the bill audit rules on every charge, or on one customer's")
def run_audit(body: AuditIn, session: DbSession, clock: ClockDep, actor: allow(BILLING_WRITERS)) -> dict:
    if body.customerId is not None:
        get_customer(session, body.customerId)
    done = audit.run(session, clock, customer_ids=[body.customerId] if body.customerId else None)
    return {"found": done.found, "total": done.total}


@router.get("/customers/{customer_id}/bill-findings", summary="The customer's bill audit findings")
def customer_findings(customer_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                      status: str | None = Query(None, description=" | ".join(rules.FINDING_STATUSES))
                      ) -> list[dict]:
    get_customer(session, customer_id)
    return [finding_json(v) for v in findings.customer_findings(session, clock, actor, customer_id, status=status,
                                                                channel="api")]
