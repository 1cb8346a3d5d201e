"""Typed events of decisions (``kernel.events.Event`` classes): their payload as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class DefectReported(Event):
    """A device fault reported against the known-defect registry; ``matched``: how its symptom matched."""

    TYPE: ClassVar[str] = "defect.reported"
    AGGREGATE: ClassVar[str] = "defect_report"

    report_id: str
    device_model: str
    symptom: str | None
    wording: str
    matched: str | None  # which table entry matched, in words
    channel: str | None
    case_id: str | None
    decision_id: str | None
    actor: str
    actor_name: str
