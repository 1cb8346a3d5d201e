"""Pages: the supervisor view. Every case past a clock, oldest breach first; open cases per owner;
how old the open cases are and how many clocks ran out each week, as charts drawn on the server.
Every figure links to the list of the cases behind it (``/supervisor/cases``, also as CSV).

Translation only: the numbers come from ``cases.queries`` (a fixed number of set-based queries),
the charts from ``web.charts``. See docs/pages.md, "Supervisor".
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from onethread.access.rules import SUPERVISORS
from onethread.api.deps import ClockDep, DbSession
from onethread.cases import backlog, figures, queries, reads
from onethread.errors import ValidationFailed
from onethread.models import StaffUser, Team
from onethread.outreach import health
from onethread.web.charts import Bar, bar_chart
from onethread.web.common import page_number, render, staff_page

router = APIRouter(include_in_schema=False)
Supervisor = staff_page(SUPERVISORS)
PAGE = 50
WEEKS = figures.WEEKS


def overdue_by(delta: timedelta) -> str:
    """'3 days 4 h', '5 h 10 min', '12 min': how long a clock has been past, for people."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {mins} min" if mins else "")
    return f"{mins} min"


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor(request: Request, session: DbSession, clock: ClockDep, principal: Supervisor,
               page: Annotated[str | None, Query()] = None):
    number, page_error = page_number(page)
    now = clock.now()
    breached, total = reads.supervisor_queue(session, clock, principal, offset=(number - 1) * PAGE, limit=PAGE,
                                             channel="pages")
    owners = queries.cases_per_owner(session)
    ages = queries.open_case_ages(session, now)
    weeks = queries.breaches_per_week(session, now, weeks=WEEKS)
    first_response = backlog.median_time(session, backlog.first_responses(now))
    resolution = backlog.median_time(session, backlog.resolutions(now))
    aging = bar_chart("Open cases by age", "How long the open cases have been open, youngest first.",
                      [Bar(label, n, href=cases_link(figures.Figure(figures.AGE, bucket=i, at=now)))
                       for i, (label, n) in enumerate(ages)], chart_id="aging")
    per_week = bar_chart(f"Clocks breached per week, last {WEEKS} weeks",
                         "Clocks that ran out in each ISO week (Monday to Sunday, UTC), this week last.",
                         [Bar(label, n, short=label.split("-")[-1],
                              href=cases_link(figures.Figure(figures.WEEK, week=label, at=now)))
                          for label, _, n in weeks],
                         unit=("clock breached", "clocks breached"),
                         chart_id="breaches-per-week")
    return render(request, "supervisor/index.html", {
        "principal": principal, "now": now, "breached": breached, "total": total, "page": number, "per_page": PAGE,
        "page_error": page_error,
        "owners": owners, "ages": ages, "weeks": weeks, "aging": aging, "per_week": per_week,
        "overdue_by": overdue_by, "channels": health.board(session, clock), "timedelta": timedelta,
        "cases_link": lambda figure: cases_link(replace(figure, at=now)), "Figure": figures.Figure,
        "teams": backlog.open_per_team(session), "queues": backlog.triage_per_queue(session),
        "regulator_due": backlog.regulator_due_count(session, now), "harms": backlog.open_harms_by_severity(session),
        "first_response": first_response, "resolution": resolution,
    }, status_code=400 if page_error else 200)


def cases_link(figure: figures.Figure, **more: str) -> str:
    return "/supervisor/cases?" + urlencode({**figure.params(), **more})


CASE_PARAMS = frozenset({"figure", "bucket", "week", "owner", "team", "queue", "severity", "at", "after", "format"})
CSV_HEADER = ("case_id", "title", "kind", "status", "customer", "owner", "opened_at", "clock", "ran_out_at",
              "took_seconds")


