"""What fired clocks do: escalate each breach once to the person whose turn it is, send the
deadlock letter at the regulator's deadline, restart the no-activity clock, replace an owner
who let the case sit through a second quiet period.

Set-based: a batch of fired clocks costs a constant handful of statements whatever its size
(the rare deadlock letter is queued through outreach, one per letter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from onethread.access.rules import SYSTEM
from onethread.cases import clocks, handover_service, policy, rules
from onethread.cases.rules import CaseStatus, ClockKind
from onethread.db.bulk import is_postgresql, json_rows
from onethread.db.session import settings_of
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import Case, CaseClock, StaffUser, Team
from onethread.outreach import service as outreach


@dataclass
class _CaseState:
    """The columns of a case the sweep needs, updated in memory as the batch is applied in order."""

    id: str
    customer_id: str
    kind: str
    title: str
    status: str
    owner_id: str
    market: str
    opened_at: datetime
    level: int
    changed: bool = False


class _Staff:
    """Names, teams and leads of everyone a batch may escalate to, read in a few queries."""

    def __init__(self, session: Session, owner_ids: set[str], head_id: str | None):
        self.session = session
        self.team_of: dict[str, str | None] = {}
        self.names: dict[str, str] = {}
        self.leads: dict[str, str | None] = {}
        self._add_people(owner_ids | ({head_id} if head_id else set()))

    def know(self, staff_id: str, name: str, team_id: str | None, leads: dict[str, str | None]) -> None:
        """Someone the batch just made owner (the chooser read them already)."""
        self.names[staff_id], self.team_of[staff_id] = name, team_id
        for team, lead in leads.items():
            self.leads.setdefault(team, lead)

    def _add_people(self, ids: set[str]) -> None:
        missing = ids - set(self.names)
        if missing:
            for sid, name, team in self.session.execute(select(StaffUser.id, StaffUser.display_name, StaffUser.team_id)
                                                        .where(StaffUser.id.in_(missing))):
                self.names[sid], self.team_of[sid] = name, team
        teams = {t for t in self.team_of.values() if t} - set(self.leads)
        if teams:
            self.leads.update(self.session.execute(select(Team.id, Team.lead_id).where(Team.id.in_(teams))).all())
            leads = {lead for lead in self.leads.values() if lead} - set(self.names)
            if leads:
                for sid, name, team in self.session.execute(
                        select(StaffUser.id, StaffUser.display_name, StaffUser.team_id)
                        .where(StaffUser.id.in_(leads))):
                    self.names[sid], self.team_of[sid] = name, team

    def lead_of(self, staff_id: str) -> str | None:
        team = self.team_of.get(staff_id)
        return self.leads.get(team) if team else None

    def name(self, staff_id: str) -> str:
        return self.names.get(staff_id, "unassigned")


def _quiet_periods(session: Session, case_ids: list[str]) -> dict[str, int]:
    """Consecutive no-activity breaches per case: fired no-activity clocks started at or after
    the case's last activity (a breach restarts the clock; activity stops it)."""
    if not case_ids:
        return {}
    return dict(session.execute(
        select(CaseClock.case_id, func.count()).join(Case, Case.id == CaseClock.case_id)
        .where(CaseClock.case_id.in_(case_ids), CaseClock.kind == ClockKind.NO_ACTIVITY,
               CaseClock.fired_at.is_not(None),
               CaseClock.started_at >= Case.last_activity_at)
        .group_by(CaseClock.case_id)).all())


