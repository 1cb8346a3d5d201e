"""Answers of outreach (``api/v1/outreach.py``): contact preferences, the channel board, SMS
receipts and campaigns. Outbound messages are TMF681 (``api/tmf/answers.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from onethread.api.answers import Answer, Number, When


class ContactPreferences(Answer):
    type_: str = Field(alias="@type")
    customerId: str
    channels: list[str]
    marketingConsent: bool
    optedOut: list[str]
    quietFrom: int | None = Field(..., description="hour of day (market time) from which nothing is sent")
    quietTo: int | None
    copyRepresentative: bool
    language: str | None
    recorded: bool = Field(..., description="false: nothing recorded yet, these are the defaults")
    updatedAt: When | None = None


class ChannelState(Answer):
    """One inbound or outbound channel as it is now."""

    name: str
    kind: str
    direction: str
    state: str = Field(..., description="green | amber | red | off")
    why: str | None
    lastSuccessAt: When | None
    lastErrorAt: When | None
    lastError: str | None
    lagSeconds: Number | None
    waiting: int | None


class SmsReceipt(Answer):
    type_: str = Field(alias="@type")
    messageId: str
    status: str


class Campaign(Answer):
    type_: str = Field(alias="@type")
    id: str
    href: str
    name: str
    purpose: str
    channel: str
    subject: str | None
    content: str | None
    segment: dict[str, Any] = Field(..., description="the filter that chose the recipients, or {list: n}")
    status: str
    recipients: int
    counts: list[dict[str, Any]] = Field(..., description="[{verdict, reason, count}], once evaluated")
    evaluatedAt: When | None
    createdAt: When | None
    sendRequestedAt: When | None
    sendRequestedBy: str | None
    queued: int


class CampaignWithUpload(Campaign):
    added: int = Field(..., description="customers added by this upload")
    notCustomers: int = Field(..., description="how many ids in the upload are no customer")
