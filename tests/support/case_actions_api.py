"""A contact recorded on a customer directly through the service."""

from __future__ import annotations

from onethread.access.rules import SYSTEM
from onethread.interactions import service as interactions


def contact(uow, clock, customer_id, text, n, channel="phone") -> str:
    with uow() as s:
        return interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel=channel, direction="inbound", occurred_at=clock.now(), text=text, customer_id=customer_id,
            channel_message_id=f"{channel}-{n}"), region="GB").contact.id
