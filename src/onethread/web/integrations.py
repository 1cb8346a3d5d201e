"""Pages: integrations, for administrators. Who listens (TMF hubs and webhooks, with how many
deliveries are waiting, done and dead) and the dead deliveries with their last error, each of
which can be sent again once the receiver is fixed.

Translation only: ``integrations.service`` lists and retries. See docs/api/hub.md.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from onethread.access.rules import ADMINS
from onethread.api.deps import ClockDep, DbSession
from onethread.errors import DomainError
from onethread.integrations import service as integrations
from onethread.web.common import form_failed, render, staff_page

router = APIRouter(include_in_schema=False)
Admin = staff_page(ADMINS)
SHOWN = 100


def _when(value: datetime | None) -> str:
    return value.strftime("%d %b %Y, %H:%M") if value else "—"


def _page(request: Request, session, principal, *, done: str | None = None, errors: dict | None = None,
          status_code: int = 200):
    subs, total_subs = integrations.list_subscriptions(session, limit=SHOWN)
    counts = integrations.counts(session, [s.id for s in subs])
    dead, total_dead = integrations.list_deliveries(session, state="dead", limit=SHOWN)
    return render(request, "integrations/index.html", {
        "principal": principal, "subs": subs, "total_subs": total_subs, "counts": counts, "dead": dead,
        "total_dead": total_dead, "done": done, "errors": errors or {}, "when": _when,
    }, status_code=status_code)


@router.get("/integrations", response_class=HTMLResponse)
def integrations_page(request: Request, principal: Admin, session: DbSession, done: str | None = None):
    return _page(request, session, principal, done="Sent again: the worker delivers it on its next pass."
                 if done == "retried" else None)


@router.post("/integrations/deliveries/{delivery_id}/retry", response_class=HTMLResponse)
def retry(request: Request, delivery_id: str, principal: Admin, session: DbSession, clock: ClockDep):
    try:
        integrations.retry(session, clock, principal, delivery_id)
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _page(request, session, principal, errors={delivery_id: next(iter(errors.values()))},
                     status_code=exc.http_status)
    return RedirectResponse("/integrations?done=retried", status_code=303)