def escalate(session: Session, clock: Clock, fired: list, head_id: str | None) -> tuple[int, int, int]:
    """Apply a batch of fired clocks (sorted by due time). Returns (escalations, letters,
    owners replaced)."""
    if not fired:
        return 0, 0, 0
    case_ids = sorted({r.case_id for r in fired})
    cases = {r.id: _CaseState(r.id, r.customer_id, r.kind, r.title, r.status, r.owner_id, r.market, r.opened_at,
                              r.escalation_level)
             for r in session.execute(select(Case.id, Case.customer_id, Case.kind, Case.title, Case.status,
                                             Case.owner_id, Case.market, Case.opened_at, Case.escalation_level)
                                      .where(Case.id.in_(case_ids)))}
    staff = _Staff(session, {c.owner_id for c in cases.values()}, head_id)
    quiet = _quiet_periods(session, sorted({r.case_id for r in fired if r.kind == ClockKind.NO_ACTIVITY}))
    stalled = [(cid, cases[cid].owner_id) for cid, n in quiet.items()
               if rules.replaces_owner(ClockKind.NO_ACTIVITY, n) and cases[cid].status != CaseStatus.CLOSED]
    chooser = handover_service.RuleChooser.load(session, stalled) if stalled else None

    escalations, case_events, events = [], [], []
    restarts: list[clocks.Restart] = []
    replaced: list[handover_service.RuleHandover] = []
    letters = 0
    for row in fired:
        state = cases[row.case_id]
        if state.status == CaseStatus.CLOSED:
            continue
        periods = quiet.get(state.id, 1) if row.kind == ClockKind.NO_ACTIVITY else 0
        level, to = rules.escalation_target(rules.breach_rung(row.kind, periods), state.owner_id,
                                            staff.lead_of(state.owner_id), head_id)
        if rules.is_reminder(row.kind, periods):
            case_events.append(_reminder(state, row, to, staff.name(to), rules.ladder_rung(level), periods, events))
            restarts.append(clocks.Restart(state.id, state.customer_id, state.kind, state.market, ClockKind.NO_ACTIVITY,
                                           row.due_at, reminder=True))
            continue
        raised = level > state.level  # a step up the ladder is part of the story; the rest is onethread's own
        if raised:
            state.level, state.changed = level, True
        label = clocks.CLOCK_LABELS.get(row.kind, row.kind)
        reason = f"{label} missed (due {row.due_at:%Y-%m-%d %H:%M} UTC)"
        market = None
        if row.kind in (ClockKind.REGULATOR_WARNING, ClockKind.REGULATOR_DEADLINE):
            market = policy.market(state.market, settings_of(session).clock_policy_file)
        if row.kind == ClockKind.REGULATOR_WARNING:
            deadline = market.due(state.opened_at, market.regulator_deadline)
            reason = f"regulator warning: the complaint must be resolved by {deadline:%Y-%m-%d}"
        if row.kind == ClockKind.NO_ACTIVITY and periods > 1:
            reason += f"; {periods} periods in a row with nothing done"
        escalation_id = new_id()
        rung = rules.ladder_rung(level).replace("_", " ")
        escalations.append({"id": escalation_id, "case_id": state.id, "customer_id": state.customer_id,
                            "clock_id": row.id, "clock_kind": row.kind, "level": level, "to_staff_id": to,
                            "at": row.due_at, "reason": reason})
        title = f"Escalated to {staff.name(to)} ({rung}): {reason}"
        data = {"level": level, "toStaffId": to, "clock": row.kind, "escalationId": escalation_id}
        case_events.append({"id": new_id(), "case_id": state.id, "customer_id": state.customer_id, "at": row.due_at,
                            "kind": "escalated", "actor_id": None, "actor_name": "onethread", "text": title,
                            "audience": "internal", "data": data})
        events.append(DomainEvent(
            type="case.escalated", occurred_at=row.due_at, aggregate_type="case", aggregate_id=state.id,
            customer_id=state.customer_id,
            payload={"caseId": state.id, "level": level, "toStaffId": to, "toName": staff.name(to), "clock": row.kind,
                     "reason": reason, "timelineTitle": title, "actorName": "onethread", "system": not raised}))
        if row.kind == ClockKind.REGULATOR_DEADLINE:
            letters += _send_deadlock_letter(session, clock, state, market, row.due_at, case_events)
        if row.kind == ClockKind.NO_ACTIVITY:
            new_owner = chooser.pick(state.id, state.owner_id) if chooser and rules.replaces_owner(
                row.kind, periods) else None
            if new_owner is not None:
                replaced.append(handover_service.RuleHandover(
                    state.id, state.customer_id, state.title, state.kind, state.market, state.owner_id, new_owner,
                    chooser.name(new_owner),
                    f"no activity by {staff.name(state.owner_id)} through two no-activity periods, after a reminder",
                    row.due_at))
                state.owner_id = new_owner
                member = chooser.members[new_owner]
                staff.know(new_owner, member.display_name, member.team_id, chooser.leads)
            else:
                restarts.append(clocks.Restart(state.id, state.customer_id, state.kind, state.market,
                                               ClockKind.NO_ACTIVITY, row.due_at,
                                               reminder=rules.at_top(row.kind, periods)))

    more_log, more_events = handover_service.impose_many(session, replaced)
    _raise_levels(session, [(c.id, c.level) for c in cases.values() if c.changed])
    clocks.restart_many(session, restarts)
    clocks.write_log(session, case_events + more_log, events + more_events, escalations)
    handover_service.expire_cases(session, {c.id for c in cases.values() if c.changed} | {r.case_id for r in replaced})
    return len(escalations), letters, len(replaced)


