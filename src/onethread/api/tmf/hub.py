"""TMF event subscriptions: ``POST {api}/hub``, ``GET`` and ``DELETE {api}/hub/{id}`` on TMF621,
TMF629, TMF632, TMF637 and TMF683. An administrator registers a listener's callback with a TMF
``query``; the worker sends it each matching event, signed (``integrations``). See docs/api/hub.md.

Translation only: the callback and query checks are in ``integrations.service``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import Field

from onethread.access.rules import ADMINS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.answers import Hub
from onethread.api.tmf.conventions import created
from onethread.api.tmf.shapes import TmfIn
from onethread.errors import ValidationFailed
from onethread.integrations import rules
from onethread.integrations import service as integrations
from onethread.models import EventSubscription

router = APIRouter(route_class=AnswerRoute)
TAGS = {"troubleTicket": "TMF621 trouble ticket", "customer": "TMF629 customer", "party": "TMF632 party",
        "productInventory": "TMF637 product inventory", "partyInteraction": "TMF683 party interaction"}


class HubIn(TmfIn):
    callback: str = Field(..., max_length=rules.MAX_CALLBACK,
                          description="the listener's base URL: events go to {callback}/listener/{eventName}")
    query: str | None = Field(None, max_length=rules.MAX_QUERY,
                              description="e.g. eventType=TroubleTicketStatusChangeEvent&event.troubleTicket.status="
                                          "resolved (empty: every event of this API)")


def hub_path(api: rules.TmfApi, hub_id: str) -> str:
    return f"{api.base}/hub/{hub_id}"


def hub_json(api: rules.TmfApi, sub: EventSubscription, secret: str | None = None) -> dict:
    body = {"id": sub.id, "href": hub_path(api, sub.id), "@type": "Hub", "callback": sub.callback}
    if sub.query:
        body["query"] = sub.query
    if secret is not None:  # onethread's: the key of the signature, shown once
        body["secret"] = secret
    return body


def _routes(api: rules.TmfApi) -> None:
    tags = [TAGS[api.name]]

    @router.post(f"{api.base}/hub", response_model=Hub, status_code=201, tags=tags, name=f"{api.name}_hub_create",
                 summary="Register a listener (administrators): its callback receives this API's events, signed")
    def create_hub(body: HubIn, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(ADMINS)) -> dict:
        if body.type_ not in (None, "Hub"):
            raise ValidationFailed("@type is Hub", field="@type")
        sub, secret = integrations.create_hub(session, clock, actor, api=api.name, callback=body.callback,
                                              query=body.query)
        created(response, hub_path(api, sub.id))
        return hub_json(api, sub, secret)

    @router.get(f"{api.base}/hub/{{hub_id}}", response_model=Hub, tags=tags, name=f"{api.name}_hub_get",
                summary="Retrieve a listener's subscription (administrators)")
    def get_hub(hub_id: str, session: DbSession, actor: allow(ADMINS)) -> dict:
        return hub_json(api, integrations.get_subscription(session, hub_id, kind="hub", api=api.name))

    @router.delete(f"{api.base}/hub/{{hub_id}}", status_code=204, tags=tags, name=f"{api.name}_hub_delete",
                   summary="Remove a listener (administrators): nothing more is sent to it")
    def delete_hub(hub_id: str, session: DbSession, clock: ClockDep, actor: allow(ADMINS)) -> Response:
        sub = integrations.get_subscription(session, hub_id, kind="hub", api=api.name)
        integrations.delete_subscription(session, clock, actor, sub)
        return Response(status_code=204)


for _api in rules.APIS.values():
    _routes(_api)
