"""Ownership: a case has exactly one owner, changed only by a recorded hand-over.

A hand-over is requested (from, to, reason), and the owner changes only when the receiver
accepts. A team lead (or a rule, for an owner who is away or unresponsive) can impose one;
that is recorded too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.orm import Session

from onethread.access.rules import ADMIN, FIELD_SUBCONTRACTOR, TEAM_LEAD, Principal
from onethread.cases import clocks, proactive
from onethread.cases.log import log
from onethread.cases.rules import CaseStatus, ClockKind, HandoverStatus
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
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


def _locked_case(session: Session, case_id: str) -> Case | None:
    """The case row, locked for this transaction and read afresh (PostgreSQL ``FOR UPDATE``).

    Every change of ownership takes the case's lock first, before touching a hand-over row: two
    people changing the same case (one accepting a hand-over while a lead imposes another owner)
    then queue on one row instead of each holding one of two rows and deadlocking. The second
    one reads the case and its hand-over as the first left them, and gets a 409 if there is
    nothing left to do."""
    return session.get(Case, case_id, with_for_update=True, populate_existing=True)


def _case(session: Session, case_id: str) -> Case:
    case = _locked_case(session, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.status == CaseStatus.CLOSED:
        raise Conflict("the case is closed")
    return case


def get(session: Session, handover_id: str) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(f"no hand-over {handover_id}")
    return handover


def latest(session: Session, case_id: str) -> Handover | None:
    """The case's most recent hand-over (requested, accepted, imposed...)."""
    return session.scalar(select(Handover).where(Handover.case_id == case_id)
                          .order_by(Handover.requested_at.desc(), Handover.id.desc()).limit(1))


def _pending(session: Session, case_id: str) -> Handover | None:
    return session.scalar(select(Handover).where(Handover.case_id == case_id,
                                                 Handover.status == HandoverStatus.PENDING))


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
    handover = Handover(case_id=case.id, customer_id=case.customer_id, from_owner_id=case.owner_id,
                        to_owner_id=receiver.id, reason=reason.strip(),
                        requested_by=actor.id, requested_at=now, status=HandoverStatus.PENDING)
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
    proactive.follow_owner(session, case, receiver)
    verb = "accepted the case" if status == HandoverStatus.ACCEPTED else "now owns the case (imposed)"
    log(session, clock, case, actor, "owner_changed", f"{receiver.display_name} {verb}", text=handover.reason,
        at=at, data={"handoverId": handover.id, "fromOwnerId": handover.from_owner_id, "toOwnerId": receiver.id,
                     "status": status})
    clocks.touch(session, case, at)


def accept(session: Session, clock: Clock, actor: Principal, handover_id: str, note: str | None = None) -> Case:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(f"no hand-over {handover_id}")
    if handover.status != HandoverStatus.PENDING:
        raise Conflict(f"this hand-over is already {handover.status}")
    if actor.id != handover.to_owner_id:
        raise Forbidden("only the person the case is handed to can accept it")
    case = _case(session, handover.case_id)
    session.refresh(handover)  # as it is now that the case is ours: a lead may have imposed meanwhile
    if handover.status != HandoverStatus.PENDING:
        raise Conflict(f"this hand-over is already {handover.status}")
    eligible_owner(session, actor.id)
    _change_owner(session, clock, case, handover, actor, HandoverStatus.ACCEPTED, note, clock.now())
    return case


def decline(session: Session, clock: Clock, actor: Principal, handover_id: str, reason: str) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(f"no hand-over {handover_id}")
    if handover.status != HandoverStatus.PENDING:
        raise Conflict(f"this hand-over is already {handover.status}")
    if actor.id != handover.to_owner_id:
        raise Forbidden("only the person the case is handed to can decline it")
    if not (reason or "").strip():
        raise ValidationFailed("say why you decline", field="reason")
    case = _locked_case(session, handover.case_id)
    session.refresh(handover)
    if handover.status != HandoverStatus.PENDING:
        raise Conflict(f"this hand-over is already {handover.status}")
    handover.status, handover.decided_at, handover.decision_note = HandoverStatus.DECLINED, clock.now(), reason.strip()
    log(session, clock, case, actor, "handover_declined", f"{actor.name} declined the hand-over", text=reason.strip(),
        data={"handoverId": handover.id})
    return handover


