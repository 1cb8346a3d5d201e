"""Answers of decisions and policies (``api/v1/decisions.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Named, When


class PolicyRef(Answer):
    name: str
    version: int
    id: str | None


class Reasons(Answer):
    staff: str | None
    customer: str | None


class Order(Answer):
    orderedAt: When | None
    channel: str | None
    caseId: str | None
    commitmentId: str | None


class Decision(Answer):
    """A policy's answer to the facts, with the policy version that gave it."""

    type_: str = Field(alias="@type")
    id: str
    href: str
    policy: PolicyRef
    outcome: str
    rule: str | None
    reasons: Reasons
    dueAt: When | None
    facts: dict[str, Any]
    channel: str | None
    customerId: str | None
    productId: str | None
    caseId: str | None
    decidedAt: When | None
    decidedBy: Named
    order: Order | None = Field(..., description="the replacement ordered on it, or null")


class Outcome(Answer):
    name: str
    staffReason: str | None
    customerReason: str | None
    dueInDays: int | None


class Explanation(Answer):
    policyDescription: str | None
    rule: str
    conditions: list[str]
    rulesBefore: list[str] = Field(..., description="the rules tried first, which did not apply")
    outcome: Outcome


class ExplainedDecision(Decision):
    explanation: Explanation


class OrderedCommitment(Answer):
    id: str
    text: str
    dueAt: When | None
    caseId: str | None


class OrderedDecision(Decision):
    commitment: OrderedCommitment


class PolicyVersion(Answer):
    type_: str = Field(alias="@type")
    id: str
    name: str
    version: int
    checksum: str
    loadedAt: When | None
    loadedBy: str | None
    href: str


class PolicySource(PolicyVersion):
    source: str = Field(..., description="the policy's YAML, as loaded")
