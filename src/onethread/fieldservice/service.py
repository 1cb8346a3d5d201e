"""Work orders, their ordered tasks and prerequisites, and visits (booking, dispatch, outcome,
cancellation). Every change lands on the work order's case log, so on the customer's timeline.

A prerequisite is a case task owned by a named team with a due date (the case's task clock
escalates it when overdue). While one is open a visit is neither booked nor dispatched. A visit
that fails twice for the same cause escalates to the owner of that cause and to the case owner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access.rules import FIELD_SUBCONTRACTOR, Principal
from onethread.cases import items_service
from onethread.cases.log import log
from onethread.cases.rules import ItemStatus
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.fieldservice import records, rules
from onethread.kernel.case_status import CaseStatus
from onethread.kernel.clock import Clock, ensure_utc
from onethread.models import (
    Case,
    Escalation,
    Product,
    StaffUser,
    Subcontractor,
    Task,
    Team,
    Visit,
    WorkOrder,
    WorkOrderTask,
)

TITLE_MAX = 300
NOBODY = "-"  # matches no subcontractor
NOTE_MAX = 5_000


def _text(value: str | None, field: str, what: str, limit: int = NOTE_MAX) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(what, field=field)
    if len(text) > limit:
        raise ValidationFailed(f"{field} is longer than {limit} characters", field=field)
    return text


def _person(actor: Principal, what: str) -> None:
    if actor.kind != "staff":
        raise Forbidden(f"{what} is a named person's act: a system token cannot do it")


def _utc(value: datetime, field: str) -> datetime:
    try:
        return ensure_utc(value)
    except ValueError as exc:
        raise ValidationFailed(f"{field} needs a time zone", field=field) from exc


# --- subcontractors and who sees what --------------------------------------------------------

def create_subcontractor(session: Session, clock: Clock, *, name: str, team_id: str,
                         supplier_manager_id: str) -> Subcontractor:
    name = _text(name, "name", "a subcontractor needs a name", 200)
    if session.get(Team, team_id) is None:
        raise NotFound(f"no team {team_id}", field="teamId")
    if session.scalar(select(Subcontractor.id).where(Subcontractor.team_id == team_id)):
        raise Conflict("that team is already a subcontractor's")
    manager = session.get(StaffUser, supplier_manager_id)
    if manager is None or not manager.active or manager.role == FIELD_SUBCONTRACTOR:
        raise ValidationFailed("the supplier manager is an active member of the operator's staff",
                               field="supplierManagerId")
    sub = Subcontractor(name=name, team_id=team_id, supplier_manager_id=manager.id, created_at=clock.now())
    session.add(sub)
    session.flush()
    return sub


def get_subcontractor(session: Session, sub_id: str) -> Subcontractor:
    sub = session.get(Subcontractor, sub_id)
    if sub is None:
        raise NotFound(f"no subcontractor {sub_id}")
    return sub


def list_subcontractors(session: Session) -> list[Subcontractor]:
    return list(session.scalars(select(Subcontractor).order_by(Subcontractor.name, Subcontractor.id)))


def own_subcontractor(session: Session, actor: Principal) -> str | None:
    """The subcontractor a field_subcontractor user works for (None for the operator's staff)."""
    if actor.role != FIELD_SUBCONTRACTOR:
        return None
    sub_id = session.scalar(select(Subcontractor.id).where(Subcontractor.team_id == actor.team_id)) \
        if actor.team_id else None
    return sub_id or NOBODY  # not linked to a subcontractor: sees nothing


def work_order(session: Session, actor: Principal, wo_id: str) -> WorkOrder:
    """A work order the caller may see: a subcontractor's people see only their own."""
    wo = session.get(WorkOrder, wo_id)
    mine = own_subcontractor(session, actor)
    if wo is None or (mine is not None and wo.subcontractor_id != mine):
        raise NotFound(f"no work order {wo_id}")
    return wo


def visit(session: Session, actor: Principal, visit_id: str) -> Visit:
    item = session.get(Visit, visit_id)
    mine = own_subcontractor(session, actor)
    if item is None or (mine is not None and item.subcontractor_id != mine):
        raise NotFound(f"no visit {visit_id}")
    return item


def list_work_orders(session: Session, actor: Principal, *, customer_id: str | None = None,
                     status: str | None = None, offset: int = 0, limit: int = 100,
                     case_id: str | None = None) -> tuple[list[WorkOrder], int]:
    query = select(WorkOrder)
    mine = own_subcontractor(session, actor)
    if mine is not None:
        query = query.where(WorkOrder.subcontractor_id == mine)
    if customer_id:
        query = query.where(WorkOrder.customer_id == customer_id)
    if case_id:
        query = query.where(WorkOrder.case_id == case_id)
    if status:
        query = query.where(WorkOrder.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def visits_of(session: Session, wo_id: str) -> list[Visit]:
    return list(session.scalars(select(Visit).where(Visit.work_order_id == wo_id)
                                .order_by(Visit.slot_start, Visit.booked_at)))


def tasks_of(session: Session, wo_id: str) -> list[tuple[WorkOrderTask, Task | None]]:
    rows = session.execute(select(WorkOrderTask, Task).outerjoin(Task, Task.id == WorkOrderTask.case_task_id)
                           .where(WorkOrderTask.work_order_id == wo_id).order_by(WorkOrderTask.position)).all()
    return [(r[0], r[1]) for r in rows]


def task_status(item: WorkOrderTask, task: Task | None) -> str:
    return task.status if task is not None else item.status


# --- work orders and their tasks -------------------------------------------------------------

def create_work_order(session: Session, clock: Clock, actor: Principal, *, case_id: str, kind: str, title: str,
                      subcontractor_id: str, product_id: str | None = None) -> WorkOrder:
    _person(actor, "opening a work order")
    case = items_service.open_case(session, case_id)
    if kind not in rules.WORK_ORDER_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.WORK_ORDER_KINDS)}", field="kind")
    title = _text(title, "title", "say what the work order is for", TITLE_MAX)
    sub = session.get(Subcontractor, subcontractor_id)
    if sub is None:
        raise NotFound(f"no subcontractor {subcontractor_id}", field="subcontractorId")
    product_id = product_id or case.product_id
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None or product.customer_id != case.customer_id:
            raise ValidationFailed("the product is not this customer's", field="productId")
    now = clock.now()
    wo = WorkOrder(customer_id=case.customer_id, case_id=case.id, product_id=product_id, subcontractor_id=sub.id,
                   kind=kind, title=title, created_by=actor.id, created_at=now)
    session.add(wo)
    session.flush()
    log(session, clock, case, actor, "work_order_opened", f"Work order ({kind}): {title}, by {sub.name}",
        data={"workOrderId": wo.id, "subcontractorId": sub.id})
    return wo