def _reminder(state: _CaseState, row, to: str, name: str, rung: str, periods: int,
              events: list[DomainEvent]) -> dict:
    """The case log entry (and the domain event, appended to ``events``) of a reminder: the quiet
    streak was escalated to the top already, so the person there is reminded, nothing escalates."""
    text = (f"Reminder to {name} ({rung.replace('_', ' ')}): still nothing done on the case, "
            f"{periods} no-activity periods in a row (due {row.due_at:%Y-%m-%d %H:%M} UTC)")
    data = {"toStaffId": to, "clock": row.kind, "periods": periods}
    events.append(DomainEvent(
        type="case.reminded", occurred_at=row.due_at, aggregate_type="case", aggregate_id=state.id,
        customer_id=state.customer_id,
        payload={"caseId": state.id, "toStaffId": to, "toName": name, "clock": row.kind, "periods": periods,
                 "timelineTitle": text, "actorName": "onethread", "system": True}))
    return {"id": new_id(), "case_id": state.id, "customer_id": state.customer_id, "at": row.due_at,
            "kind": "reminder", "actor_id": None, "actor_name": "onethread", "text": text, "audience": "internal",
            "data": data}


def _raise_levels(session: Session, levels: list[tuple[str, int]]) -> None:
    """Raise each case's escalation level to at least the one given (never lower it)."""
    if not levels:
        return
    if is_postgresql(session):  # one statement for the batch, not one per case
        session.connection().exec_driver_sql(
            "UPDATE case_file SET escalation_level = GREATEST(case_file.escalation_level, v.level), "
            "version = case_file.version + 1 "
            "FROM json_to_recordset(CAST(%(levels)s AS JSON)) AS v(id VARCHAR(26), level INTEGER) "
            "WHERE case_file.id = v.id",
            {"levels": json_rows([{"id": i, "level": n} for i, n in levels])})
        return
    table = Case.__table__
    session.execute(table.update().where(table.c.id == bindparam("b_id")).values(
        escalation_level=case((table.c.escalation_level < bindparam("b_level"), bindparam("b_level")),
                              else_=table.c.escalation_level),
        version=table.c.version + 1), [{"b_id": i, "b_level": n} for i, n in levels])


def _send_deadlock_letter(session: Session, clock: Clock, state: _CaseState, market, at: datetime,
                          case_events: list[dict]) -> int:
    """The customer's right to go to the ombudsman, sent at the deadline (rare: one per complaint)."""
    weeks = market.regulator_deadline.after.days // 7
    # A regulatory letter: rendered as PDF in the customer's language, by e-mail (the PDF attached)
    # when they accept e-mail, else on paper; queued once per case (its send key).
    message = outreach.queue(session, clock, SYSTEM, customer_id=state.customer_id, channel="email",
                             purpose="regulatory", template="deadlock", case_id=state.id, at=at,
                             send_key=f"deadlock-letter:{state.id}", market=state.market,
                             context={"case_title": state.title, "opened_on": state.opened_at, "weeks": weeks,
                                      "ombudsman": market.ombudsman})
    case_events.append({"id": new_id(), "case_id": state.id, "customer_id": state.customer_id, "at": at,
                        "kind": "deadlock_letter", "actor_id": None, "actor_name": "onethread", "text": message.body,
                        "audience": "customer", "data": {"messageId": message.id, "channel": message.channel}})
    return 1
