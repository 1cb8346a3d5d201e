"""The events identifiers record (``kernel.events.Event`` classes): their payload as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class IdentifierAssigned(Event):
    """A customer holds an identifier (a number, a SIM, an address) from ``valid_from``."""

    TYPE: ClassVar[str] = "identifier.assigned"
    AGGREGATE: ClassVar[str] = "identifier"

    kind: str
    value: str
    valid_from: str  # ISO 8601
    valid_to: str | None
    holding_id: str
    actor: str


@dataclass(frozen=True, kw_only=True)
class IdentifierReleased(Event):
    """A holding of an identifier ended at ``valid_to``."""

    TYPE: ClassVar[str] = "identifier.released"
    AGGREGATE: ClassVar[str] = "identifier"

    kind: str
    value: str
    valid_to: str  # ISO 8601
    holding_id: str
    reason: str | None
    actor: str