def add_task(session: Session, clock: Clock, actor: Principal, wo_id: str, *, title: str, kind: str = "step",
             cause: str | None = None, team_id: str | None = None, due_at: datetime | None = None) -> WorkOrderTask:
    """An ordered step, or a prerequisite owned by a named team with a due date."""
    wo = work_order(session, actor, wo_id)
    if wo.status != "open":
        raise Conflict(f"the work order is {wo.status}")
    title = _text(title, "title", "say what is to be done", TITLE_MAX)
    if kind not in rules.TASK_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.TASK_KINDS)}", field="kind")
    if cause is not None and cause not in rules.FAILURE_CAUSES:
        raise ValidationFailed(f"cause must be one of {', '.join(rules.FAILURE_CAUSES)}", field="cause")
    position = (session.scalar(select(func.max(WorkOrderTask.position))
                               .where(WorkOrderTask.work_order_id == wo.id)) or 0) + 1
    item = WorkOrderTask(work_order_id=wo.id, customer_id=wo.customer_id, position=position,
                         title=title, kind=kind, cause=cause)
    if kind == "prerequisite":
        if not team_id:
            raise ValidationFailed("a prerequisite is owned by a named team (teamId)", field="teamId")
        if due_at is None:
            raise ValidationFailed("a prerequisite has a due date (dueAt)", field="dueAt")
        task = items_service.add_task(session, clock, actor, wo.case_id, title=f"Prerequisite: {title}",
                                      assignee_kind="team", assignee_id=team_id, due_at=due_at)
        item.case_task_id = task.id
    session.add(item)
    session.flush()
    return item


