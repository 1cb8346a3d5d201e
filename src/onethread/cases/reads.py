"""Reads of cases for the API and the pages: a case with everything on it (owner, hand-overs,
commitments, harms, tasks, participants, clocks), loaded in a few queries for a whole page, and
audited: a case is the customer's personal data, so every read names the customer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.cases import brief as case_brief
from onethread.cases import queries, rules
from onethread.cases.rules import CaseStatus, ClockKind, ItemStatus
from onethread.errors import NotFound, ValidationFailed
from onethread.kernel import pagination
from onethread.kernel.clock import Clock
from onethread.models import (
    Case,
    CaseClock,
    CaseEvent,
    CaseWait,
    Commitment,
    Customer,
    Escalation,
    Handover,
    Harm,
    Participant,
    Product,
    StaffUser,
    Task,
)

AUDIENCES = ("internal", "customer")
STATUS_KINDS = ("status_changed", "closed", "merged", "unmerged")  # the log entries that change a case's status
SPLIT_KINDS = ("split", "split_from")


@dataclass
class CaseDetails:
    """Everything on a page of cases, by case id (lists oldest first)."""

    customers: dict[str, Customer] = field(default_factory=dict)
    staff: dict[str, StaffUser] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    handovers: dict[str, list[Handover]] = field(default_factory=lambda: defaultdict(list))
    commitments: dict[str, list[Commitment]] = field(default_factory=lambda: defaultdict(list))
    harms: dict[str, list[Harm]] = field(default_factory=lambda: defaultdict(list))
    tasks: dict[str, list[Task]] = field(default_factory=lambda: defaultdict(list))
    participants: dict[str, list[Participant]] = field(default_factory=lambda: defaultdict(list))
    clocks: dict[str, list[CaseClock]] = field(default_factory=lambda: defaultdict(list))
    steps: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    merged_from: dict[str, list[Case]] = field(default_factory=lambda: defaultdict(list))
    # splits: the case a split case came from; the cases split off one, with the contacts that went
    split_from: dict[str, Case] = field(default_factory=dict)
    split_into: dict[str, list[tuple[Case, list[str]]]] = field(default_factory=lambda: defaultdict(list))
    # the last change of status: (when, why), the why as the person gave it (or None)
    status_changes: dict[str, tuple[datetime, str | None]] = field(default_factory=dict)
    briefs: dict[str, case_brief.Brief] = field(default_factory=dict)
    waits: dict[str, list[CaseWait]] = field(default_factory=lambda: defaultdict(list))  # waits on others
    now: datetime | None = None

    def staff_name(self, staff_id: str | None) -> str | None:
        user = self.staff.get(staff_id) if staff_id else None
        return user.display_name if user else None

    def missing_steps(self, case: Case) -> list[str]:
        if case.kind != "complaint":
            return []
        return [s for s in rules.COMPLAINT_STEPS if s not in self.steps[case.id]]

    def proactive(self, case_id: str) -> set[str]:
        """The case's proactive-contact tasks: they end with the case and never block closing it."""
        return {c.ref_id for c in self.clocks[case_id] if c.kind == ClockKind.PROACTIVE_CONTACT}

    def blockers(self, case: Case) -> list[str]:
        """What forbids closing this case now (the same rule ``service.close`` applies)."""
        if case.status == CaseStatus.CLOSED:
            return []
        return rules.closure_blockers(rules.OpenItems(
            [h.description for h in self.harms[case.id] if h.resolved_at is None],
            [c.text for c in self.commitments[case.id] if c.status == ItemStatus.OPEN],
            [t.title for t in self.tasks[case.id]
             if t.status == ItemStatus.OPEN and t.id not in self.proactive(case.id)],
            case.awaiting_reply_since, self.missing_steps(case)))


def _by_case(rows, into: dict, order) -> None:
    for row in sorted(rows, key=order):
        into[row.case_id].append(row)


