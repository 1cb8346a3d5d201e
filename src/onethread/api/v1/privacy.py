"""Personal-data rights (``/api/v1/customers/{id}/export`` and ``/erase``): the subject-access
export and erasure. Administrators only; erasure is a named person's, with a reason.

Translation only: the rules are in ``onethread.privacy``. See docs/api/privacy.md.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import ADMINS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.v1.answers import customers as out
from onethread.privacy import export as exporting
from onethread.privacy import rules
from onethread.privacy import service as privacy

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["personal-data rights"], route_class=AnswerRoute)


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., max_length=rules.REASON_MAX,
                        description="why (the customer's request, its date and reference): kept in the audit log")


@router.get("/customers/{customer_id}/export", response_model=out.CustomerExport,
            summary="Subject-access export: everything held on the customer, as JSON (administrators; audited)")
def export_customer(customer_id: str, session: DbSession, clock: ClockDep, actor: allow(ADMINS)) -> JSONResponse:
    data = exporting.export(session, clock, actor, customer_id, channel="api")
    return JSONResponse(data, headers={
        "Content-Disposition": f'attachment; filename="customer-{data["customerId"]}.json"',
        "Cache-Control": "no-store"})


@router.post("/customers/{customer_id}/erase", response_model=out.Erasure,
             summary="Erase the customer's identity; the case, decision and bill history stays (an administrator, "
                     "a named person)")
def erase_customer(customer_id: str, body: EraseIn, session: DbSession, clock: ClockDep,
                   actor: allow(ADMINS)) -> dict:
    return privacy.erase(session, clock, actor, customer_id, reason=body.reason, channel="api")
