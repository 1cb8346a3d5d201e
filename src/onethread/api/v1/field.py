"""Field service (``/api/v1``): subcontractors and their records, work orders with their ordered
tasks and prerequisites, visits (appointments, in the shape of TMF646 ``Appointment`` where it
fits), incidents reported from the field, and subcontractor audits.

Translation only: the rules are in ``onethread.fieldservice``. A subcontractor's people
(``field_subcontractor``) see only their own work orders, visits and incidents. See
docs/field-service.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import ADMINS, CUSTOMER_SERVICE, FIELD_WORKERS, SUPERVISORS, Principal
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.conventions import ListParams, created, paged
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.answers import field as out
from onethread.cases import rules as case_rules
from onethread.customers.queries import customer_names
from onethread.fieldservice import incidents, records, rules
from onethread.fieldservice import service as field
from onethread.kernel.clock import Clock
from onethread.models import FieldIncident, StaffUser, Subcontractor, SubcontractorAudit, Visit, WorkOrder

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread field service"], route_class=AnswerRoute)
NOTE_MAX = field.NOTE_MAX


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubcontractorIn(_In):
    name: str = Field(..., min_length=1, max_length=200)
    teamId: str = Field(..., max_length=26, description="the team its field_subcontractor users belong to")
    supplierManagerId: str = Field(..., max_length=26, description="the operator's person who manages it")


class TaskIn(_In):
    title: str = Field(..., min_length=1, max_length=field.TITLE_MAX)
    kind: str = Field("step", description=" | ".join(rules.TASK_KINDS))
    cause: str | None = Field(None, description="the visit failure cause a prerequisite answers to: "
                              + " | ".join(rules.FAILURE_CAUSES))
    teamId: str | None = Field(None, max_length=26, description="a prerequisite's owner (a team)")
    dueAt: AwareDatetime | None = Field(None, description="a prerequisite's due date")


class WorkOrderIn(_In):
    caseId: str = Field(..., max_length=26)
    kind: str = Field(..., description=" | ".join(rules.WORK_ORDER_KINDS))
    title: str = Field(..., min_length=1, max_length=field.TITLE_MAX)
    subcontractorId: str = Field(..., max_length=26)
    productId: str | None = Field(None, max_length=26, description="default: the case's product")
    tasks: list[TaskIn] = Field(default_factory=list, max_length=50, description="in order")


class NoteIn(_In):
    note: str | None = Field(None, max_length=NOTE_MAX)


class ValidFor(_In):
    startDateTime: AwareDatetime
    endDateTime: AwareDatetime


class VisitIn(_In):
    validFor: ValidFor = Field(..., description="the slot")
    technicianId: str | None = Field(None, max_length=26)
    rebooks: str | None = Field(None, max_length=26, description="the cancelled or failed visit this one replaces")


class DispatchIn(_In):
    technicianId: str | None = Field(None, max_length=26)


class OutcomeIn(_In):
    outcome: str = Field(..., description=" | ".join(rules.OUTCOMES))
    cause: str | None = Field(None, description="a failed visit's cause: " + " | ".join(rules.FAILURE_CAUSES))
    note: str | None = Field(None, max_length=NOTE_MAX)


class CancelIn(_In):
    cancelledBy: str = Field(..., description=" | ".join(rules.CANCELLED_BY))
    reason: str = Field(..., min_length=1, max_length=NOTE_MAX)


class IncidentIn(_In):
    kind: str = Field(..., description=" | ".join(rules.INCIDENT_KINDS))
    description: str = Field(..., min_length=1, max_length=NOTE_MAX)
    harmKind: str = Field(..., description="what the customer is left with: " + " | ".join(rules.HARM_KINDS))
    severity: str = Field(..., description=" | ".join(case_rules.SEVERITIES) + " (vulnerability raises it)")
    visitId: str | None = Field(None, max_length=26)
    caseId: str | None = Field(None, max_length=26, description="an open case of the customer's to put it on "
                               "(default: the work order's; a new damage case if that one is closed)")
    claimOwnerId: str | None = Field(None, max_length=26, description="default: the case owner")
    claimDueAt: AwareDatetime | None = Field(None, description=f"default: in {incidents.CLAIM_DAYS} days")


class RepairIn(_In):
    note: str = Field(..., min_length=1, max_length=NOTE_MAX)


class ConfirmIn(_In):
    confirmedBy: str = Field(..., description=" | ".join(rules.CONFIRMED_HOW))
    note: str = Field(..., min_length=1, max_length=NOTE_MAX)


# --- shapes ---------------------------------------------------------------------------------

def _name(session: Session, staff_id: str | None) -> dict | None:
    user = session.get(StaffUser, staff_id) if staff_id else None
    return {"id": user.id, "name": user.display_name} if user else None


def subcontractor_json(session: Session, sub: Subcontractor) -> dict:
    return {"id": sub.id, "href": f"{V1}/subcontractors/{sub.id}", "name": sub.name, "teamId": sub.team_id,
            "supplierManager": _name(session, sub.supplier_manager_id), "createdAt": iso(sub.created_at)}


def visit_json(session: Session, v: Visit) -> dict:
    """A visit as a TMF646 Appointment, with onethread's own fields beside it."""
    parties = [{"id": v.subcontractor_id, "role": "subcontractor", "@referredType": "Organization"}]
    tech = _name(session, v.technician_id)
    if tech:
        parties.append({**tech, "role": "technician", "@referredType": "Individual"})
    return {
        "@type": "Appointment", "id": v.id, "href": f"{V1}/visits/{v.id}", "status": v.status,
        "validFor": {"startDateTime": iso(v.slot_start), "endDateTime": iso(v.slot_end)},
        "relatedEntity": [{"id": v.work_order_id, "role": "workOrder", "@referredType": "WorkOrder"}],
        "relatedParty": parties,
        "cause": v.cause, "note": v.note, "cancelledBy": v.cancelled_by, "wastedDay": v.wasted_day,
        "rebooks": v.rebooked_from_id, "bookedAt": iso(v.booked_at), "dispatchedAt": iso(v.dispatched_at),
        "outcomeAt": iso(v.outcome_at),
    }


