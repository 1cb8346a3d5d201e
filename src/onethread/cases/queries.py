"""Read models for cases: the supervisor queue (every case past a clock, oldest breach first),
cases per owner, the age of open cases, clocks breached per ISO week, a case's open items, who can
take a hand-over. Each is a fixed number of set-based queries, however many cases there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam, case, func, literal, select
from sqlalchemy.orm import Session

from onethread.access.rules import AGENT, SPECIALIST, TEAM_LEAD
from onethread.cases.rules import CaseStatus
from onethread.kernel import pagination
from onethread.models import Case, CaseClock, Customer, Escalation, StaffUser, Team


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


def breached_clocks():
    """The clocks that ran out and have not been dealt with: the one definition of "past a clock"."""
    return CaseClock.fired_at.is_not(None), CaseClock.stopped_at.is_(None)


def breached_cases():
    """One row per case past a clock, with its oldest breach: a subquery (``case_id``, ``oldest``)."""
    return (select(CaseClock.case_id, func.min(CaseClock.fired_at).label("oldest"))
            .where(*breached_clocks()).group_by(CaseClock.case_id).subquery())


OPEN = Case.status != CaseStatus.CLOSED


def supervisor_queue(session: Session, *, offset: int = 0, limit: int = 100,
                     cursor: str | None = None) -> tuple[list[Breach], int]:
    """Open cases with a fired, unresolved clock, oldest breach first (``cursor``: the page after
    the one whose last row it names, ``pagination.after``)."""
    breached = breached_cases()
    base = (select(Case, Customer.name, StaffUser.display_name, breached.c.oldest)
            .join(breached, breached.c.case_id == Case.id)
            .join(Customer, Customer.id == Case.customer_id)
            .join(StaffUser, StaffUser.id == Case.owner_id)
            .where(OPEN))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    keyset = pagination.after(cursor, breached.c.oldest, Case.id, descending=False)
    if keyset is not None:
        base, offset = base.where(keyset), 0
    rows = session.execute(base.order_by(breached.c.oldest, Case.id).offset(offset).limit(limit)).all()
    ids = [r[0].id for r in rows]
    kinds: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for case_id, kind in session.execute(select(CaseClock.case_id, CaseClock.kind).where(
                CaseClock.case_id.in_(ids), *breached_clocks())):
            kinds[case_id].append(kind)
    return [Breach(c.id, c.title, c.kind, name, owner, c.owner_id, oldest, sorted(set(kinds[c.id])),
                   c.escalation_level) for c, name, owner, oldest in rows], total


def cases_per_owner(session: Session) -> list[tuple[str, str, int, int]]:
    """(owner id, name, open cases, of which past a clock)."""
    breached = breached_cases()
    rows = session.execute(
        select(StaffUser.id, StaffUser.display_name, func.count(Case.id),
               func.count(breached.c.case_id))
        .join(Case, Case.owner_id == StaffUser.id)
        .outerjoin(breached, breached.c.case_id == Case.id)
        .where(OPEN).group_by(StaffUser.id, StaffUser.display_name)
        .order_by(func.count(Case.id).desc(), StaffUser.display_name)).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def open_cases_of(session: Session, customer_id: str) -> list[Case]:
    return [c for c, _ in open_cases_with_owners(session, customer_id)]


# Built once: the 360 asks it on every read.
_OPEN_WITH_OWNERS = (select(Case, StaffUser.display_name).outerjoin(StaffUser, StaffUser.id == Case.owner_id)
                     .where(Case.customer_id == bindparam("customer_id"), Case.status != CaseStatus.CLOSED)
                     .order_by(Case.opened_at))


def open_cases_with_owners(session: Session, customer_id: str) -> list[tuple[Case, str | None]]:
    """The customer's open cases, oldest first, each with its owner's name: one query."""
    return [(c, name) for c, name in session.execute(_OPEN_WITH_OWNERS, {"customer_id": customer_id})]


def closed_cases_with_owners(session: Session, customer_id: str, *, offset: int = 0, limit: int = 10
                             ) -> tuple[list[tuple[Case, str | None]], int]:
    """A page of the customer's closed cases, most recently closed first, with their last owner's
    name, and how many there are: two queries."""
    where = (Case.customer_id == customer_id, Case.status == CaseStatus.CLOSED)
    total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    rows = session.execute(select(Case, StaffUser.display_name).outerjoin(StaffUser, StaffUser.id == Case.owner_id)
                           .where(*where).order_by(Case.closed_at.desc(), Case.id.desc())
                           .offset(offset).limit(limit)).all()
    return [(c, name) for c, name in rows], total


def escalations_of(session: Session, case_id: str) -> list[Escalation]:
    return list(session.scalars(select(Escalation).where(Escalation.case_id == case_id)
                                .order_by(Escalation.at, Escalation.id)))


def complaint_history(session: Session, customer_id: str) -> dict:
    """One-off or frequent: the customer's complaints over all time."""
    rows = session.execute(select(Case.opened_at).where(Case.customer_id == customer_id, Case.kind == "complaint")
                           .order_by(Case.opened_at)).scalars().all()
    return {"complaints": len(rows), "pattern": "none" if not rows else "one-off" if len(rows) == 1 else "frequent"
            if len(rows) >= 3 else "repeat", "first": rows[0].isoformat() if rows else None}


