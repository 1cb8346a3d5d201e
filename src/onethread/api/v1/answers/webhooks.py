"""Answers of webhooks and event deliveries (``api/v1/webhooks.py``). Lists take ``fields=``, so every
attribute but ``id`` and ``href`` may be left out of a list."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Named, When


class Subscription(Answer):
    """A webhook (name, events) or a TMF hub (api, query); ``secret`` only when it is created."""

    id: str
    href: str
    kind: str | None = Field(None, description="webhook | hub")
    callback: str | None = None
    createdAt: When | None = None
    createdBy: Named | None = None
    name: str | None = None
    events: list[str] | None = None
    api: str | None = None
    query: str | None = None
    deliveries: dict[str, int] | None = Field(None, description="deliveries per state")
    secret: str | None = Field(None, description="the key of the signature, shown once")


class DeliveredTo(Answer):
    id: str
    kind: str
    api: str | None
    name: str | None
    callback: str
    removed: bool


class Delivery(Answer):
    """One event sent (or to be sent) to one subscription."""

    id: str
    href: str
    state: str | None = None
    eventId: str | None = None
    eventType: str | None = None
    sourceEventId: str | None = None
    subscription: DeliveredTo | None = None
    attempts: int | None = None
    createdAt: When | None = None
    nextAttemptAt: When | None = None
    deliveredAt: When | None = None
    deadAt: When | None = None
    lastStatus: int | None = None
    lastError: str | None = None
    body: Any = Field(None, description="the event as it is sent")
