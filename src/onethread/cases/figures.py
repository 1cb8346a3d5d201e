"""The cases behind each figure on the supervisor view: a figure names a filter, and its list is
the rows of that filter, keyset-paged.

A list uses the very SQL expressions its figure is counted with (``cases.queries``: "past a
clock", the age buckets, the breach weeks, open cases per owner), so a figure and its list cannot
disagree. Every list is an audited read of the customers it shows (purpose ``supervisor_report``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import and_, case, literal, or_, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.cases import backlog, queries
from onethread.cases.rules import SEVERITIES
from onethread.errors import ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Case, CaseClock, Customer, StaffUser, Team, TriageItem

WEEKS = 12  # the breaches-per-week chart's span
PAST_CLOCK, AGE, WEEK, OWNER_OPEN, OWNER_PAST_CLOCK = "past_clock", "age", "week", "owner_open", "owner_past_clock"
TEAM_OPEN, TRIAGE, REGULATOR_DUE, HARM_OPEN = "team_open", "triage_waiting", "regulator_due", "harm_open"
FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
FIGURES = (PAST_CLOCK, AGE, WEEK, OWNER_OPEN, OWNER_PAST_CLOCK, TEAM_OPEN, TRIAGE, REGULATOR_DUE, HARM_OPEN,
           FIRST_RESPONSE, RESOLUTION)
CLOCK_ROWS = (WEEK, REGULATOR_DUE, FIRST_RESPONSE, RESOLUTION)  # lists whose rows carry a clock and an instant
TIMED = (FIRST_RESPONSE, RESOLUTION)  # lists whose rows carry how long something took
# The one parameter each figure takes beyond its name.
PARAMETER = {AGE: "bucket", WEEK: "week", OWNER_OPEN: "owner", OWNER_PAST_CLOCK: "owner", TEAM_OPEN: "team",
             TRIAGE: "queue", HARM_OPEN: "severity"}
PURPOSE = "supervisor_report"


@dataclass(frozen=True)
class Figure:
    """One figure of the supervisor view, as its list's filter."""
    name: str
    bucket: int | None = None  # AGE: the index in queries.AGE_BUCKETS
    week: str | None = None  # WEEK: "2026-W10"
    owner: str | None = None  # OWNER_*: the staff id
    team: str | None = None  # TEAM_OPEN: a team id or "none"
    queue: str | None = None  # TRIAGE: a team id or "general"
    severity: str | None = None  # HARM_OPEN
    at: datetime | None = None  # the instant the list is of (the view's), or None for now

    def params(self) -> dict[str, str]:
        """The list's query string."""
        out = {"figure": self.name}
        for name in ("bucket", "week", "owner", "team", "queue", "severity"):
            if getattr(self, name) is not None:
                out[name] = str(getattr(self, name))
        if self.at is not None:
            out["at"] = self.at.astimezone(UTC).isoformat()
        return out


@dataclass(frozen=True)
class Row:
    key: str  # the row's place in the list (a case id; a clock id for WEEK)
    case_id: str
    title: str
    kind: str
    status: str
    customer: str
    owner: str | None
    opened_at: datetime
    clock: str | None = None  # CLOCK_ROWS: the clock, and when it ran out (is due, was answered, closed)
    ran_out_at: datetime | None = None
    customer_id: str | None = None
    started_at: datetime | None = None  # TIMED: from when the time counts

    @property
    def took(self):
        return self.ran_out_at - self.started_at if self.started_at and self.ran_out_at else None


def parse(now: datetime, figure: str | None, *, at: str | None = None, **given) -> Figure:
    """The filter a list's query string names; a ValidationFailed naming the parameter if not one.
    ``at`` (ISO 8601 with a zone, not after now) pins the list's instant."""
    if at is None:
        return _parse(now, figure, **given)
    try:
        pinned = datetime.fromisoformat(at)
    except ValueError:
        pinned = None
    if pinned is None or pinned.tzinfo is None:
        raise ValidationFailed("at must be an ISO 8601 time with its zone, e.g. 2026-03-02T09:11:00+00:00",
                               field="at")
    if pinned > now:
        raise ValidationFailed("at must not be in the future", field="at")
    return replace(_parse(pinned, figure, **given), at=pinned)


