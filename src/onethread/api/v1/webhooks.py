"""Outgoing webhooks for onethread's own events (``/api/v1/webhooks``), and what was sent to every
subscription, TMF hubs included (``/api/v1/event-deliveries``): dead ones are listed here and can be
sent again. Administrators only. See docs/api/webhooks.md.

Translation only: ``integrations.service`` checks and stores.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import ADMINS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.conventions import ListParams, created, paged
from onethread.api.v1.answers import webhooks as out
from onethread.integrations import rules
from onethread.integrations import service as integrations
from onethread.models import EventDelivery, EventSubscription

router = APIRouter(prefix="/api/v1", tags=["webhooks and event deliveries"], route_class=AnswerRoute)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., max_length=100, description="what the receiver is, e.g. 'field service'")
    callback: str = Field(..., max_length=rules.MAX_CALLBACK, description="the URL every event is POSTed to")
    events: list[str] = Field(..., max_length=len(rules.WEBHOOK_EVENTS) + 1,
                              description=f"any of {', '.join(rules.WEBHOOK_EVENTS)}, or * for all")


def subscription_json(sub: EventSubscription, counts: dict[str, int] | None = None,
                      secret: str | None = None) -> dict:
    body = {"id": sub.id, "kind": sub.kind, "callback": sub.callback,
            "createdAt": integrations.iso(sub.created_at), "createdBy": {"id": sub.created_by,
                                                                          "name": sub.created_by_name}}
    if sub.kind == "webhook":
        body.update(href=f"/api/v1/webhooks/{sub.id}", name=sub.name, events=sub.event_types)
    else:
        api = rules.APIS[sub.api]
        body.update(href=f"{api.base}/hub/{sub.id}", api=sub.api, query=sub.query)
    if counts is not None:
        body["deliveries"] = counts
    if secret is not None:
        body["secret"] = secret
    return body


def delivery_json(d: EventDelivery, sub: EventSubscription) -> dict:
    return {"id": d.id, "href": f"/api/v1/event-deliveries/{d.id}", "state": integrations.state_of(d),
            "eventId": d.event_id, "eventType": d.event_type, "sourceEventId": d.source_event_id,
            "subscription": {"id": sub.id, "kind": sub.kind, "api": sub.api, "name": sub.name,
                             "callback": sub.callback, "removed": sub.deleted_at is not None},
            "attempts": d.attempts, "createdAt": integrations.iso(d.created_at),
            "nextAttemptAt": None if d.delivered_at or d.dead_at else integrations.iso(d.available_at),
            "deliveredAt": integrations.iso(d.delivered_at), "deadAt": integrations.iso(d.dead_at),
            "lastStatus": d.last_status, "lastError": d.last_error, "body": d.body}


@router.post("/webhooks", response_model=out.Subscription,
             status_code=201, summary="Register a webhook for onethread's own events (administrators)")
def create_webhook(body: WebhookIn, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(ADMINS)) -> dict:
    sub, secret = integrations.create_webhook(session, clock, actor, name=body.name, callback=body.callback,
                                              events=body.events)
    created(response, f"/api/v1/webhooks/{sub.id}")
    return subscription_json(sub, secret=secret)


@router.get("/webhooks", response_model=list[out.Subscription], summary="List the webhooks (administrators)")
def list_webhooks(response: Response, session: DbSession, actor: allow(ADMINS),
                  params: ListParams = Depends()) -> list[dict]:
    rows, total = integrations.list_subscriptions(session, kind="webhook", offset=params.offset, limit=params.limit)
    counts = integrations.counts(session, [s.id for s in rows])
    return paged(response, [subscription_json(s, counts[s.id]) for s in rows], total, params.fields)


@router.get("/webhooks/{webhook_id}", response_model=out.Subscription,
            summary="One webhook, with how many deliveries are pending, done, dead")
def get_webhook(webhook_id: str, session: DbSession, actor: allow(ADMINS)) -> dict:
    sub = integrations.get_subscription(session, webhook_id, kind="webhook")
    return subscription_json(sub, integrations.counts(session, [sub.id])[sub.id])


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook: nothing more is sent to it")
def delete_webhook(webhook_id: str, session: DbSession, clock: ClockDep, actor: allow(ADMINS)) -> Response:
    sub = integrations.get_subscription(session, webhook_id, kind="webhook")
    integrations.delete_subscription(session, clock, actor, sub)
    return Response(status_code=204)


@router.get("/event-subscriptions", response_model=list[out.Subscription],
            summary="Every live subscription: TMF hubs and webhooks (administrators)")
def list_subscriptions(response: Response, session: DbSession, actor: allow(ADMINS), params: ListParams = Depends(),
                       kind: str | None = Query(None, description="hub or webhook")) -> list[dict]:
    rows, total = integrations.list_subscriptions(session, kind=kind, offset=params.offset, limit=params.limit)
    counts = integrations.counts(session, [s.id for s in rows])
    return paged(response, [subscription_json(s, counts[s.id]) for s in rows], total, params.fields)


@router.get("/event-deliveries", response_model=list[out.Delivery],
            summary="What was sent to hubs and webhooks, newest first; state=dead for the dead")
def list_deliveries(response: Response, session: DbSession, actor: allow(ADMINS), params: ListParams = Depends(),
                    state: str | None = Query(None, description=" | ".join(integrations.DELIVERY_STATES)),
                    subscription_id: str | None = Query(None, alias="subscriptionId")) -> list[dict]:
    rows, total = integrations.list_deliveries(session, state=state, subscription_id=subscription_id,
                                               offset=params.offset, limit=params.limit)
    return paged(response, [delivery_json(d, s) for d, s in rows], total, params.fields)


@router.get("/event-deliveries/{delivery_id}", response_model=out.Delivery,
            summary="One delivery: its body, attempts and last error")
def get_delivery(delivery_id: str, session: DbSession, actor: allow(ADMINS)) -> dict:
    found = integrations.get_delivery(session, delivery_id)
    return delivery_json(found, session.get(EventSubscription, found.subscription_id))


@router.post("/event-deliveries/{delivery_id}/retry", response_model=out.Delivery,
             summary="Send a dead delivery again, from its first attempt")
def retry_delivery(delivery_id: str, session: DbSession, clock: ClockDep, actor: allow(ADMINS)) -> dict:
    found = integrations.retry(session, clock, actor, delivery_id)
    return delivery_json(found, session.get(EventSubscription, found.subscription_id))
