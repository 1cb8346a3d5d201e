"""The brief: the story so far, built from the case's own records, shown to whoever picks the
case up (S4: nobody asks the customer to start again), in a staff and a customer version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access.rules import SYSTEM
from onethread.cases import rules
from onethread.cases.rules import CaseStatus, ItemStatus
from onethread.interactions.rules import Direction
from onethread.models import (
    Case,
    CaseClock,
    CaseEvent,
    Commitment,
    Contact,
    Customer,
    Escalation,
    Harm,
    StaffUser,
    Task,
)

# What people did on the case (not onethread's own escalations, reminders or rule hand-overs: the
# escalation line says those in one sentence).
_DONE_KINDS = ("replied", "commitment_made", "commitment_closed", "task_added", "task_closed", "harm_reported",
               "harm_resolved", "owner_changed", "handover_requested", "step_acknowledged", "step_customer_account",
               "step_apology", "step_resolution_offer", "escalated", "decision", "replacement_ordered",
               "status_changed", "participant_added", "merged_in", "split", "unmerged", "unmerged_out")


@dataclass
class Brief:
    case_id: str
    headline: str
    problem: str
    owner: str
    channels: list[str]
    contacts: int
    done: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    next_step: str = ""
    next_step_due: datetime | None = None
    next_step_owner: str = ""
    for_customer: str = ""
    escalation: str = ""  # where the sweep's escalations stand, in one sentence

    def as_dict(self) -> dict:
        return {
            "caseId": self.case_id, "headline": self.headline, "problem": self.problem, "owner": self.owner,
            "channels": self.channels, "contacts": self.contacts, "done": self.done, "open": self.open,
            "nextStep": self.next_step,
            "nextStepDue": self.next_step_due.isoformat() if self.next_step_due else None,
            "nextStepOwner": self.next_step_owner, "forCustomer": self.for_customer,
            "escalation": self.escalation or None,
        }


def build(session: Session, case: Case, now: datetime) -> Brief:
    customer = session.get(Customer, case.customer_id)
    owner = session.get(StaffUser, case.owner_id)
    # What the customer told us, and where: our own replies are not the customer telling the story.
    contacts = session.execute(select(Contact.channel, Contact.occurred_at).where(
        Contact.case_id == case.id, Contact.direction == Direction.INBOUND).order_by(Contact.occurred_at)).all()
    channels = sorted({c.channel for c in contacts})
    events = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind.in_(_DONE_KINDS), CaseEvent.actor_id.is_not(None),
        CaseEvent.actor_id != SYSTEM.id).order_by(CaseEvent.at, CaseEvent.id)).all()
    harms = session.scalars(select(Harm).where(Harm.case_id == case.id, Harm.resolved_at.is_(None))).all()
    commitments = session.scalars(select(Commitment).where(Commitment.case_id == case.id,
                                                           Commitment.status == ItemStatus.OPEN)
                                  .order_by(Commitment.due_at)).all()
    tasks = session.scalars(select(Task).where(Task.case_id == case.id, Task.status == ItemStatus.OPEN)
                            .order_by(Task.due_at)).all()
    breached = session.scalars(select(CaseClock.kind).where(CaseClock.case_id == case.id,
                                                            CaseClock.fired_at.is_not(None),
                                                            CaseClock.stopped_at.is_(None))).all()
    told = f"told us {len(contacts)} time{'s' if len(contacts) != 1 else ''}"
    if channels:
        told += f" by {', '.join(channels)}"
    since = f"since {case.opened_at:%d %b %Y}"
    headline = f"{customer.name}: {case.title} ({case.kind.replace('_', ' ')}, {since}; {told})"
    open_lines = [f"harm [{h.severity}]: {h.description}" for h in harms]
    open_lines += [f"promise due {c.due_at:%d %b}: {c.text}" for c in commitments]
    open_lines += [f"task for {t.assignee_name} due {t.due_at:%d %b}: {t.title}" for t in tasks]
    if case.awaiting_reply_since:
        open_lines.append(f"the customer's message of {case.awaiting_reply_since:%d %b %H:%M} is unanswered")
    if case.kind == "complaint":
        done_steps = {e.kind.removeprefix("step_") for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind.like("step_%")))}
        open_lines += [f"complaint step to do: {rules.STEP_LABELS[s]}" for s in rules.COMPLAINT_STEPS
                       if s not in done_steps]
    if breached:
        open_lines.append("past its clock: " + ", ".join(sorted(set(k.replace("_", " ") for k in breached))))
    done_lines = [_done_line(e) for e in events][-8:]
    next_step, due, who = _next_step(case, owner, harms, commitments, tasks)
    for_customer = _customer_text(case, owner, commitments, harms, next_step, due)
    return Brief(case.id, headline, case.customer_account or case.title, owner.display_name, channels,
                 len(contacts), done_lines, open_lines, next_step, due, who, for_customer,
                 _escalation_line(session, case))


_DONE_VERBS = {"replied": "replied", "commitment_made": "promised", "commitment_closed": "closed a promise",
               "task_added": "delegated", "task_closed": "closed a task", "harm_reported": "recorded a harm",
               "harm_resolved": "put a harm right", "owner_changed": "hand-over", "handover_requested":
               "offered the case", "step_acknowledged": "acknowledged the complaint", "step_customer_account":
               "recorded the customer's account", "step_apology": "apologised", "step_resolution_offer":
               "offered a resolution", "escalated": "escalated", "decision": "asked for a decision",
               "replacement_ordered": "ordered a replacement", "status_changed": "changed the status",
               "participant_added": "added a participant", "merged_in": "merged a case in", "split": "split a case off",
               "unmerged": "undid its merge", "unmerged_out": "took a merged case back out"}


def _done_line(e: CaseEvent) -> str:
    text = (e.text or "").splitlines()[0][:160] if e.text else ""
    return f"{e.at:%d %b}: {e.actor_name} {_DONE_VERBS.get(e.kind, e.kind.replace('_', ' '))}" + \
        (f": {text}" if text else "")


def _escalation_line(session: Session, case: Case) -> str:
    """The sweep's escalations and reminders in one sentence: the highest one, and how many since."""
    top = session.execute(select(Escalation.at, Escalation.level, StaffUser.display_name)
                          .outerjoin(StaffUser, StaffUser.id == Escalation.to_staff_id)
                          .where(Escalation.case_id == case.id)
                          .order_by(Escalation.level.desc(), Escalation.at).limit(1)).first()
    if top is None:
        return ""
    count = session.scalar(select(func.count()).select_from(Escalation).where(Escalation.case_id == case.id))
    line = (f"escalated {count} time{'s' if count != 1 else ''}, up to {top.display_name or 'nobody'} "
            f"({rules.ladder_rung(top.level).replace('_', ' ')}) on {top.at:%d %b %Y}")
    reminders = session.execute(select(func.count(), func.max(CaseEvent.at)).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "reminder")).one()
    if reminders[0]:
        line += f"; reminded {reminders[0]} time{'s' if reminders[0] != 1 else ''} since, the last on " \
                f"{reminders[1]:%d %b %Y}"
    return line


def _next_step(case, owner, harms, commitments, tasks) -> tuple[str, datetime | None, str]:
    if case.awaiting_reply_since:
        return "reply to the customer's message", None, owner.display_name
    dated = [(c.due_at, f"keep the promise: {c.text}", owner.display_name) for c in commitments]
    dated += [(t.due_at, f"{t.title}", t.assignee_name) for t in tasks]
    if dated:
        due, text, who = min(dated, key=lambda d: d[0])
        return text, due, who
    if harms:
        return f"put right: {harms[0].description}", None, owner.display_name
    if case.status == CaseStatus.RESOLVED:
        return "confirm the outcome with the customer and close", None, owner.display_name
    return "decide the next action", None, owner.display_name


def _customer_text(case, owner, commitments, harms, next_step, due) -> str:
    parts = [f"Your case \"{case.title}\" is looked after by {owner.display_name}."]
    if commitments:
        c = commitments[0]
        parts.append(f"We promised: {c.text}, by {c.due_at:%d %B}.")
    if harms:
        parts.append("We know this has caused you: " + "; ".join(h.description for h in harms) + ".")
    if due:
        parts.append(f"Next step: {next_step}, by {due:%d %B}.")
    return " ".join(parts)
