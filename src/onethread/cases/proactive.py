"""Proactive contact: while a case of a customer whose consented needs ask for it is open, its
owner has one open task to contact them, due at the market's cadence (``proactive_contact`` in
the clock policy, three working days unless set). The task's clock is a ``proactive_contact``
clock whose breach escalates to the owner's lead (the owner's own silence towards the customer).
Contacting the customer (a reply, or the task marked done) starts the next period; closing the
case cancels the open task: proactive contact ends with the case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, bindparam, cast, exists, select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases import clocks
from onethread.cases.log import log
from onethread.cases.policy import ClockRule
from onethread.cases.rules import CaseStatus, ClockKind, ItemStatus
from onethread.customers import queries as customer_queries
from onethread.customers import rules as customer_rules
from onethread.kernel.calendar import Duration
from onethread.kernel.clock import Clock
from onethread.models import Case, CaseClock, StaffUser, Task, Vulnerability

PROACTIVE = ClockKind.PROACTIVE_CONTACT
DEFAULT_CADENCE = ClockRule(Duration.parse("P3D"), "business")
TITLE = "Proactive contact"


def cadence(session: Session, case: Case) -> ClockRule:
    return clocks.market_of(session, case).rule(case.kind, PROACTIVE) or DEFAULT_CADENCE


def every(rule: ClockRule) -> str:
    """The cadence in words: "3 working days", "2 days", "4 working hours"."""
    d = rule.after
    unit, n = ("day", d.days) if d.days else ("hour", d.hours or 1)
    working = "working " if rule.basis == "business" else ""
    return f"{n} {working}{unit}{'s' if n != 1 else ''}"


def proactive_task_ids(session: Session, case_ids: list[str]) -> set[str]:
    """The tasks (open or not) that are proactive-contact tasks, among those of ``case_ids``."""
    if not case_ids:
        return set()
    return set(session.scalars(select(CaseClock.ref_id).where(CaseClock.case_id.in_(case_ids),
                                                              CaseClock.kind == PROACTIVE)))


def open_task(session: Session, case_id: str) -> Task | None:
    ids = select(CaseClock.ref_id).where(CaseClock.case_id == case_id, CaseClock.kind == PROACTIVE)
    return session.scalar(select(Task).where(Task.case_id == case_id, Task.status == ItemStatus.OPEN, Task.id.in_(ids))
                          .order_by(Task.created_at.desc()).limit(1))


def ensure(session: Session, clock: Clock, case: Case, *, needs: customer_rules.ServiceNeeds | None = None
           ) -> Task | None:
    """Give the owner the next proactive-contact task unless one is open (or none is wanted)."""
    if case.status == CaseStatus.CLOSED:
        return None
    now = clock.now()
    needs = needs if needs is not None else customer_queries.service_needs(session, case.customer_id, now)
    if not needs.proactive or open_task(session, case.id) is not None:
        return None
    owner = session.get(StaffUser, case.owner_id)
    rule = cadence(session, case)
    due = clocks.market_of(session, case).due(now, rule)
    how = f" by {needs.reply_channel}" if needs.reply_channel else ""
    task = Task(case_id=case.id, customer_id=case.customer_id, assignee_kind="staff", assignee_id=case.owner_id,
                assignee_name=owner.display_name if owner else case.owner_id, due_at=due, created_by="SYSTEM",
                created_at=now, title=f"{TITLE}: contact the customer{how}, every {every(rule)} (a recorded need)")
    session.add(task)
    session.flush()
    clocks.start(session, case, PROACTIVE, now, due_at=due, ref_id=task.id)
    log(session, clock, case, None, "task_added", f"Task for {task.assignee_name}: {task.title} (due {due:%Y-%m-%d})",
        data={"taskId": task.id, "proactive": True})
    return task


def contacted(session: Session, clock: Clock, actor: Principal, case: Case, how: str) -> Task | None:
    """The customer was contacted (a reply): the open task is done and the next period starts."""
    task = open_task(session, case.id)
    if task is None:
        return None
    now = clock.now()
    task.status, task.done_at, task.note = ItemStatus.DONE, now, how
    clocks.stop(session, case.id, (PROACTIVE,), now, ref_id=task.id)
    log(session, clock, case, actor, "task_closed", f"Task done: {task.title}", text=how,
        data={"taskId": task.id, "proactive": True})
    return ensure(session, clock, case)


def after_task_closed(session: Session, clock: Clock, case: Case, task: Task) -> None:
    """A proactive task marked done (or cancelled) by hand: its clock stops, the next one starts."""
    if task.id not in proactive_task_ids(session, [case.id]):
        return
    clocks.stop(session, case.id, (PROACTIVE,), clock.now(), ref_id=task.id)
    ensure(session, clock, case)


def follow_owner(session: Session, case: Case, owner: StaffUser) -> None:
    """A hand-over: the open proactive task goes with the case to its new owner."""
    task = open_task(session, case.id)
    if task is not None:
        task.assignee_id, task.assignee_name = owner.id, owner.display_name


def follow_owners(session: Session, moves: list[tuple[str, str, str]]) -> None:
    """Many hand-overs by rule at once, ``(case id, new owner id, name)``: each open proactive
    task goes with its case, in one statement."""
    if not moves:
        return
    t, k = Task.__table__, CaseClock.__table__
    ours = select(k.c.ref_id).where(k.c.case_id == bindparam("b_case"), k.c.kind == PROACTIVE)
    session.execute(t.update().where(t.c.case_id == bindparam("b_case"), t.c.status == ItemStatus.OPEN,
                                     t.c.id.in_(ours))
                    .values(assignee_id=bindparam("b_owner"), assignee_name=bindparam("b_name")),
                    [{"b_case": c, "b_owner": o, "b_name": n} for c, o, n in moves])


def end_with_case(session: Session, case: Case, at: datetime,
                  why: str = "the case closed: proactive contact ends with it") -> int:
    """The case closes (or is merged into another, which has its own): its open proactive task is
    cancelled (it never blocks closing)."""
    ids = proactive_task_ids(session, [case.id])
    rows = [t for t in session.scalars(select(Task).where(Task.case_id == case.id, Task.status == ItemStatus.OPEN))
            if t.id in ids]
    for task in rows:
        task.status, task.done_at, task.note = ItemStatus.CANCELLED, at, why
    return len(rows)


def sweep(session: Session, clock: Clock) -> int:
    """Open cases of customers whose needs ask for proactive contact and have no open task get
    one (a need recorded after the case opened). Nothing to do costs one query."""
    now = clock.now()
    wanted = select(Vulnerability.customer_id).where(
        Vulnerability.ended_at.is_(None), Vulnerability.consent_given.is_(True),
        cast(Vulnerability.needs, String).like(f'%"{customer_rules.PROACTIVE_CONTACT}"%'))
    has_task = select(Task.id).join(CaseClock, (CaseClock.ref_id == Task.id) & (CaseClock.kind == PROACTIVE)).where(
        Task.case_id == Case.id, Task.status == ItemStatus.OPEN)
    made = 0
    for case in session.scalars(select(Case).where(Case.customer_id.in_(wanted), Case.status != CaseStatus.CLOSED,
                                                   ~exists(has_task)).order_by(Case.id)):
        made += ensure(session, clock, case, needs=customer_queries.service_needs(session, case.customer_id, now)
                       ) is not None
    return made
