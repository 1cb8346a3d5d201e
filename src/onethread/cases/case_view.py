"""The case as the agent desktop shows it: the brief, owner and hand-overs, clocks with the time
left (in business time where the clock counts business time), open items, contacts with their
live sessions (verification and transfers), decisions, escalations and the log. Audited: the
read names the customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onethread.access.rules import FIELD_SUBCONTRACTOR, Principal
from onethread.attachments import service as attachments
from onethread.cases import brief as case_brief
from onethread.cases import clocks, queries, reads, waits
from onethread.cases.rules import CaseStatus, ClockKind, HandoverStatus
from onethread.customers import queries as customer_queries
from onethread.customers import rules as customer_rules
from onethread.interactions import session_service
from onethread.kernel.calendar import BusinessCalendar
from onethread.kernel.channels import REPLY_CHANNELS
from onethread.kernel.clock import Clock
from onethread.models import (
    Attachment,
    Case,
    CaseClock,
    CaseEvent,
    Contact,
    Decision,
    Escalation,
    StaffUser,
    Vulnerability,
)

LOG_LIMIT = 200


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time from ``start`` to ``end`` (negative when ``end`` is earlier): opening hours on
    working days only, nights, weekends and public holidays skipped."""
    if end < start:
        return -business_time_between(calendar, end, start)
    tz = calendar.tz
    local, stop = start.astimezone(tz), end.astimezone(tz)
    total = timedelta(0)
    day = local.date()
    while day <= stop.date():
        if calendar.is_working_day(day):
            opens = datetime.combine(day, calendar.opens, tzinfo=tz)
            closes = datetime.combine(day, calendar.closes, tzinfo=tz)
            lo, hi = max(opens, local), min(closes, stop)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def _span(delta: timedelta, hours_per_day: float, business: bool) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    if business:
        per_day = int(hours_per_day * 60)
        days, rest = divmod(minutes, per_day)
        unit = "working day"
    else:
        days, rest = divmod(minutes, 24 * 60)
        unit = "day"
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {unit}{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} min")
    return " ".join(parts) or "0 min"


@dataclass(frozen=True)
class ClockView:
    clock: CaseClock
    label: str
    basis: str  # business | calendar
    state: str  # running | breached | met | met late
    left: str  # "2 working days 3 h left", "overdue by 1 day", ""


def clock_views(session: Session, case: Case, rows: list[CaseClock], now: datetime) -> list[ClockView]:
    market = clocks.market_of(session, case)
    cal = market.calendar
    hours = (datetime.combine(now.date(), cal.closes) - datetime.combine(now.date(), cal.opens)).seconds / 3600
    out = []
    for row in rows:
        if row.kind == ClockKind.REGULATOR_WARNING:
            rule = market.regulator_warning
        elif row.kind == ClockKind.REGULATOR_DEADLINE:
            rule = market.regulator_deadline
        else:
            rule = market.rule(case.kind, row.kind)
        basis = rule.basis if rule is not None else "calendar"  # task and promise dates are wall time
        business = basis == "business"
        if row.stopped_at is not None:
            state = "met" if row.fired_at is None and row.stopped_at <= row.due_at else "met late"
            left = ""
        elif row.paused_at is not None and row.fired_at is None:
            state, left = "paused", "paused while the case waits"
        elif row.fired_at is not None or row.due_at <= now:
            state = "breached"
            delta = business_time_between(cal, row.due_at, now) if business else now - row.due_at
            left = f"overdue by {_span(delta, hours, business)}"
        else:
            state = "running"
            delta = business_time_between(cal, now, row.due_at) if business else row.due_at - now
            left = f"{_span(delta, hours, business)} left"
        out.append(ClockView(row, clocks.CLOCK_LABELS.get(row.kind, row.kind.replace("_", " ")), basis, state, left))
    order = {"breached": 0, "running": 1, "paused": 2, "met late": 3, "met": 4}
    return sorted(out, key=lambda v: (order[v.state], v.clock.due_at))


@dataclass(frozen=True)
class ClockLine:
    """One line of the compact clocks: a running clock with its time left, or every breach of one
    kind once, with how many times it breached."""

    label: str
    state: str  # running | paused | breached
    left: str
    due_at: datetime
    count: int = 1


def compact(views: list[ClockView]) -> tuple[list[ClockLine], int]:
    """Running clocks (soonest first) and breached ones grouped by kind (oldest breach first, with
    the time past of the oldest still open); returns them and how many clocks were met."""
    breached: dict[str, list[ClockView]] = {}
    running, met = [], 0
    for v in views:
        if v.state in ("running", "paused"):
            running.append(ClockLine(v.label, v.state, v.left, v.clock.due_at))
        elif v.state == "breached":
            breached.setdefault(v.label, []).append(v)
        else:
            met += 1
    lines = [ClockLine(label, "breached", group[0].left, group[0].clock.due_at, len(group))
             for label, group in sorted(breached.items(), key=lambda kv: kv[1][0].clock.due_at)]
    return lines + sorted(running, key=lambda c: c.due_at), met


