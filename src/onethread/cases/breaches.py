"""What a fired clock does: escalate one rung up the ladder (once per breach), send the deadlock
letter at the regulator's deadline, restart the no-activity clock, replace an unresponsive owner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import SYSTEM
from onethread.cases import clocks, rules
from onethread.interactions import service as interactions
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import Case, StaffUser, Team


def deadlock_letter(case: Case, customer_name: str, ombudsman: str, weeks: int) -> str:
    return (
        f"Dear {customer_name},\n\n"
        f"You complained to us about \"{case.title}\" on {case.opened_at:%d %B %Y}. We are sorry that we have not "
        f"resolved your complaint within {weeks} weeks. You now have the right to take it to {ombudsman}, "
        "an independent service that is free for you to use. You do not need our agreement to do so, and the "
        "ombudsman can require us to put things right.\n\n"
        "Your case stays open with its named owner while you decide, and we will keep working on it.\n"
    )


def escalate(session: Session, clock: Clock, fired: list, head_id: str | None) -> tuple[int, int]:
    if not fired:
        return 0, 0
    from onethread.cases import handover_service
    from onethread.models import Customer

    case_ids = sorted({r.case_id for r in fired})
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    owners = {u.id: u for u in session.scalars(select(StaffUser).where(
        StaffUser.id.in_({c.owner_id for c in cases.values()})))}
    leads = dict(session.execute(select(Team.id, Team.lead_id).where(
        Team.id.in_({u.team_id for u in owners.values() if u.team_id}))).all())
    names = dict(session.execute(select(Customer.id, Customer.name).where(
        Customer.id.in_({c.customer_id for c in cases.values()}))).all())
    escalations, case_events, events = [], [], []
    letters = 0
    for row in fired:
        case = cases[row.case_id]
        if case.status == "closed":
            continue
        level = rules.next_level(case.escalation_level, row.kind)
        case.escalation_level = level
        owner = owners.get(case.owner_id)
        rung = rules.ladder_rung(level)
        lead = leads.get(owner.team_id) if owner and owner.team_id else None
        to = {"owner": case.owner_id, "team_lead": lead or case.owner_id,
              "head_of_customer_relations": head_id or lead or case.owner_id}[rung]
        label = clocks.CLOCK_LABELS.get(row.kind, row.kind)
        reason = f"{label} missed (due {row.due_at:%Y-%m-%d %H:%M} UTC)"
        if row.kind == "regulator_warning":
            market = clocks.market_of(session, case)
            deadline = market.due(case.opened_at, market.regulator_deadline)
            reason = f"regulator warning: the complaint must be resolved by {deadline:%Y-%m-%d}"
        escalation_id = new_id()
        escalations.append({"id": escalation_id, "case_id": case.id, "customer_id": case.customer_id,
                            "clock_id": row.id, "clock_kind": row.kind, "level": level, "to_staff_id": to,
                            "at": row.due_at, "reason": reason})
        to_name = (owners.get(to).display_name if to in owners else
                   session.scalar(select(StaffUser.display_name).where(StaffUser.id == to)) or "unassigned")
        title = f"Escalated to {to_name} ({rung.replace('_', ' ')}): {reason}"
        case_events.append({"id": new_id(), "case_id": case.id, "customer_id": case.customer_id, "at": row.due_at,
                            "kind": "escalated", "actor_id": None, "actor_name": "onethread", "text": title,
                            "audience": "internal",
                            "data": {"level": level, "toStaffId": to, "clock": row.kind,
                                     "escalationId": escalation_id}})
        events.append(DomainEvent(
            type="case.escalated", occurred_at=row.due_at, aggregate_type="case", aggregate_id=case.id,
            customer_id=case.customer_id,
            payload={"caseId": case.id, "level": level, "toStaffId": to, "clock": row.kind, "reason": reason,
                     "timelineTitle": title, "actorName": "onethread"}))
        if row.kind == "regulator_deadline":
            market = clocks.market_of(session, case)
            weeks = market.regulator_deadline.after.days // 7
            text = deadlock_letter(case, names.get(case.customer_id, "customer"), market.ombudsman, weeks)
            sent = interactions.record(session, clock, SYSTEM, interactions.Intake(
                channel="letter", direction="outbound", kind="letter", occurred_at=row.due_at,
                subject="Your complaint: your right to go to the ombudsman", text=text, customer_id=case.customer_id,
                channel_message_id=f"deadlock-letter:{case.id}", extra={"caseId": case.id, "template": "deadlock"}))
            sent.contact.case_id = case.id
            letters += 1
            case_events.append({"id": new_id(), "case_id": case.id, "customer_id": case.customer_id,
                                "at": row.due_at, "kind": "deadlock_letter", "actor_id": None,
                                "actor_name": "onethread", "text": text, "audience": "customer", "data": {}})
        if row.kind == "no_activity":
            clocks.start(session, case, "no_activity", row.due_at)
            if level >= 2 and owner is not None:
                handover_service.replace_by_rule(session, clock, case, at=row.due_at,
                                                 reason=f"no activity by {owner.display_name} past the clock, "
                                                        "after a reminder")
    clocks.bulk_escalate(session, escalations, events, case_events)
    return len(escalations), letters