def incident_json(i: FieldIncident) -> dict:
    return {"id": i.id, "href": f"{V1}/field-incidents/{i.id}", "kind": i.kind, "description": i.description,
            "workOrderId": i.work_order_id, "visitId": i.visit_id, "caseId": i.case_id, "harmId": i.harm_id,
            "claimTaskId": i.claim_task_id, "reportedBy": i.reported_by, "reportedAt": iso(i.reported_at),
            "repairedAt": iso(i.repaired_at), "repairNote": i.repair_note, "confirmedAt": iso(i.confirmed_at),
            "confirmedBy": i.confirmed_how}


def work_order_json(session: Session, wo: WorkOrder, *, full: bool = False) -> dict:
    body = {"id": wo.id, "href": f"{V1}/work-orders/{wo.id}", "kind": wo.kind, "title": wo.title,
            "status": wo.status, "customerId": wo.customer_id,
            "customerName": customer_names(session, [wo.customer_id]).get(wo.customer_id),
            "caseId": wo.case_id, "productId": wo.product_id, "subcontractorId": wo.subcontractor_id,
            "createdAt": iso(wo.created_at), "closedAt": iso(wo.closed_at)}
    if full:
        body["tasks"] = [{"id": item.id, "position": item.position, "title": item.title, "kind": item.kind,
                          "cause": item.cause, "status": field.task_status(item, task),
                          "owner": task.assignee_name if task else None,
                          "dueAt": iso(task.due_at) if task else None, "caseTaskId": item.case_task_id}
                         for item, task in field.tasks_of(session, wo.id)]
        body["visits"] = [visit_json(session, v) for v in field.visits_of(session, wo.id)]
        body["wastedDays"] = sum(1 for v in body["visits"] if v["wastedDay"])
    return body


