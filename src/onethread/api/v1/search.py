"""``GET /api/v1/search``: customers, cases and contacts for a question (docs/api/search.md).
Translation only: ``search.service`` decides what is found and who may see it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query

from onethread.access.rules import CUSTOMER_READERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.v1.answers import customers as out
from onethread.api.v1.schemas import V1
from onethread.search import rules
from onethread.search import service as search

router = APIRouter(prefix=V1, tags=["search"], route_class=AnswerRoute)

HREF = {"customer": "/tmf-api/customer/v5/customer/{}",
        "case": "/tmf-api/troubleTicket/v5/troubleTicket/{}",
        "contact": "/tmf-api/partyInteraction/v5/partyInteraction/{}"}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def hit_json(hit: search.Hit) -> dict:
    out = {"@type": "SearchHit", "kind": hit.kind, "id": hit.id, "href": HREF[hit.kind].format(hit.id),
           "title": hit.title, "at": hit.at.astimezone(UTC).isoformat(), "rank": round(hit.rank, 6)}
    if hit.kind == "customer":
        out |= {"matchedBy": hit.matched_by, "status": hit.status}
    else:
        out |= {"snippet": hit.snippet_text, "snippetHtml": str(hit.snippet_html), "channel": hit.channel,
                "status": hit.status,
                "customer": {"id": hit.customer_id, "name": hit.customer_name} if hit.customer_id else None,
                "owner": {"id": hit.owner_id, "name": hit.owner_name} if hit.owner_id else None}
    return out


@router.get("/search", response_model=out.SearchResult,
            summary="Customers, cases and contacts for words, a name or an identifier, best first")
def find(session: DbSession, clock: ClockDep, container: ContainerDep, actor: allow(CUSTOMER_READERS),
         q: str = Query(..., max_length=rules.MAX_QUERY, description="words (\"a phrase\", -not, or), a name, "
                        "or a phone number, e-mail, handle, account number, ICCID or IMEI"),
         type: Literal["customer", "case", "contact"] | None = Query(None, description="only this kind"),
         channel: str | None = Query(None, max_length=20, description="a contact's channel, a case's opening one"),
         status: str | None = Query(None, max_length=20, description="a case's status"),
         team: str | None = Query(None, max_length=26, description="the team of a case's owner or contact's staff"),
         owner: str | None = Query(None, max_length=26, description="a case's owner or a contact's staff member"),
         market: str | None = Query(None, max_length=10, description="a case's market (contacts: their case's)"),
         since: datetime | None = Query(None, alias="from", description="from this time (ISO 8601; UTC if no zone)"),
         until: datetime | None = Query(None, alias="to", description="before this time"),
         limit: int = Query(rules.DEFAULT_LIMIT, ge=1, le=rules.MAX_LIMIT, description="results per kind")) -> dict:
    settings = container.settings
    found = search.search(session, clock, actor, q, region=settings.default_region, market=settings.market,
                          kind=type, limit=limit, channel="api",
                          filters=search.Filters(channel=channel, status=status, team=team, owner=owner,
                                                 market=market, since=_utc(since), until=_utc(until)))
    return {"@type": "SearchResult", "query": found.query, "kinds": found.kinds, "readAs": found.tried,
            "formerHolderOnly": found.former_holder_only, "recentOnly": found.recent_only,
            "customers": [hit_json(h) for h in found.customers], "cases": [hit_json(h) for h in found.cases],
            "contacts": [hit_json(h) for h in found.contacts]}
