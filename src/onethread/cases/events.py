"""Typed events of the case capability (``kernel.events.Event`` classes): their payload as stored.
The case log's events (``case.<kind>``, ``cases.log``) are still bare envelopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class TriageEscalated(Event):
    """A waiting contact missed its first response and went up the ladder."""

    TYPE: ClassVar[str] = "triage.escalated"
    AGGREGATE: ClassVar[str] = "triage_item"

    level: int
    to_staff_id: str | None
    to_name: str | None
    timeline_title: str
    actor_name: str = "onethread"
    system: bool = True
    channel: str