def details(session: Session, cases: list[Case], *, now: datetime | None = None, with_brief: bool = False
            ) -> CaseDetails:
    """Load what is on ``cases`` in one query per kind of item (a page costs the same as one case)."""
    out = CaseDetails(now=now)
    ids = [c.id for c in cases]
    if not ids:
        return out
    _by_case(session.scalars(select(CaseWait).where(CaseWait.case_id.in_(ids))), out.waits,
             lambda w: (w.started_at, w.id))
    out.customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_({c.customer_id for c in cases})))}
    product_ids = {c.product_id for c in cases if c.product_id}
    if product_ids:
        out.products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(product_ids)))}
    _by_case(session.scalars(select(Handover).where(Handover.case_id.in_(ids))), out.handovers,
             lambda h: (h.requested_at, h.id))
    _by_case(session.scalars(select(Commitment).where(Commitment.case_id.in_(ids))), out.commitments,
             lambda c: (c.made_at, c.id))
    _by_case(session.scalars(select(Harm).where(Harm.case_id.in_(ids))), out.harms, lambda h: (h.reported_at, h.id))
    _by_case(session.scalars(select(Task).where(Task.case_id.in_(ids))), out.tasks, lambda t: (t.created_at, t.id))
    _by_case(session.scalars(select(Participant).where(Participant.case_id.in_(ids))), out.participants,
             lambda p: (p.added_at, p.id))
    # Every action restarts the no-activity clock; the ones met in time are noise, not history.
    restarted = ((CaseClock.kind == ClockKind.NO_ACTIVITY) & CaseClock.stopped_at.is_not(None)
                 & CaseClock.fired_at.is_(None))
    _by_case(session.scalars(select(CaseClock).where(CaseClock.case_id.in_(ids), ~restarted)), out.clocks,
             lambda c: (c.started_at, c.due_at, c.id))
    splits: list[tuple[str, str, dict]] = []
    for case_id, kind, at, text, data in session.execute(
            select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.at, CaseEvent.text, CaseEvent.data)
            .where(CaseEvent.case_id.in_(ids), CaseEvent.kind.like("step_%")
                   | CaseEvent.kind.in_((*STATUS_KINDS, *SPLIT_KINDS)))
            .order_by(CaseEvent.at, CaseEvent.id)):
        if kind in SPLIT_KINDS:
            splits.append((case_id, kind, data or {}))
        elif kind in STATUS_KINDS:
            out.status_changes[case_id] = (at, text)
        else:
            out.steps[case_id].add(kind.removeprefix("step_"))
    for merged in session.scalars(select(Case).where(Case.merged_into_id.in_(ids)).order_by(Case.closed_at, Case.id)):
        out.merged_from[merged.merged_into_id].append(merged)
    _splits(session, splits, out)
    staff_ids = {c.owner_id for c in cases}
    for items in out.handovers.values():
        staff_ids |= {h.from_owner_id for h in items} | {h.to_owner_id for h in items}
    out.staff = {u.id: u for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids)))}
    if with_brief and now is not None:
        out.briefs = {c.id: case_brief.build(session, c, now) for c in cases}
    return out


def _audit(session: Session, clock: Clock, actor: Principal, cases: list[Case], *, channel: str | None,
           purpose: str | None, resource_type: str = "case") -> None:
    shown: dict[str, list[str]] = defaultdict(list)
    for case in cases:
        shown[case.customer_id].append(case.id)
    for customer_id, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type=resource_type,
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=customer_id, channel=channel,
                     purpose=purpose, detail={"caseIds": ids} if len(ids) > 1 else None)


