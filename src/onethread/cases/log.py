"""The case's log: every change leaves a case event and a domain event (timeline, outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from onethread.access.rules import Principal
from onethread.db.outbox import record_event
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.models import Case, CaseEvent


def log(session: Session, clock: Clock, case: Case, actor: Principal | None, kind: str, title: str, *,
        text: str | None = None, audience: str = "internal", data: dict | None = None, at: datetime | None = None,
        channel: str | None = None) -> CaseEvent:
    when = at or clock.now()
    if case in session:
        # Anything logged changed the case as the API shows it: its version (the ETag) moves
        # even when no column of the case row itself did.
        case.last_activity_at  # noqa: B018  (loaded, so that it can be flagged)
        flag_modified(case, "last_activity_at")
    entry = CaseEvent(case_id=case.id, customer_id=case.customer_id, at=when, kind=kind,
                      actor_id=actor.id if actor else None, actor_name=actor.name if actor else "onethread",
                      text=text, audience=audience, data=data or {})
    session.add(entry)
    record_event(session, DomainEvent(
        type=f"case.{kind}", occurred_at=when, aggregate_type="case", aggregate_id=case.id,
        customer_id=case.customer_id,
        payload={"caseId": case.id, "caseTitle": case.title, "actor": actor.id if actor else None,
                 "actorName": actor.name if actor else "onethread", "timelineTitle": title,
                 "timelineDetail": text, "channel": channel, **(data or {})},
    ))
    return entry
