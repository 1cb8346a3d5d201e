"""Domain events: what happened, recorded in the same transaction as the change.

Two shapes of the same thing:

- ``Event``: a class per event type (``ContactRecorded``, ``ProductTerminated``...), its payload
  fields typed, declared in the capability that records it. The class knows its type string, its
  aggregate, and how its payload is stored (camelCase keys, in field order).
- ``DomainEvent``: the stored envelope, as the outbox row holds it and consumers receive it
  (``type`` string, ``payload`` dict). ``Event.envelope()`` makes one; ``parse`` turns a stored
  envelope of a known type back into its class.

The outbox stores exactly what ``envelope()`` gives, so events recorded through a class and the
events stored before it read the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar


@dataclass(frozen=True)
class DomainEvent:
    type: str  # e.g. "customer.created", "product.terminated"
    occurred_at: datetime
    aggregate_type: str
    aggregate_id: str
    customer_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    id: str = ""  # filled when written to the outbox


_ENVELOPE = ("occurred_at", "aggregate_id", "customer_id")
_BY_TYPE: dict[str, type[Event]] = {}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@dataclass(frozen=True, kw_only=True)
class Event:
    """A typed domain event. Subclasses are frozen keyword-only dataclasses that set ``TYPE`` and
    ``AGGREGATE`` and declare their payload fields; ``Event`` itself, as a key of the handler map,
    means every event.

    A payload field is stored under its camelCase name; ``KEYS`` overrides a name, and a field in
    ``OMIT_WHEN_DEFAULT`` is left out of the payload while it holds its default (a key that only
    some events of the type carry).
    """

    TYPE: ClassVar[str] = "*"
    AGGREGATE: ClassVar[str] = ""
    KEYS: ClassVar[dict[str, str]] = {}
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset()

    occurred_at: datetime
    aggregate_id: str
    customer_id: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE != "*":
            if cls.TYPE in _BY_TYPE:
                raise TypeError(f"two event classes for {cls.TYPE}: {_BY_TYPE[cls.TYPE].__qualname__}, "
                                f"{cls.__qualname__}")
            _BY_TYPE[cls.TYPE] = cls

    @classmethod
    def _payload_fields(cls) -> list[dataclasses.Field[Any]]:
        return [f for f in dataclasses.fields(cls) if f.name not in _ENVELOPE]

    @classmethod
    def key(cls, name: str) -> str:
        return cls.KEYS.get(name, _camel(name))

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self._payload_fields():
            value = getattr(self, f.name)
            if f.name in self.OMIT_WHEN_DEFAULT and value == f.default:
                continue
            out[self.key(f.name)] = value
        return out

    def envelope(self) -> DomainEvent:
        return DomainEvent(type=self.TYPE, occurred_at=self.occurred_at, aggregate_type=self.AGGREGATE,
                           aggregate_id=self.aggregate_id, customer_id=self.customer_id, payload=self.payload())


E = TypeVar("E", bound=Event)


def event_class(type_: str) -> type[Event] | None:
    """The class of a typed event type; None for a type recorded as a bare envelope."""
    return _BY_TYPE.get(type_)


def parse(stored: DomainEvent, cls: type[E]) -> E:
    """A stored envelope of ``cls``'s type as that class (a missing optional key takes its default)."""
    if stored.type != cls.TYPE:
        raise ValueError(f"a {stored.type} event is not a {cls.TYPE}")
    values: dict[str, Any] = {name: getattr(stored, name) for name in _ENVELOPE}
    for f in cls._payload_fields():
        key = cls.key(f.name)
        if key in stored.payload:
            values[f.name] = stored.payload[key]
    return cls(**values)


def as_envelope(event: DomainEvent | Event) -> DomainEvent:
    return event.envelope() if isinstance(event, Event) else event


Handler = Callable[[Any, DomainEvent], None]  # (session, event)


class EventBus:
    """In-process handlers, called inside the transaction that recorded the event.

    Registered explicitly in ``bootstrap`` from one map, event class -> handlers (no import side
    effects); ``Event`` stands for every event. A handler that raises rolls the whole transaction
    back: the change and its reaction commit together.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def subscribe(self, event: type[Event] | str, handler: Handler) -> None:
        """``event``: the event's class; a type string only for a type that has no class yet."""
        if isinstance(event, str):
            if event in _BY_TYPE or event == "*":
                name = _BY_TYPE[event].__name__ if event in _BY_TYPE else "Event"
                raise TypeError(f"subscribe {name}, not the string {event!r}")
            self._handlers.setdefault(event, []).append(handler)
            return
        self._handlers.setdefault(event.TYPE, []).append(handler)

    def handlers_for(self, event_type: str) -> list[Handler]:
        return [*self._handlers.get(event_type, []), *self._handlers.get("*", [])]