def get(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def read_case(session: Session, clock: Clock, actor: Principal, case_id: str, *, channel: str | None = None,
              purpose: str | None = None) -> Case:
    """Load a case for display; the read is in the audit log with the customer's id."""
    case = get(session, case_id)
    _audit(session, clock, actor, [case], channel=channel, purpose=purpose)
    return case


def list_cases(session: Session, clock: Clock, actor: Principal, *, offset: int, limit: int,
               customer_id: str | None = None, statuses: list[str] | None = None, kind: str | None = None,
               owner_id: str | None = None, channel: str | None = None,
               cursor: str | None = None) -> tuple[list[Case], int]:
    """A page of cases, newest first (``cursor``: after the row it names, ``pagination.after``);
    one audit row per customer whose cases are shown."""
    if kind is not None and kind not in rules.KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.KINDS)}", field="ticketType")
    for status in statuses or []:
        if status not in rules.STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    query = select(Case)
    if customer_id is not None:
        query = query.where(Case.customer_id == customer_id)
    if statuses:
        query = query.where(Case.status.in_(statuses))
    if kind is not None:
        query = query.where(Case.kind == kind)
    if owner_id is not None:
        query = query.where(Case.owner_id == owner_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    keyset = pagination.after(cursor, Case.opened_at, Case.id, descending=True)
    if keyset is not None:
        query, offset = query.where(keyset), 0
    rows = list(session.scalars(query.order_by(Case.opened_at.desc(), Case.id.desc()).offset(offset).limit(limit)))
    _audit(session, clock, actor, rows, channel=channel, purpose="list")
    return rows, total


def owner_cases(session: Session, clock: Clock, actor: Principal, staff_id: str, *, offset: int, limit: int,
                include_closed: bool = False, channel: str | None = None,
                cursor: str | None = None) -> tuple[StaffUser, list[Case], int]:
    """The cases a staff member owns (open ones unless ``include_closed``), newest first."""
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound(f"no staff member {staff_id}")
    statuses = None if include_closed else sorted(rules.OPEN_STATUSES)
    rows, total = list_cases(session, clock, actor, offset=offset, limit=limit, statuses=statuses,
                             owner_id=staff_id, channel=channel, cursor=cursor)
    return user, rows, total


def read_brief(session: Session, clock: Clock, actor: Principal, case_id: str, *,
               channel: str | None = None) -> case_brief.Brief:
    case = read_case(session, clock, actor, case_id, channel=channel, purpose="brief")
    return case_brief.build(session, case, clock.now())


def read_events(session: Session, clock: Clock, actor: Principal, case_id: str, *, offset: int, limit: int,
                audience: str | None = None, channel: str | None = None) -> tuple[list[CaseEvent], int]:
    """The case's log, oldest first: every step, message, hand-over and escalation, with who and when."""
    if audience is not None and audience not in AUDIENCES:
        raise ValidationFailed(f"audience must be one of {', '.join(AUDIENCES)}", field="audience")
    case = read_case(session, clock, actor, case_id, channel=channel, purpose="events")
    query = select(CaseEvent).where(CaseEvent.case_id == case.id)
    if audience is not None:
        query = query.where(CaseEvent.audience == audience)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(CaseEvent.at, CaseEvent.id).offset(offset).limit(limit)).all()
    return list(rows), total


def read_escalations(session: Session, clock: Clock, actor: Principal, case_id: str, *,
                     channel: str | None = None) -> tuple[list[Escalation], dict[str, str]]:
    """The case's escalations, oldest first, with the names of the people they went to."""
    case = read_case(session, clock, actor, case_id, channel=channel, purpose="escalations")
    rows = queries.escalations_of(session, case.id)
    names = dict(session.execute(select(StaffUser.id, StaffUser.display_name).where(
        StaffUser.id.in_({e.to_staff_id for e in rows if e.to_staff_id}))).all()) if rows else {}
    return rows, names


def supervisor_queue(session: Session, clock: Clock, actor: Principal, *, offset: int, limit: int,
                     channel: str | None = None, cursor: str | None = None) -> tuple[list[queries.Breach], int]:
    """Every open case past a clock, oldest breach first; the customers shown are audited."""
    rows, total = queries.supervisor_queue(session, offset=offset, limit=limit, cursor=cursor)
    if rows:
        cases = list(session.scalars(select(Case).where(Case.id.in_([r.case_id for r in rows]))))
        _audit(session, clock, actor, cases, channel=channel, purpose="supervisor_queue")
    return rows, total


def owner_of(session: Session, case: Case) -> StaffUser:
    """The case's one named owner (the invariant guarantees there is one)."""
    return session.get(StaffUser, case.owner_id)


def _splits(session: Session, splits: list[tuple[str, str, dict]], out: CaseDetails) -> None:
    """The links both ways between a split case and its origin, read from their logs."""
    other = {d.get("newId") or d.get("fromId") for _, _, d in splits} - {None}
    found = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(other)))} if other else {}
    for case_id, kind, data in splits:
        if kind == "split_from" and data.get("fromId") in found:
            out.split_from[case_id] = found[data["fromId"]]
        elif kind == "split" and data.get("newId") in found:
            out.split_into[case_id].append((found[data["newId"]], list(data.get("contactIds") or [])))