def audit_json(session: Session, a: SubcontractorAudit) -> dict:
    return {"id": a.id, "href": f"{V1}/subcontractor-audits/{a.id}", "subcontractorId": a.subcontractor_id,
            "owner": _name(session, a.owner_id), "status": a.status, "reasons": a.reasons, "evidence": a.evidence,
            "openedAt": iso(a.opened_at), "closedAt": iso(a.closed_at)}


def _read(session: Session, clock: Clock, actor: Principal, kind: str, item_id: str, customer_id: str) -> None:
    access.audit(session, clock, actor, action="read", resource_type=kind, resource_id=item_id,
                 customer_id=customer_id)


def _work_order(session: Session, clock: Clock, actor: Principal, wo_id: str) -> dict:
    wo = session.get(WorkOrder, wo_id)
    session.flush()
    _read(session, clock, actor, "work_order", wo.id, wo.customer_id)
    return work_order_json(session, wo, full=True)


# --- subcontractors -------------------------------------------------------------------------

@router.post("/subcontractors", response_model=out.Subcontractor,
             status_code=201, summary="Register a subcontractor: its team and supplier manager")
def create_subcontractor(body: SubcontractorIn, response: Response, session: DbSession, clock: ClockDep,
                         actor: allow(ADMINS)) -> dict:
    sub = field.create_subcontractor(session, clock, name=body.name, team_id=body.teamId,
                                     supplier_manager_id=body.supplierManagerId)
    created(response, f"{V1}/subcontractors/{sub.id}")
    return subcontractor_json(session, sub)


@router.get("/subcontractors", response_model=list[out.SubcontractorWithRecord],
            summary="Subcontractors with their records")
def list_subcontractors(session: DbSession, actor: allow(CUSTOMER_SERVICE)) -> list[dict]:
    return [{**subcontractor_json(session, s), "record": records.record_json(records.record_of(session, s.id))}
            for s in field.list_subcontractors(session)]


@router.get("/subcontractors/{sub_id}", response_model=out.SubcontractorFile,
            summary="A subcontractor's record: visits, failed visits by cause, "
            "incidents per 100 visits, complaints, its audits")
def get_subcontractor(sub_id: str, session: DbSession, actor: allow(CUSTOMER_SERVICE)) -> dict:
    sub = field.get_subcontractor(session, sub_id)
    return {**subcontractor_json(session, sub), "record": records.record_json(records.record_of(session, sub.id)),
            "thresholds": vars(records.thresholds(session)),
            "audits": [audit_json(session, a) for a in records.list_audits(session, sub_id=sub.id)]}


@router.get("/subcontractor-audits", response_model=list[out.Audit], summary="Subcontractor audits, newest first")
def list_audits(session: DbSession, actor: allow(CUSTOMER_SERVICE),
                status: str | None = Query(None, description="open | closed")) -> list[dict]:
    return [audit_json(session, a) for a in records.list_audits(session, status=status)]


