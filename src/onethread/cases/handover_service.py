"""Ownership: a case has exactly one owner, changed only by a recorded hand-over.

A hand-over is requested (from, to, reason), and the owner changes only when the receiver
accepts. A team lead (or a rule, for an owner who is away or unresponsive) can impose one;
that is recorded too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access.rules import ADMIN, FIELD_SUBCONTRACTOR, TEAM_LEAD, Principal
from onethread.cases import clocks
from onethread.cases.log import log
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Case, Handover, StaffUser, Team


def eligible_owner(session: Session, staff_id: str) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active:
        raise NotFound(f"no active staff member {staff_id}", field="toOwnerId")
    if user.role == FIELD_SUBCONTRACTOR:
        raise ValidationFailed("a field subcontractor cannot own a case; give them a task instead", field="toOwnerId")
    if user.away:
        raise Conflict(f"{user.display_name} is marked away and cannot take a case now", field="toOwnerId")
    return user


def _case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.status == "closed":
        raise Conflict("the case is closed")
    return case


def _pending(session: Session, case_id: str) -> Handover | None:
    return session.scalar(select(Handover).where(Handover.case_id == case_id, Handover.status == "pending"))


def request(session: Session, clock: Clock, actor: Principal, case_id: str, *, to_owner_id: str,
            reason: str) -> Handover:
    case = _case(session, case_id)
    if not (reason or "").strip():
        raise ValidationFailed("say why the case is handed over", field="reason")
    if to_owner_id == case.owner_id:
        raise Conflict("that person already owns the case", field="toOwnerId")
    if _pending(session, case.id) is not None:
        raise Conflict("a hand-over is already waiting for an answer; cancel it first")
    receiver = eligible_owner(session, to_owner_id)
    now = clock.now()
    handover = Handover(case_id=case.id, from_owner_id=case.owner_id, to_owner_id=receiver.id, reason=reason.strip(),
                        requested_by=actor.id, requested_at=now, status="pending")
    session.add(handover)
    session.flush()
    log(session, clock, case, actor, "handover_requested", f"Hand-over to {receiver.display_name} requested",
        text=reason.strip(), data={"handoverId": handover.id, "toOwnerId": receiver.id})
    return handover


def _change_owner(session: Session, clock: Clock, case: Case, handover: Handover, actor: Principal,
                  status: str, note: str | None, at: datetime) -> None:
    receiver = session.get(StaffUser, handover.to_owner_id)
    handover.status, handover.decided_at, handover.decision_note = status, at, note
    case.owner_id = receiver.id
    verb = "accepted the case" if status == "accepted" else "now owns the case (imposed)"
    log(session, clock, case, actor, "owner_changed", f"{receiver.display_name} {verb}", text=handover.reason,
        at=at, data={"handoverId": handover.id, "fromOwnerId": handover.from_owner_id, "toOwnerId": receiver.id,
                     "status": status})
    clocks.touch(session, case, at)


def accept(session: Session, clock: Clock, actor: Principal, handover_id: str, note: str | None = None) -> Case:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(f"no hand-over {handover_id}")
    if handover.status != "pending":
        raise Conflict(f"this hand-over is already {handover.status}")
    if actor.id != handover.to_owner_id:
        raise Forbidden("only the person the case is handed to can accept it")
    case = _case(session, handover.case_id)
    eligible_owner(session, actor.id)
    _change_owner(session, clock, case, handover, actor, "accepted", note, clock.now())
    return case


def decline(session: Session, clock: Clock, actor: Principal, handover_id: str, reason: str) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(f"no hand-over {handover_id}")
    if handover.status != "pending":
        raise Conflict(f"this hand-over is already {handover.status}")
    if actor.id != handover.to_owner_id:
        raise Forbidden("only the person the case is handed to can decline it")
    if not (reason or "").strip():
        raise ValidationFailed("say why you decline", field="reason")
    handover.status, handover.decided_at, handover.decision_note = "declined", clock.now(), reason.strip()
    case = session.get(Case, handover.case_id)
    log(session, clock, case, actor, "handover_declined", f"{actor.name} declined the hand-over", text=reason.strip(),
        data={"handoverId": handover.id})
    return handover


def cancel(session: Session, clock: Clock, actor: Principal, handover_id: str) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None or handover.status != "pending":
        raise NotFound(f"no pending hand-over {handover_id}")
    handover.status, handover.decided_at = "cancelled", clock.now()
    log(session, clock, session.get(Case, handover.case_id), actor, "handover_cancelled", "Hand-over cancelled",
        data={"handoverId": handover.id})
    return handover


def impose(session: Session, clock: Clock, actor: Principal, case_id: str, *, to_owner_id: str, reason: str,
           at: datetime | None = None) -> Case:
    """A team lead (or a rule) gives the case a new owner without waiting for acceptance."""
    if actor.kind != "system" and actor.role not in (TEAM_LEAD, ADMIN):
        raise Forbidden("only a team lead or an administrator can impose a hand-over")
    case = _case(session, case_id)
    if not (reason or "").strip():
        raise ValidationFailed("say why the owner is replaced", field="reason")
    if to_owner_id == case.owner_id:
        raise Conflict("that person already owns the case", field="toOwnerId")
    receiver = eligible_owner(session, to_owner_id)
    when = at or clock.now()
    pending = _pending(session, case.id)
    if pending is not None:
        pending.status, pending.decided_at = "cancelled", when
    handover = Handover(case_id=case.id, from_owner_id=case.owner_id, to_owner_id=receiver.id, reason=reason.strip(),
                        requested_by=actor.id, requested_at=when, status="imposed")
    session.add(handover)
    session.flush()
    _change_owner(session, clock, case, handover, actor, "imposed", None, when)
    return case


def rule_choice(session: Session, case: Case) -> str | None:
    """Who takes over by rule: the least-loaded available member of the owner's team, else its lead."""
    owner = session.get(StaffUser, case.owner_id)
    if owner is None or owner.team_id is None:
        return None
    open_cases = (select(Case.owner_id, func.count().label("n")).where(Case.status != "closed")
                  .group_by(Case.owner_id).subquery())
    # Nobody who already had the case and let it stall gets it back by rule.
    former = set(session.scalars(select(Handover.from_owner_id).where(Handover.case_id == case.id))) | {owner.id}
    candidate = session.execute(
        select(StaffUser.id).outerjoin(open_cases, open_cases.c.owner_id == StaffUser.id)
        .where(StaffUser.team_id == owner.team_id, StaffUser.id.not_in(former), StaffUser.active,
               StaffUser.away.is_(False), StaffUser.role != FIELD_SUBCONTRACTOR)
        .order_by(func.coalesce(open_cases.c.n, 0), StaffUser.username).limit(1)
    ).scalar()
    if candidate:
        return candidate
    lead = session.scalar(select(Team.lead_id).where(Team.id == owner.team_id))
    if lead and lead not in former:
        lead_user = session.get(StaffUser, lead)
        if lead_user and lead_user.active and not lead_user.away:
            return lead
    return None


def replace_by_rule(session: Session, clock: Clock, case: Case, *, at: datetime, reason: str) -> bool:
    from onethread.access.rules import SYSTEM

    new_owner = rule_choice(session, case)
    if new_owner is None:
        return False
    impose(session, clock, SYSTEM, case.id, to_owner_id=new_owner, reason=reason, at=at)
    return True


def replace_away_owners(session: Session, clock: Clock) -> int:
    """Sweep: every open case whose owner is marked away gets an owner by rule."""
    rows = session.scalars(select(Case).join(StaffUser, StaffUser.id == Case.owner_id)
                           .where(Case.status != "closed", StaffUser.away.is_(True))).all()
    done = 0
    for case in rows:
        owner = session.get(StaffUser, case.owner_id)
        if replace_by_rule(session, clock, case, at=clock.now(), reason=f"{owner.display_name} is away"):
            done += 1
    return done
