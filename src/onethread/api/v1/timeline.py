"""``GET /api/v1/customers/{id}/timeline``: everything that happened, newest first, keyset-paginated."""

from __future__ import annotations

from fastapi import APIRouter, Query

from onethread.access.rules import CUSTOMER_READERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.v1.answers import customers as out
from onethread.customers import service as customers
from onethread.interactions import timeline
from onethread.models import TimelineEntry

router = APIRouter(prefix="/api/v1", tags=["timeline"], route_class=AnswerRoute)


def entry_json(e: TimelineEntry, page: timeline.TimelinePage | None = None) -> dict:
    about = page.cases.get(e.id) if page is not None else None
    return {
        "id": e.id,
        "occurredAt": e.occurred_at.isoformat(),
        "kind": e.kind,
        "channel": e.channel,
        "title": e.title,
        "detail": e.detail,
        "actor": e.actor_name,
        "ref": {"type": e.ref_type, "id": e.ref_id} if e.ref_type else None,
        "system": e.system,
        "case": {"id": about[0], "title": about[1], "href": f"/tmf-api/troubleTicket/v5/troubleTicket/{about[0]}"}
        if about else None,
    }


def page_json(page: timeline.TimelinePage) -> dict:
    """A page of entries, its cursor and, in the story view, where onethread's own entries were folded."""
    return {"view": page.view, "entries": [entry_json(e, page) for e in page.entries],
            "folded": [{"after": f.after, "count": f.count} for f in page.folds], "nextCursor": page.next_cursor}


@router.get("/customers/{customer_id}/timeline", response_model=out.Timeline,
            summary="The customer's timeline across channels")
def get_timeline(
    customer_id: str,
    session: DbSession,
    clock: ClockDep,
    actor: allow(CUSTOMER_READERS),
    limit: int = Query(50, ge=1, le=200, description="entries per page"),
    cursor: str | None = Query(None, description="nextCursor of the previous page"),
    channel: list[str] | None = Query(None, description="only these channels (repeat the parameter)"),
    kind: list[str] | None = Query(None, description="only these kinds: contact, product, case, session, ..."),
    view: str = Query("story", description="story (default): leaves out onethread's own entries (the sweep's "
                      "escalations and reminders) and counts them in `folded`; all: every entry"),
) -> dict:
    customers.read_customer(session, clock, actor, customer_id, channel="api", purpose="timeline")
    page = timeline.read(session, customer_id, limit=limit, cursor=cursor, channels=channel, kinds=kind, view=view)
    return {"customerId": customer_id, **page_json(page)}
