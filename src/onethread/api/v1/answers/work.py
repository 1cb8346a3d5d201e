"""Answers of a person's work and the supervisor's lists (``api/v1/my_work.py``, ``reports.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, When


class MyCase(Answer):
    id: str
    href: str
    title: str | None
    kind: str
    status: str
    customerId: str
    customerName: str | None
    nextDueAt: When | None
    nextDue: str | None = Field(..., description="what is due next")
    breached: int | bool = Field(..., description="past a clock (1) or not (0)")
    lastActivityAt: When | None
    unread: bool


class MyHandover(Answer):
    id: str
    caseId: str
    caseTitle: str | None
    customerId: str
    reason: str | None
    requestedAt: When | None
    requestedByName: str | None


class MyApproval(Answer):
    id: str
    href: str
    action: str
    customerId: str | None
    caseId: str | None
    reason: str | None
    requestedAt: When | None
    requestedByName: str | None


class MyTriageItem(Answer):
    id: str
    href: str
    contactId: str
    channel: str
    subject: str | None
    text: str = Field(..., description="the first 280 characters")
    customerId: str | None
    customerName: str | None
    teamId: str | None
    assignedTo: str | None
    mine: bool
    createdAt: When | None
    dueAt: When | None
    escalationLevel: int
    reason: str | None


class MyWork(Answer):
    """My cases by what is due next, hand-overs and approvals waiting for me, triage items."""

    type_: str = Field(alias="@type")
    staffId: str
    displayName: str
    presence: str | None
    counts: dict[str, int]
    cases: list[MyCase]
    handovers: list[MyHandover]
    approvals: list[MyApproval]
    triage: list[MyTriageItem]


class ReportRow(Answer):
    id: str
    caseId: str | None
    title: str | None
    kind: str | None
    status: str | None
    customerId: str | None
    customer: str | None
    owner: str | None
    openedAt: When | None
    clock: str | None
    at: When | None = Field(..., description="when the clock ran out")
    tookSeconds: int | None


class Report(Answer):
    """The cases (or triage items) behind a figure of the supervisor view, a page at a time."""

    figure: dict[str, Any] = Field(..., description="the figure's parameters, as its query string")
    items: list[ReportRow]
    nextAfter: str | None


class SandboxClock(Answer):
    """The sandbox's clock; after a move, the sweeps it ran on the way."""

    mode: str = Field(..., description="manual | system")
    now: When
    before: When | None = None
    steps: int | None = None
    handled: dict[str, int] | None = Field(None, description="items each sweep handled during the move")