def _parse(now: datetime, figure: str | None, *, bucket: str | None = None, week: str | None = None,
           owner: str | None = None, team: str | None = None, queue: str | None = None,
           severity: str | None = None, session: Session | None = None) -> Figure:
    if figure not in FIGURES:
        raise ValidationFailed(f"figure must be one of {', '.join(FIGURES)}", field="figure")
    wanted = PARAMETER.get(figure)
    given = {"bucket": bucket, "week": week, "owner": owner, "team": team, "queue": queue, "severity": severity}
    for name, value in given.items():
        if name != wanted and value is not None:
            raise ValidationFailed(f"{name} does not go with figure={figure}", field=name)
    if figure in (TEAM_OPEN, TRIAGE):
        name, value, none = (("team", team, backlog.NO_TEAM) if figure == TEAM_OPEN
                             else ("queue", queue, backlog.GENERAL))
        if not value or (value != none and session is not None and session.get(Team, value) is None):
            raise ValidationFailed(f"{name} must be the id of a team, or {none}", field=name)
        return Figure(figure, **{name: value})
    if figure == HARM_OPEN:
        if severity not in SEVERITIES:
            raise ValidationFailed(f"severity must be one of {', '.join(SEVERITIES)}", field="severity")
        return Figure(HARM_OPEN, severity=severity)
    if figure == AGE:
        labels = len(queries.AGE_BUCKETS)
        if bucket is None or not bucket.isdigit() or int(bucket) >= labels:
            raise ValidationFailed(f"bucket must be a number from 0 to {labels - 1}", field="bucket")
        return Figure(AGE, bucket=int(bucket))
    if figure == WEEK:
        labels = [queries.iso_week_label(m) for m in queries.week_mondays(now, WEEKS)]
        if week not in labels:
            raise ValidationFailed(f"week must be one of the last {WEEKS} ISO weeks, {labels[0]} to {labels[-1]}",
                                   field="week")
        return Figure(WEEK, week=week)
    if figure in (OWNER_OPEN, OWNER_PAST_CLOCK):
        if not owner or (session is not None and session.get(StaffUser, owner) is None):
            raise ValidationFailed("owner must be the id of a staff member", field="owner")
        return Figure(figure, owner=owner)
    return Figure(figure)