@router.post("/subcontractor-audits/{audit_id}/close", response_model=out.Audit, summary="Close an audit (supervisors)")
def close_audit(audit_id: str, session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> dict:
    return audit_json(session, records.close_audit(session, clock, audit_id))


# --- work orders ----------------------------------------------------------------------------

@router.post("/work-orders", response_model=out.WorkOrder, status_code=201,
             summary="Open an installation or repair on a case, with its ordered tasks and prerequisites")
def create_work_order(body: WorkOrderIn, response: Response, session: DbSession, clock: ClockDep,
                      actor: allow(CUSTOMER_SERVICE)) -> dict:
    wo = field.create_work_order(session, clock, actor, case_id=body.caseId, kind=body.kind, title=body.title,
                                 subcontractor_id=body.subcontractorId, product_id=body.productId)
    for t in body.tasks:
        field.add_task(session, clock, actor, wo.id, title=t.title, kind=t.kind, cause=t.cause, team_id=t.teamId,
                       due_at=t.dueAt)
    created(response, f"{V1}/work-orders/{wo.id}")
    return _work_order(session, clock, actor, wo.id)


@router.get("/work-orders", response_model=list[out.WorkOrder],
            summary="Work orders, newest first (a subcontractor's people: their own only)")
def list_work_orders(response: Response, session: DbSession, clock: ClockDep, actor: allow(FIELD_WORKERS),
                     params: ListParams = Depends(),
                     customerId: str | None = Query(None, max_length=26),
                     status: str | None = Query(None, description="open | completed | cancelled")) -> list[dict]:
    rows, total = field.list_work_orders(session, actor, customer_id=customerId, status=status,
                                         offset=params.offset, limit=params.limit)
    access.audit_list(session, clock, actor, [("work_order", r.id, r.customer_id) for r in rows])
    return paged(response, [work_order_json(session, r) for r in rows], total, params.fields)


@router.get("/work-orders/{wo_id}", response_model=out.WorkOrder,
            summary="A work order with its tasks, prerequisites and visits")
def get_work_order(wo_id: str, session: DbSession, clock: ClockDep, actor: allow(FIELD_WORKERS)) -> dict:
    wo = field.work_order(session, actor, wo_id)
    return _work_order(session, clock, actor, wo.id)


@router.post("/work-orders/{wo_id}/tasks", response_model=out.WorkOrder, status_code=201,
             summary="Add an ordered step, or a prerequisite owned by a team with a due date")
def add_task(wo_id: str, body: TaskIn, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE)) -> dict:
    field.add_task(session, clock, actor, wo_id, title=body.title, kind=body.kind, cause=body.cause,
                   team_id=body.teamId, due_at=body.dueAt)
    return _work_order(session, clock, actor, wo_id)


@router.post("/work-order-tasks/{task_id}/done", response_model=out.WorkOrder, summary="A step or prerequisite is done")
def task_done(task_id: str, session: DbSession, clock: ClockDep, actor: allow(FIELD_WORKERS),
              body: NoteIn | None = None) -> dict:
    item = field.complete_task(session, clock, actor, task_id, note=body.note if body else None)
    return _work_order(session, clock, actor, item.work_order_id)


@router.post("/work-orders/{wo_id}/complete", response_model=out.WorkOrder,
             summary="The work is finished (a visit is done)")
def complete_work_order(wo_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE),
                        body: NoteIn | None = None) -> dict:
    field.complete_work_order(session, clock, actor, wo_id, note=body.note if body else None)
    return _work_order(session, clock, actor, wo_id)


# --- visits ---------------------------------------------------------------------------------

@router.post("/work-orders/{wo_id}/visits", response_model=out.Visit, status_code=201,
             summary="Book a visit (refused, naming it, while a prerequisite is open)")
def book_visit(wo_id: str, body: VisitIn, response: Response, session: DbSession, clock: ClockDep,
               actor: allow(CUSTOMER_SERVICE)) -> dict:
    v = field.book_visit(session, clock, actor, wo_id, slot_start=body.validFor.startDateTime,
                         slot_end=body.validFor.endDateTime, technician_id=body.technicianId, rebooks=body.rebooks)
    created(response, f"{V1}/visits/{v.id}")
    return visit_json(session, v)


@router.get("/visits/{visit_id}", response_model=out.Visit, summary="A visit (TMF646 Appointment shape)")
def get_visit(visit_id: str, session: DbSession, clock: ClockDep, actor: allow(FIELD_WORKERS)) -> dict:
    v = field.visit(session, actor, visit_id)
    _read(session, clock, actor, "visit", v.id, v.customer_id)
    return visit_json(session, v)


