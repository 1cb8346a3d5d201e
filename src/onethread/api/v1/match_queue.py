"""The match queue (``/api/v1/match-queue``): contacts whose identifiers did not agree on one
customer, waiting for a person to link them (S3.2). Nothing in the queue is attached to anybody.

Translation only: the rules live in ``interactions.rules.decide`` and ``interactions.service``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_SERVICE
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.conventions import CURSOR, ListParams, paged
from onethread.api.v1.answers import customers as out
from onethread.interactions import service as interactions
from onethread.kernel.pagination import next_cursor
from onethread.models import Contact, MatchItem

router = APIRouter(prefix="/api/v1", tags=["match queue"], route_class=AnswerRoute)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkIn(_In):
    customerId: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=26)]
    addIdentifiers: bool = Field(False, description="record the contact's identifiers that nobody held "
                                                    "(then or now) as the customer's, from now on")


class DismissIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def contact_json(contact: Contact) -> dict:
    """The contact waiting in a queue (the match queue's or a team's triage queue)."""
    return {"id": contact.id, "channel": contact.channel, "kind": contact.kind, "direction": contact.direction,
            "occurredAt": contact.occurred_at.isoformat(), "subject": contact.subject, "text": contact.text,
            "sessionId": contact.session_id, "customerId": contact.customer_id, "matchStatus": contact.match_status}


def item_json(item: MatchItem, contact: Contact, names: dict[str, str]) -> dict:
    return {
        "id": item.id,
        "href": f"/api/v1/match-queue/{item.id}",
        "@type": "MatchItem",
        "reason": item.reason,
        "explanation": item.explanation,
        "createdAt": item.created_at.isoformat(),
        "candidates": [{"id": c, "name": names.get(c)} for c in item.candidates or []],
        "identifiers": contact.identifiers or {},
        "contact": contact_json(contact),
        "resolution": item.resolution,
        "resolvedAt": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolvedBy": item.resolved_by,
        "resolvedCustomerId": item.resolved_customer_id,
    }


@router.get("/match-queue", response_model=list[out.MatchItem],
            summary="Open items, oldest first, with the candidates and why they are here")
def list_queue(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE),
               params: Annotated[ListParams, Depends()], cursor: str | None = CURSOR) -> list[dict]:
    page = interactions.match_queue(session, offset=params.offset, limit=params.limit, cursor=cursor)
    for customer_id in sorted(page.names):  # candidates' names are personal data
        access.audit(session, clock, actor, action="read", resource_type="match_queue", resource_id=None,
                     customer_id=customer_id, channel="api", purpose="match queue")
    items = [item_json(item, contact, page.names) for item, contact in page.rows]
    last = page.rows[-1][0] if page.rows else None
    nxt = next_cursor((last.created_at, last.id) if last else None, len(items), params.limit)
    return paged(response, items, page.total, params.fields, nxt)


@router.post("/match-queue/{item_id}/link", response_model=out.LinkedMatch,
             summary="Attach the contact to a customer (optionally adding "
                                                    "the identifiers nobody held)")
def link(item_id: str, body: LinkIn, session: DbSession, clock: ClockDep, container: ContainerDep,
         actor: allow(CUSTOMER_SERVICE)) -> dict:
    linked = interactions.link_match(session, clock, actor, item_id, customer_id=body.customerId,
                                     add_identifiers=body.addIdentifiers, region=container.settings.default_region)
    names = interactions.customer_names(session, [body.customerId, *(linked.item.candidates or [])])
    return {**item_json(linked.item, linked.contact, names), "identifiersAdded": linked.added,
            "identifiersSkipped": linked.skipped}


@router.post("/match-queue/{item_id}/dismiss", response_model=out.MatchItem,
             summary="Take the item off the queue without attaching it")
def dismiss(item_id: str, body: DismissIn, session: DbSession, clock: ClockDep,
            actor: allow(CUSTOMER_SERVICE)) -> dict:
    item = interactions.dismiss_match(session, clock, actor, item_id, reason=body.reason)
    contact = interactions.get_contact(session, item.contact_id)
    return item_json(item, contact, interactions.customer_names(session, item.candidates or []))
