"""What is open on a case: commitments made to the customer, harms they suffer, tasks
delegated to people, teams and third parties, and the third parties themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases import clocks, proactive, rules
from onethread.cases.log import log
from onethread.cases.rules import CaseStatus, ClockKind, ItemStatus
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.interactions.rules import CHANNELS
from onethread.kernel.clock import Clock, ensure_utc
from onethread.models import Case, Commitment, Harm, Participant, StaffUser, Task, Team, Vulnerability


def open_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.status == CaseStatus.CLOSED:
        raise Conflict("the case is closed")
    return case


def _future(value: datetime, now: datetime, field: str) -> datetime:
    try:
        when = ensure_utc(value)
    except ValueError as exc:
        raise ValidationFailed(f"{field} needs a time zone", field=field) from exc
    if when <= now:
        raise ValidationFailed(f"{field} must be in the future", field=field)
    return when


# --- commitments ---------------------------------------------------------------------------

def add_commitment(session: Session, clock: Clock, actor: Principal, case_id: str, *, text: str, due_at: datetime,
                   made_via: str, public: bool = False) -> Commitment:
    """A promise to the customer, in any channel (a public social reply included), with its due date."""
    case = open_case(session, case_id)
    if not (text or "").strip():
        raise ValidationFailed("say what was promised", field="text")
    if made_via not in CHANNELS:
        raise ValidationFailed(f"madeVia must be one of {', '.join(CHANNELS)}", field="madeVia")
    now = clock.now()
    due = _future(due_at, now, "dueAt")
    item = Commitment(case_id=case.id, customer_id=case.customer_id, text=text.strip(), due_at=due, made_via=made_via,
                      made_by=actor.id, made_at=now, public=public)
    session.add(item)
    session.flush()
    clocks.start(session, case, ClockKind.COMMITMENT_DUE, now, due_at=due, ref_id=item.id)
    log(session, clock, case, actor, "commitment_made", f"Promised: {item.text} (by {due:%Y-%m-%d})",
        channel=made_via, data={"commitmentId": item.id, "dueAt": due.isoformat(), "public": public})
    clocks.touch(session, case, now)
    return item


def close_commitment(session: Session, clock: Clock, actor: Principal, commitment_id: str, *, kept: bool,
                     note: str | None = None) -> Commitment:
    item = session.get(Commitment, commitment_id)
    if item is None:
        raise NotFound(f"no commitment {commitment_id}")
    if item.status != ItemStatus.OPEN:
        raise Conflict(f"the commitment is already {item.status}")
    if not kept and not (note or "").strip():
        raise ValidationFailed("say why the commitment is cancelled (and tell the customer)", field="note")
    case = open_case(session, item.case_id)
    now = clock.now()
    item.status, item.closed_at, item.closed_note = (ItemStatus.KEPT if kept else ItemStatus.CANCELLED), now, note
    clocks.stop(session, case.id, (ClockKind.COMMITMENT_DUE,), now, ref_id=item.id)
    verb = "Kept" if kept else "Cancelled"
    log(session, clock, case, actor, "commitment_closed", f"{verb}: {item.text}", text=note,
        data={"commitmentId": item.id, "kept": kept})
    clocks.touch(session, case, now)
    return item


# --- harms ---------------------------------------------------------------------------------

def is_vulnerable(session: Session, customer_id: str) -> bool:
    return session.scalar(select(Vulnerability.id).where(Vulnerability.customer_id == customer_id,
                                                         Vulnerability.ended_at.is_(None))) is not None


def add_harm(session: Session, clock: Clock, actor: Principal, case_id: str, *, kind: str, description: str,
             severity: str, reported_by: str | None = None) -> Harm:
    """What the customer suffers. Vulnerability raises the severity; the case takes the highest."""
    case = open_case(session, case_id)
    if kind not in rules.HARM_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.HARM_KINDS)}", field="kind")
    if severity not in rules.SEVERITIES:
        raise ValidationFailed(f"severity must be one of {', '.join(rules.SEVERITIES)}", field="severity")
    if not (description or "").strip():
        raise ValidationFailed("describe the harm", field="description")
    effective = rules.raise_severity(severity, kind, is_vulnerable(session, case.customer_id))
    now = clock.now()
    harm = Harm(case_id=case.id, customer_id=case.customer_id, kind=kind, description=description.strip(),
                reported_severity=severity, severity=effective, reported_by=reported_by or actor.name, reported_at=now)
    session.add(harm)
    session.flush()
    case.severity = rules.max_severity([case.severity, effective])
    raised = f" (raised from {severity}: vulnerable customer)" if effective != severity else ""
    log(session, clock, case, actor, "harm_reported", f"Harm: {harm.description} [{effective}{raised}]",
        data={"harmId": harm.id, "kind": kind, "severity": effective})
    clocks.touch(session, case, now)
    return harm


def resolve_harm(session: Session, clock: Clock, actor: Principal, harm_id: str, *, resolution: str) -> Harm:
    harm = session.get(Harm, harm_id)
    if harm is None:
        raise NotFound(f"no harm {harm_id}")
    if harm.resolved_at is not None:
        raise Conflict("the harm is already resolved")
    if not (resolution or "").strip():
        raise ValidationFailed("say how the harm was put right", field="resolution")
    case = open_case(session, harm.case_id)
    now = clock.now()
    harm.resolved_at, harm.resolution = now, resolution.strip()
    log(session, clock, case, actor, "harm_resolved", f"Harm resolved: {harm.description}", text=harm.resolution,
        data={"harmId": harm.id})
    clocks.touch(session, case, now)
    return harm


# --- participants and tasks ----------------------------------------------------------------

def add_participant(session: Session, clock: Clock, actor: Principal, case_id: str, *, kind: str, name: str,
                    organisation: str | None = None, contact: str | None = None) -> Participant:
    case = open_case(session, case_id)
    if kind not in rules.PARTICIPANT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.PARTICIPANT_KINDS)}", field="kind")
    if not (name or "").strip():
        raise ValidationFailed("a participant needs a name", field="name")
    item = Participant(case_id=case.id, customer_id=case.customer_id, kind=kind,
                       name=name.strip(), organisation=organisation, contact=contact,
                       added_at=clock.now())
    session.add(item)
    session.flush()
    who = f"{item.name} ({organisation})" if organisation else item.name
    log(session, clock, case, actor, "participant_added", f"{kind.replace('_', ' ').capitalize()} joined: {who}",
        data={"participantId": item.id})
    return item


def add_task(session: Session, clock: Clock, actor: Principal, case_id: str, *, title: str, assignee_kind: str,
             assignee_id: str, due_at: datetime) -> Task:
    """Delegated work with one owner and a due date; overdue, it escalates to the case owner."""
    case = open_case(session, case_id)
    if not (title or "").strip():
        raise ValidationFailed("say what is to be done", field="title")
    if assignee_kind == "staff":
        user = session.get(StaffUser, assignee_id)
        if user is None or not user.active:
            raise NotFound(f"no active staff member {assignee_id}", field="assigneeId")
        name = user.display_name
    elif assignee_kind == "team":
        team = session.get(Team, assignee_id)
        if team is None:
            raise NotFound(f"no team {assignee_id}", field="assigneeId")
        name = team.name
    elif assignee_kind == "participant":
        part = session.get(Participant, assignee_id)
        if part is None or part.case_id != case.id:
            raise NotFound(f"no participant {assignee_id} on this case", field="assigneeId")
        name = part.name
    else:
        raise ValidationFailed("assigneeKind is staff, team or participant", field="assigneeKind")
    now = clock.now()
    due = _future(due_at, now, "dueAt")
    task = Task(case_id=case.id, customer_id=case.customer_id, title=title.strip(), assignee_kind=assignee_kind,
                assignee_id=assignee_id, assignee_name=name, due_at=due, created_by=actor.id, created_at=now)
    session.add(task)
    session.flush()
    clocks.start(session, case, ClockKind.TASK_OVERDUE, now, due_at=due, ref_id=task.id)
    log(session, clock, case, actor, "task_added", f"Task for {name}: {task.title} (due {due:%Y-%m-%d})",
        data={"taskId": task.id})
    clocks.touch(session, case, now)
    return task


def complete_task(session: Session, clock: Clock, actor: Principal, task_id: str, *, note: str | None = None,
                  cancelled: bool = False) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.status != ItemStatus.OPEN:
        raise Conflict(f"the task is already {task.status}")
    if cancelled and not (note or "").strip():
        raise ValidationFailed("say why the task is cancelled", field="note")
    case = open_case(session, task.case_id)
    now = clock.now()
    task.status, task.done_at, task.note = (ItemStatus.CANCELLED if cancelled else ItemStatus.DONE), now, note
    clocks.stop(session, case.id, (ClockKind.TASK_OVERDUE,), now, ref_id=task.id)
    log(session, clock, case, actor, "task_closed", f"Task {task.status}: {task.title}", text=note,
        data={"taskId": task.id})
    proactive.after_task_closed(session, clock, case, task)
    clocks.touch(session, case, now)
    return task
