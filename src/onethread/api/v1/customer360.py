"""``GET /api/v1/customers/{id}/360``: the whole customer on one screen, in a bounded number of
queries however long their history: profile (tenure, value, household, representatives,
vulnerability, identifiers), products with their lifecycle state, open cases with their owners,
complaint history, and the newest page of the timeline."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from onethread.access.rules import CUSTOMER_READERS, VULNERABILITY_NOTE_READERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.v1.answers import customers as out
from onethread.api.v1.schemas import ProfileOut
from onethread.api.v1.timeline import page_json
from onethread.cases import queries as case_queries
from onethread.customers import queries
from onethread.customers import service as customers
from onethread.interactions import timeline

router = APIRouter(prefix="/api/v1", tags=["customer 360"], route_class=AnswerRoute)

@router.get("/customers/{customer_id}/360", response_model=out.Customer360,
            summary="The customer 360: who, what they have, what is open, "
            "and what happened lately")
def customer_360(customer_id: str, session: DbSession, clock: ClockDep, container: ContainerDep,
                 actor: allow(CUSTOMER_READERS),
                 timeline_limit: int = Query(20, ge=1, le=100, alias="timelineLimit")) -> JSONResponse:
    customer = customers.read_customer(session, clock, actor, customer_id, channel="api", purpose="360")
    now = clock.now()
    found = queries.customer_profile(session, customer, now, container.settings.default_currency)
    profile = ProfileOut.of(found, show_notes=actor.may(VULNERABILITY_NOTE_READERS))
    products = found.products  # read with the profile, not again
    open_cases = case_queries.open_cases_with_owners(session, customer.id)
    owners = {c.owner_id: name for c, name in open_cases}
    open_cases = [c for c, _ in open_cases]
    page = timeline.read(session, customer.id, limit=timeline_limit, view="story")
    # Every value below is JSON already (strings, numbers, the profile dumped in JSON mode): the
    # response is written as it is, without a second walk through FastAPI's encoder.
    return JSONResponse({
        "customerId": customer.id,
        "profile": profile.model_dump(mode="json"),
        "products": [{
            "id": p.id, "kind": p.kind, "name": p.name, "status": p.status, "model": p.model,
            "price": {"amountMinor": p.price_minor, "currency": p.currency},
            "activatedAt": p.activated_at.isoformat() if p.activated_at else None,
            "terminatedAt": p.terminated_at.isoformat() if p.terminated_at else None,
            "terminationChannel": p.termination_channel,
            "href": f"/tmf-api/productInventory/v5/product/{p.id}",
        } for p in products],
        "openCases": [{
            "id": c.id, "kind": c.kind, "title": c.title, "status": c.status, "severity": c.severity,
            "owner": {"id": c.owner_id, "name": owners.get(c.owner_id)}, "openedAt": c.opened_at.isoformat(),
            "escalationLevel": c.escalation_level,
            "href": f"/tmf-api/troubleTicket/v5/troubleTicket/{c.id}",
        } for c in open_cases],
        "complaintHistory": case_queries.complaint_history(session, customer.id),
        "timeline": page_json(page),
    })
