"""Pages: opening a new case from the customer 360 (the agent desktop). The owner is the person
opening it, or a team whose routing rule chooses one of its members at work (docs/routing.md,
"New cases handed to a team"). A plain HTML form: POST, then the new case's page; a refused
form shows the 360 again with the message beside the field, nothing written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from onethread.api.deps import ClockDep, ContainerDep, DbSession
from onethread.cases import service as cases
from onethread.errors import DomainError, ValidationFailed
from onethread.web import agent
from onethread.web.common import form_failed

router = APIRouter(include_in_schema=False)

FIELDS = ("kind", "title", "customerAccount", "productId", "openedVia", "severity", "ownerTeamId")


@router.post("/customers/{customer_id}/cases", response_class=HTMLResponse)
def customer_open_case(request: Request, customer_id: str, principal: agent.Desk, session: DbSession,
                       clock: ClockDep, container: ContainerDep, kind: Annotated[str, Form()] = "",
                       title: Annotated[str, Form()] = "", customerAccount: Annotated[str, Form()] = "",
                       productId: Annotated[str, Form()] = "", openedVia: Annotated[str, Form()] = "phone",
                       severity: Annotated[str, Form()] = "medium", ownerTeamId: Annotated[str, Form()] = ""):
    """Open a case for the customer: owned by whoever opens it, or handed to a team by its rule."""
    agent._same_site(request)
    values = dict(zip(FIELDS, (kind, title, customerAccount, productId, openedVia, severity, ownerTeamId),
                      strict=True))
    try:
        if not kind:
            raise ValidationFailed("choose what kind of case it is", field="kind")
        case = cases.open_new(session, clock, principal, customer_id=customer_id, kind=kind, title=title,
                              opened_via=openedVia, customer_account=customerAccount.strip() or None,
                              product_id=productId.strip() or None, severity=severity,
                              owner_team_id=ownerTeamId.strip() or None)
    except DomainError as exc:
        errors = {("ownerTeamId" if k == "relatedParty" else k): m for k, m in form_failed(session, exc).items()}
        errors = {(k if k in FIELDS else "_form"): m for k, m in errors.items()}
        return agent._customer_page(request, session, clock, container, principal, customer_id,
                                    failed={"form": "newcase", "values": values, "errors": errors},
                                    status=exc.http_status)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)