@dataclass(frozen=True)
class CaseView:
    case: Case
    customer_name: str
    owner: StaffUser
    details: reads.CaseDetails
    brief: case_brief.Brief
    clocks: list[ClockView]
    contacts: list[Contact]
    sessions: list[session_service.SessionView]
    decisions: list[Decision]
    escalations: list[Escalation]
    escalation_names: dict[str, str]
    log: list[CaseEvent]
    blockers: list[str]
    staff: list[StaffUser]  # who may be given a task
    files: dict[str, list[Attachment]]  # contact id -> the files it carried
    care: list[Vulnerability]  # the customer's vulnerability records in force
    needs: customer_rules.ServiceNeeds  # what their consented needs ask of whoever serves them
    other_cases: tuple[Case, ...] = ()  # the customer's other open cases ("not this case": move it there)

    @property
    def reply_channels(self) -> list[str]:
        """The channels a reply may take: the ones the customer's needs do not refuse."""
        return [c for c in REPLY_CHANNELS if not self.needs.refuses(c)]

    @property
    def staff_names(self) -> dict[str, str]:
        return {u.id: u.display_name for u in self.staff}

    @property
    def reply_default(self) -> str:
        return self.needs.reply_channel or "email"

    @property
    def clock_lines(self) -> list[ClockLine]:
        return compact(self.clocks)[0]

    @property
    def clocks_met(self) -> int:
        return compact(self.clocks)[1]

    @property
    def waiting(self):
        """The wait the case is in now (on the customer or a third party), or None."""
        return next((w for w in self.details.waits[self.case.id] if w.ended_at is None), None)

    @property
    def paused_so_far(self) -> str:
        """Wall time the case has waited on others, as the page says it ("" if never)."""
        spent = waits.paused_for(self.details.waits[self.case.id], self.details.now)
        if not spent:
            return ""
        days, rest = divmod(int(spent.total_seconds()) // 60, 24 * 60)
        return " ".join(p for p in (f"{days} d" if days else "", f"{rest // 60} h" if rest // 60 else "",
                                    f"{rest % 60} min" if rest % 60 else "") if p) or "under a minute"

    @property
    def waited_on(self) -> str:
        return waits.describe(self.waiting) if self.waiting else ""

    @property
    def possible_owners(self) -> list[StaffUser]:
        return [u for u in self.staff if u.role != FIELD_SUBCONTRACTOR and not u.away and u.id != self.case.owner_id]

    @property
    def pending_handover(self):
        return next((h for h in self.details.handovers[self.case.id] if h.status == HandoverStatus.PENDING), None)


def read(session: Session, clock: Clock, actor: Principal, case_id: str, *, channel: str = "pages") -> CaseView:
    case = reads.read_case(session, clock, actor, case_id, channel=channel, purpose="case view")
    now = clock.now()
    details = reads.details(session, [case], now=now, with_brief=True)
    contacts = list(session.scalars(select(Contact).where(Contact.case_id == case.id)
                                    .order_by(Contact.occurred_at, Contact.id)))
    session_ids = list(dict.fromkeys(c.session_id for c in contacts if c.session_id))
    sessions = [session_service.view(session, clock, sid) for sid in session_ids]
    decisions = list(session.scalars(select(Decision).where(or_(Decision.case_id == case.id,
                                                                Decision.order_case_id == case.id))
                                     .order_by(Decision.decided_at, Decision.id)))
    escalations = queries.escalations_of(session, case.id)
    ids = {e.to_staff_id for e in escalations if e.to_staff_id}
    names = dict(session.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))).all()) \
        if ids else {}
    log = list(reversed(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(LOG_LIMIT)).all()))
    staff = list(session.scalars(select(StaffUser).where(StaffUser.active)
                                 .order_by(StaffUser.display_name, StaffUser.id)))
    return CaseView(case, details.customers[case.customer_id].name, details.staff[case.owner_id], details,
                    details.briefs[case.id], clock_views(session, case, details.clocks[case.id], now), contacts,
                    sessions, decisions, escalations, names, log, details.blockers(case), staff,
                    attachments.for_contacts(session, [c.id for c in contacts]),
                    customer_queries.vulnerabilities(session, case.customer_id, now),
                    customer_queries.service_needs(session, case.customer_id, now),
                    tuple(session.scalars(select(Case).where(Case.customer_id == case.customer_id, Case.id != case.id,
                                                             Case.status != CaseStatus.CLOSED)
                                          .order_by(Case.last_activity_at.desc(), Case.id))))


def session_on_case(session: Session, case_id: str, session_id: str) -> bool:
    """A contact session belongs on a case's page when one of its contacts is on the case."""
    return session.scalar(select(Contact.id).where(Contact.case_id == case_id, Contact.session_id == session_id)
                          .limit(1)) is not None
