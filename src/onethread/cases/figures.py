"""The cases behind each figure on the supervisor view: a figure names a filter, and its list is
the rows of that filter, keyset-paged.

A list uses the very SQL expressions its figure is counted with (``cases.queries``: "past a
clock", the age buckets, the breach weeks, open cases per owner), so a figure and its list cannot
disagree. Every list is an audited read of the customers it shows (purpose ``supervisor_report``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, literal, or_, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.cases import queries
from onethread.errors import ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Case, CaseClock, Customer, StaffUser

WEEKS = 12  # the breaches-per-week chart's span
PAST_CLOCK, AGE, WEEK, OWNER_OPEN, OWNER_PAST_CLOCK = "past_clock", "age", "week", "owner_open", "owner_past_clock"
FIGURES = (PAST_CLOCK, AGE, WEEK, OWNER_OPEN, OWNER_PAST_CLOCK)
PURPOSE = "supervisor_report"


@dataclass(frozen=True)
class Figure:
    """One figure of the supervisor view, as its list's filter."""
    name: str
    bucket: int | None = None  # AGE: the index in queries.AGE_BUCKETS
    week: str | None = None  # WEEK: "2026-W10"
    owner: str | None = None  # OWNER_*: the staff id

    def params(self) -> dict[str, str]:
        """The list's query string."""
        out = {"figure": self.name}
        if self.bucket is not None:
            out["bucket"] = str(self.bucket)
        if self.week is not None:
            out["week"] = self.week
        if self.owner is not None:
            out["owner"] = self.owner
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
    clock: str | None = None  # WEEK: the clock that ran out, and when
    ran_out_at: datetime | None = None


def parse(now: datetime, figure: str | None, *, bucket: str | None = None, week: str | None = None,
          owner: str | None = None, session: Session | None = None) -> Figure:
    """The filter a list's query string names; a ValidationFailed naming the parameter if not one."""
    if figure not in FIGURES:
        raise ValidationFailed(f"figure must be one of {', '.join(FIGURES)}", field="figure")
    wanted = {AGE: "bucket", WEEK: "week", OWNER_OPEN: "owner", OWNER_PAST_CLOCK: "owner"}.get(figure)
    for name, value in (("bucket", bucket), ("week", week), ("owner", owner)):
        if name != wanted and value is not None:
            raise ValidationFailed(f"{name} does not go with figure={figure}", field=name)
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
    """(the list's select, its key column, its sort column), built on the figure's own expressions."""
    if figure.name == WEEK:
        expression, within = queries.breach_week(now, WEEKS)
        labels = [queries.iso_week_label(m) for m in queries.week_mondays(now, WEEKS)]
        query = (select(CaseClock.id, Case.id, Case.title, Case.kind, Case.status, Customer.name,
                        StaffUser.display_name, Case.opened_at, CaseClock.kind, CaseClock.fired_at)
                 .join(Case, Case.id == CaseClock.case_id).join(Customer, Customer.id == Case.customer_id)
                 .outerjoin(StaffUser, StaffUser.id == Case.owner_id)
                 .where(*within, expression == labels.index(figure.week)))
        return query, CaseClock.id, CaseClock.fired_at
    query = (select(Case.id, Case.id, Case.title, Case.kind, Case.status, Customer.name, StaffUser.display_name,
                    Case.opened_at, literal(None), literal(None))
             .join(Customer, Customer.id == Case.customer_id).outerjoin(StaffUser, StaffUser.id == Case.owner_id)
             .where(queries.OPEN))
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
    query, key, sort = _query(figure, clock.now())
    if after is not None:
        if session.scalar(query.with_only_columns(key).where(key == after)) is None:
            raise ValidationFailed("after must be a row of this list (the link's own value)", field="after")
        mark = select(sort).where(key == after).scalar_subquery()
        query = query.where(or_(sort > mark, and_(sort == mark, key > after)))
    rows = [Row(*r) for r in session.execute(query.order_by(sort, key).limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    _audit(session, clock, actor, rows, channel=channel)
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


def _audit(session: Session, clock: Clock, actor: Principal, rows: list[Row], *, channel: str | None) -> None:
    if not rows:
        return
    customers = dict(session.execute(select(Case.id, Case.customer_id).where(
        Case.id.in_({r.case_id for r in rows}))).all())
    shown: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.case_id not in shown[customers[row.case_id]]:
            shown[customers[row.case_id]].append(row.case_id)
    for customer_id, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type="case",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=customer_id, channel=channel,
                     purpose=PURPOSE, detail={"caseIds": ids} if len(ids) > 1 else None)
