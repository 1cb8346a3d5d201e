"""Pages: the supervisor view. Every case past a clock, oldest breach first; open cases per owner;
how old the open cases are and how many clocks ran out each week, as charts drawn on the server.

Translation only: the numbers come from ``cases.queries`` (a fixed number of set-based queries),
the charts from ``web.charts``. See docs/pages.md, "Supervisor".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from onethread.access.rules import SUPERVISORS
from onethread.api.deps import ClockDep, DbSession
from onethread.cases import queries, reads
from onethread.outreach import health
from onethread.web.charts import Bar, bar_chart
from onethread.web.common import page_number, render, staff_page

router = APIRouter(include_in_schema=False)
Supervisor = staff_page(SUPERVISORS)
PAGE = 50
WEEKS = 12


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
    aging = bar_chart("Open cases by age", "How long the open cases have been open, youngest first.",
                      [Bar(label, n) for label, n in ages], chart_id="aging")
    per_week = bar_chart(f"Clocks breached per week, last {WEEKS} weeks",
                         "Clocks that ran out in each ISO week (Monday to Sunday, UTC), this week last.",
                         [Bar(label, n, short=label.split("-")[-1]) for label, _, n in weeks],
                         unit=("clock breached", "clocks breached"),
                         chart_id="breaches-per-week")
    return render(request, "supervisor/index.html", {
        "principal": principal, "now": now, "breached": breached, "total": total, "page": number, "per_page": PAGE,
        "page_error": page_error,
        "owners": owners, "ages": ages, "weeks": weeks, "aging": aging, "per_week": per_week,
        "overdue_by": overdue_by, "channels": health.board(session, clock), "timedelta": timedelta,
    }, status_code=400 if page_error else 200)
