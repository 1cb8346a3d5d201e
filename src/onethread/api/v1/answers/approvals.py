"""Answers of four eyes (``api/v1/approvals.py``): a request for a drastic action and its decision."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Named, When


class Approval(Answer):
    """A request for a drastic action (``fields=`` may leave any attribute out of a list; the list
    never carries the evidence)."""

    type_: str = Field(alias="@type")
    id: str
    href: str
    action: str | None = None
    status: str | None = Field(None, description="pending | approved | rejected | withdrawn | executed | failed")
    version: int | None = None
    customerId: str | None = None
    productId: str | None = None
    identifierId: str | None = None
    caseId: str | None = None
    billId: str | None = None
    amount: int | None = Field(None, description="minor units")
    currency: str | None = None
    reason: str | None = None
    params: Any = None
    requiredRoles: list[str] | None = None
    requestedAt: When | None = None
    requestedBy: Named | None = None
    decidedAt: When | None = None
    decidedBy: Named | None = None
    decisionNote: str | None = None
    executedAt: When | None = None
    result: Any = None
    evidence: Any = Field(None, description="what was recorded when it was asked")
