"""Domain events: what happened, recorded in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DomainEvent:
    type: str  # e.g. "customer.created", "product.terminated"
    occurred_at: datetime
    aggregate_type: str
    aggregate_id: str
    customer_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    id: str = ""  # filled when written to the outbox


Handler = Callable[[Any, DomainEvent], None]  # (session, event)


class EventBus:
    """In-process handlers, called inside the transaction that recorded the event.

    Registered explicitly in ``bootstrap`` (no import side effects). A handler that
    raises rolls the whole transaction back: the change and its reaction commit together.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, event_type: str, handler: Handler) -> None:
        self._handlers.setdefault(event_type, []).append(handler)

    def handlers_for(self, event_type: str) -> list[Handler]:
        return [*self._handlers.get(event_type, []), *self._handlers.get("*", [])]
