"""Incidents reported from the field by anyone (technician, agent): damage, injury, property
left unsafe. Each is a harm on the customer's case (vulnerability raises its severity), tells
the case owner and the subcontractor's manager, and opens a damage-claim task with an owner and
a due date. The subcontractor's own repair is recorded as such and leaves the harm open: only the
customer's confirmation or a verified inspection closes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import FIELD_SUBCONTRACTOR, ROLE_LABELS, Principal
from onethread.cases import items_service
from onethread.cases import service as cases
from onethread.cases.log import log
from onethread.db.outbox import record_event
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.fieldservice import records, rules
from onethread.fieldservice.events import IncidentReported
from onethread.fieldservice.service import NOTE_MAX, _person, _text, own_subcontractor, work_order
from onethread.kernel.case_status import CaseStatus
from onethread.kernel.clock import Clock
from onethread.models import Case, FieldIncident, Harm, StaffUser, Subcontractor, Team, Visit, WorkOrder

CLAIM_DAYS = 5  # a damage claim is answered within this many days unless another date is given


def get(session: Session, actor: Principal, incident_id: str) -> FieldIncident:
    item = session.get(FieldIncident, incident_id)
    mine = own_subcontractor(session, actor)
    if item is None or (mine is not None and item.subcontractor_id != mine):
        raise NotFound(f"no incident {incident_id}")
    return item


def list_for(session: Session, actor: Principal, wo_id: str) -> list[FieldIncident]:
    work_order(session, actor, wo_id)
    return list(session.scalars(select(FieldIncident).where(FieldIncident.work_order_id == wo_id)
                                .order_by(FieldIncident.reported_at)))


def _case_for(session: Session, clock: Clock, actor: Principal, case: Case, kind: str, description: str,
              via: str) -> Case:
    """The work order's case, or, when that one is closed, a new damage case for the same owner."""
    if case.status != CaseStatus.CLOSED:
        return case
    return cases.open_new(session, clock, actor, customer_id=case.customer_id, kind="damage_claim",
                          title=f"Field incident ({kind}): {description[:200]}", opened_via=via,
                          product_id=case.product_id, category="installation_damage", owner_id=case.owner_id)


def report(session: Session, clock: Clock, actor: Principal, wo_id: str, *, kind: str, description: str,
           harm_kind: str, severity: str, visit_id: str | None = None, claim_owner_id: str | None = None,
           claim_due_at: datetime | None = None, case_id: str | None = None) -> FieldIncident:
    """``case_id``: the customer's open case it belongs on (default: the work order's, or a new
    damage case when that one is closed)."""
    _person(actor, "reporting an incident")
    wo = work_order(session, actor, wo_id)
    label = ROLE_LABELS.get(actor.role, actor.role).lower()
    return record(session, clock, actor, wo, kind=kind, description=description, harm_kind=harm_kind,
                  severity=severity, visit_id=visit_id, claim_owner_id=claim_owner_id, claim_due_at=claim_due_at,
                  case_id=case_id, reported_by=f"{actor.name} ({label})", via="field")


def record(session: Session, clock: Clock, actor: Principal, wo: WorkOrder, *, kind: str, description: str,
           harm_kind: str, severity: str, reported_by: str, via: str, visit_id: str | None = None,
           claim_owner_id: str | None = None, claim_due_at: datetime | None = None,
           case_id: str | None = None, reporter: str | None = None) -> FieldIncident:
    """The incident, whoever reports it (the caller has checked they may): the harm on the case,
    the damage-claim task, the case owner and the subcontractor's manager told, the audit check."""
    if kind not in rules.INCIDENT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.INCIDENT_KINDS)}", field="kind")
    if harm_kind not in rules.HARM_KINDS:
        raise ValidationFailed(f"harmKind must be one of {', '.join(rules.HARM_KINDS)}", field="harmKind")
    description = _text(description, "description", "describe what happened")
    if visit_id is not None:
        found = session.get(Visit, visit_id)
        if found is None or found.work_order_id != wo.id:
            raise NotFound(f"no visit {visit_id} on this work order", field="visitId")
    if claim_owner_id is not None:
        owner = session.get(StaffUser, claim_owner_id)
        if owner is None or not owner.active or owner.role == FIELD_SUBCONTRACTOR:
            raise ValidationFailed("the claim's owner is an active member of the operator's staff",
                                   field="claimOwnerId")
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or case.customer_id != wo.customer_id or case.status == CaseStatus.CLOSED:
            raise ValidationFailed("the incident goes on an open case of the same customer", field="caseId")
    else:
        case = _case_for(session, clock, actor, session.get(Case, wo.case_id), kind, description, via)
    harm = items_service.add_harm(session, clock, actor, case.id, kind=harm_kind, description=description,
                                  severity=severity, reported_by=reported_by)
    now = clock.now()
    claim = items_service.add_task(session, clock, actor, case.id, title=f"Damage claim: {description[:200]}",
                                   assignee_kind="staff", assignee_id=claim_owner_id or case.owner_id,
                                   due_at=claim_due_at or now + timedelta(days=CLAIM_DAYS))
    item = FieldIncident(work_order_id=wo.id, visit_id=visit_id, case_id=case.id, customer_id=wo.customer_id,
                         subcontractor_id=wo.subcontractor_id, kind=kind, description=description, harm_id=harm.id,
                         claim_task_id=claim.id, reported_by=reporter or actor.name, reported_by_id=actor.id,
                         reported_at=now)
    session.add(item)
    session.flush()
    told = _notify(session, clock, actor, case, item)
    log(session, clock, case, actor, "incident_reported",
        f"Field incident ({kind}) reported by {reported_by}: {description[:200]}; told " + " and ".join(told),
        data={"incidentId": item.id, "harmId": harm.id, "claimTaskId": claim.id, "severity": harm.severity,
              "told": told})
    records.check(session, clock, wo.subcontractor_id)
    return item


