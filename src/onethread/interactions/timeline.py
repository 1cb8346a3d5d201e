"""The customer's timeline: a projection of domain events, and its keyset-paginated read.

``project`` is an in-process event handler (registered in ``bootstrap``), so an entry commits
with the change it describes. Later capabilities add their event types to ``TITLES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from onethread.attachments import service as attachments
from onethread.db.bulk import insert_rows
from onethread.db.outbox import insert_now
from onethread.errors import ValidationFailed
from onethread.interactions.rules import DIRECTION_LABELS, MatchStatus
from onethread.kernel.channels import label as channel_label
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.kernel.pagination import decode_cursor, encode_cursor
from onethread.models import Attachment, Case, Contact, TimelineEntry

_DIRECTION = DIRECTION_LABELS


def _contact(p: dict) -> tuple[str, str | None]:
    if p.get("matchStatus") == MatchStatus.LINKED:
        title = f"{channel_label(p['channel'])} contact linked from the match queue"
    else:
        channel = channel_label(p["channel"])
        kind = p.get("kind", "contact").replace("_", " ")
        what = channel if kind.lower() in channel.lower() else f"{channel} {kind}"  # "Letter", not "Letter letter"
        title = f"{what} {_DIRECTION.get(p.get('direction'), '')}".strip()
    detail = p.get("subject") or None
    summary = p.get("summary")
    if summary:
        detail = f"{detail}: {summary}" if detail else summary
    return title, detail


def _product(verb: str) -> Callable[[dict], tuple[str, str | None]]:
    def build(p: dict) -> tuple[str, str | None]:
        extra = []
        if p.get("channel"):
            extra.append(f"via {p['channel']}")
        if p.get("reason"):
            extra.append(p["reason"])
        return f"{verb}: {p.get('name', 'product')}", "; ".join(extra) or None
    return build


TITLES: dict[str, Callable[[dict], tuple[str, str | None]]] = {
    "contact.recorded": _contact,
    "customer.created": lambda p: ("Became a customer", None),
    "product.created": _product("Product added"),
    "product.terminated": _product("Product terminated"),
    "product.status_changed": lambda p: (f"Product {p.get('name')}: {p.get('fromStatus')} -> {p.get('toStatus')}",
                                         p.get("reason")),
    "product.sim_replaced": lambda p: (f"SIM replaced on {p.get('name')}",
                                       f"{p.get('oldIccid') or 'none'} -> {p.get('newIccid')} via {p.get('channel')}"),
    "representative.added": lambda p: ("Representative authorised", ", ".join(p.get("permissions", []))),
    "representative.revoked": lambda p: ("Representative's authority revoked", None),
    "vulnerability.recorded": lambda p: ("Support needs recorded", ", ".join(p.get("needs", [])) or None),
    "household.joined": lambda p: ("Joined a household", p.get("role")),
    "session.transferred": lambda p: ("Contact transferred", p.get("reason")),
    "session.bounced": lambda p: ("Transfer bounced back", p.get("reason")),
    "session.verified": lambda p: (f"Identity verified ({p.get('method', '').replace('_', ' ')}, level "
                                   f"{p.get('level')})", None),
}
KINDS = {  # timeline filter "kind" -> event type prefix
    "contact": "contact.", "product": "product.", "customer": "customer.", "representative": "representative.",
    "vulnerability": "vulnerability.", "household": "household.", "session": "session.", "case": "case.",
}


def kind_of(event_type: str) -> str:
    return event_type.split(".", 1)[0]


# Case log entries about a contact: the contact is on the timeline itself (linked to its case), so
# these would show the same reply or message twice.
NOT_ON_TIMELINE = frozenset({"case.replied", "case.customer_message", "case.contact_linked"})
VIEWS = ("story", "all")  # story: what people and the customer did; all: with onethread's own entries


def _entry(event: DomainEvent) -> dict | None:
    if event.customer_id is None or event.type in NOT_ON_TIMELINE:
        return None
    build = TITLES.get(event.type)
    if build is not None:
        title, detail = build(event.payload)
    elif "timelineTitle" in event.payload:  # capabilities that name their own entries (cases, ...)
        title, detail = event.payload["timelineTitle"], event.payload.get("timelineDetail")
    else:
        return None
    effective = event.payload.get("effectiveAt")
    return {
        "id": new_id(), "customer_id": event.customer_id,
        "occurred_at": datetime.fromisoformat(effective) if effective else event.occurred_at,
        "kind": kind_of(event.type), "channel": event.payload.get("channel"), "title": title[:300],
        "detail": detail, "actor_name": event.payload.get("actorName"), "ref_type": event.aggregate_type,
        "ref_id": event.aggregate_id, "event_id": event.id or None,
        "system": bool(event.payload.get("system")), "case_id": event.payload.get("caseId"),
    }


_INSERT_ENTRY = insert(TimelineEntry.__table__)


def project(session: Session, event: DomainEvent) -> None:
    """Event handler: add the event to its customer's timeline (if it is a timeline event)."""
    row = _entry(event)
    if row is not None:
        insert_now(session, _INSERT_ENTRY, row)


