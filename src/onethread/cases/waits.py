"""A case waits on the customer or a named third party: its pausable clocks stop counting until
it resumes (by hand, or when the customer answers a wait on them). The paused intervals are kept,
and on resume each paused clock's due time is computed again from its start, its target and
every interval it was paused (``kernel.calendar.due_after_pauses``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases import clocks, rules
from onethread.cases.items_service import open_case
from onethread.cases.log import log
from onethread.cases.rules import CaseStatus
from onethread.errors import Conflict, Forbidden, ValidationFailed
from onethread.kernel.calendar import due_after_pauses
from onethread.kernel.clock import Clock
from onethread.models import Case, CaseClock, CaseWait


def open_wait(session: Session, case_id: str) -> CaseWait | None:
    return session.scalar(select(CaseWait).where(CaseWait.case_id == case_id, CaseWait.ended_at.is_(None)))


def of_case(session: Session, case_ids: list[str]) -> dict[str, list[CaseWait]]:
    """Every wait of the cases, oldest first."""
    out: dict[str, list[CaseWait]] = {i: [] for i in case_ids}
    if case_ids:
        for w in session.scalars(select(CaseWait).where(CaseWait.case_id.in_(case_ids))
                                 .order_by(CaseWait.started_at, CaseWait.id)):
            out[w.case_id].append(w)
    return out


def paused_for(waits: list[CaseWait], now: datetime | None) -> timedelta:
    """Wall time the case has spent waiting so far (an open wait counts up to ``now``)."""
    return sum(((w.ended_at or now or w.started_at) - w.started_at for w in waits), timedelta(0))


def iso_duration(delta: timedelta) -> str:
    """``P2DT3H20M``; ``PT0S`` for nothing."""
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    time_part = (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    if not days and not time_part:
        return "PT0S"
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")


def describe(wait: CaseWait) -> str:
    return "the customer" if wait.waiting_on == "customer" else wait.party or "a third party"


def wait(session: Session, clock: Clock, actor: Principal, case_id: str, *, on: str, party: str | None,
         reason: str) -> CaseWait:
    """The case now waits on ``on``: the pausable clocks stop counting."""
    case = open_case(session, case_id)
    if actor.kind != "staff":
        raise Forbidden("a case is put on hold by a named person")
    problem = rules.wait_problem(on, party, reason)
    if problem:
        raise ValidationFailed(problem[1], field=problem[0])
    current = open_wait(session, case.id)
    if current is not None:
        raise Conflict(f"the case already waits on {describe(current)} since {current.started_at:%Y-%m-%d %H:%M} "
                       "UTC: resume it first", field="on")
    row = _start(session, clock, case, actor, on, party, reason)
    clocks.touch(session, case, clock.now())
    return row


def follow_status(session: Session, clock: Clock, actor: Principal, case: Case, old: str, reason: str | None) -> None:
    """A person set the status to waiting on the customer: the case waits on them (its clocks
    pause); moved off it, a wait on the customer ends."""
    current = open_wait(session, case.id)
    if case.status == CaseStatus.WAITING_CUSTOMER and current is None and actor.kind == "staff":
        _start(session, clock, case, actor, "customer", None,
               (reason or "").strip() or "status set to waiting on the customer")
    elif old == CaseStatus.WAITING_CUSTOMER and current is not None and current.waiting_on == "customer":
        _end(session, clock, case, current, actor, (reason or "").strip() or f"status changed to {case.status}")


def _start(session: Session, clock: Clock, case: Case, actor: Principal, on: str, party: str | None,
           reason: str) -> CaseWait:
    now = clock.now()
    row = CaseWait(case_id=case.id, customer_id=case.customer_id, waiting_on=on,
                   party=(party or "").strip() or None, reason=reason.strip(), started_at=now, started_by=actor.id,
                   started_by_name=actor.name)
    session.add(row)
    session.execute(update(CaseClock).where(
        CaseClock.case_id == case.id, CaseClock.kind.in_(rules.PAUSABLE_CLOCKS), CaseClock.stopped_at.is_(None),
        CaseClock.fired_at.is_(None), CaseClock.paused_at.is_(None)).values(paused_at=now))
    if on == "customer" and case.status != CaseStatus.WAITING_CUSTOMER:
        _status(session, clock, case, actor, CaseStatus.WAITING_CUSTOMER, reason.strip(), now)
    log(session, clock, case, actor, "waiting", f"Waiting on {describe(row)}: clocks paused", text=row.reason,
        data={"on": on, "party": row.party, "waitId": row.id})
    return row


def resume(session: Session, clock: Clock, actor: Principal, case_id: str, *, reason: str | None = None) -> CaseWait:
    """The wait is over (by hand): the paused clocks run again, due later by the time paused."""
    case = open_case(session, case_id)
    if actor.kind != "staff":
        raise Forbidden("a case is taken off hold by a named person")
    current = open_wait(session, case.id)
    if current is None:
        raise Conflict("the case is not waiting on anyone")
    _end(session, clock, case, current, actor, (reason or "").strip() or "resumed")
    clocks.touch(session, case, clock.now())
    return current


def customer_answered(session: Session, clock: Clock, case: Case, actor: Principal | None, at: datetime) -> None:
    """A contact from the customer on the case ends a wait on the customer (not one on a third
    party); one made before the wait began (put on the case late) answers nothing."""
    current = open_wait(session, case.id)
    if current is not None and current.waiting_on == "customer" and at >= current.started_at:
        _end(session, clock, case, current, actor, "the customer answered", at=at)


def _end(session: Session, clock: Clock, case: Case, current: CaseWait, actor: Principal | None, why: str, *,
         at: datetime | None = None) -> None:
    now = at or clock.now()
    current.ended_at, current.ended_by_name, current.end_reason = now, actor.name if actor else "onethread", why[:300]
    session.flush()
    market = clocks.market_of(session, case)
    pauses = [(w.started_at, w.ended_at) for w in of_case(session, [case.id])[case.id]]
    for row in session.scalars(select(CaseClock).where(CaseClock.case_id == case.id,
                                                       CaseClock.paused_at.is_not(None),
                                                       CaseClock.stopped_at.is_(None), CaseClock.fired_at.is_(None))):
        rule = market.rule(case.kind, row.kind)
        if rule is not None:
            due = due_after_pauses(market.calendar, row.started_at, rule.after, rule.basis, pauses)
            row.due_at = due or row.due_at
        row.paused_at = None
    if case.status == CaseStatus.WAITING_CUSTOMER:
        _status(session, clock, case, actor, CaseStatus.IN_PROGRESS, why, now)
    log(session, clock, case, actor, "resumed", f"No longer waiting on {describe(current)}: clocks running again",
        text=why, data={"waitId": current.id, "pausedFrom": current.started_at.isoformat()}, at=now)


def end_with_case(session: Session, case_id: str, at: datetime, actor: Principal | None) -> None:
    """Closing the case ends its wait (its clocks stop with it)."""
    session.execute(update(CaseWait).where(CaseWait.case_id == case_id, CaseWait.ended_at.is_(None)).values(
        ended_at=at, ended_by_name=actor.name if actor else "onethread", end_reason="the case was closed"))


def _status(session: Session, clock: Clock, case: Case, actor: Principal | None, status: str, why: str,
            at: datetime) -> None:
    """The status follows the wait, logged as any status change (integrations hear of it)."""
    old, case.status = case.status, status
    log(session, clock, case, actor, "status_changed", f"Status: {old} -> {status}", text=why,
        data={"from": old, "to": status}, at=at)
