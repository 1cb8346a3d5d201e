"""A customer's audit log (``/api/v1/customers/{id}/audit-log``): who read or changed their data.

Supervisors only. Newest first, ``offset``/``limit`` with ``X-Total-Count``; ``since`` keeps
the entries at or after an instant (timezone-aware; a time without a zone is refused).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from onethread.access import service as access
from onethread.access.rules import SUPERVISORS
from onethread.api.deps import DbSession, allow
from onethread.customers import service as customers
from onethread.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT
from onethread.models import AuditEntry

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["audit log"])


class AuditActorOut(BaseModel):
    type: str = Field(..., description="staff, token, system or customer")
    id: str
    name: str


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type_: Literal["AuditEntry"] = Field("AuditEntry", alias="@type")
    id: str
    at: datetime
    actor: AuditActorOut
    action: str = Field(..., description="read, create, update or delete")
    resourceType: str
    resourceId: str | None
    customerId: str | None
    channel: str | None
    purpose: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(id=e.id, at=e.at, actor=AuditActorOut(type=e.actor_type, id=e.actor_id, name=e.actor_name),
                   action=e.action, resourceType=e.resource_type, resourceId=e.resource_id,
                   customerId=e.customer_id, channel=e.channel, purpose=e.purpose, detail=e.detail or {})


@router.get("/customers/{customer_id}/audit-log", response_model=list[AuditEntryOut],
            summary="Who read or changed this customer's data, newest first (supervisors)")
def customer_audit_log(customer_id: str, response: Response, session: DbSession, actor: allow(SUPERVISORS),
                       offset: int = Query(0, ge=0, description="index of the first entry to return"),
                       limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="entries to return"),
                       since: AwareDatetime | None = Query(None, description="only entries at or after this instant"),
                       ) -> list[AuditEntryOut]:
    customers.get_customer(session, customer_id)  # 404 for an unknown customer
    rows, total = access.audit_for_customer(session, customer_id, offset=offset, limit=limit, since=since)
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(len(rows))
    return [AuditEntryOut.of(e) for e in rows]
