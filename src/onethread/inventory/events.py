"""The events products record (``kernel.events.Event`` classes): their payload as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class ProductStatusChanged(Event):
    """A product moved from one status to another (the status date is ``at``, also ``effectiveAt``)."""

    TYPE: ClassVar[str] = "product.status_changed"
    AGGREGATE: ClassVar[str] = "product"

    actor: str
    kind: str
    name: str
    from_status: str | None
    to_status: str
    at: str  # ISO 8601
    channel: str | None
    reason: str | None
    effective_at: str  # ISO 8601: where the timeline shows it


@dataclass(frozen=True, kw_only=True)
class ProductTerminated(ProductStatusChanged):
    """A product was terminated: a ``ProductStatusChanged`` to ``terminated`` under its own type."""

    TYPE: ClassVar[str] = "product.terminated"
