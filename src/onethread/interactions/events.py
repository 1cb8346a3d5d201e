"""The events contacts record (``kernel.events.Event`` classes): their payload as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class ContactRecorded(Event):
    """A contact was recorded, or (``update``) one recorded before is now known to be the customer's."""

    TYPE: ClassVar[str] = "contact.recorded"
    AGGREGATE: ClassVar[str] = "contact"
    OMIT_WHEN_DEFAULT: ClassVar[frozenset[str]] = frozenset({"update", "thread_id", "at"})

    channel: str
    direction: str
    kind: str
    subject: str | None
    summary: str
    actor_name: str | None
    match_status: str
    explanation: str
    session_id: str | None
    actor: str
    update: bool = False
    thread_id: str | None = None  # the first contact of its thread, when that is another one
    at: str | None = None  # ISO 8601, on an update: when it became the customer's (handlers act then)


@dataclass(frozen=True, kw_only=True)
class ContactDismissed(Event):
    """A match-queue item was dismissed (spam, not a customer)."""

    TYPE: ClassVar[str] = "contact.dismissed"
    AGGREGATE: ClassVar[str] = "contact"

    actor: str
    reason: str
