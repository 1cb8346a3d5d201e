"""Answers of field service (``api/v1/field.py``): subcontractors and their audits, work orders,
visits (TMF646 Appointment shape) and incidents."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Named, Number, When


class Subcontractor(Answer):
    id: str
    href: str
    name: str
    teamId: str | None
    supplierManager: Named | None
    createdAt: When | None


class Record(Answer):
    """A subcontractor's record: visits, failures by cause, incidents, complaints."""

    visits: int
    failedVisitsByCause: dict[str, int]
    ownFailedVisits: int
    failedPercent: Number | None
    incidents: int
    incidentsPer100Visits: Number | None
    complaints: int


class SubcontractorWithRecord(Subcontractor):
    record: Record


class Audit(Answer):
    id: str
    href: str
    subcontractorId: str
    owner: Named | None
    status: str
    reasons: Any = Field(..., description="why the audit was opened")
    evidence: Any
    openedAt: When | None
    closedAt: When | None


class SubcontractorFile(SubcontractorWithRecord):
    thresholds: dict[str, Any] = Field(..., description="the thresholds an audit is opened at")
    audits: list[Audit]


class AppointmentParty(Answer):
    id: str | None
    role: str
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class Period(Answer):
    startDateTime: When | None
    endDateTime: When | None


class Visit(Answer):
    """A visit, as a TMF646 Appointment with onethread's own fields beside it."""

    type_: str = Field(alias="@type")
    id: str
    href: str
    status: str
    validFor: Period
    relatedEntity: list[dict[str, Any]]
    relatedParty: list[AppointmentParty]
    cause: str | None
    note: str | None
    cancelledBy: str | None
    wastedDay: bool | None
    rebooks: str | None = Field(..., description="the visit this one rebooks")
    bookedAt: When | None
    dispatchedAt: When | None
    outcomeAt: When | None


class WorkOrderTask(Answer):
    id: str
    position: int
    title: str
    kind: str
    cause: str | None
    status: str
    owner: str | None
    dueAt: When | None
    caseTaskId: str | None


class WorkOrder(Answer):
    """A work order; a single one also has its tasks, visits and wasted days (``fields=`` may leave any
    attribute out of a list)."""

    id: str
    href: str
    kind: str | None = None
    title: str | None = None
    status: str | None = None
    customerId: str | None = None
    customerName: str | None = None
    caseId: str | None = None
    productId: str | None = None
    subcontractorId: str | None = None
    createdAt: When | None = None
    closedAt: When | None = None
    tasks: list[WorkOrderTask] | None = None
    visits: list[Visit] | None = None
    wastedDays: int | None = None


class IncidentHarm(Answer):
    id: str
    kind: str
    severity: str | None
    reportedSeverity: str | None
    resolvedAt: When | None


class Incident(Answer):
    """Damage or a problem caused on a visit, with the harm recorded on the case."""

    id: str
    href: str
    kind: str
    description: str | None
    workOrderId: str | None
    visitId: str | None
    caseId: str | None
    harmId: str | None
    claimTaskId: str | None
    reportedBy: str | None
    reportedAt: When | None
    repairedAt: When | None
    repairNote: str | None
    confirmedAt: When | None
    confirmedBy: str | None
    harm: IncidentHarm
