"""The social channel's webhook (``POST /api/v1/channels/social/{platform}``).

Public (no bearer token): a platform proves itself with an HMAC-SHA256 signature of
``"{X-Onethread-Timestamp}.{platform}.{raw body}"`` (``platform`` as written in the URL) under
the shared ``ONETHREAD_SOCIAL_WEBHOOK_SECRET``,
and the timestamp must be within five minutes of our clock. Anything else is a 401 and writes
nothing. Translation only: the checks and the mapping live in ``interactions.social``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from onethread.api.answers import AnswerRoute
from onethread.api.deps import PUBLIC, ClockDep, ContainerDep, DbSession
from onethread.api.v1.answers import channels as out
from onethread.interactions import rules, social
from onethread.outreach import health

router = APIRouter(prefix="/api/v1", tags=["channels"], route_class=AnswerRoute)


class SocialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["post", "direct_message"]
    postId: str = Field(..., min_length=1, max_length=200, description="the platform's id of the post or message")
    handle: str = Field(..., min_length=1, max_length=80, description="the author's handle, with or without '@'")
    text: str = Field(..., max_length=rules.MAX_TEXT)
    inReplyTo: str | None = Field(None, min_length=1, max_length=200, description="postId this one answers")
    createdAt: AwareDatetime
    url: str | None = Field(None, max_length=2000)


async def raw_body(request: Request) -> bytes:
    """The exact bytes the platform signed (read before any parsing)."""
    return await request.body()


def contact_json(recorded) -> dict:
    c = recorded.contact
    return {"id": c.id, "@type": "Contact", "channel": c.channel, "kind": c.kind, "direction": c.direction,
            "occurredAt": c.occurred_at.isoformat(), "channelMessageId": c.channel_message_id,
            "customerId": c.customer_id, "matchStatus": c.match_status, "sessionId": c.session_id,
            "threadId": c.thread_id, "matchItemId": recorded.match_item.id if recorded.match_item else None,
            "created": recorded.created}


@router.post("/channels/social/{platform}", response_model=out.SocialContact, status_code=201, dependencies=[PUBLIC],
             summary="A social platform delivers a post or direct message (signed; a redelivery is 200)")
def deliver(
    platform: str,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    container: ContainerDep,
    body: Annotated[bytes, Depends(raw_body)],
    x_onethread_signature: Annotated[str | None, Header(description="sha256=<hex HMAC>")] = None,
    x_onethread_timestamp: Annotated[str | None, Header(description="Unix seconds, part of the signed string "
                                                         "'{timestamp}.{platform}.{body}'")] = None,
) -> dict:
    settings = container.settings
    social.authenticate(settings.social_webhook_secret, x_onethread_timestamp, x_onethread_signature, body,
                        clock.now(), platform)
    try:
        data = SocialIn.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    delivery = social.Delivery(type=data.type, post_id=data.postId, handle=data.handle, text=data.text,
                               created_at=data.createdAt, in_reply_to=data.inReplyTo, url=data.url)
    recorded = social.ingest(session, clock, platform, delivery, region=settings.default_region)
    health.heard_from(session, clock, name=f"social:{platform}"[:200], kind="social",
                      expected_every=settings.social_silence_seconds)
    if not recorded.created:
        response.status_code = 200
    return contact_json(recorded)
