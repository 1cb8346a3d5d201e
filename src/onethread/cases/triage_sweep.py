"""The triage items' first-response clock: a waiting item past its ``due_at`` escalates like a
case's clock does, one rung at a time (the team's lead, then the head of customer relations),
and its clock restarts at the market's reminder cadence. Each breach is claimed by a
conditional UPDATE (two workers never escalate the same one) and happens at its due time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onethread.cases import clocks, policy, rules
from onethread.cases.events import TriageEscalated
from onethread.db.outbox import record_events
from onethread.db.session import settings_of
from onethread.kernel.clock import Clock
from onethread.models import StaffUser, Team, TriageItem

BATCH = 500


def sweep(session: Session, clock: Clock) -> int:
    """Escalate every waiting item whose first-response clock is due; the number escalated."""
    now = clock.now()
    settings = settings_of(session)
    market = policy.market(settings.market, settings.clock_policy_file)
    head = clocks.head_of_customer_relations(session)
    done = 0
    while True:
        due = session.execute(select(TriageItem.id, TriageItem.due_at, TriageItem.team_id, TriageItem.assigned_to,
                                     TriageItem.escalation_level, TriageItem.customer_id, TriageItem.channel)
                              .where(TriageItem.done_at.is_(None), TriageItem.due_at <= now)
                              .order_by(TriageItem.due_at, TriageItem.id).limit(BATCH)).all()
        if not due:
            return done
        leads = dict(session.execute(select(Team.id, Team.lead_id).where(
            Team.id.in_({r.team_id for r in due if r.team_id}))).all())
        events = []
        for r in due:
            # The queue is the first rung: its breach goes to the team's lead, the next to the head.
            rung = min(r.escalation_level + 2, len(rules.LADDER))
            lead = leads.get(r.team_id)
            level, to = rules.escalation_target(rung, r.assigned_to or "", lead, head)
            again = market.due(r.due_at, market.reminder)
            claimed = session.execute(update(TriageItem).where(TriageItem.id == r.id, TriageItem.due_at == r.due_at,
                                                               TriageItem.done_at.is_(None))
                                      .values(escalation_level=r.escalation_level + 1, escalated_to=to or None,
                                              due_at=again).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                continue
            done += 1
            name = session.scalar(select(StaffUser.display_name).where(StaffUser.id == to)) if to else None
            title = (f"Waiting {r.channel} contact escalated to {name or 'nobody (no lead, no head)'}: first "
                     f"response missed (due {r.due_at:%Y-%m-%d %H:%M} UTC)")
            events.append(TriageEscalated(occurred_at=r.due_at, aggregate_id=r.id, customer_id=r.customer_id,
                                          level=level, to_staff_id=to or None, to_name=name, timeline_title=title,
                                          channel=r.channel))
        record_events(session, events)
        session.expire_all()


def next_due(session: Session, until: datetime) -> datetime | None:
    """The earliest waiting item due at or before ``until`` (the manual clock steps through these)."""
    return session.scalar(select(func.min(TriageItem.due_at)).where(TriageItem.done_at.is_(None),
                                                                    TriageItem.due_at <= until))
