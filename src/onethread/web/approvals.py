"""Pages: four eyes. The requests waiting for a second person, and one request's evidence (the
customer's own history with the number in question, the bills they paid on it, their tenure and
open cases) with Approve and Reject, or Withdraw for the requester.

Translation only: ``decisions.approvals`` decides who may do what. A refused action (the
requester approving their own request, a role that may not decide it, a request already decided)
re-renders the page with the reason, answers with the error's status and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from onethread.access.rules import CUSTOMER_SERVICE
from onethread.api.deps import ClockDep, DbSession, cross_site
from onethread.decisions import approval_rules, approvals
from onethread.errors import DomainError
from onethread.kernel.money import Money
from onethread.web.common import PageForbidden, form_failed, local_day, local_when, render, staff_page

router = APIRouter(include_in_schema=False)

Desk = staff_page(CUSTOMER_SERVICE)
DONE = {"approve": "approved: the action has been carried out", "reject": "rejected: nothing was changed",
        "withdraw": "withdrawn: nothing was changed"}


def _day(value: str | None) -> str:
    return local_day(value) if value else "—"


def _when(value: datetime | str | None) -> str:
    return local_when(value) if value else "—"


def _money(totals: dict | None) -> str:
    if not totals:
        return "nothing"
    return ", ".join(f"{cur} {Money(int(v), cur).as_decimal_str()}" for cur, v in sorted(totals.items()))


def _label(action: str) -> str:
    return approvals.policy().rule(action).label


HELPERS = {"day": _day, "when": _when, "money": _money, "label": _label}


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, principal: Desk, session: DbSession, clock: ClockDep,
                   status: str = Query("pending")):
    errors: dict = {}
    try:
        rows, total = approvals.list_requests(session, clock, principal, status=status or None, limit=100)
    except DomainError as exc:
        errors = form_failed(session, exc)
        rows, total = [], 0
    return render(request, "approvals/list.html", {
        "principal": principal, "rows": rows, "total": total, "status": status,
        "statuses": approval_rules.STATUSES, "errors": errors, **HELPERS}, status_code=400 if errors else 200)


def _view(request: Request, session, clock, principal, approval_id: str, *, done: str | None = None,
          errors: dict | None = None, note: str = "", status_code: int = 200):
    try:
        req = approvals.read_request(session, clock, principal, approval_id)
    except DomainError as exc:
        form_failed(session, exc)
        return render(request, "approvals/missing.html", {"principal": principal, "message": exc.message},
                      status_code=exc.http_status)
    return render(request, "approvals/view.html", {
        "principal": principal, "req": req, "ev": req.evidence, "done": done, "errors": errors or {}, "note": note,
        "mine": req.requested_by == principal.id, **HELPERS}, status_code=status_code)


@router.get("/approvals/{approval_id}", response_class=HTMLResponse)
def approval_page(request: Request, approval_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                  done: str | None = None):
    return _view(request, session, clock, principal, approval_id, done=DONE.get(done or ""))


def _decide(request: Request, session, clock, principal, approval_id: str, step: str, note: str, version: str):
    if cross_site(request):
        raise PageForbidden("a form from another site cannot act with your sign-in")
    expected = int(version) if version.strip().isdigit() else None
    act = {"approve": approvals.approve, "reject": approvals.reject, "withdraw": approvals.withdraw}[step]
    try:
        act(session, clock, principal, approval_id, note=note, expected_version=expected)
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _view(request, session, clock, principal, approval_id, errors={step: next(iter(errors.values()))},
                     note=note, status_code=exc.http_status)
    return RedirectResponse(f"/approvals/{approval_id}?done={step}", status_code=303)


@router.post("/approvals/{approval_id}/approve", response_class=HTMLResponse)
def approve(request: Request, approval_id: str, principal: Desk, session: DbSession, clock: ClockDep,
            note: Annotated[str, Form()] = "", version: Annotated[str, Form()] = ""):
    return _decide(request, session, clock, principal, approval_id, "approve", note, version)


@router.post("/approvals/{approval_id}/reject", response_class=HTMLResponse)
def reject(request: Request, approval_id: str, principal: Desk, session: DbSession, clock: ClockDep,
           note: Annotated[str, Form()] = "", version: Annotated[str, Form()] = ""):
    return _decide(request, session, clock, principal, approval_id, "reject", note, version)


@router.post("/approvals/{approval_id}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, approval_id: str, principal: Desk, session: DbSession, clock: ClockDep,
             note: Annotated[str, Form()] = "", version: Annotated[str, Form()] = ""):
    return _decide(request, session, clock, principal, approval_id, "withdraw", note, version)