def cancel(session: Session, clock: Clock, actor: Principal, handover_id: str) -> Handover:
    """Withdraw a hand-over nobody has answered: by whoever asked for it, the owner, or a team lead."""
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound(f"no hand-over {handover_id}")
    if handover.status != HandoverStatus.PENDING:
        raise Conflict(f"this hand-over is already {handover.status}")
    if actor.kind != "system" and actor.role not in (TEAM_LEAD, ADMIN) \
            and actor.id not in (handover.requested_by, handover.from_owner_id):
        raise Forbidden("only whoever asked for the hand-over, the case's owner or a team lead can cancel it")
    case = _locked_case(session, handover.case_id)
    session.refresh(handover)
    if handover.status != HandoverStatus.PENDING:
        raise Conflict(f"this hand-over is already {handover.status}")
    handover.status, handover.decided_at = HandoverStatus.CANCELLED, clock.now()
    log(session, clock, case, actor, "handover_cancelled", "Hand-over cancelled",
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
        pending.status, pending.decided_at = HandoverStatus.CANCELLED, when
    handover = Handover(case_id=case.id, customer_id=case.customer_id, from_owner_id=case.owner_id,
                        to_owner_id=receiver.id, reason=reason.strip(),
                        requested_by=actor.id, requested_at=when, status=HandoverStatus.IMPOSED)
    session.add(handover)
    session.flush()
    _change_owner(session, clock, case, handover, actor, HandoverStatus.IMPOSED, None, when)
    return case


@dataclass(frozen=True)
class _Member:
    id: str
    username: str
    display_name: str
    team_id: str | None
    available: bool  # active and not away
    role: str

    @property
    def eligible(self) -> bool:  # may own a case (``eligible_owner``)
        return self.available and self.role != FIELD_SUBCONTRACTOR


class RuleChooser:
    """Who takes over by rule, for many cases at once: the least-loaded available member of the
    owner's team, else its lead; never someone who already had the case and let it stall.

    ``load`` reads everything it needs in a few queries; ``pick`` then decides case after case
    in memory, counting each assignment, so a sweep over thousands of stalled cases spreads them
    instead of giving them all to the same person.
    """

    def __init__(self, members: dict[str, _Member], leads: dict[str, str | None],
                 open_cases: dict[str, int], formers: dict[str, set[str]]):
        self.members, self.leads, self.open_cases, self.formers = members, leads, open_cases, formers

    @classmethod
    def load(cls, session: Session, cases: list[tuple[str, str]]) -> RuleChooser:
        """``cases``: (case id, current owner id)."""
        if not cases:
            return cls({}, {}, {}, {})
        case_ids = {c for c, _ in cases}
        owner_ids = {o for _, o in cases}
        team_ids = set(session.scalars(select(StaffUser.team_id).where(StaffUser.id.in_(owner_ids),
                                                                       StaffUser.team_id.is_not(None))))
        leads = dict(session.execute(select(Team.id, Team.lead_id).where(Team.id.in_(team_ids))).all())
        wanted = or_(StaffUser.team_id.in_(team_ids), StaffUser.id.in_(owner_ids),
                     StaffUser.id.in_([lead for lead in leads.values() if lead]))
        members = {
            r.id: _Member(r.id, r.username, r.display_name, r.team_id, bool(r.active and not r.away), r.role)
            for r in session.execute(select(StaffUser.id, StaffUser.username, StaffUser.display_name,
                                            StaffUser.team_id, StaffUser.role, StaffUser.active,
                                            StaffUser.away).where(wanted))
        }
        open_cases = dict(session.execute(
            select(Case.owner_id, func.count())
            .where(Case.status != CaseStatus.CLOSED, Case.owner_id.in_(list(members)))
            .group_by(Case.owner_id)).all())
        formers: dict[str, set[str]] = {c: set() for c in case_ids}
        for case_id, former in session.execute(select(Handover.case_id, Handover.from_owner_id)
                                               .where(Handover.case_id.in_(case_ids))):
            formers[case_id].add(former)
        return cls(members, leads, open_cases, formers)

    def name(self, staff_id: str) -> str:
        member = self.members.get(staff_id)
        return member.display_name if member else staff_id

    def pick(self, case_id: str, owner_id: str) -> str | None:
        owner = self.members.get(owner_id)
        if owner is None or owner.team_id is None:
            return None
        former = self.formers.setdefault(case_id, set()) | {owner_id}
        lead = self.leads.get(owner.team_id)
        candidates = [m for m in self.members.values()  # the lead is the fallback, not one of the pool
                      if m.team_id == owner.team_id and m.eligible and m.id not in former and m.id != lead]
        chosen = None
        if candidates:
            chosen = min(candidates, key=lambda m: (self.open_cases.get(m.id, 0), m.username)).id
        else:
            lead_user = self.members.get(lead) if lead else None
            if lead_user is not None and lead not in former and lead_user.eligible:
                chosen = lead
        if chosen is not None:
            self.open_cases[chosen] = self.open_cases.get(chosen, 0) + 1
            self.open_cases[owner_id] = self.open_cases.get(owner_id, 0) - 1
            self.formers[case_id].add(owner_id)
        return chosen


@dataclass(frozen=True)
class RuleHandover:
    """An owner replaced by rule: what ``impose_many`` writes."""

    case_id: str
    customer_id: str
    case_title: str
    case_kind: str
    market: str
    from_owner_id: str
    to_owner_id: str
    to_name: str
    reason: str
    at: datetime


def rule_choice(session: Session, case: Case) -> str | None:
    """Who takes over ``case`` by rule (see ``RuleChooser``)."""
    return RuleChooser.load(session, [(case.id, case.owner_id)]).pick(case.id, case.owner_id)


def replace_by_rule(session: Session, clock: Clock, case: Case, *, at: datetime, reason: str) -> bool:
    from onethread.access.rules import SYSTEM

    new_owner = rule_choice(session, case)
    if new_owner is None:
        return False
    impose(session, clock, SYSTEM, case.id, to_owner_id=new_owner, reason=reason, at=at)
    return True


def impose_many(session: Session, items: list[RuleHandover]) -> tuple[list[dict], list[DomainEvent]]:
    """Replace many owners by rule in a handful of statements: each change is an imposed,
    recorded hand-over (a pending one is cancelled) and restarts the case's no-activity clock,
    as ``impose`` does for one case. Returns the case log rows and domain events for the
    caller to write with its own."""
    from onethread.access.rules import SYSTEM

    if not items:
        return [], []
    handovers, case_events, events = [], [], []
    for item in items:
        handover_id = new_id()
        handovers.append({"id": handover_id, "case_id": item.case_id, "customer_id": item.customer_id,
                          "from_owner_id": item.from_owner_id,
                          "to_owner_id": item.to_owner_id, "reason": item.reason, "requested_by": SYSTEM.id,
                          "requested_at": item.at, "status": HandoverStatus.IMPOSED, "decided_at": item.at,
                          "decision_note": None})
        title = f"{item.to_name} now owns the case (imposed)"
        data = {"handoverId": handover_id, "fromOwnerId": item.from_owner_id, "toOwnerId": item.to_owner_id,
                "status": HandoverStatus.IMPOSED}
        case_events.append({"id": new_id(), "case_id": item.case_id, "customer_id": item.customer_id,
                            "at": item.at, "kind": "owner_changed", "actor_id": SYSTEM.id,
                            "actor_name": SYSTEM.name, "text": item.reason, "audience": "internal", "data": data})
        events.append(DomainEvent(
            type="case.owner_changed", occurred_at=item.at, aggregate_type="case", aggregate_id=item.case_id,
            customer_id=item.customer_id,
            payload={"caseId": item.case_id, "caseTitle": item.case_title, "actor": SYSTEM.id,
                     "actorName": SYSTEM.name, "timelineTitle": title, "timelineDetail": item.reason,
                     "channel": None, **data}))
    ho = Handover.__table__
    session.execute(ho.update().where(ho.c.case_id == bindparam("b_case"), ho.c.status == HandoverStatus.PENDING)
                    .values(status=HandoverStatus.CANCELLED, decided_at=bindparam("b_at")),
                    [{"b_case": i.case_id, "b_at": i.at} for i in items])
    session.execute(insert(Handover), handovers)
    cf = Case.__table__
    session.execute(cf.update().where(cf.c.id == bindparam("b_id"))
                    .values(owner_id=bindparam("b_owner"), last_activity_at=bindparam("b_at"),
                            version=cf.c.version + 1),
                    [{"b_id": i.case_id, "b_owner": i.to_owner_id, "b_at": i.at} for i in items])
    proactive.follow_owners(session, [(i.case_id, i.to_owner_id, i.to_name) for i in items])
    # The new owner starts with a full no-activity period (``touch``).
    clocks.restart_many(session, [clocks.Restart(i.case_id, i.customer_id, i.case_kind, i.market, ClockKind.NO_ACTIVITY,
                                                 i.at) for i in items], stop_first=True)
    return case_events, events


def replace_away_owners(session: Session, clock: Clock) -> int:
    """Sweep: every open case whose owner is marked away gets an owner by rule (set-based), or
    is offered to one; how many cases were handed over or offered.

    Someone marked away without a presence time (``away`` alone) is replaced at once, imposed.
    Someone who set their presence to away or off keeps their cases for
    ``ONETHREAD_AWAY_HANDOVER_HOURS`` first (a short absence hands nothing over); then each case
    is offered to a colleague, who accepts it or not (``away_offers``)."""
    from onethread.cases import away_offers

    offered = away_offers.offer_for_away_owners(session, clock)
    now = clock.now()
    rows = session.execute(
        select(Case.id, Case.customer_id, Case.title, Case.kind, Case.market, Case.owner_id, StaffUser.display_name)
        .join(StaffUser, StaffUser.id == Case.owner_id)
        .where(Case.status != CaseStatus.CLOSED, StaffUser.away.is_(True), StaffUser.presence_since.is_(None))
        .order_by(Case.opened_at, Case.id)).all()
    if not rows:
        return offered
    chooser = RuleChooser.load(session, [(r.id, r.owner_id) for r in rows])
    items = []
    for r in rows:
        new_owner = chooser.pick(r.id, r.owner_id)
        if new_owner is not None:
            items.append(RuleHandover(r.id, r.customer_id, r.title, r.kind, r.market, r.owner_id, new_owner,
                                      chooser.name(new_owner), f"{r.display_name} is away", now))
    case_events, events = impose_many(session, items)
    clocks.write_log(session, case_events, events)
    expire_cases(session, {i.case_id for i in items})
    return offered + len(items)


def expire_cases(session: Session, case_ids: set[str]) -> None:
    """Bulk statements bypass the identity map: reload any case this session already holds."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Case) and obj.id in case_ids:
            session.expire(obj)
