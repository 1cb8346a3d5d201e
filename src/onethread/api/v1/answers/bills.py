"""Answers of bills and the bill audit (``api/v1/bills.py``, ``bill_audit.py``). Amounts are minor
units in the bill's currency. TMF678 bills are in ``api/tmf/answers.py``."""

from __future__ import annotations

from pydantic import Field

from onethread.api.answers import Answer, Day, When


class Charge(Answer):
    id: str
    kind: str
    description: str | None
    amount: int
    currency: str
    productId: str | None
    identifierId: str | None
    periodStart: Day | None
    periodEnd: Day | None
    outsideHolding: bool = Field(..., description="charged for a time the customer did not hold the line")


class Bill(Answer):
    """A bill with its charges (``fields=`` may leave any attribute out of a list)."""

    type_: str = Field(alias="@type")
    id: str
    href: str
    billNumber: str | None = None
    customerId: str | None = None
    billingAccountId: str | None = None
    periodStart: Day | None = None
    periodEnd: Day | None = None
    issuedOn: Day | None = None
    dueOn: Day | None = None
    currency: str | None = None
    amount: int | None = None
    paid: int | None = None
    writtenOff: int | None = None
    owed: int | None = None
    paidAt: When | None = None
    status: str | None = None
    charges: list[Charge] | None = None


class AuditRun(Answer):
    found: dict[str, int] = Field(..., description="findings this run found, per rule code (BA01...)")
    total: int
    caseIds: list[str] = Field(..., description="the billing cases the findings went on")
    customersWithoutOwner: list[str]


class BillFinding(Answer):
    """A charge the audit rules question, with what is at stake and its review."""

    type_: str = Field(alias="@type")
    id: str
    href: str
    code: str
    rule: str | None
    explanation: str | None
    customerId: str
    billId: str | None
    billNumber: str | None
    chargeId: str | None
    productId: str | None
    periodStart: Day
    periodEnd: Day
    referenceOn: Day | None
    charged: int
    atStake: int
    currency: str
    status: str
    foundAt: When | None
    caseId: str | None
    decisionId: str | None
    reviewedBy: str | None
    reviewedByName: str | None
    reviewedAt: When | None
    reviewNote: str | None