def _project_many(session: Session, events: list[DomainEvent]) -> None:
    insert_rows(session, TimelineEntry.__table__, [r for r in (_entry(e) for e in events) if r is not None])


project.many = _project_many  # bulk form, used by record_events (sweeps)


@dataclass(frozen=True)
class Fold:
    """``count`` of onethread's own entries (escalations, reminders) left out of a story page,
    between the story entry ``after`` (newer; None: above the first) and the next one shown."""

    after: str | None
    count: int


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None
    view: str = "all"
    folds: list[Fold] = field(default_factory=list)
    cases: dict[str, tuple[str, str]] = field(default_factory=dict)  # entry id -> (case id, case title)
    files: dict[str, list[Attachment]] = field(default_factory=dict)  # entry id -> files its contact carried

    def folded_after(self, entry_id: str | None) -> int:
        return sum(f.count for f in self.folds if f.after == entry_id)

    @property
    def folded(self) -> int:
        return sum(f.count for f in self.folds)


def read(session: Session, customer_id: str, *, limit: int = 50, cursor: str | None = None,
         channels: list[str] | None = None, kinds: list[str] | None = None, view: str = "all") -> TimelinePage:
    """Newest first. ``cursor`` continues after the last entry of the previous page (keyset).

    ``view="story"`` leaves out onethread's own entries (escalations and reminders by the sweep)
    and counts them, where they fall between the entries shown (``folds``). Each entry about a case
    names it (``cases``): case log entries by their case, contacts by the case they are on now.
    """
    if view not in VIEWS:
        raise ValidationFailed(f"view must be one of {', '.join(VIEWS)}", field="view")
    story = view == "story"
    if not (channels or kinds or cursor):  # the first page, unfiltered: the 360's and the most asked
        rows = list(session.scalars(_FIRST_STORY_PAGE if story else _FIRST_PAGE,
                                    {"customer_id": customer_id, "limit": limit + 1}))
        page = _page(session, rows, limit, view)
        if story and rows:
            page.folds.extend(_folds(session, customer_id, rows, limit, None, None, None))
        return page
    query = select(TimelineEntry).where(TimelineEntry.customer_id == customer_id)
    query = _filtered(query, channels, kinds)
    upper = None
    if cursor:
        try:
            at_iso, last_id = decode_cursor(cursor)
            at = datetime.fromisoformat(at_iso)
            if not isinstance(last_id, str):
                raise TypeError("id")
        except (ValueError, TypeError) as exc:
            raise ValidationFailed("malformed cursor; use the nextCursor of the previous page", field="cursor") from exc
        upper = at
        query = query.where(or_(TimelineEntry.occurred_at < at,
                                and_(TimelineEntry.occurred_at == at, TimelineEntry.id < last_id)))
    if story:
        query = query.where(TimelineEntry.system.is_(False))
    rows = list(session.scalars(query.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
                                .limit(limit + 1)))
    page = _page(session, rows, limit, view)
    if story and rows:
        page.folds.extend(_folds(session, customer_id, rows, limit, upper, channels, kinds))
    return page


