"""Answers of the case actions and reads (``api/v1/cases.py``, ``case_items.py``, ``case_waits.py``,
``warm_handovers.py``); the case itself is TMF621 (``api/tmf/answers.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Named, When


class CaseSummary(Answer):
    """The short form of a case in answers to actions: always with the owner's name."""

    id: str
    href: str
    title: str | None
    kind: str
    status: str
    severity: str | None
    owner: Named
    escalationLevel: int


class CaseAction(Answer):
    """What an action made or changed, and the case it is on (its new ETag is in the header)."""

    type_: str = Field(alias="@type")
    case: CaseSummary


class HandoverItem(Answer):
    type_: str = Field("Handover", alias="@type")
    id: str
    caseId: str
    status: str
    from_: Named | None = Field(None, alias="from")
    to: Named | None = None
    reason: str | None = None
    requestedBy: str | None = None
    requestedAt: When | None = None
    decidedAt: When | None = None
    note: str | None = None


class Handover(HandoverItem, CaseAction):
    """A hand-over of the case to another owner, and the case."""


class CommitmentItem(Answer):
    type_: str = Field("Commitment", alias="@type")
    id: str
    caseId: str
    text: str
    dueAt: When | None = None
    madeVia: str | None = None
    madeAt: When | None = None
    madeBy: str | None = None
    public: bool
    status: str
    closedAt: When | None = None
    note: str | None = None


class Commitment(CommitmentItem, CaseAction):
    """A promise made to the customer, and the case."""


class HarmItem(Answer):
    type_: str = Field("Harm", alias="@type")
    id: str
    caseId: str
    kind: str
    description: str | None = None
    severity: str | None = None
    reportedSeverity: str | None = None
    reportedBy: str | None = None
    reportedAt: When | None = None
    resolvedAt: When | None = None
    resolution: str | None = None


class Harm(HarmItem, CaseAction):
    """A harm the customer suffered, and the case."""


class Assignee(Answer):
    kind: str
    id: str | None = None
    name: str | None = None


class TaskItem(Answer):
    type_: str = Field("Task", alias="@type")
    id: str
    caseId: str
    title: str
    assignee: Assignee
    dueAt: When | None = None
    status: str
    createdAt: When | None = None
    doneAt: When | None = None
    note: str | None = None


class Task(TaskItem, CaseAction):
    """A task on the case, and the case."""


class ParticipantItem(Answer):
    type_: str = Field("Participant", alias="@type")
    id: str
    caseId: str
    kind: str
    name: str
    organisation: str | None = None
    contact: str | None = None
    addedAt: When | None = None


class Participant(ParticipantItem, CaseAction):
    """Someone else involved in the case, and the case."""


class CaseClock(Answer):
    id: str
    kind: str
    label: str
    state: str = Field(..., description="running | paused | breached | stopped")
    startedAt: When | None = None
    dueAt: When | None = None
    firedAt: When | None = None
    stoppedAt: When | None = None
    refId: str | None = None
    pausedAt: When | None = None


class WaitItem(Answer):
    type_: str = Field("CaseWait", alias="@type")
    id: str
    on: str = Field(..., description="customer | third_party")
    party: str | None = None
    reason: str | None = None
    since: When | None = None
    until: When | None = None
    by: str | None = None
    endedBy: str | None = None
    endReason: str | None = None


class Wait(WaitItem, CaseAction):
    """Who the case waits on (its clocks paused meanwhile), and the case."""


class CaseMessage(CaseAction):
    """A message from the customer, or a reply to them, and the case."""

    contactId: str
    channel: str
    direction: str
    at: When | None
    text: str | None
    href: str


class CaseStep(CaseAction):
    """A complaint step recorded, and the case."""

    id: str
    step: str
    label: str
    text: str | None
    at: When | None
    by: str | None


class ContactRouting(Answer):
    type_: str = Field(alias="@type")
    contactId: str
    outcome: str = Field(..., description="joined | opened")
    case: CaseSummary


class ServiceNeeds(Answer):
    needs: list[str]
    words: list[str]
    assistedOnly: bool
    replyChannel: str | None
    proactiveContact: bool
    priority: bool
    copyRepresentative: bool


class Brief(Answer):
    """The story so far, for whoever picks the case up."""

    type_: str = Field(alias="@type")
    href: str
    caseId: str
    headline: str | None = None
    problem: str | None = None
    owner: str | None = None
    channels: list[str] | None = None
    contacts: int | None = None
    done: list[str] | None = None
    open: list[str] | None = None
    nextStep: str | None = None
    nextStepDue: When | None = None
    nextStepOwner: str | None = None
    forCustomer: str | None = None
    escalation: str | None = None
    customerNeeds: ServiceNeeds


class CaseEvent(Answer):
    type_: str = Field(alias="@type")
    id: str
    at: When | None
    kind: str
    actor: Named
    text: str | None
    audience: str | None
    data: dict[str, Any] = Field(..., description="what the event is about, by kind")


class Escalation(Answer):
    type_: str = Field(alias="@type")
    id: str
    at: When | None
    level: int
    rung: str | None
    clock: str | None
    clockId: str | None
    reason: str | None
    to: Named | None
    acknowledgedAt: When | None


class BreachedCase(Answer):
    type_: str = Field(alias="@type")
    caseId: str
    href: str
    title: str | None
    kind: str
    customer: str | None
    owner: Named
    oldestBreachAt: When | None
    clocks: list[Any]
    escalationLevel: int


class OwnerLoad(Answer):
    type_: str = Field(alias="@type")
    owner: Named
    openCases: int
    pastClock: int
    href: str


class OwnedCase(CaseSummary):
    type_: str = Field(alias="@type")
    customerId: str
    openedAt: When | None
    lastActivityAt: When | None


class Transfer(Answer):
    id: str | None
    teamId: str | None


class HandedSession(Answer):
    id: str
    href: str
    contactId: str | None
    transferredTo: Transfer
    transferredAt: When | None


class WarmHandover(Answer):
    type_: str = Field(alias="@type")
    caseOpened: bool
    case: CaseSummary
    handover: HandoverItem
    session: HandedSession | None = Field(..., description="the live contact sent along, or null")
