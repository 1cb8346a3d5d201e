"""Answers of the known-defect registry and the symptom table (``api/v1/known_defects.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, When


class KnownDefect(Answer):
    """A device model's known defect (``fields=`` may leave any attribute out of a list)."""

    type_: str = Field(alias="@type")
    id: str
    href: str
    deviceModel: str | None = None
    symptom: str | None = None
    symptomLabel: str | None = None
    status: str | None = Field(None, description="proposed | confirmed | retired")
    description: str | None = None
    reportCount: int | None = None
    proposedAt: When | None = None
    proposedBy: str | None = None
    confirmedAt: When | None = None
    confirmedBy: str | None = None
    retiredAt: When | None = None
    retiredBy: str | None = None
    note: str | None = None
    createdAt: When | None = None
    updatedAt: When | None = None


class Wording(Answer):
    wording: str
    reports: int
    lastReportedAt: When | None


class Reports(Answer):
    distinctCustomers: int
    distinctCustomersInWindow: int
    reports: int
    windowDays: int
    threshold: int
    wordings: list[Wording]


class KnownDefectWithReports(KnownDefect):
    reports: Reports = Field(..., description="the reports behind it")


class Match(Answer):
    symptom: str
    label: str | None
    how: str | None
    entry: Any
    matched: Any
    explanation: str | None


class SymptomMatch(Answer):
    type_: str = Field(alias="@type")
    wording: str
    match: Match | None
    alternatives: list[Match | None]
    deviceModel: str | None = None
    knownDefect: KnownDefect | None = None


class Proposal(Answer):
    threshold: int
    windowDays: int


class Symptom(Answer):
    symptom: str
    label: str | None
    generic: bool | None


class SymptomTable(Answer):
    type_: str = Field(alias="@type")
    version: Any
    proposal: Proposal
    symptoms: list[Symptom]