def complete_task(session: Session, clock: Clock, actor: Principal, item_id: str, *,
                  note: str | None = None) -> WorkOrderTask:
    item = session.get(WorkOrderTask, item_id)
    if item is None:
        raise NotFound(f"no work order task {item_id}")
    wo = work_order(session, actor, item.work_order_id)
    if item.case_task_id:
        if actor.role == FIELD_SUBCONTRACTOR:
            raise Forbidden("a prerequisite is closed by the team that owns it")
        items_service.complete_task(session, clock, actor, item.case_task_id, note=note)
    else:
        if item.status != "open":
            raise Conflict(f"the task is already {item.status}")
        item.status = "done"
        log(session, clock, session.get(Case, wo.case_id), actor, "work_order_step",
            f"Work order step done: {item.title}", text=note, data={"workOrderId": wo.id, "taskId": item.id})
    item.done_at = clock.now()
    return item


def open_prerequisites(session: Session, wo_id: str) -> list[tuple[WorkOrderTask, Task]]:
    return [(item, task) for item, task in tasks_of(session, wo_id)
            if task is not None and item.kind == "prerequisite" and task.status == ItemStatus.OPEN]


def _refuse_while_blocked(session: Session, wo: WorkOrder, verb: str) -> None:
    blocking = open_prerequisites(session, wo.id)
    if blocking:
        named = "; ".join(f"'{item.title}' (owner: {task.assignee_name}, due {task.due_at:%Y-%m-%d})"
                          for item, task in blocking)
        raise Conflict(f"a visit cannot be {verb} while a prerequisite is open: {named}",
                       details={"openPrerequisites": [{"id": item.id, "title": item.title,
                                                       "owner": task.assignee_name, "taskId": task.id}
                                                      for item, task in blocking]})


# --- visits ---------------------------------------------------------------------------------

def _technician(session: Session, sub: Subcontractor, technician_id: str | None) -> str | None:
    if technician_id is None:
        return None
    user = session.get(StaffUser, technician_id)
    if user is None or not user.active or user.team_id != sub.team_id:
        raise ValidationFailed(f"the technician is not one of {sub.name}'s people", field="technicianId")
    return user.id


def _wasted_days(session: Session, customer_id: str) -> int:
    return session.scalar(select(func.count()).where(Visit.customer_id == customer_id, Visit.wasted_day)) or 0


def book_visit(session: Session, clock: Clock, actor: Principal, wo_id: str, *, slot_start: datetime,
               slot_end: datetime, technician_id: str | None = None, rebooks: str | None = None) -> Visit:
    _person(actor, "booking a visit")
    wo = work_order(session, actor, wo_id)
    if wo.status != "open":
        raise Conflict(f"the work order is {wo.status}")
    start, end = _utc(slot_start, "slotStart"), _utc(slot_end, "slotEnd")
    now = clock.now()
    if start <= now:
        raise ValidationFailed("the slot must be in the future", field="slotStart")
    if end <= start:
        raise ValidationFailed("the slot ends after it starts", field="slotEnd")
    previous = None
    if rebooks is not None:
        previous = session.get(Visit, rebooks)
        if previous is None or previous.work_order_id != wo.id:
            raise NotFound(f"no visit {rebooks} on this work order", field="rebooks")
        if previous.status in rules.VISIT_OPEN:
            raise Conflict("that visit is still booked: cancel it first")
    _refuse_while_blocked(session, wo, "booked")
    sub = session.get(Subcontractor, wo.subcontractor_id)
    item = Visit(work_order_id=wo.id, customer_id=wo.customer_id, subcontractor_id=sub.id,
                 technician_id=_technician(session, sub, technician_id), slot_start=start, slot_end=end,
                 booked_by=actor.id, booked_at=now, rebooked_from_id=previous.id if previous else None)
    session.add(item)
    session.flush()
    verb = "rebooked" if previous else "booked"
    log(session, clock, session.get(Case, wo.case_id), actor, "visit_booked",
        f"Visit {verb} for {start:%Y-%m-%d %H:%M}-{end:%H:%M} ({sub.name})", audience="customer",
        data={"workOrderId": wo.id, "visitId": item.id, "rebooks": rebooks})
    return item


