"""Clock rows: start, stop, and the sweep that fires what fell due and escalates it.

A clock is a row with a ``due_at``. The sweep claims due rows with one conditional UPDATE
(two workers never fire the same row), then escalates all of them with a few bulk
statements. Every timestamp a breach produces is the clock's ``due_at``, not the moment the
sweep happened to run, so a worker polling every few seconds, a manual clock advanced by
eight weeks in one step and one advanced a day at a time all write the same history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import any_, bindparam, func, select, update
from sqlalchemy.orm import Session

from onethread.cases import policy, rules
from onethread.cases.rules import CLOCK_LABELS as CLOCK_LABELS  # re-exported: what each clock is called
from onethread.db.bulk import insert_rows, is_postgresql
from onethread.db.outbox import record_events
from onethread.db.session import settings_of
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import Case, CaseClock, CaseEvent, CaseWait, Escalation, StaffUser, Team

BATCH = 5000
PAUSABLE = frozenset(rules.PAUSABLE_CLOCKS)


def _waiting(session: Session, case_id: str) -> bool:
    """The case waits on someone: a pausable clock started now starts paused."""
    return session.scalar(select(CaseWait.id).where(CaseWait.case_id == case_id, CaseWait.ended_at.is_(None))
                          .limit(1)) is not None


def market_of(session: Session, case: Case) -> policy.Market:
    return policy.market(case.market, settings_of(session).clock_policy_file)


def start(session: Session, case: Case, kind: str, at: datetime, *, due_at: datetime | None = None,
          ref_id: str | None = None) -> CaseClock | None:
    """Start a clock of ``kind`` (due from the market policy unless ``due_at`` is given)."""
    if due_at is None:
        market = market_of(session, case)
        if kind == rules.ClockKind.REGULATOR_WARNING:
            rule = market.regulator_warning
        elif kind == rules.ClockKind.REGULATOR_DEADLINE:
            rule = market.regulator_deadline
        else:
            rule = market.rule(case.kind, kind)
        if rule is None:
            return None
        due_at = market.due(at, rule)
    row = CaseClock(case_id=case.id, customer_id=case.customer_id, kind=kind, ref_id=ref_id, started_at=at,
                    due_at=due_at, paused_at=at if kind in PAUSABLE and _waiting(session, case.id) else None)
    session.add(row)
    return row


def stop(session: Session, case_id: str, kinds: tuple[str, ...], at: datetime, *, ref_id: str | None = None) -> int:
    """Stop running (or fired, still unresolved) clocks: the condition they watched is met."""
    query = update(CaseClock).where(CaseClock.case_id == case_id, CaseClock.kind.in_(kinds),
                                    CaseClock.stopped_at.is_(None))
    if ref_id is not None:
        query = query.where(CaseClock.ref_id == ref_id)
    return session.execute(query.values(stopped_at=at)).rowcount


def running(session: Session, case_id: str, kind: str) -> bool:
    return session.scalar(select(CaseClock.id).where(CaseClock.case_id == case_id, CaseClock.kind == kind,
                                                     CaseClock.stopped_at.is_(None),
                                                     CaseClock.fired_at.is_(None))) is not None


def touch(session: Session, case: Case, at: datetime) -> None:
    """Someone worked on the case: the no-activity clock starts again."""
    case.last_activity_at = at
    stop(session, case.id, (rules.ClockKind.NO_ACTIVITY,), at)
    start(session, case, rules.ClockKind.NO_ACTIVITY, at)


@dataclass
class SweepReport:
    fired: int = 0
    escalations: int = 0
    letters: int = 0
    replaced_owners: int = 0


def head_of_customer_relations(session: Session) -> str | None:
    username = settings_of(session).head_of_customer_relations
    if username:
        found = session.scalar(select(StaffUser.id).where(StaffUser.username == username, StaffUser.active))
        if found:
            return found
    return session.scalar(select(Team.lead_id).where(Team.kind == "customer_relations", Team.lead_id.is_not(None))
                          .order_by(Team.created_at))


def sweep(session: Session, clock: Clock, *, worker: str = "sweep") -> SweepReport:
    """Fire every clock due at or before now, oldest first, and escalate each breach once.

    Each batch is claimed by one statement: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE
    SKIP LOCKED) RETURNING`` (``id = ANY(ARRAY(SELECT ...))`` on PostgreSQL). On PostgreSQL a
    second worker skips the rows the first one holds instead of waiting for them (SQLite has one
    writer at a time and ignores the clause); the ``fired_at IS NULL`` condition makes a row fire
    once even if two claims meet. Rows another worker held and then released without firing
    them (its transaction failed) are left to the next sweep.
    """
    from onethread.cases import breaches  # the consequences live with the case services

    report = SweepReport()
    now = clock.now()
    head = head_of_customer_relations(session)
    t = CaseClock.__table__  # Core: the returned rows are plain tuples, no ORM loading per row
    # a paused clock (the case waits on someone) is not claimed; its due time moves on resume
    running = (t.c.fired_at.is_(None), t.c.stopped_at.is_(None), t.c.paused_at.is_(None))
    # Nothing left to claim is older than the previous batch's oldest clock: the batch took the
    # oldest running ones, and what it restarted falls due after the breach that restarted it.
    # The bound keeps each claim from walking the index entries of every clock fired before it
    # in this transaction (PostgreSQL removes them only after the commit).
    since = None
    while True:
        token = f"{worker}:{new_id()}"
        window = (t.c.due_at <= now,) if since is None else (t.c.due_at <= now, t.c.due_at >= since)
        due = (select(t.c.id).where(*running, *window)
               .order_by(t.c.due_at, t.c.id).limit(BATCH).with_for_update(skip_locked=True))
        if is_postgresql(session):
            # ``id = ANY(ARRAY(claim))``: the batch's rows by primary key. With ``id IN (claim)``
            # the planner may hash-join the claim against a scan of every unfired clock.
            claimed = t.c.id == any_(func.array(due.scalar_subquery()))
        else:
            claimed = t.c.id.in_(due)
        if session.autoflush:
            session.flush()
        fired = session.execute(
            update(t).where(claimed, *running).values(fired_at=t.c.due_at, fired_by=token)
            .returning(t.c.id, t.c.case_id, t.c.customer_id, t.c.kind, t.c.ref_id, t.c.started_at, t.c.due_at)
        ).all()
        if not fired:
            break
        fired.sort(key=lambda r: (r.due_at, r.id))
        since = fired[0].due_at
        report.fired += len(fired)
        esc, letters, replaced = breaches.escalate(session, clock, fired, head)
        report.escalations += esc
        report.letters += letters
        report.replaced_owners += replaced
    return report


@dataclass(frozen=True)
class Restart:
    """A clock to (re)start for a case, computed from the market's policy."""

    case_id: str
    customer_id: str
    case_kind: str
    market: str
    kind: str
    at: datetime
    reminder: bool = False  # at the top of the ladder: due at the market's reminder cadence


