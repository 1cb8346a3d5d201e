"""Pages: the technician's day (``/field``), made for a phone. A subcontractor's person sees the
open visits of their own firm's work orders (the operator's staff see every open visit), each
with the customer, the slot and any open prerequisite, and can take the visit, record its
outcome (done, failed with a cause, customer absent) and report an incident (damage, injury,
property left unsafe) from the doorstep.

Translation only: ``onethread.fieldservice`` decides. A refused form shows the message on the
page, answers with the error's status, and writes nothing.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_SERVICE, FIELD_WORKERS, Principal
from onethread.api.deps import ClockDep, DbSession
from onethread.cases import rules as case_rules
from onethread.customers.queries import customer_names
from onethread.errors import DomainError, NotFound
from onethread.fieldservice import incidents, records, rules
from onethread.fieldservice import service as field
from onethread.models import StaffUser, Subcontractor, Visit, WorkOrder
from onethread.web.common import form_failed, local_when, render, staff_page

router = APIRouter(include_in_schema=False)
Field = staff_page(FIELD_WORKERS)
Desk = staff_page(CUSTOMER_SERVICE)
DONE = {"dispatched": "You are on your way: the visit is yours.", "outcome": "Outcome recorded.",
        "incident": "Incident reported: it is on the customer's case, and the case owner is told."}


def _visits(session, principal: Principal) -> list[dict]:
    mine = field.own_subcontractor(session, principal)
    query = select(Visit, WorkOrder).join(WorkOrder, WorkOrder.id == Visit.work_order_id).where(
        Visit.status.in_(rules.VISIT_OPEN))
    if mine is not None:
        query = query.where(Visit.subcontractor_id == mine)
    rows = session.execute(query.order_by(Visit.slot_start, Visit.id).limit(100)).all()
    names = customer_names(session, list({wo.customer_id for _, wo in rows}))
    subs = {s.id: s.name for s in session.scalars(select(Subcontractor))}
    return [{"visit": v, "wo": wo, "customer": names.get(wo.customer_id, "—"), "firm": subs.get(v.subcontractor_id),
             "blocked": [(item.title, task.assignee_name) for item, task in field.open_prerequisites(session, wo.id)],
             "slot": f"{local_when(v.slot_start)}–{local_when(v.slot_end, '%H:%M')}"} for v, wo in rows]


def _page(request: Request, session, principal: Principal, *, done: str | None = None, errors: dict | None = None,
          status_code: int = 200):
    return render(request, "field/visits.html", {
        "principal": principal, "visits": _visits(session, principal), "done": DONE.get(done or ""),
        "errors": errors or {}, "causes": rules.FAILURE_CAUSES, "incident_kinds": rules.INCIDENT_KINDS,
        "harm_kinds": rules.HARM_KINDS, "severities": case_rules.SEVERITIES,
    }, status_code=status_code)


def _act(request: Request, session, principal: Principal, visit_id: str, done: str, action):
    try:
        action()
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _page(request, session, principal, errors={visit_id: next(iter(errors.values()))},
                     status_code=exc.http_status)
    return RedirectResponse("/field?" + urlencode({"done": done}) + f"#v-{visit_id}", status_code=303)


@router.get("/field", response_class=HTMLResponse)
def field_page(request: Request, session: DbSession, principal: Field,
               done: str | None = Query(None, max_length=20)):
    return _page(request, session, principal, done=done)


@router.post("/field/visits/{visit_id}/dispatch", response_class=HTMLResponse)
def take_visit(request: Request, visit_id: str, session: DbSession, clock: ClockDep, principal: Field):
    return _act(request, session, principal, visit_id, "dispatched",
                lambda: field.dispatch_visit(session, clock, principal, visit_id, technician_id=principal.id))


@router.post("/field/visits/{visit_id}/outcome", response_class=HTMLResponse)
def visit_outcome(request: Request, visit_id: str, session: DbSession, clock: ClockDep, principal: Field,
                  outcome: Annotated[str, Form()] = "", cause: Annotated[str, Form()] = "",
                  note: Annotated[str, Form()] = ""):
    return _act(request, session, principal, visit_id, "outcome",
                lambda: field.record_outcome(session, clock, principal, visit_id, outcome=outcome,
                                             cause=(cause or None) if outcome == "failed" else None,
                                             note=note.strip() or None))


@router.post("/field/visits/{visit_id}/incident", response_class=HTMLResponse)
def report_incident(request: Request, visit_id: str, session: DbSession, clock: ClockDep, principal: Field,
                    kind: Annotated[str, Form()] = "", harm_kind: Annotated[str, Form()] = "",
                    severity: Annotated[str, Form()] = "", description: Annotated[str, Form()] = ""):
    def action():
        v = field.visit(session, principal, visit_id)
        incidents.report(session, clock, principal, v.work_order_id, kind=kind, harm_kind=harm_kind,
                         severity=severity, description=description, visit_id=v.id)
    return _act(request, session, principal, visit_id, "incident", action)


# --- the desk: work orders and subcontractor audits ----------------------------------------------

def _order_view(session, principal: Principal, wo: WorkOrder, names: dict[str, str], subs: dict[str, str]) -> dict:
    visits = field.visits_of(session, wo.id)
    return {"wo": wo, "customer": names.get(wo.customer_id, "—"), "firm": subs.get(wo.subcontractor_id or ""),
            "tasks": [{"item": item, "status": field.task_status(item, task),
                       "owner": task.assignee_name if task else None, "due": task.due_at if task else None}
                      for item, task in field.tasks_of(session, wo.id)],
            "visits": visits, "wasted": sum(1 for v in visits if v.wasted_day),
            "incidents": incidents.list_for(session, principal, wo.id)}


def _desk(request: Request, session, clock, principal: Principal, orders: list[WorkOrder], *, title: str,
          case_id: str | None = None, audits: bool = True):
    access.audit_list(session, clock, principal, [("work_order", wo.id, wo.customer_id) for wo in orders],
                      channel="pages")
    names = customer_names(session, list({wo.customer_id for wo in orders}))
    subs = {s.id: s.name for s in session.scalars(select(Subcontractor))}
    return render(request, "field/desk.html", {
        "principal": principal, "title": title, "case_id": case_id,
        "orders": [_order_view(session, principal, wo, names, subs) for wo in orders],
        "audits": [{"audit": a, "firm": subs.get(a.subcontractor_id),
                    "owner": session.get(StaffUser, a.owner_id).display_name}
                   for a in records.list_audits(session, status="open")] if audits else None})


@router.get("/work-orders", response_class=HTMLResponse)
def desk_page(request: Request, session: DbSession, clock: ClockDep, principal: Desk,
              caseId: str | None = Query(None, max_length=26),
              status: str | None = Query(None, pattern="^(open|completed|cancelled)$")):
    orders, _ = field.list_work_orders(session, principal, case_id=caseId, status=status, limit=200)
    return _desk(request, session, clock, principal, orders, case_id=caseId,
                 title="Work orders on this case" if caseId else "Work orders")


@router.get("/work-orders/{wo_id}", response_class=HTMLResponse)
def desk_order(request: Request, wo_id: str, session: DbSession, clock: ClockDep, principal: Desk):
    try:
        wo = field.work_order(session, principal, wo_id)
    except NotFound as exc:
        return render(request, "agent/missing.html", {"principal": principal, "message": exc.message},
                      status_code=404)
    return _desk(request, session, clock, principal, [wo], title=wo.title, case_id=wo.case_id, audits=False)
