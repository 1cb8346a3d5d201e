"""A subcontractor's record (visits, failed visits by cause, incidents per 100 visits,
complaints) and the audit that opens, for the supplier manager, when it passes a threshold."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.db.outbox import record_event
from onethread.db.session import settings_of
from onethread.errors import Conflict, NotFound
from onethread.fieldservice import rules
from onethread.fieldservice.events import SubcontractorAuditOpened
from onethread.kernel.clock import Clock
from onethread.models import Case, FieldIncident, Subcontractor, SubcontractorAudit, Visit, WorkOrder

FINISHED = ("done", "failed", "customer_absent")


def record_of(session: Session, sub_id: str) -> rules.Record:
    visits = session.scalar(select(func.count()).where(Visit.subcontractor_id == sub_id,
                                                       Visit.status.in_(FINISHED))) or 0
    failed = dict(session.execute(select(Visit.cause, func.count()).where(
        Visit.subcontractor_id == sub_id, Visit.status == "failed").group_by(Visit.cause)).all())
    incidents = session.scalar(select(func.count()).where(FieldIncident.subcontractor_id == sub_id)) or 0
    complaints = session.scalar(select(func.count(func.distinct(Case.id))).join(
        WorkOrder, WorkOrder.case_id == Case.id).where(WorkOrder.subcontractor_id == sub_id,
                                                       Case.kind == "complaint")) or 0
    return rules.Record(visits=visits, failed_by_cause={k: int(v) for k, v in sorted(failed.items())},
                        incidents=incidents, complaints=complaints)


def thresholds(session: Session) -> rules.Thresholds:
    s = settings_of(session)
    return rules.Thresholds(min_visits=s.field_audit_min_visits, incidents_per_100=s.field_audit_incidents_per_100,
                            failed_percent=s.field_audit_failed_percent, complaints=s.field_audit_complaints)


def record_json(record: rules.Record) -> dict:
    return {"visits": record.visits, "failedVisitsByCause": record.failed_by_cause,
            "ownFailedVisits": record.own_failures, "failedPercent": record.failed_percent,
            "incidents": record.incidents, "incidentsPer100Visits": record.incidents_per_100,
            "complaints": record.complaints}


def open_audit(session: Session, sub_id: str) -> SubcontractorAudit | None:
    return session.scalars(select(SubcontractorAudit).where(SubcontractorAudit.subcontractor_id == sub_id,
                                                            SubcontractorAudit.status == "open")).first()


def check(session: Session, clock: Clock, sub_id: str | None) -> SubcontractorAudit | None:
    """Open an audit for the supplier manager, with the evidence, when the record passes a
    threshold and none is open already."""
    if sub_id is None:
        return None
    session.flush()
    record = record_of(session, sub_id)
    reasons = rules.audit_reasons(record, thresholds(session))
    if not reasons or open_audit(session, sub_id) is not None:
        return None
    sub = session.get(Subcontractor, sub_id)
    evidence = {
        "record": record_json(record),
        "failedVisitIds": list(session.scalars(select(Visit.id).where(Visit.subcontractor_id == sub_id,
                                                                      Visit.status == "failed")
                                               .order_by(Visit.slot_start))),
        "incidentIds": list(session.scalars(select(FieldIncident.id).where(FieldIncident.subcontractor_id == sub_id)
                                            .order_by(FieldIncident.reported_at))),
    }
    now = clock.now()
    audit = SubcontractorAudit(subcontractor_id=sub_id, owner_id=sub.supplier_manager_id, reasons="; ".join(reasons),
                               evidence=evidence, opened_at=now)
    session.add(audit)
    session.flush()
    record_event(session, SubcontractorAuditOpened(occurred_at=now, aggregate_id=sub_id, audit_id=audit.id,
                                                   subcontractor=sub.name, owner_id=audit.owner_id, reasons=reasons))
    return audit


def list_audits(session: Session, *, sub_id: str | None = None, status: str | None = None
                ) -> list[SubcontractorAudit]:
    query = select(SubcontractorAudit)
    if sub_id:
        query = query.where(SubcontractorAudit.subcontractor_id == sub_id)
    if status:
        query = query.where(SubcontractorAudit.status == status)
    return list(session.scalars(query.order_by(SubcontractorAudit.opened_at.desc(), SubcontractorAudit.id)))


def close_audit(session: Session, clock: Clock, audit_id: str) -> SubcontractorAudit:
    audit = session.get(SubcontractorAudit, audit_id)
    if audit is None:
        raise NotFound(f"no audit {audit_id}")
    if audit.status != "open":
        raise Conflict("the audit is already closed")
    audit.status, audit.closed_at = "closed", clock.now()
    return audit
