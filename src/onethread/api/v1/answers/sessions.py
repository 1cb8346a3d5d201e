"""Answers of contact sessions (``api/v1/sessions.py``): the session with its contacts, hops and
verification."""

from __future__ import annotations

from pydantic import Field

from onethread.api.answers import Answer, Named, When


class Side(Answer):
    staff: Named | None
    team: Named | None


class SessionContact(Answer):
    id: str
    channel: str
    kind: str
    direction: str
    occurredAt: When
    subject: str | None
    text: str | None
    actor: str | None
    customerId: str | None
    matchStatus: str | None


class HopItem(Answer):
    id: str
    kind: str = Field(..., description="transfer | bounce")
    from_: Side = Field(alias="from")
    to: Side
    reason: str | None
    note: str | None
    at: When


class Verification(Answer):
    id: str
    type_: str = Field(alias="@type")
    method: str
    level: int
    verifiedBy: Named
    verifiedAt: When
    expiresAt: When


class SessionVerification(Verification):
    sessionId: str


class ContactSession(Answer):
    """A contact session as the holder (or the receiver of a transfer) sees it."""

    id: str
    href: str
    type_: str = Field(alias="@type")
    channel: str
    externalId: str | None
    status: str
    startedAt: When
    endedAt: When | None
    customer: Named | None
    holder: Side
    contacts: list[SessionContact]
    hops: list[HopItem]
    verification: Verification | None
    requiredLevel: int
    verificationNeeded: bool = Field(..., description="whether to ask the customer for the required level")


class SessionHop(HopItem):
    """A transfer or bounce, and the session after it."""

    type_: str = Field(alias="@type")
    session: ContactSession
