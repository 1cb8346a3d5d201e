"""Read models for cases: the supervisor queue (every case past a clock, oldest breach first),
cases per owner, a case's open items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.models import Case, CaseClock, Customer, Escalation, StaffUser


@dataclass(frozen=True)
class Breach:
    case_id: str
    title: str
    kind: str
    customer: str
    owner: str
    owner_id: str
    oldest_breach_at: datetime
    clocks: list[str]
    escalation_level: int


def supervisor_queue(session: Session, *, offset: int = 0, limit: int = 100) -> tuple[list[Breach], int]:
    """Open cases with a fired, unresolved clock, oldest breach first."""
    breached = (select(CaseClock.case_id, func.min(CaseClock.fired_at).label("oldest"))
                .where(CaseClock.fired_at.is_not(None), CaseClock.stopped_at.is_(None))
                .group_by(CaseClock.case_id).subquery())
    base = (select(Case, Customer.name, StaffUser.display_name, breached.c.oldest)
            .join(breached, breached.c.case_id == Case.id)
            .join(Customer, Customer.id == Case.customer_id)
            .join(StaffUser, StaffUser.id == Case.owner_id)
            .where(Case.status != "closed"))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(base.order_by(breached.c.oldest, Case.id).offset(offset).limit(limit)).all()
    ids = [r[0].id for r in rows]
    kinds: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for case_id, kind in session.execute(select(CaseClock.case_id, CaseClock.kind).where(
                CaseClock.case_id.in_(ids), CaseClock.fired_at.is_not(None), CaseClock.stopped_at.is_(None))):
            kinds[case_id].append(kind)
    return [Breach(c.id, c.title, c.kind, name, owner, c.owner_id, oldest, sorted(set(kinds[c.id])),
                   c.escalation_level) for c, name, owner, oldest in rows], total


def cases_per_owner(session: Session) -> list[tuple[str, str, int, int]]:
    """(owner id, name, open cases, of which past a clock)."""
    breached = (select(CaseClock.case_id).where(CaseClock.fired_at.is_not(None), CaseClock.stopped_at.is_(None))
                .distinct().subquery())
    rows = session.execute(
        select(StaffUser.id, StaffUser.display_name, func.count(Case.id),
               func.count(breached.c.case_id))
        .join(Case, Case.owner_id == StaffUser.id)
        .outerjoin(breached, breached.c.case_id == Case.id)
        .where(Case.status != "closed").group_by(StaffUser.id, StaffUser.display_name)
        .order_by(func.count(Case.id).desc(), StaffUser.display_name)).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def open_cases_of(session: Session, customer_id: str) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.customer_id == customer_id, Case.status != "closed")
                                .order_by(Case.opened_at)))


def escalations_of(session: Session, case_id: str) -> list[Escalation]:
    return list(session.scalars(select(Escalation).where(Escalation.case_id == case_id)
                                .order_by(Escalation.at, Escalation.id)))


def complaint_history(session: Session, customer_id: str) -> dict:
    """One-off or frequent: the customer's complaints over all time."""
    rows = session.execute(select(Case.opened_at).where(Case.customer_id == customer_id, Case.kind == "complaint")
                           .order_by(Case.opened_at)).scalars().all()
    return {"complaints": len(rows), "pattern": "none" if not rows else "one-off" if len(rows) == 1 else "frequent"
            if len(rows) >= 3 else "repeat", "first": rows[0].isoformat() if rows else None}
