"""``GET /api/v1/reports/cases``: the list behind one figure of the supervisor view, as JSON.

The same filter (``figure`` and its one parameter) and the same rows as ``/supervisor/cases``
(``cases.figures``), keyset-paged: ``nextAfter`` of one page is ``after`` of the next. Team
leads and administrators only; the customers shown are an audited read. See docs/api/reports.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from onethread.access.rules import SUPERVISORS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.v1.answers import work as out
from onethread.cases import figures

router = APIRouter(prefix="/api/v1", tags=["reports"], route_class=AnswerRoute)


def _iso(value):
    return value.isoformat() if value is not None else None


def row_json(r: figures.Row) -> dict:
    return {"id": r.key, "caseId": r.case_id, "title": r.title, "kind": r.kind, "status": r.status,
            "customerId": r.customer_id, "customer": r.customer, "owner": r.owner, "openedAt": _iso(r.opened_at),
            "clock": r.clock, "at": _iso(r.ran_out_at),
            "tookSeconds": int(r.took.total_seconds()) if r.took is not None else None}


@router.get("/reports/cases", response_model=out.Report,
            summary="The cases (or triage items) behind a figure of the supervisor view")
def report_cases(
    session: DbSession,
    clock: ClockDep,
    actor: allow(SUPERVISORS),
    figure: str | None = Query(None, description=f"which figure: {', '.join(figures.FIGURES)}"),
    bucket: str | None = Query(None, description="figure=age: the age bar, 0 (< 1 day) to 6 (8+ weeks)"),
    week: str | None = Query(None, description="figure=week: an ISO week of the last 12, e.g. 2026-W10"),
    owner: str | None = Query(None, description="figure=owner_open or owner_past_clock: a staff id"),
    team: str | None = Query(None, description="figure=team_open: a team id, or none"),
    queue: str | None = Query(None, description="figure=triage_waiting: a team id, or general"),
    severity: str | None = Query(None, description="figure=harm_open: low, medium, high or urgent"),
    at: str | None = Query(None, description="the instant the list is of (ISO 8601 with its zone, not in the "
                           "future), as the supervisor view's links carry it; default now"),
    after: str | None = Query(None, description="nextAfter of the previous page"),
    limit: int = Query(50, ge=1, le=500, description="rows per page"),
) -> dict:
    chosen = figures.parse(clock.now(), figure, bucket=bucket, week=week, owner=owner, team=team, queue=queue,
                           severity=severity, at=at, session=session)
    rows, next_after = figures.page(session, clock, actor, chosen, after=after, limit=limit, channel="api")
    return {"figure": chosen.params(), "items": [row_json(r) for r in rows], "nextAfter": next_after}