def _cell(value) -> str:
    """A CSV cell: times in UTC ISO 8601; text a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/supervisor/cases", response_class=HTMLResponse)
def figure_cases(request: Request, session: DbSession, clock: ClockDep, principal: Supervisor,
                 figure: Annotated[str | None, Query()] = None, bucket: Annotated[str | None, Query()] = None,
                 week: Annotated[str | None, Query()] = None, owner: Annotated[str | None, Query()] = None,
                 team: Annotated[str | None, Query()] = None, queue: Annotated[str | None, Query()] = None,
                 severity: Annotated[str | None, Query()] = None, at: Annotated[str | None, Query()] = None,
                 after: Annotated[str | None, Query()] = None,
                 format: Annotated[str | None, Query()] = None):
    """The cases behind one figure of the supervisor view, fifty a page, or all of them as CSV."""
    try:
        unknown = sorted(set(request.query_params) - CASE_PARAMS)
        if unknown:
            raise ValidationFailed(f"this list does not filter on {', '.join(unknown)} (it takes "
                                   f"{', '.join(sorted(CASE_PARAMS))})", field=unknown[0])
        if format not in (None, "html", "csv"):
            raise ValidationFailed("format must be html or csv", field="format")
        chosen = figures.parse(clock.now(), figure, bucket=bucket, week=week, owner=owner, team=team, queue=queue,
                               severity=severity, at=at, session=session)
        if format == "csv":
            return _csv(session, clock, principal, chosen, after)
        rows, next_after = figures.page(session, clock, principal, chosen, after=after, limit=PAGE, channel="pages")
    except ValidationFailed as exc:
        return render(request, "supervisor/cases.html", {"principal": principal, "error": str(exc), "rows": [],
                                                        "heading": "Cases behind a figure"}, status_code=400)
    return render(request, "supervisor/cases.html", {
        "principal": principal, "rows": rows, "error": None, "heading": _heading(session, chosen), "at": chosen.at,
        "week": chosen.name in figures.CLOCK_ROWS, "timed": chosen.name in figures.TIMED,
        "triage": chosen.name == figures.TRIAGE, "when": WHEN.get(chosen.name, "Ran out"), "after": after,
        "overdue_by": overdue_by,
        "next": cases_link(chosen, after=next_after) if next_after else None,
        "first": cases_link(chosen), "csv": cases_link(chosen, format="csv"),
    })


def _csv(session, clock, principal, chosen: figures.Figure, after: str | None) -> Response:
    if after is not None:
        raise ValidationFailed("the CSV is the whole list: leave out after", field="after")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in figures.every_row(session, clock, principal, chosen, channel="pages"):
        took = int(r.took.total_seconds()) if r.took is not None else None
        writer.writerow([_cell(v) for v in (r.case_id, r.title, r.kind, r.status, r.customer, r.owner,
                                            r.opened_at, r.clock, r.ran_out_at, took)])
    name = "-".join(v for v in chosen.params().values() if v.replace("-", "").isalnum())
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cases-{name}.csv"'})


WHEN = {figures.REGULATOR_DUE: "Due", figures.FIRST_RESPONSE: "Answered", figures.RESOLUTION: "Closed"}


def _team_name(session, team_id: str, fallback: str) -> str:
    name = session.scalar(select(Team.name).where(Team.id == team_id))
    return f"the {name}" if name else fallback


def _heading(session, chosen: figures.Figure) -> str:
    if chosen.name == figures.TEAM_OPEN:
        return ("Open cases whose owner is in no team" if chosen.team == backlog.NO_TEAM
                else f"Open cases owned by {_team_name(session, chosen.team, 'the')} team")
    if chosen.name == figures.TRIAGE:
        return f"Triage items waiting in {_team_name(session, chosen.queue, 'the general')} queue"
    if chosen.name == figures.REGULATOR_DUE:
        return "Regulator deadlines due within 7 days"
    if chosen.name == figures.HARM_OPEN:
        return f"Open cases with an open {chosen.severity} harm"
    if chosen.name == figures.FIRST_RESPONSE:
        return "First responses in the last 30 days"
    if chosen.name == figures.RESOLUTION:
        return "Cases closed in the last 30 days"
    if chosen.name == figures.PAST_CLOCK:
        return "Open cases past a clock"
    if chosen.name == figures.AGE:
        return f"Open cases opened {queries.AGE_BUCKETS[chosen.bucket][0]} ago"
    if chosen.name == figures.WEEK:
        return f"Clocks that ran out in {chosen.week}"
    name = dict(session.execute(select(StaffUser.id, StaffUser.display_name)
                                .where(StaffUser.id == chosen.owner)).all()).get(chosen.owner, chosen.owner)
    return f"Open cases owned by {name}" + (", past a clock" if chosen.name == figures.OWNER_PAST_CLOCK else "")
