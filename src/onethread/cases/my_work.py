"""My work: a staff member's own list (docs/routing.md#my-work). Their open cases ordered by the
next thing due, with an unread marker; the hand-overs offered to them; the triage items handed to
them, waiting in their team's queue, or from customers whose case they own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onethread.cases import triage_items
from onethread.cases.clocks import CLOCK_LABELS
from onethread.cases.rules import CaseStatus, HandoverStatus
from onethread.db.session import record_trail
from onethread.interactions.rules import Direction
from onethread.kernel.clock import Clock
from onethread.models import (
    Case,
    CaseClock,
    CaseEvent,
    CaseReadMark,
    Contact,
    Customer,
    Handover,
    StaffUser,
    TriageItem,
)

LIMIT = 100


@dataclass(frozen=True)
class MyCase:
    case: Case
    customer_name: str
    next_due_at: datetime | None
    next_due: str | None  # what is due (a clock's label)
    breached: int  # clocks past due and not yet answered
    last_activity_at: datetime  # the newest thing on the case (a contact, a log entry)
    unread: bool  # something happened since I last opened it (or I never did)


@dataclass(frozen=True)
class MyWork:
    cases: list[MyCase]
    handovers: list[tuple[Handover, Case, str]]  # (offer, its case, who offers it)
    triage: list[tuple[TriageItem, Contact, str | None]]  # (item, contact, customer name)
    counts: dict[str, int]


_MARKS = CaseReadMark.__table__
_MARK = {name: dialect.insert(_MARKS).on_conflict_do_update(index_elements=["staff_id", "case_id"],
                                                            set_={"read_at": dialect.insert(_MARKS).excluded.read_at})
         for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def mark_read(session: Session, clock: Clock, staff_id: str, case_id: str) -> None:
    """I opened the case: its unread marker clears. Written as a read's trail (``record_trail``),
    so that opening a case page, a read, records it too."""
    record_trail(session, _MARK[session.get_bind().dialect.name],
                 {"staff_id": staff_id, "case_id": case_id, "read_at": clock.now()})


def my_work(session: Session, clock: Clock, staff: StaffUser) -> MyWork:
    now = clock.now()
    # a paused clock (the case waits on someone) has no due time to show until it resumes
    running = (CaseClock.stopped_at.is_(None), CaseClock.fired_at.is_(None), CaseClock.paused_at.is_(None))
    next_due = (select(CaseClock.case_id, func.min(CaseClock.due_at).label("due")).where(*running)
                .group_by(CaseClock.case_id).subquery())
    breached = (select(CaseClock.case_id, func.count().label("n"))
                .where(CaseClock.stopped_at.is_(None), CaseClock.fired_at.is_not(None))
                .group_by(CaseClock.case_id).subquery())
    # Unread: what others did (a log entry not mine: an escalation, a hand-over, a colleague's
    # note) or what the customer sent, since I last opened the case.
    newest_event = (select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
                    .where(or_(CaseEvent.actor_id.is_(None), CaseEvent.actor_id != staff.id))
                    .group_by(CaseEvent.case_id).subquery())
    newest_contact = (select(Contact.case_id, func.max(Contact.recorded_at).label("at"))
                      .where(Contact.case_id.is_not(None), Contact.direction == Direction.INBOUND)
                      .group_by(Contact.case_id).subquery())
    rows = session.execute(
        select(Case, Customer.name, next_due.c.due, breached.c.n, newest_event.c.at, newest_contact.c.at,
               CaseReadMark.read_at)
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(next_due, next_due.c.case_id == Case.id).outerjoin(breached, breached.c.case_id == Case.id)
        .outerjoin(newest_event, newest_event.c.case_id == Case.id)
        .outerjoin(newest_contact, newest_contact.c.case_id == Case.id)
        .outerjoin(CaseReadMark, (CaseReadMark.case_id == Case.id) & (CaseReadMark.staff_id == staff.id))
        .where(Case.owner_id == staff.id, Case.status != CaseStatus.CLOSED).limit(LIMIT)).all()
    kinds = dict(session.execute(
        select(CaseClock.case_id, CaseClock.kind).where(*running, CaseClock.case_id.in_([r[0].id for r in rows]))
        .order_by(CaseClock.case_id, CaseClock.due_at.desc())).all()) if rows else {}
    mine = []
    for case, name, due, n, event_at, contact_at, read_at in rows:
        news = max((t for t in (event_at, contact_at) if t is not None), default=None)
        last = max(t for t in (case.last_activity_at, news) if t is not None)
        unread = news is not None and (read_at is None or news > read_at)
        mine.append(MyCase(case, name, due, CLOCK_LABELS.get(kinds.get(case.id), kinds.get(case.id)), n or 0,
                           last, unread))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    mine.sort(key=lambda c: (0 if c.breached else 1, c.next_due_at or far, c.case.id))
    offers = session.execute(
        select(Handover, Case, StaffUser.display_name).join(Case, Case.id == Handover.case_id)
        .outerjoin(StaffUser, StaffUser.id == Handover.requested_by)
        .where(Handover.to_owner_id == staff.id, Handover.status == HandoverStatus.PENDING)
        .order_by(Handover.requested_at).limit(LIMIT)).all()
    my_customers = select(Case.customer_id).where(Case.owner_id == staff.id, Case.status != CaseStatus.CLOSED)
    visible = [TriageItem.assigned_to == staff.id, TriageItem.customer_id.in_(my_customers)]
    if staff.team_id:
        visible.append((TriageItem.team_id == staff.team_id) & TriageItem.assigned_to.is_(None))
    triage = session.execute(
        select(TriageItem, Contact, Customer.name).join(Contact, Contact.id == TriageItem.contact_id)
        .outerjoin(Customer, Customer.id == TriageItem.customer_id)
        .where(TriageItem.done_at.is_(None), or_(*visible))
        .order_by(triage_items.PRIORITY_FIRST, TriageItem.due_at, TriageItem.id).limit(LIMIT)).all()
    counts = {"cases": len(mine), "unread": sum(1 for c in mine if c.unread),
              "breached": sum(1 for c in mine if c.breached), "handovers": len(offers),
              "triage": len(triage), "triageMine": sum(1 for t in triage if t[0].assigned_to == staff.id)}
    return MyWork(mine, [tuple(r) for r in offers], [tuple(r) for r in triage], counts)