def restart_many(session: Session, items: list[Restart], *, stop_first: bool = False) -> int:
    """Start many policy clocks in one INSERT (after stopping the running ones of the same kind,
    as ``touch`` does, when ``stop_first``)."""
    if not items:
        return 0
    if stop_first:
        table = CaseClock.__table__
        running = table.update().where(table.c.case_id == bindparam("b_case"), table.c.kind == bindparam("b_kind"),
                                       table.c.stopped_at.is_(None))
        session.execute(running.values(stopped_at=bindparam("b_at")),
                        [{"b_case": i.case_id, "b_kind": i.kind, "b_at": i.at} for i in items])
    policy_file = settings_of(session).clock_policy_file
    rows = []
    for item in items:
        market = policy.market(item.market, policy_file)
        rule = market.reminder if item.reminder else market.rule(item.case_kind, item.kind)
        if rule is None:
            continue
        rows.append({"id": new_id(), "case_id": item.case_id, "customer_id": item.customer_id, "kind": item.kind,
                     "ref_id": None, "started_at": item.at, "due_at": market.due(item.at, rule)})
    insert_rows(session, CaseClock.__table__, rows)
    return len(rows)


def write_log(session: Session, case_events: list[dict], events: list[DomainEvent],
              escalations: list[dict] | None = None) -> None:
    """Write escalations, case log entries and domain events in a handful of statements."""
    insert_rows(session, Escalation.__table__, escalations or [])
    insert_rows(session, CaseEvent.__table__, case_events)
    record_events(session, events)


def next_due(session: Session, until: datetime) -> datetime | None:
    """The earliest running clock due at or before ``until`` (the manual clock steps through these)."""
    return session.scalar(select(func.min(CaseClock.due_at)).where(
        CaseClock.fired_at.is_(None), CaseClock.stopped_at.is_(None), CaseClock.paused_at.is_(None),
        CaseClock.due_at <= until))
