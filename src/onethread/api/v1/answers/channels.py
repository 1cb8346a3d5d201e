"""Answers of channel intake (``api/v1/channels.py``, ``social.py``, ``contact_batches.py``): the
contact a channel recorded, its live session, and a batch's results."""

from __future__ import annotations

from pydantic import Field

from onethread.api.answers import Answer, When
from onethread.api.tmf.answers import PartyInteraction


class ChannelContact(Answer):
    """The contact recorded (201), or the one stored before for a redelivery (200). ``id`` is null when
    an event recorded no contact."""

    type_: str = Field(alias="@type")
    id: str | None
    href: str | None = None
    channel: str | None = None
    kind: str | None = None
    direction: str | None = None
    occurredAt: When | None = None
    messageId: str | None = None
    matchStatus: str | None
    customerId: str | None
    sessionId: str | None = None


class Holder(Answer):
    staffId: str | None
    teamId: str | None


class ChannelSession(ChannelContact):
    """A live contact session (a store visit, a call, a chat) and its contact."""

    sessionId: str | None
    sessionStatus: str | None = None
    holder: Holder | None = None
    startedAt: When | None = None
    endedAt: When | None = None
    event: str | None = Field(None, description="telephony: the event this answers")


class SocialContact(Answer):
    """A platform's post or direct message, recorded as a contact (or the stored one for a redelivery)."""

    id: str
    type_: str = Field(alias="@type")
    channel: str
    kind: str
    direction: str
    occurredAt: When | None
    channelMessageId: str | None
    customerId: str | None
    matchStatus: str | None
    sessionId: str | None
    threadId: str | None
    matchItemId: str | None
    created: bool


class BatchResult(Answer):
    status: int = Field(..., description="201 recorded, 200 a redelivery of a stored contact")
    id: str
    href: str
    partyInteraction: PartyInteraction


class ContactBatch(Answer):
    created: int
    redelivered: int
    results: list[BatchResult] = Field(..., description="one per contact sent, in order")
