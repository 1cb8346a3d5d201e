"""Answers about a customer and what reaches them (``api/v1/customer360.py``, ``timeline.py``,
``search.py``, ``match_queue.py``, ``customer_merges.py``, ``privacy.py``, ``attachments.py``).
The profile's models are in ``api/v1/schemas.py``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Named, Number, When
from onethread.api.v1.schemas import ProfileOut


class TimelineRef(Answer):
    type: str
    id: str | None


class CaseRef(Answer):
    id: str
    title: str | None
    href: str


class TimelineEntry(Answer):
    id: str
    occurredAt: When
    kind: str
    channel: str | None
    title: str | None
    detail: str | None
    actor: str | None
    ref: TimelineRef | None
    system: bool | None
    case: CaseRef | None


class Fold(Answer):
    after: str | None = Field(..., description="the entry shown above the ones left out (null: the top)")
    count: int


class TimelinePage(Answer):
    view: str = Field(..., description="story | all")
    entries: list[TimelineEntry]
    folded: list[Fold] = Field(..., description="onethread's own entries a story page leaves out, counted")
    nextCursor: str | None


class Timeline(TimelinePage):
    customerId: str


class Money(Answer):
    amountMinor: int
    currency: str


class Customer360Product(Answer):
    id: str
    kind: str
    name: str | None
    status: str
    model: str | None
    price: Money
    activatedAt: When | None
    terminatedAt: When | None
    terminationChannel: str | None
    href: str


class OpenCase(Answer):
    id: str
    kind: str
    title: str | None
    status: str
    severity: str | None
    owner: Named
    openedAt: When
    escalationLevel: int
    href: str


class Customer360(Answer):
    """Who the customer is, what they have, what is open, and what happened lately."""

    customerId: str
    profile: ProfileOut
    products: list[Customer360Product]
    openCases: list[OpenCase]
    complaintHistory: Any = Field(..., description="the customer's complaints so far")
    timeline: TimelinePage


class SearchHit(Answer):
    type_: str = Field(alias="@type")
    kind: str = Field(..., description="customer | case | contact")
    id: str
    href: str
    title: str | None
    at: When
    rank: Number
    matchedBy: str | None = None
    status: str | None = None
    snippet: str | None = None
    snippetHtml: str | None = None
    channel: str | None = None
    customer: Named | None = None
    owner: Named | None = None


class SearchResult(Answer):
    type_: str = Field(alias="@type")
    query: Any
    kinds: Any
    readAs: Any = Field(..., description="how the query was read (words, a name, an identifier)")
    formerHolderOnly: Any
    recentOnly: list[str] = Field(default_factory=list,
                                  description="the kinds where only the most recent matches were ranked")
    customers: list[SearchHit]
    cases: list[SearchHit]
    contacts: list[SearchHit]


class MatchContact(Answer):
    id: str
    channel: str
    kind: str
    direction: str
    occurredAt: When
    subject: str | None
    text: str | None
    sessionId: str | None
    customerId: str | None
    matchStatus: str | None


class MatchItem(Answer):
    """A contact no customer could be chosen for, with the candidates (``fields=`` may leave any
    attribute out of a list)."""

    id: str
    href: str
    type_: str = Field(alias="@type")
    reason: str | None = None
    explanation: str | None = None
    createdAt: When | None = None
    candidates: list[Named] | None = None
    identifiers: dict[str, Any] | None = None
    contact: MatchContact | None = None
    resolution: str | None = None
    resolvedAt: When | None = None
    resolvedBy: str | None = None
    resolvedCustomerId: str | None = None


class LinkedMatch(MatchItem):
    identifiersAdded: Any
    identifiersSkipped: Any


class Undone(Answer):
    by: Named
    at: When | None
    reason: str | None


class CustomerMerge(Answer):
    type_: str = Field(alias="@type")
    id: str
    href: str
    sourceId: str
    targetId: str
    evidence: str
    reason: str | None
    moved: dict[str, int] = Field(..., description="how many records of each kind moved")
    mergedBy: Named
    mergedAt: When | None
    undone: Undone | None


class CustomerExport(Answer):
    """Everything held on the customer (open: one attribute per kind of record)."""

    customerId: str


class Erasure(Answer):
    customerId: str
    erasedAt: When
    erasedBy: Named
    done: Any = Field(..., description="what was erased, by record kind")
    kept: Any = Field(..., description="what was kept, by record kind, and why")


class AttachmentInfo(Answer):
    id: str
    contactId: str | None
    customerId: str | None
    name: str
    mimeType: str | None
    size: int
    sha256: str | None
    source: str | None
    createdAt: When
    url: str
