"""Answers of the customer portal (``api/v1/portal.py``): the person signed in, their cases and work
orders, and the portal accounts administrators open."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Named, When


class Represented(Answer):
    id: str
    name: str | None
    relationship: str | None
    mayMessage: bool


class PortalUser(Answer):
    type_: str = Field(alias="@type")
    name: str | None
    login: str
    customers: list[Represented] = Field(..., description="the customers they may act for")


class PortalCase(Answer):
    """A case as the customer sees it: owner, status in their words, next step."""

    type_: str = Field(alias="@type")
    id: str
    href: str
    title: str | None
    kind: str
    customer: Named
    onBehalfOf: Any
    status: str
    statusLabel: str
    owner: Named
    nextStep: str | None
    nextStepDue: When | None
    forCustomer: str | None
    awaitingReplySince: When | None
    mayMessage: bool
    openedAt: When | None
    closedAt: When | None


class PortalFile(Answer):
    id: str
    name: str
    mimeType: str | None
    size: int
    url: str


class LogEntry(Answer):
    at: When | None
    what: str
    by: str | None
    text: str | None
    mine: bool
    files: list[PortalFile]


class PortalCaseWithLog(PortalCase):
    log: list[LogEntry] = Field(..., description="what the customer may see, oldest first")


class PortalMessage(Answer):
    type_: str = Field(alias="@type")
    id: str
    caseId: str
    at: When | None
    text: str | None
    from_: str | None = Field(alias="from")
    onBehalfOf: Any
    files: list[PortalFile]
    case: PortalCase


class Slot(Answer):
    startDateTime: When | None
    endDateTime: When | None


class PortalIncidentLine(Answer):
    id: str
    kind: str
    description: str | None
    reportedBy: str | None
    reportedAt: When | None
    putRight: bool


class PortalWorkOrder(Answer):
    type_: str = Field(alias="@type")
    id: str
    title: str | None
    kind: str
    status: str
    caseId: str | None
    customer: Named
    subcontractor: Any
    mayReport: bool
    nextVisit: Slot | None
    incidents: list[PortalIncidentLine]


class PortalIncident(Answer):
    type_: str = Field(alias="@type")
    id: str
    workOrderId: str
    caseId: str | None
    kind: str
    description: str | None
    reportedBy: str | None
    reportedAt: When | None


class PortalAccount(Answer):
    type_: str = Field(alias="@type")
    id: str
    partyId: str
    login: str
    active: bool
    createdAt: When | None