def dispatch_visit(session: Session, clock: Clock, actor: Principal, visit_id: str, *,
                   technician_id: str | None = None) -> Visit:
    _person(actor, "dispatching a technician")
    item = visit(session, actor, visit_id)
    if item.status != "booked":
        raise Conflict(f"the visit is {item.status}")
    wo = session.get(WorkOrder, item.work_order_id)
    _refuse_while_blocked(session, wo, "dispatched")
    sub = session.get(Subcontractor, item.subcontractor_id)
    if technician_id is not None:
        item.technician_id = _technician(session, sub, technician_id)
    if item.technician_id is None:
        raise ValidationFailed("name the technician (technicianId)", field="technicianId")
    item.status, item.dispatched_at = "dispatched", clock.now()
    tech = session.get(StaffUser, item.technician_id)
    log(session, clock, session.get(Case, wo.case_id), actor, "visit_dispatched",
        f"Technician {tech.display_name} ({sub.name}) dispatched for {item.slot_start:%Y-%m-%d}",
        data={"workOrderId": wo.id, "visitId": item.id})
    return item


def _cause_owner(session: Session, wo: WorkOrder, cause: str) -> tuple[str, str] | None:
    """Who answers for a failure cause: the lead of the team owning the prerequisite for that
    cause; for the subcontractor's own causes, its supplier manager."""
    for item, task in tasks_of(session, wo.id):
        if item.cause == cause and task is not None and task.assignee_kind == "team":
            team = session.get(Team, task.assignee_id)
            if team is not None and team.lead_id:
                return team.lead_id, f"lead of {team.name}"
    if cause in rules.SUBCONTRACTOR_CAUSES and wo.subcontractor_id:
        sub = session.get(Subcontractor, wo.subcontractor_id)
        return sub.supplier_manager_id, f"supplier manager for {sub.name}"
    return None


def _escalate_repeat(session: Session, clock: Clock, actor: Principal, case: Case, wo: WorkOrder, item: Visit) -> None:
    now = clock.now()
    targets = [(case.owner_id, "case owner")]
    owner = _cause_owner(session, wo, item.cause)
    if owner is not None and owner[0] != case.owner_id:
        targets.insert(0, owner)
    reason = f"a second visit failed for the same cause ({item.cause.replace('_', ' ')}) on work order {wo.title}"
    names = []
    for staff_id, label in targets:
        session.add(Escalation(case_id=case.id, customer_id=case.customer_id, clock_id=None,
                               clock_kind="visit_failed", level=max(case.escalation_level, 1), to_staff_id=staff_id,
                               at=now, reason=reason))
        names.append(f"{session.get(StaffUser, staff_id).display_name} ({label})")
    log(session, clock, case, actor, "escalated", "Escalated to " + " and ".join(names), text=reason,
        data={"clock": "visit_failed", "workOrderId": wo.id, "visitId": item.id, "cause": item.cause,
              "toStaffIds": [t[0] for t in targets]})


def _reopen_prerequisite(session: Session, clock: Clock, actor: Principal, wo: WorkOrder, cause: str) -> None:
    """The visit shows a prerequisite said done is not: it is open again, same team, same span."""
    for item, task in tasks_of(session, wo.id):
        if item.cause == cause and task is not None and task.status == "done":
            span = max(task.due_at - task.created_at, timedelta(days=1))
            again = items_service.add_task(session, clock, actor, wo.case_id, title=task.title,
                                           assignee_kind=task.assignee_kind, assignee_id=task.assignee_id,
                                           due_at=clock.now() + span)
            item.case_task_id, item.done_at = again.id, None


