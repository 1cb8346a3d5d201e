"""Answers of triage and routing (``api/v1/triage.py``): triage items, presence, skills and team rules."""

from __future__ import annotations

from pydantic import Field

from onethread.api.answers import Answer, When
from onethread.api.v1.answers.customers import MatchContact


class TriageItem(Answer):
    """A contact waiting in a team's queue (``fields=`` may leave any attribute out of a list)."""

    id: str
    href: str
    type_: str = Field(alias="@type")
    teamId: str | None = None
    rule: str | None = None
    reason: str | None = None
    customerId: str | None = None
    assignedTo: str | None = None
    assignedAt: When | None = None
    createdAt: When | None = None
    dueAt: When | None = None
    escalationLevel: int | None = None
    escalatedTo: str | None = None
    doneAt: When | None = None
    resolution: str | None = None
    caseId: str | None = None
    contact: MatchContact | None = None


class ContactMoved(Answer):
    id: str
    type_: str = Field(alias="@type")
    caseId: str | None
    caseReason: str | None
    triageItem: TriageItem | None = Field(..., description="the queue it went back to, or null")


class Presence(Answer):
    id: str
    type_: str = Field(alias="@type")
    displayName: str
    presence: str
    backAt: When | None
    since: When | None
    capacity: int | None
    teamId: str | None
    skills: list[str]
    handedOut: int | None = Field(None, description="items handed to them on becoming available")


class TeamRouting(Answer):
    id: str
    type_: str = Field(alias="@type")
    name: str
    rule: str | None