def _notify(session: Session, clock: Clock, actor: Principal, case: Case, item: FieldIncident) -> list[str]:
    """The case owner and the subcontractor's manager (its team's lead) are told (the event
    reaches the subcontractor's systems through the webhooks)."""
    told = [(case.owner_id, "case owner")]
    if item.subcontractor_id:
        sub = session.get(Subcontractor, item.subcontractor_id)
        lead = session.get(Team, sub.team_id).lead_id
        if lead:
            told.append((lead, f"{sub.name}'s manager"))
    record_event(session, IncidentReported(
        occurred_at=clock.now(), aggregate_id=item.id, customer_id=item.customer_id, incident_id=item.id,
        case_id=case.id, work_order_id=item.work_order_id, subcontractor_id=item.subcontractor_id,
        notify=[staff_id for staff_id, _ in told]))
    return [f"{session.get(StaffUser, staff_id).display_name} ({label})" for staff_id, label in told]


def record_repair(session: Session, clock: Clock, actor: Principal, incident_id: str, *, note: str) -> FieldIncident:
    """The subcontractor says it repaired the damage. Recorded as its claim; the harm stays open."""
    _person(actor, "recording a repair")
    item = get(session, actor, incident_id)
    if item.confirmed_at is not None:
        raise Conflict("the harm is already confirmed put right")
    note = _text(note, "note", "say what was repaired")
    item.repaired_at, item.repair_note = clock.now(), note
    case = session.get(Case, item.case_id)
    log(session, clock, case, actor, "incident_repair",
        "Subcontractor's own repair recorded: the harm stays open until the customer confirms it or an "
        "inspection verifies it", text=note, data={"incidentId": item.id, "harmId": item.harm_id})
    return item


def confirm(session: Session, clock: Clock, actor: Principal, incident_id: str, *, how: str,
            note: str) -> FieldIncident:
    """The customer confirms the damage is put right, or an inspection verified it: the harm closes."""
    _person(actor, "confirming a repair")
    if actor.role == FIELD_SUBCONTRACTOR:
        raise Forbidden("the subcontractor cannot confirm its own repair")
    item = get(session, actor, incident_id)
    if how not in rules.CONFIRMED_HOW:
        raise ValidationFailed(f"confirmedBy must be one of {', '.join(rules.CONFIRMED_HOW)}", field="confirmedBy")
    note = _text(note, "note", "say who confirmed what")
    if item.confirmed_at is not None:
        raise Conflict("the harm is already confirmed put right")
    item.confirmed_at, item.confirmed_how = clock.now(), how
    words = "Confirmed by the customer" if how == "customer" else "Verified by an inspection"
    items_service.resolve_harm(session, clock, actor, item.harm_id, resolution=f"{words}: {note}")
    return item


def guard_harm_resolution(session: Session, harm_id: str) -> None:
    """A harm from a field incident is resolved only through the incident's confirmation."""
    incident = session.scalar(select(FieldIncident.id).where(FieldIncident.harm_id == harm_id,
                                                             FieldIncident.confirmed_at.is_(None)))
    if incident is not None and session.get(Harm, harm_id) is not None:
        raise Conflict("this harm came from a field incident: it is put right only when the customer confirms it "
                       f"or an inspection verifies it (POST /api/v1/field-incidents/{incident}/confirm)",
                       details={"incidentId": incident})


def resolve_harm(session: Session, clock: Clock, actor: Principal, harm_id: str, *, resolution: str) -> Harm:
    """Resolve a harm on a case by hand: refused for a field incident's harm not yet confirmed."""
    guard_harm_resolution(session, harm_id)
    return items_service.resolve_harm(session, clock, actor, harm_id, resolution=resolution)


__all__ = ["NOTE_MAX", "confirm", "get", "guard_harm_resolution", "list_for", "record_repair", "report", "resolve_harm"]
