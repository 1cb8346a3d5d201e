"""The events the field service records (``kernel.events.Event`` classes): their payload as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class IncidentReported(Event):
    """Damage, an injury or an unsafe site reported on a visit; ``notify``: the staff told."""

    TYPE: ClassVar[str] = "field.incident_reported"
    AGGREGATE: ClassVar[str] = "field_incident"

    incident_id: str
    case_id: str
    work_order_id: str
    subcontractor_id: str | None
    notify: list[str]


@dataclass(frozen=True, kw_only=True)
class SubcontractorAuditOpened(Event):
    TYPE: ClassVar[str] = "field.subcontractor_audit_opened"
    AGGREGATE: ClassVar[str] = "subcontractor"

    audit_id: str
    subcontractor: str  # its name
    owner_id: str | None
    reasons: list[str]
