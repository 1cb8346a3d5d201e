"""Triage items: the queue rows of contacts that joined no case (``triage.py`` decides; this
module only reads and ends them, so that ``service.attach_contact`` can end one without a cycle)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, case, cast, func, select, update
from sqlalchemy.orm import Session

from onethread.errors import NotFound
from onethread.interactions.rules import Direction
from onethread.models import Contact, MatchItem, TriageItem, Vulnerability

# Customers whose consented needs in force ask for priority: their items come first in the queues.
# The needs are a JSON list; its text form holds the quoted need on SQLite and PostgreSQL alike.
PRIORITY_CUSTOMERS = select(Vulnerability.customer_id).where(
    Vulnerability.ended_at.is_(None), Vulnerability.consent_given.is_(True),
    cast(Vulnerability.needs, String).like('%"priority"%'))
PRIORITY_FIRST = case((TriageItem.customer_id.in_(PRIORITY_CUSTOMERS), 0), else_=1)


def open_item(session: Session, contact_id: str) -> TriageItem | None:
    return session.scalar(select(TriageItem).where(TriageItem.contact_id == contact_id, TriageItem.done_at.is_(None)))


def open_for_session(session: Session, session_id: str) -> TriageItem | None:
    """The open item of a live exchange (a call, a chat): it covers the exchange's later contacts."""
    return session.scalar(select(TriageItem).where(TriageItem.session_id == session_id, TriageItem.done_at.is_(None))
                          .order_by(TriageItem.created_at).limit(1))


def end(session: Session, contact_id: str, *, at: datetime, by: str | None, resolution: str,
        case_id: str | None = None) -> TriageItem | None:
    """End the contact's open item (it reached a case, or it was dismissed); the item ended, if any."""
    item = open_item(session, contact_id)
    if item is None:
        return None
    session.execute(update(TriageItem).where(TriageItem.id == item.id, TriageItem.done_at.is_(None))
                    .values(done_at=at, done_by=by, resolution=resolution, case_id=case_id)
                    .execution_options(synchronize_session="fetch"))
    return item


def cover_the_rest(session: Session, ended: TriageItem, *, why: str) -> TriageItem | None:
    """After the item of a live exchange ended (its contact reached a case, or was dismissed), the
    exchange's other lines it covered that are still on no case (another customer's, or nobody's
    yet) are not left without a clock: the oldest of them takes over the item's queue, person and
    clock; it covers the others as before. The new item, if one was needed."""
    if not ended.session_id or open_for_session(session, ended.session_id) is not None:
        return None
    dismissed = select(MatchItem.id).where(MatchItem.contact_id == Contact.id, MatchItem.resolution == "dismissed")
    heir = session.scalar(select(Contact).where(
        Contact.session_id == ended.session_id, Contact.direction == Direction.INBOUND, Contact.case_id.is_(None),
        Contact.id != ended.contact_id, ~dismissed.exists()).order_by(Contact.occurred_at, Contact.id).limit(1))
    if heir is None:
        return None
    item = session.scalar(select(TriageItem).where(TriageItem.contact_id == heir.id))
    if item is None:
        item = TriageItem(contact_id=heir.id)
        session.add(item)
    item.customer_id, item.session_id, item.channel = heir.customer_id, ended.session_id, heir.channel
    item.team_id, item.rule, item.reason = ended.team_id, ended.rule, why[:2000]
    item.assigned_to, item.assigned_at = ended.assigned_to, ended.assigned_at
    item.created_at, item.due_at = ended.created_at, ended.due_at
    item.escalation_level, item.escalated_to = ended.escalation_level, ended.escalated_to
    item.done_at = item.done_by = item.resolution = item.case_id = None
    session.flush()
    return item


def page(session: Session, *, team_id: str | None = None, assigned_to: str | None = None,
         unassigned: bool = False, done: bool = False, offset: int = 0, limit: int = 50
         ) -> tuple[list[tuple[TriageItem, Contact]], int]:
    """Triage items (open ones by default), those of customers whose needs ask for priority
    first, then oldest first, with their contacts, and the total."""
    query = select(TriageItem).where(TriageItem.done_at.is_not(None) if done else TriageItem.done_at.is_(None))
    if team_id is not None:
        query = query.where(TriageItem.team_id == team_id)
    if assigned_to is not None:
        query = query.where(TriageItem.assigned_to == assigned_to)
    if unassigned:
        query = query.where(TriageItem.assigned_to.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(select(TriageItem, Contact).join(Contact, Contact.id == TriageItem.contact_id)
                           .where(TriageItem.id.in_(query.with_only_columns(TriageItem.id)))
                           .order_by(PRIORITY_FIRST, TriageItem.created_at, TriageItem.id)
                           .offset(offset).limit(limit)).all()
    return [(item, contact) for item, contact in rows], total


def get(session: Session, item_id: str) -> TriageItem:
    item = session.get(TriageItem, item_id)
    if item is None:
        raise NotFound(f"no triage item {item_id}")
    return item