def _filtered(query, channels: list[str] | None, kinds: list[str] | None):
    if channels:
        query = query.where(TimelineEntry.channel.in_(channels))
    if kinds:
        unknown = set(kinds) - set(KINDS) - {"decision", "order", "bill", "message"}
        if unknown:
            raise ValidationFailed(f"unknown kind(s) {', '.join(sorted(unknown))}", field="kind")
        query = query.where(TimelineEntry.kind.in_(kinds))
    return query


def _folds(session: Session, customer_id: str, rows: list[TimelineEntry], limit: int, upper: datetime | None,
           channels: list[str] | None, kinds: list[str] | None) -> list[Fold]:
    """How many system entries fall before, between and after the story entries of a page: one
    grouped count (bucket k holds those between story entry k-1 and story entry k)."""
    shown = rows[:limit]
    more = len(rows) > limit
    t = TimelineEntry
    bucket = case(*[(t.occurred_at >= e.occurred_at, literal(k)) for k, e in enumerate(shown)],
                  else_=literal(len(shown))).label("bucket")
    query = select(bucket, func.count()).where(t.customer_id == customer_id, t.system.is_(True))
    query = _filtered(query, channels, kinds)
    if upper is not None:  # those above this page's first entry were counted at the foot of the previous page
        query = query.where(t.occurred_at < shown[0].occurred_at)
    if more:  # the rest belong between this page's last entry and the next page's first
        query = query.where(t.occurred_at >= rows[limit].occurred_at)
    counts = dict(session.execute(query.group_by(bucket)).all())
    return [Fold(shown[k - 1].id if k else None, int(n)) for k, n in sorted(counts.items()) if n]


# Built once (bound parameters): constructing the SELECT costs more Python than running it.
_FIRST_PAGE = (select(TimelineEntry).where(TimelineEntry.customer_id == bindparam("customer_id"))
               .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()).limit(bindparam("limit")))
_FIRST_STORY_PAGE = _FIRST_PAGE.where(TimelineEntry.system.is_(False))


def _page(session: Session, rows: list[TimelineEntry], limit: int, view: str) -> TimelinePage:
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].occurred_at.isoformat(), rows[-1].id]) if more and rows else None
    kept = attachments.for_contacts(session, [e.ref_id for e in rows if e.ref_type == "contact" and e.ref_id]) \
        if rows else {}  # (with the two queries of _cases_of: three per page, whatever is on it)
    files = {e.id: kept[e.ref_id] for e in rows if e.ref_type == "contact" and kept.get(e.ref_id)}
    return TimelinePage(rows, nxt, view, [], _cases_of(session, rows), files)


def _cases_of(session: Session, rows: list[TimelineEntry]) -> dict[str, tuple[str, str]]:
    """The case each entry is about: its own ``case_id``, or for a contact the case it is on now
    (a contact is routed, merged or split after it was recorded). Two small queries per page,
    whatever is on it."""
    if not rows:
        return {}
    contact_ids = [e.ref_id for e in rows if e.ref_type == "contact" and e.ref_id]
    on_case = dict(session.execute(select(Contact.id, Contact.case_id).where(
        Contact.id.in_(contact_ids), Contact.case_id.is_not(None))).all())
    case_of = {e.id: on_case.get(e.ref_id) or e.case_id for e in rows}
    ids = {c for c in case_of.values() if c}
    titles = dict(session.execute(select(Case.id, Case.title).where(Case.id.in_(ids))).all())
    return {entry: (cid, titles[cid]) for entry, cid in case_of.items() if cid in titles}
