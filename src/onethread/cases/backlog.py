"""Read models for the supervisor view's backlog figures: open cases per team, triage items
waiting per queue, regulator deadlines due within a week, cases with an open harm by severity,
and first-response and resolution times over the last 30 days.

Each figure is defined once here as SQL conditions; its count and the list behind it
(``cases.figures``) are built from the same conditions, so they cannot disagree. Each count is
one grouped statement, however many cases there are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onethread.cases.queries import OPEN
from onethread.cases.rules import SEVERITIES, ClockKind
from onethread.models import Case, CaseClock, Harm, StaffUser, Team, TriageItem

DUE_WITHIN = timedelta(days=7)  # "regulator deadlines due this week"
TIMES_OVER = timedelta(days=30)  # the span of the first-response and resolution medians
NO_TEAM, GENERAL = "none", "general"  # the list parameters for "owner in no team", "the general queue"


def team_of_owner(team: str):
    """Open cases whose owner is in ``team`` (a team id, or ``NO_TEAM``)."""
    members = select(StaffUser.id).where(StaffUser.team_id.is_(None) if team == NO_TEAM
                                         else StaffUser.team_id == team)
    return Case.owner_id.in_(members)


def open_per_team(session: Session) -> list[tuple[str, str, int]]:
    """(team id or ``NO_TEAM``, team name, open cases its members own), largest first."""
    rows = session.execute(
        select(StaffUser.team_id, Team.name, func.count(Case.id))
        .join(StaffUser, StaffUser.id == Case.owner_id).outerjoin(Team, Team.id == StaffUser.team_id)
        .where(OPEN).group_by(StaffUser.team_id, Team.name)).all()
    out = [(t or NO_TEAM, name or "No team", int(n)) for t, name, n in rows]
    return sorted(out, key=lambda r: (-r[2], r[0] == NO_TEAM, r[1]))


WAITING = TriageItem.done_at.is_(None)


def in_queue(queue: str):
    return TriageItem.team_id.is_(None) if queue == GENERAL else TriageItem.team_id == queue


def triage_per_queue(session: Session) -> list[tuple[str, str, int]]:
    """(team id or ``GENERAL``, queue name, triage items waiting), largest first."""
    rows = session.execute(
        select(TriageItem.team_id, Team.name, func.count(TriageItem.id))
        .outerjoin(Team, Team.id == TriageItem.team_id)
        .where(WAITING).group_by(TriageItem.team_id, Team.name)).all()
    out = [(t or GENERAL, name or "General queue", int(n)) for t, name, n in rows]
    return sorted(out, key=lambda r: (-r[2], r[0] == GENERAL, r[1]))


def regulator_due(now: datetime):
    """Running regulator-deadline clocks of open cases that run out by ``now`` + 7 days (a clock
    already due but not yet swept counts too)."""
    return (CaseClock.kind == ClockKind.REGULATOR_DEADLINE, CaseClock.fired_at.is_(None),
            CaseClock.stopped_at.is_(None), CaseClock.due_at <= now + DUE_WITHIN, OPEN)


def regulator_due_count(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count(CaseClock.id)).join(Case, Case.id == CaseClock.case_id)
                              .where(*regulator_due(now))) or 0)


def open_harm(severity: str):
    """Open cases with an unresolved harm of ``severity``."""
    return Case.id.in_(select(Harm.case_id).where(Harm.resolved_at.is_(None), Harm.severity == severity))


def open_harms_by_severity(session: Session) -> list[tuple[str, int]]:
    """(severity, open cases with an unresolved harm of it), most severe first, every severity."""
    counts = dict(session.execute(
        select(Harm.severity, func.count(func.distinct(Harm.case_id))).join(Case, Case.id == Harm.case_id)
        .where(Harm.resolved_at.is_(None), OPEN).group_by(Harm.severity)).all())
    return [(s, int(counts.get(s, 0))) for s in reversed(SEVERITIES)]


def first_responses(now: datetime):
    """(the select's start and end columns, its conditions): first-response clocks stopped (the
    customer answered) within the last 30 days; the time is from the clock's start to its stop."""
    return (CaseClock.started_at, CaseClock.stopped_at), (
        CaseClock.kind == ClockKind.FIRST_RESPONSE, CaseClock.stopped_at.is_not(None),
        CaseClock.stopped_at > now - TIMES_OVER, CaseClock.stopped_at <= now)


def resolutions(now: datetime):
    """(start and end columns, conditions): cases closed within the last 30 days, opened to closed."""
    return (Case.opened_at, Case.closed_at), (
        Case.closed_at.is_not(None), Case.closed_at > now - TIMES_OVER, Case.closed_at <= now)


def median_time(session: Session, spans) -> tuple[timedelta | None, int]:
    """(the median of end - start, how many) over the rows of ``first_responses`` or ``resolutions``.
    PostgreSQL computes it (``percentile_cont``: one row back, however many were closed); SQLite
    has no percentile, so its rows are read and the median taken here (the same value)."""
    (start, end), where = spans
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", end - start)
        mid, n = session.execute(select(func.percentile_cont(0.5).within_group(seconds), func.count())
                                 .where(*where)).one()
        return (timedelta(seconds=float(mid)) if n else None), int(n)
    took = [b - a for a, b in session.execute(select(start, end).where(*where)).all()]
    return (median(took) if took else None), len(took)