def _query(figure: Figure, now: datetime):
    """(the list's select, its key column, its sort column), built on the figure's own expressions.
    A pinned list (``figure.at``) also leaves out what began after its instant."""
    began = figure.at is not None
    if figure.name == WEEK:
        expression, within = queries.breach_week(now, WEEKS)
        labels = [queries.iso_week_label(m) for m in queries.week_mondays(now, WEEKS)]
        query = (select(CaseClock.id, Case.id, Case.title, Case.kind, Case.status, Customer.name,
                        StaffUser.display_name, Case.opened_at, CaseClock.kind, CaseClock.fired_at, Case.customer_id,
                        literal(None))
                 .join(Case, Case.id == CaseClock.case_id).join(Customer, Customer.id == Case.customer_id)
                 .outerjoin(StaffUser, StaffUser.id == Case.owner_id)
                 .where(*within, expression == labels.index(figure.week)))
        return query, CaseClock.id, CaseClock.fired_at
    if figure.name in (REGULATOR_DUE, FIRST_RESPONSE):
        if figure.name == REGULATOR_DUE:
            where, end, start = backlog.regulator_due(now), CaseClock.due_at, literal(None)
        else:
            (start, end), where = backlog.first_responses(now)
        query = (select(CaseClock.id, Case.id, Case.title, Case.kind, Case.status, Customer.name,
                        StaffUser.display_name, Case.opened_at, CaseClock.kind, end, Case.customer_id, start)
                 .join(Case, Case.id == CaseClock.case_id).join(Customer, Customer.id == Case.customer_id)
                 .outerjoin(StaffUser, StaffUser.id == Case.owner_id).where(*where))
        if began:
            query = query.where(CaseClock.started_at <= now)
        return query, CaseClock.id, end
    if figure.name == TRIAGE:
        query = (select(TriageItem.id, TriageItem.case_id, TriageItem.reason, TriageItem.channel,
                        case((TriageItem.assigned_to.is_(None), literal("waiting")), else_=literal("assigned")),
                        Customer.name, StaffUser.display_name, TriageItem.created_at, literal("first_response"),
                        TriageItem.due_at, TriageItem.customer_id, literal(None))
                 .outerjoin(Customer, Customer.id == TriageItem.customer_id)
                 .outerjoin(StaffUser, StaffUser.id == TriageItem.assigned_to)
                 .where(backlog.WAITING, backlog.in_queue(figure.queue)))
        if began:
            query = query.where(TriageItem.created_at <= now)
        return query, TriageItem.id, TriageItem.created_at
    if figure.name == RESOLUTION:
        (start, end), where = backlog.resolutions(now)
        query = (select(Case.id, Case.id, Case.title, Case.kind, Case.status, Customer.name, StaffUser.display_name,
                        Case.opened_at, literal("resolution"), end, Case.customer_id, start)
                 .join(Customer, Customer.id == Case.customer_id).outerjoin(StaffUser, StaffUser.id == Case.owner_id)
                 .where(*where))
        return query, Case.id, end
    query = (select(Case.id, Case.id, Case.title, Case.kind, Case.status, Customer.name, StaffUser.display_name,
                    Case.opened_at, literal(None), literal(None), Case.customer_id, literal(None))
             .join(Customer, Customer.id == Case.customer_id).outerjoin(StaffUser, StaffUser.id == Case.owner_id)
             .where(queries.OPEN))
    if began:
        query = query.where(Case.opened_at <= now)
    if figure.name == TEAM_OPEN:
        return query.where(backlog.team_of_owner(figure.team)), Case.id, Case.opened_at
    if figure.name == HARM_OPEN:
        return query.where(backlog.open_harm(figure.severity)), Case.id, Case.opened_at
    if figure.name == PAST_CLOCK:
        breached = queries.breached_cases()
        query = query.join(breached, breached.c.case_id == Case.id)
    elif figure.name == AGE:
        query = query.where(queries.age_bucket(now) == figure.bucket)
    else:
        query = query.where(Case.owner_id == figure.owner)
        if figure.name == OWNER_PAST_CLOCK:
            breached = queries.breached_cases()
            query = query.where(Case.id.in_(select(breached.c.case_id)))
    return query, Case.id, Case.opened_at


def page(session: Session, clock: Clock, actor: Principal, figure: Figure, *, after: str | None = None,
         limit: int = 50, channel: str | None = None) -> tuple[list[Row], str | None]:
    """The rows of the figure's list after the row keyed ``after`` (oldest first), and the key to ask
    for the next page with (None on the last page). The customers shown are audited."""
    query, key, sort = _query(figure, figure.at or clock.now())
    if after is not None:
        if session.scalar(query.with_only_columns(key).where(key == after)) is None:
            raise ValidationFailed("after must be a row of this list (the link's own value)", field="after")
        mark = select(sort).where(key == after).scalar_subquery()
        query = query.where(or_(sort > mark, and_(sort == mark, key > after)))
    rows = [Row(*r) for r in session.execute(query.order_by(sort, key).limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    _audit(session, clock, actor, rows, channel=channel, triage=figure.name == TRIAGE)
    return rows, rows[-1].key if more and rows else None


def every_row(session: Session, clock: Clock, actor: Principal, figure: Figure, *, channel: str | None = None,
              batch: int = 500) -> Iterator[Row]:
    """The whole list, page by page (for an export)."""
    after = None
    while True:
        rows, after = page(session, clock, actor, figure, after=after, limit=batch, channel=channel)
        yield from rows
        if after is None:
            return


def _audit(session: Session, clock: Clock, actor: Principal, rows: list[Row], *, channel: str | None,
           triage: bool = False) -> None:
    """One audit row per customer shown: the case (triage item) if one, else their ids in detail."""
    shown: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        ident = row.key if triage else row.case_id
        if row.customer_id is not None and ident not in shown[row.customer_id]:
            shown[row.customer_id].append(ident)
    resource, many = ("triage_item", "triageItemIds") if triage else ("case", "caseIds")
    for customer_id, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type=resource,
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=customer_id, channel=channel,
                     purpose=PURPOSE, detail={many: ids} if len(ids) > 1 else None)
