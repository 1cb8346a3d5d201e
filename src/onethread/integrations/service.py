"""Use cases of event subscriptions: register a TMF hub or a webhook (an administrator's act, the
callback checked against the allow-list), read and remove them, see and retry dead deliveries."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.db.session import settings_of
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.integrations import network, rules
from onethread.kernel.clock import Clock
from onethread.models import EventDelivery, EventSubscription

DELIVERY_STATES = ("pending", "delivered", "dead")


def allow_list(session: Session) -> rules.AllowList:
    settings = settings_of(session)
    return rules.AllowList.parse(settings.callback_allowlist, only=settings.callback_allowlist_only)


def check_callback(session: Session, url: str) -> rules.Callback:
    """The callback, refused (400, saying why) when it is not a URL onethread may call: malformed,
    with credentials, plain http in production, or a host that is (or resolves to) an internal
    address that is not allow-listed. The same check runs again before every delivery."""
    settings = settings_of(session)
    allow = allow_list(session)
    try:
        callback = rules.parse_callback(url, production=settings.env == "production", allow=allow)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="callback") from exc
    addresses = network.resolve(callback.host, callback.port)
    if not addresses:
        raise ValidationFailed(f"callback: {callback.host} does not resolve to an address", field="callback")
    for address in addresses:
        problem = rules.address_problem(callback.host, address, allow)
        if problem:
            raise ValidationFailed(f"callback refused: {problem}", field="callback")
    return callback


def _new(session: Session, clock: Clock, actor: Principal, **values) -> tuple[EventSubscription, str]:
    secret = secrets.token_urlsafe(32)
    sub = EventSubscription(secret=secret, created_at=clock.now(), created_by=actor.id, created_by_name=actor.name,
                            **values)
    session.add(sub)
    session.flush()
    access.audit(session, clock, actor, action="create", resource_type="event_subscription", resource_id=sub.id,
                 customer_id=None, detail={"kind": sub.kind, "api": sub.api, "callback": sub.callback})
    return sub, secret


def create_hub(session: Session, clock: Clock, actor: Principal, *, api: str, callback: str,
               query: str | None) -> tuple[EventSubscription, str]:
    """Register a TMF hub on ``api``; answers the subscription and its signing secret (shown once)."""
    try:
        rules.parse_query(rules.APIS[api], query)
    except rules.QueryError as exc:
        raise ValidationFailed(str(exc), field="query") from exc
    checked = check_callback(session, callback)
    return _new(session, clock, actor, kind="hub", api=api, callback=checked.url,
                query=(query or "").strip() or None, event_types=[])


def create_webhook(session: Session, clock: Clock, actor: Principal, *, name: str, callback: str,
                   events: list[str]) -> tuple[EventSubscription, str]:
    """Register a webhook for onethread's own events; answers it and its signing secret (shown once)."""
    if not (name or "").strip() or len(name.strip()) > 100:
        raise ValidationFailed("name the receiver (at most 100 characters)", field="name")
    try:
        wanted = rules.check_webhook_events(events)
    except rules.QueryError as exc:
        raise ValidationFailed(str(exc), field="events") from exc
    checked = check_callback(session, callback)
    return _new(session, clock, actor, kind="webhook", name=name.strip(), callback=checked.url, event_types=wanted)


def get_subscription(session: Session, sub_id: str, *, kind: str, api: str | None = None) -> EventSubscription:
    sub = session.get(EventSubscription, sub_id)
    if sub is None or sub.deleted_at is not None or sub.kind != kind or (api is not None and sub.api != api):
        raise NotFound(f"no {'hub' if kind == 'hub' else 'webhook'} {sub_id}")
    return sub


def delete_subscription(session: Session, clock: Clock, actor: Principal, sub: EventSubscription) -> None:
    """Remove it: nothing more is sent to it, what waited to be sent is dropped; what was delivered
    or died stays, for the record."""
    sub.deleted_at = clock.now()
    session.execute(delete(EventDelivery).where(EventDelivery.subscription_id == sub.id,
                                                EventDelivery.delivered_at.is_(None),
                                                EventDelivery.dead_at.is_(None)))
    access.audit(session, clock, actor, action="delete", resource_type="event_subscription", resource_id=sub.id,
                 customer_id=None, detail={"kind": sub.kind, "api": sub.api, "callback": sub.callback})


def list_subscriptions(session: Session, *, kind: str | None = None, offset: int = 0,
                       limit: int = 100) -> tuple[list[EventSubscription], int]:
    query = select(EventSubscription).where(EventSubscription.deleted_at.is_(None))
    if kind is not None:
        if kind not in ("hub", "webhook"):
            raise ValidationFailed("kind is hub or webhook", field="kind")
        query = query.where(EventSubscription.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(EventSubscription.id).offset(offset).limit(limit)).all()
    return list(rows), total


def counts(session: Session, sub_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per subscription: how many deliveries are pending, delivered, dead (one query)."""
    out = {s: dict.fromkeys(DELIVERY_STATES, 0) for s in sub_ids}
    if not sub_ids:
        return out
    state = _state_expression()
    rows = session.execute(select(EventDelivery.subscription_id, state, func.count())
                           .where(EventDelivery.subscription_id.in_(sub_ids))
                           .group_by(EventDelivery.subscription_id, state))
    for sub_id, name, n in rows:
        out[sub_id][name] = n
    return out


def _state_expression():
    from sqlalchemy import case

    return case((EventDelivery.delivered_at.is_not(None), "delivered"),
                (EventDelivery.dead_at.is_not(None), "dead"), else_="pending")


def list_deliveries(session: Session, *, state: str | None = None, subscription_id: str | None = None,
                    offset: int = 0, limit: int = 100) -> tuple[list[tuple[EventDelivery, EventSubscription]], int]:
    """Deliveries, newest first, with their subscription: ``state`` dead, pending or delivered."""
    query = select(EventDelivery, EventSubscription).join(
        EventSubscription, EventSubscription.id == EventDelivery.subscription_id)
    if state is not None:
        if state not in DELIVERY_STATES:
            raise ValidationFailed(f"state is one of {', '.join(DELIVERY_STATES)}", field="state")
        query = query.where(_state_expression() == state)
    if subscription_id is not None:
        query = query.where(EventDelivery.subscription_id == subscription_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(EventDelivery.id.desc()).offset(offset).limit(limit)).all()
    return [(d, s) for d, s in rows], total


def get_delivery(session: Session, delivery_id: str) -> EventDelivery:
    found = session.get(EventDelivery, delivery_id)
    if found is None:
        raise NotFound(f"no delivery {delivery_id}")
    return found


def retry(session: Session, clock: Clock, actor: Principal, delivery_id: str) -> EventDelivery:
    """Send a dead delivery again, from its first attempt (the receiver is fixed)."""
    found = get_delivery(session, delivery_id)
    if found.dead_at is None:
        raise Conflict("only a dead delivery is retried: this one is "
                       + ("delivered" if found.delivered_at else "still being tried"), field="id")
    sub = session.get(EventSubscription, found.subscription_id)
    if sub is None or sub.deleted_at is not None:
        raise Conflict("its subscription was removed: register the receiver again", field="id")
    found.dead_at, found.attempts, found.available_at = None, 0, clock.now()
    found.claimed_at = found.claimed_by = None
    access.audit(session, clock, actor, action="update", resource_type="event_delivery", resource_id=found.id,
                 customer_id=None, purpose="retry a dead delivery")
    return found


def state_of(delivery: EventDelivery) -> str:
    return "delivered" if delivery.delivered_at else "dead" if delivery.dead_at else "pending"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
