"""The events personal-data rights record (``kernel.events.Event`` classes): their payload as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class CustomerErased(Event):
    TYPE: ClassVar[str] = "customer.erased"
    AGGREGATE: ClassVar[str] = "customer"

    actor: str
    actor_name: str
    channel: str | None
    timeline_title: str
    timeline_detail: str