def record_outcome(session: Session, clock: Clock, actor: Principal, visit_id: str, *, outcome: str,
                   cause: str | None = None, note: str | None = None) -> Visit:
    _person(actor, "recording a visit's outcome")
    item = visit(session, actor, visit_id)
    if item.status != "dispatched":
        raise Conflict(f"the visit is {item.status}: only a dispatched visit has an outcome")
    if outcome not in rules.OUTCOMES:
        raise ValidationFailed(f"outcome must be one of {', '.join(rules.OUTCOMES)}", field="outcome")
    if outcome == "failed":
        if cause not in rules.FAILURE_CAUSES:
            raise ValidationFailed(f"a failed visit has a cause: one of {', '.join(rules.FAILURE_CAUSES)}",
                                   field="cause")
    elif cause is not None:
        raise ValidationFailed("only a failed visit has a cause", field="cause")
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed(f"note is longer than {NOTE_MAX} characters", field="note")
    wo = session.get(WorkOrder, item.work_order_id)
    case = session.get(Case, wo.case_id)
    earlier = list(session.scalars(select(Visit.cause).where(Visit.work_order_id == wo.id, Visit.status == "failed",
                                                             Visit.id != item.id)))
    now = clock.now()
    item.status, item.cause, item.note, item.outcome_at = outcome, cause, note, now
    item.wasted_day = rules.wasted_day(outcome, None, None)
    session.flush()  # the count of wasted days below includes this one
    when = f"{item.slot_start:%Y-%m-%d}"
    if outcome == "done":
        title = f"Visit on {when} done"
    elif outcome == "customer_absent":
        title = f"Visit on {when}: the customer was not in"
    else:
        title = (f"Visit on {when} failed: {cause.replace('_', ' ')}; the customer's wasted day no. "
                 f"{_wasted_days(session, wo.customer_id)}")
    log(session, clock, case, actor, "visit_outcome", title, text=note, audience="customer",
        data={"workOrderId": wo.id, "visitId": item.id, "outcome": outcome, "cause": cause,
              "wastedDay": item.wasted_day})
    if outcome == "failed":
        _reopen_prerequisite(session, clock, actor, wo, cause)
        if rules.failures_escalate(earlier, cause) and case.status != CaseStatus.CLOSED:
            _escalate_repeat(session, clock, actor, case, wo, item)
    records.check(session, clock, item.subcontractor_id)
    return item


def cancel_visit(session: Session, clock: Clock, actor: Principal, visit_id: str, *, by: str,
                 reason: str) -> Visit:
    _person(actor, "cancelling a visit")
    item = visit(session, actor, visit_id)
    if item.status not in rules.VISIT_OPEN:
        raise Conflict(f"the visit is {item.status}")
    if by not in rules.CANCELLED_BY:
        raise ValidationFailed(f"cancelledBy must be one of {', '.join(rules.CANCELLED_BY)}", field="cancelledBy")
    if actor.role == FIELD_SUBCONTRACTOR and by != "subcontractor":
        raise Forbidden("a subcontractor cancels its own visits only as the subcontractor")
    reason = _text(reason, "reason", "say why the visit is cancelled")
    now = clock.now()
    notice = (item.slot_start - now).total_seconds() / 3600
    item.status, item.cancelled_by, item.note, item.outcome_at = "cancelled", by, reason, now
    item.wasted_day = rules.wasted_day(None, by, notice)
    session.flush()
    wo = session.get(WorkOrder, item.work_order_id)
    wasted = f"; the customer's wasted day no. {_wasted_days(session, wo.customer_id)}" if item.wasted_day else ""
    log(session, clock, session.get(Case, wo.case_id), actor, "visit_cancelled",
        f"Visit on {item.slot_start:%Y-%m-%d} cancelled by the {by}{wasted}", text=reason, audience="customer",
        data={"workOrderId": wo.id, "visitId": item.id, "cancelledBy": by, "wastedDay": item.wasted_day})
    return item


def complete_work_order(session: Session, clock: Clock, actor: Principal, wo_id: str, *, note: str | None = None
                        ) -> WorkOrder:
    wo = work_order(session, actor, wo_id)
    if wo.status != "open":
        raise Conflict(f"the work order is already {wo.status}")
    if not session.scalar(select(Visit.id).where(Visit.work_order_id == wo.id, Visit.status == "done")):
        raise Conflict("no visit on this work order is done yet")
    wo.status, wo.closed_at = "completed", clock.now()
    case = session.get(Case, wo.case_id)
    if case.status != CaseStatus.CLOSED:
        log(session, clock, case, actor, "work_order_completed", f"Work order completed: {wo.title}", text=note,
            data={"workOrderId": wo.id})
    return wo
