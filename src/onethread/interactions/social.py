"""The social channel: signed webhook deliveries from a platform become contacts.

A delivery is authentic when its ``X-Onethread-Signature`` is the HMAC-SHA256 (shared secret)
of ``"{X-Onethread-Timestamp}.{platform}.{raw body}"`` (the platform as it is written in the
URL, so a delivery cannot be replayed to another platform's URL) and the timestamp is within five minutes of our
clock (``rules.webhook_problem``). It is then recorded once, keyed on ``platform:postId``: a
redelivery changes nothing. A post from a customer who is on a call right now joins that call's
contact session (S3.5; ``service.record`` does the joining).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from onethread.access.rules import INTEGRATION, Principal
from onethread.customers.rules import InvalidIdentifier, normalise_social
from onethread.errors import NotAuthenticated, NotFound, ValidationFailed
from onethread.interactions import rules
from onethread.interactions.rules import Direction
from onethread.interactions.service import Intake, Recorded, find_by_message_id, record
from onethread.kernel.clock import Clock


def webhook_actor(platform: str) -> Principal:
    """Who records a delivery: the platform, as a system."""
    return Principal(kind="system", id="SYSTEM", name=f"{platform} webhook", role=INTEGRATION)


@dataclass(frozen=True)
class Delivery:
    """One item a platform delivers (already parsed; the API checks the shape)."""

    type: str  # post | direct_message
    post_id: str
    handle: str
    text: str
    created_at: datetime
    in_reply_to: str | None = None
    url: str | None = None


def authenticate(secret: str | None, timestamp: str | None, signature: str | None, body: bytes,
                 now: datetime, platform: str) -> None:
    """Refuse (401) a delivery that is unsigned, wrongly signed (for this platform), stale, or when
    no secret is set."""
    problem = rules.webhook_problem(secret, timestamp, signature, body, now, platform=platform)
    if problem is not None:
        raise NotAuthenticated(problem)


def platform_of(raw: str) -> str:
    """The platform's canonical name (``twitter`` -> ``x``); 404 for a platform we do not know."""
    try:  # the customers capability owns the platform names and aliases; ask it with a stand-in handle
        return normalise_social("probe", raw).split(":", 1)[0]
    except InvalidIdentifier as exc:
        raise NotFound(f"no social channel {raw!r}: {exc}", field="platform") from exc


def to_intake(platform: str, delivery: Delivery, thread_id: str | None = None) -> Intake:
    """Map a platform delivery to what ``service.record`` takes. ``platform`` is canonical."""
    if delivery.type not in rules.SOCIAL_KINDS:
        raise ValidationFailed(f"type must be one of {', '.join(rules.SOCIAL_KINDS)}", field="type")
    try:
        handle = normalise_social(delivery.handle, platform)
    except InvalidIdentifier as exc:
        raise ValidationFailed(str(exc), field="handle") from exc
    post_id = delivery.post_id.strip()
    if not post_id:
        raise ValidationFailed("postId is empty", field="postId")
    return Intake(
        channel="social",
        direction=Direction.INBOUND,
        occurred_at=delivery.created_at,
        text=delivery.text,
        kind=delivery.type,
        channel_message_id=f"{platform}:{post_id}",
        identifiers={"social": handle},
        in_reply_to=f"{platform}:{delivery.in_reply_to.strip()}" if delivery.in_reply_to else None,
        thread_id=thread_id,
        extra={"platform": platform, "postId": post_id, "handle": handle.split(":", 1)[1],
               **({"url": delivery.url} if delivery.url else {})},
    )


def ingest(session: Session, clock: Clock, platform: str, delivery: Delivery, *, region: str | None = None) -> Recorded:
    """Record an authenticated delivery once; a reply joins the thread of the post it answers."""
    platform = platform_of(platform)
    intake = to_intake(platform, delivery)
    if intake.in_reply_to:
        parent = find_by_message_id(session, "social", intake.in_reply_to)
        if parent is not None:
            intake = to_intake(platform, delivery, thread_id=parent.thread_id or parent.id)
    return record(session, clock, webhook_actor(platform), intake, region=region)
