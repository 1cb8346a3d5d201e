"""The customer's side of field service, in the portal: the work orders at their home (and at the
homes of those they represent) and reporting an incident on one. The incident lands exactly as a
technician's report does (a harm on the case, the claim task, the case owner and the
subcontractor's manager told); who reported it is the customer, or the representative for them.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.customers.portal import PortalViewer
from onethread.errors import Forbidden, NotFound
from onethread.fieldservice import incidents
from onethread.kernel.clock import Clock
from onethread.models import FieldIncident, Subcontractor, Visit, WorkOrder

PORTAL_SEVERITY = "medium"  # what a customer's report starts at; vulnerability raises it as for any harm


CHANNEL = "portal"


def my_work_orders(session: Session, clock: Clock, viewer: PortalViewer) -> list[WorkOrder]:
    """The work orders of the customers the viewer sees, open ones first, newest first. Audited,
    under the person who read them."""
    if not viewer.standings:
        return []
    rows = sorted(session.scalars(select(WorkOrder).where(WorkOrder.customer_id.in_(list(viewer.standings)))
                                  .order_by(WorkOrder.created_at.desc(), WorkOrder.id)),
                  key=lambda wo: wo.status != "open")
    shown: dict[str, list[str]] = defaultdict(list)
    for wo in rows:
        shown[wo.customer_id].append(wo.id)
    for customer_id, ids in sorted(shown.items()):
        access.audit(session, clock, viewer.principal, action="read", resource_type="work_order",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=customer_id, channel=CHANNEL,
                     purpose="portal_work_orders", detail={"workOrderIds": ids} if len(ids) > 1 else None)
    return rows


def work_order(session: Session, viewer: PortalViewer, wo_id: str) -> WorkOrder:
    wo = session.get(WorkOrder, wo_id)
    if wo is None or not viewer.sees(wo.customer_id):
        raise NotFound(f"no work order {wo_id}")
    return wo


def summary(session: Session, viewer: PortalViewer, wo: WorkOrder) -> dict:
    """What the customer is shown of a work order: the firm, the next visit, their reports."""
    sub = session.get(Subcontractor, wo.subcontractor_id) if wo.subcontractor_id else None
    upcoming = session.scalars(select(Visit).where(Visit.work_order_id == wo.id,
                                                   Visit.status.in_(("booked", "dispatched")))
                               .order_by(Visit.slot_start).limit(1)).first()
    reported = session.scalars(select(FieldIncident).where(FieldIncident.work_order_id == wo.id)
                               .order_by(FieldIncident.reported_at)).all()
    return {"workOrder": wo, "subcontractor": sub.name if sub else None, "nextVisit": upcoming,
            "incidents": reported, "customerName": viewer.standings[wo.customer_id].customer_name,
            "mayReport": viewer.may_message(wo.customer_id)}


def report(session: Session, clock: Clock, viewer: PortalViewer, wo_id: str, *, kind: str, harm_kind: str,
           description: str, severity: str | None = None) -> FieldIncident:
    """The customer (or a representative allowed to write for them) reports damage, injury or
    something left unsafe after a visit."""
    wo = work_order(session, viewer, wo_id)
    if not viewer.may_message(wo.customer_id):
        raise Forbidden(f"you may follow {viewer.standings[wo.customer_id].customer_name}'s cases but not "
                        "report for them")
    who = viewer.on_behalf(wo.customer_id)
    name = viewer.standings[wo.customer_id].customer_name
    reporter = f"{who} for {name}" if who else viewer.name
    reported_by = reporter if who else f"{viewer.name} (customer)"
    return incidents.record(session, clock, viewer.principal, wo, kind=kind, description=description,
                            harm_kind=harm_kind, severity=severity or PORTAL_SEVERITY, reported_by=reported_by,
                            via=CHANNEL, reporter=reporter)