@router.post("/visits/{visit_id}/dispatch", response_model=out.Visit,
             summary="Send the technician (refused, naming it, while a prerequisite is open)")
def dispatch_visit(visit_id: str, session: DbSession, clock: ClockDep, actor: allow(FIELD_WORKERS),
                   body: DispatchIn | None = None) -> dict:
    v = field.dispatch_visit(session, clock, actor, visit_id, technician_id=body.technicianId if body else None)
    return visit_json(session, v)


@router.post("/visits/{visit_id}/outcome", response_model=out.Visit,
             summary="Done, failed (with a cause) or customer absent; the same cause twice escalates")
def visit_outcome(visit_id: str, body: OutcomeIn, session: DbSession, clock: ClockDep,
                  actor: allow(FIELD_WORKERS)) -> dict:
    v = field.record_outcome(session, clock, actor, visit_id, outcome=body.outcome, cause=body.cause, note=body.note)
    return visit_json(session, v)


@router.post("/visits/{visit_id}/cancel", response_model=out.Visit,
             summary="Cancel a visit, saying who and why (short notice: a wasted day)")
def cancel_visit(visit_id: str, body: CancelIn, session: DbSession, clock: ClockDep,
                 actor: allow(FIELD_WORKERS)) -> dict:
    v = field.cancel_visit(session, clock, actor, visit_id, by=body.cancelledBy, reason=body.reason)
    return visit_json(session, v)


# --- incidents ------------------------------------------------------------------------------

@router.post("/work-orders/{wo_id}/incidents", response_model=out.Incident, status_code=201,
             summary="Report damage, injury or property left unsafe: a harm on the case and a claim task")
def report_incident(wo_id: str, body: IncidentIn, response: Response, session: DbSession, clock: ClockDep,
                    actor: allow(FIELD_WORKERS)) -> dict:
    item = incidents.report(session, clock, actor, wo_id, kind=body.kind, description=body.description,
                            harm_kind=body.harmKind, severity=body.severity, visit_id=body.visitId,
                            claim_owner_id=body.claimOwnerId, claim_due_at=body.claimDueAt, case_id=body.caseId)
    created(response, f"{V1}/field-incidents/{item.id}")
    return _incident(session, item)


def _incident(session: Session, item: FieldIncident) -> dict:
    from onethread.models import Harm

    harm = session.get(Harm, item.harm_id)
    return {**incident_json(item), "harm": {"id": harm.id, "kind": harm.kind, "severity": harm.severity,
                                            "reportedSeverity": harm.reported_severity,
                                            "resolvedAt": iso(harm.resolved_at)}}


@router.get("/field-incidents/{incident_id}", response_model=out.Incident, summary="An incident with its harm")
def get_incident(incident_id: str, session: DbSession, clock: ClockDep, actor: allow(FIELD_WORKERS)) -> dict:
    item = incidents.get(session, actor, incident_id)
    _read(session, clock, actor, "field_incident", item.id, item.customer_id)
    return _incident(session, item)


@router.post("/field-incidents/{incident_id}/repair", response_model=out.Incident,
             summary="The subcontractor's own repair: recorded, the harm stays open")
def record_repair(incident_id: str, body: RepairIn, session: DbSession, clock: ClockDep,
                  actor: allow(FIELD_WORKERS)) -> dict:
    return _incident(session, incidents.record_repair(session, clock, actor, incident_id, note=body.note))


@router.post("/field-incidents/{incident_id}/confirm", response_model=out.Incident,
             summary="The customer confirmed, or an inspection verified, the damage put right: the harm closes")
def confirm_incident(incident_id: str, body: ConfirmIn, session: DbSession, clock: ClockDep,
                     actor: allow(CUSTOMER_SERVICE)) -> dict:
    return _incident(session, incidents.confirm(session, clock, actor, incident_id, how=body.confirmedBy,
                                                note=body.note))
