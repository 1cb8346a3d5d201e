"""Pages: the bill audit's findings for billing staff. What the audit found (code, explanation,
money at stake, status, the billing case it is on), and Confirm or Dismiss by the signed-in
person, recorded on the finding and on its case.

Translation only: ``billing.findings`` reads, ``decisions.bill_audit.review`` decides. A refused
review (a dismissal without a reason, a finding already reviewed) re-renders the page with the
reason next to the finding, answers with the error's status and writes nothing.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from onethread.access.rules import ADMIN, BACK_OFFICE, SPECIALIST, TEAM_LEAD
from onethread.api.deps import ClockDep, DbSession
from onethread.billing import findings, rules
from onethread.decisions import bill_audit
from onethread.errors import DomainError
from onethread.kernel.money import Money
from onethread.web.common import form_failed, local_day, local_when, render, staff_page

router = APIRouter(include_in_schema=False)

Reviewers = staff_page(frozenset({BACK_OFFICE, SPECIALIST, TEAM_LEAD, ADMIN}))  # people who review findings
SHOWN = 500
DONE = {"confirm": "confirmed", "dismiss": "dismissed"}


def _money(minor: int, currency: str) -> str:
    return f"{currency} {Money(minor, currency).as_decimal_str()}"


def _totals(rows: list[findings.FindingView]) -> str:
    sums: dict[str, int] = {}
    for v in rows:
        sums[v.finding.currency] = sums.get(v.finding.currency, 0) + v.finding.at_stake_minor
    return ", ".join(_money(amount, cur) for cur, amount in sorted(sums.items())) or "nothing"


HELPERS = {"money": _money, "day": local_day, "when": local_when}


def _page(request: Request, session, clock, principal, status: str, *, done: str | None = None,
          errors: dict | None = None, failed: str | None = None, note: str = "", status_code: int = 200):
    shown_status = None if status == "all" else status
    try:
        rows, total = findings.list_findings(session, clock, principal, status=shown_status, limit=SHOWN,
                                             channel="web")
        bad_filter = None
    except DomainError as exc:
        bad_filter = form_failed(session, exc)
        rows, total, status_code = [], 0, exc.http_status
    return render(request, "billing/findings.html", {
        "principal": principal, "rows": rows, "total": total, "status": status, "totals": _totals(rows),
        "statuses": (*rules.FINDING_STATUSES, "all"), "done": done, "errors": errors or {}, "failed": failed,
        "note": note, "bad_filter": bad_filter, **HELPERS}, status_code=status_code)


@router.get("/bill-findings", response_class=HTMLResponse)
def findings_page(request: Request, principal: Reviewers, session: DbSession, clock: ClockDep,
                  status: str = Query("open"), done: str | None = None):
    return _page(request, session, clock, principal, status, done=DONE.get(done or ""))


@router.post("/bill-findings/{finding_id}/{verdict}", response_class=HTMLResponse)
def review(request: Request, finding_id: str, verdict: str, principal: Reviewers, session: DbSession,
           clock: ClockDep, note: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "open"):
    try:
        bill_audit.review(session, clock, principal, finding_id, verdict=verdict, note=note)
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _page(request, session, clock, principal, status, errors={finding_id: next(iter(errors.values()))},
                     failed=finding_id, note=note, status_code=exc.http_status)
    query = urlencode({"status": status if status in (*rules.FINDING_STATUSES, "all") else "open",
                       "done": verdict})
    return RedirectResponse(f"/bill-findings?{query}", status_code=303)
