"""Mounts every API router. The list is explicit: a router not named here is not served."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import Field

from onethread import __version__
from onethread.api import readiness
from onethread.api.answers import Answer, AnswerRoute
from onethread.api.deps import PUBLIC, ContainerDep
from onethread.api.errors import UNREACHABLE_RETRY_AFTER
from onethread.api.params import KNOWN_QUERY
from onethread.api.tmf import (
    communication_message,
    customer,
    customer_bill,
    hub,
    party,
    party_interaction,
    product,
    schemas,
    trouble_ticket,
)
from onethread.api.v1 import admin_clock as v1_admin_clock
from onethread.api.v1 import approvals as v1_approvals
from onethread.api.v1 import attachments as v1_attachments
from onethread.api.v1 import audit as v1_audit
from onethread.api.v1 import bill_audit as v1_bill_audit
from onethread.api.v1 import bills as v1_bills
from onethread.api.v1 import case_items as v1_case_items
from onethread.api.v1 import case_waits as v1_case_waits
from onethread.api.v1 import cases as v1_cases
from onethread.api.v1 import channels as v1_channels
from onethread.api.v1 import contact_batches as v1_contact_batches
from onethread.api.v1 import customer360 as v1_customer360
from onethread.api.v1 import customer_merges as v1_customer_merges
from onethread.api.v1 import customers as v1_customers
from onethread.api.v1 import decisions as v1_decisions
from onethread.api.v1 import field as v1_field
from onethread.api.v1 import identifiers as v1_identifiers
from onethread.api.v1 import known_defects as v1_known_defects
from onethread.api.v1 import match_queue as v1_match_queue
from onethread.api.v1 import my_work as v1_my_work
from onethread.api.v1 import outreach as v1_outreach
from onethread.api.v1 import portal as v1_portal
from onethread.api.v1 import privacy as v1_privacy
from onethread.api.v1 import reports as v1_reports
from onethread.api.v1 import search as v1_search
from onethread.api.v1 import sessions as v1_sessions
from onethread.api.v1 import social as v1_social
from onethread.api.v1 import staff as v1_staff
from onethread.api.v1 import timeline
from onethread.api.v1 import triage as v1_triage
from onethread.api.v1 import warm_handovers as v1_warm_handovers
from onethread.api.v1 import webhooks as v1_webhooks
from onethread.outreach import health


class Health(Answer):
    status: str = Field(..., description="ok")
    version: str


class Check(Answer):
    name: str
    status: str = Field(..., description="ok | failed | skipped")
    message: str


class ChannelReadiness(Answer):
    name: str
    kind: str
    direction: str
    state: str = Field(..., description="green | amber | red | off")


class Readiness(Answer):
    status: str = Field(..., description="ok | unavailable")
    checks: list[Check]
    channels: list[ChannelReadiness]


def readiness_channels(session, clock) -> tuple[bool, list[dict]]:
    """The channels part of ``/readyz``: not ready while a configured channel is red. Only names and
    states (the route is public); the errors are on ``/api/v1/channels/health`` for supervisors."""
    ok, channels = health.channels_ready(session, clock)
    return ok, [{"name": c["name"], "kind": c["kind"], "direction": c["direction"], "state": c["state"]}
                for c in channels]


def mount_api(app: FastAPI) -> None:
    health = APIRouter(tags=["health"], route_class=AnswerRoute)

    @health.get("/healthz", response_model=Health, dependencies=[PUBLIC], summary="Liveness and version")
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @health.get("/readyz", response_model=Readiness, dependencies=[PUBLIC],
                responses={503: {"model": Readiness, "description": "not ready: the checks say why"}},
                summary="Readiness: 200 when ready, 503 saying what is not")
    def readyz(container: ContainerDep) -> JSONResponse:
        database = readiness.check_database(container)
        channels: list[dict] = []
        if database["status"] == "ok":
            with container.read_sessions() as session:
                ok, channels = readiness_channels(session, container.clock)
                session.rollback()
            named = ", ".join(c["name"] for c in channels if c["state"] == "red")
            reach = {"name": "channels", "status": "ok" if ok else "failed",
                     "message": f"red: {named}" if named else "no configured channel is red"}
        else:
            reach = {"name": "channels", "status": "skipped", "message": "the database is not available"}
        ready = database["status"] == "ok" and reach["status"] == "ok"
        body = {"status": "ok" if ready else "unavailable", "checks": [database, reach], "channels": channels}
        return JSONResponse(body, status_code=200 if ready else 503,
                            headers=None if ready else {"Retry-After": str(UNREACHABLE_RETRY_AFTER)})

    app.include_router(health)
    routers = [
        communication_message.router,
        v1_outreach.router,
        customer.router,
        party.router,
        product.router,
        party_interaction.router,
        v1_attachments.router,
        v1_contact_batches.router,
        timeline.router,
        v1_customer360.router,
        v1_customers.router,
        v1_identifiers.router,
        v1_staff.router,
        v1_audit.router,
        v1_privacy.router,
        v1_sessions.router,
        v1_match_queue.router,
        v1_triage.router,
        v1_reports.router,
        v1_my_work.router,
        v1_social.router,
        v1_channels.router,
        trouble_ticket.router,
        v1_cases.router,
        v1_case_items.router,
        v1_case_waits.router,
        v1_customer_merges.router,
        v1_warm_handovers.router,
        v1_search.router,
        v1_decisions.router,
        v1_known_defects.router,
        v1_field.router,
        v1_approvals.router,
        v1_bills.router,
        customer_bill.router,
        v1_bill_audit.router,
        v1_portal.router,
        hub.router,
        schemas.router,
        v1_webhooks.router,
    ]
    if app.state.container.settings.env != "production":
        routers.append(v1_admin_clock.router)  # the sandbox clock does not exist in production
    for router in routers:
        app.include_router(router, dependencies=[KNOWN_QUERY])  # an unknown query parameter is a 400
