"""The events outreach records (``kernel.events.Event`` classes): their payload as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from onethread.kernel.events import Event


@dataclass(frozen=True, kw_only=True)
class CampaignSendRequested(Event):
    TYPE: ClassVar[str] = "campaign.send_requested"
    AGGREGATE: ClassVar[str] = "campaign"

    campaign_id: str
    by: str  # the person's name


@dataclass(frozen=True, kw_only=True)
class CampaignQueued(Event):
    """Every recipient of a campaign is queued."""

    TYPE: ClassVar[str] = "campaign.queued"
    AGGREGATE: ClassVar[str] = "campaign"

    campaign_id: str
    queued: int


@dataclass(frozen=True, kw_only=True)
class ContactPreferencesRecorded(Event):
    TYPE: ClassVar[str] = "customer.contact_preferences"
    AGGREGATE: ClassVar[str] = "customer"

    actor_name: str
    timeline_title: str
    timeline_detail: str


@dataclass(frozen=True, kw_only=True)
class ChannelTurned(Event):
    """A channel's health changed; the type says to which state (``ChannelRed``, ``ChannelGreen``)."""

    AGGREGATE: ClassVar[str] = "channel"

    channel: str
    kind: str
    state: str
    why: str
    alert: str = "admins"


@dataclass(frozen=True, kw_only=True)
class ChannelRed(ChannelTurned):
    TYPE: ClassVar[str] = "channel.red"


@dataclass(frozen=True, kw_only=True)
class ChannelGreen(ChannelTurned):
    TYPE: ClassVar[str] = "channel.green"