# The aging chart's buckets: (label, the youngest age in the bucket). Ages are wall time since opening.
AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("< 1 day", timedelta(0)),
    ("1-3 days", timedelta(days=1)),
    ("3-7 days", timedelta(days=3)),
    ("1-2 weeks", timedelta(weeks=1)),
    ("2-4 weeks", timedelta(weeks=2)),
    ("4-8 weeks", timedelta(weeks=4)),
    ("8+ weeks", timedelta(weeks=8)),
)


def age_bucket(now: datetime):
    """The index in ``AGE_BUCKETS`` of a case's age at ``now``, as an SQL expression."""
    # Oldest bucket first: the first bound a case was opened at or before names its bucket.
    whens = [(Case.opened_at <= now - lower, literal(i)) for i, (_, lower) in reversed(list(enumerate(AGE_BUCKETS)))
             if i > 0]
    return case(*whens, else_=literal(0))


def open_case_ages(session: Session, now: datetime) -> list[tuple[str, int]]:
    """How many open cases fall in each ``AGE_BUCKETS`` bucket at ``now``, youngest first (one query)."""
    bucket = age_bucket(now).label("bucket")
    counts = dict(session.execute(select(bucket, func.count()).where(OPEN).group_by(bucket)).all())
    return [(label, int(counts.get(i, 0))) for i, (label, _) in enumerate(AGE_BUCKETS)]


def iso_week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_mondays(now: datetime, weeks: int) -> list[date]:
    """The Mondays (UTC) of the last ``weeks`` ISO weeks, this week last."""
    this_monday = now.astimezone(UTC).date() - timedelta(days=now.astimezone(UTC).weekday())
    return [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def breach_week(now: datetime, weeks: int):
    """(the index in ``week_mondays`` of the week a clock ran out in, as an SQL expression; the
    conditions a clock must meet to count in one of those weeks)."""
    starts = [datetime.combine(m, time(0), tzinfo=UTC) for m in week_mondays(now, weeks)]
    week = case(*[(CaseClock.fired_at >= starts[i], literal(i)) for i in reversed(range(weeks))])
    return week, (CaseClock.fired_at.is_not(None), CaseClock.fired_at >= starts[0], CaseClock.fired_at <= now)


def breaches_per_week(session: Session, now: datetime, *, weeks: int = 12) -> list[tuple[str, date, int]]:
    """Clocks that ran out in each of the last ``weeks`` ISO weeks (Monday 00:00 UTC), this week
    last: ``(label "2026-W10", the Monday, count)``. A breach counts in the week its clock ran out,
    whether or not it has been dealt with since. One query."""
    expression, within = breach_week(now, weeks)
    week = expression.label("week")
    counts = dict(session.execute(select(week, func.count()).where(*within).group_by(week)).all())
    return [(iso_week_label(m), m, int(counts.get(i, 0))) for i, m in enumerate(week_mondays(now, weeks))]


@dataclass(frozen=True)
class Receiver:
    id: str
    name: str
    role: str
    team: str | None


RECEIVER_ROLES = (AGENT, SPECIALIST, TEAM_LEAD)


def handover_receivers(session: Session, *, excluding: str | None = None) -> list[Receiver]:
    """The contact-centre people a case can be handed to now (active, not away), by team and name."""
    query = (select(StaffUser.id, StaffUser.display_name, StaffUser.role, Team.name)
             .outerjoin(Team, Team.id == StaffUser.team_id)
             .where(StaffUser.active.is_(True), StaffUser.away.is_(False), StaffUser.role.in_(RECEIVER_ROLES)))
    if excluding is not None:
        query = query.where(StaffUser.id != excluding)
    rows = session.execute(query.order_by(Team.name.is_(None), Team.name, StaffUser.display_name, StaffUser.id)).all()
    return [Receiver(*r) for r in rows]

