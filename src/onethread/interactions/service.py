"""Recording contacts from any channel: idempotent ingest, identity resolution, the match queue.

Sessions, verification and transfers are in ``session_service.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.customers import identifier_service
from onethread.customers.rules import IDENTIFIER_KINDS, InvalidIdentifier
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.interactions import rules
from onethread.interactions.session_service import live_session_of, staff_of
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.events import DomainEvent
from onethread.models import Contact, ContactSession, Customer, MatchItem


@dataclass(frozen=True)
class Intake:
    """What a channel hands over. ``identifiers`` maps kind -> value (msisdn, email, social...)."""

    channel: str
    direction: str
    occurred_at: datetime
    text: str | None = None
    subject: str | None = None
    kind: str = "message"
    channel_message_id: str | None = None
    identifiers: dict[str, str] | None = None
    attachments: list[dict] | None = None
    customer_id: str | None = None  # known for certain (staff recording in the customer's file)
    session_id: str | None = None
    in_reply_to: str | None = None
    thread_id: str | None = None
    extra: dict | None = None


@dataclass(frozen=True)
class Recorded:
    contact: Contact
    created: bool  # False when this was a redelivery of a contact already stored
    match_item: MatchItem | None = None


def _check(intake: Intake) -> None:
    if intake.channel not in rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(rules.CHANNELS)}", field="channel")
    if intake.direction not in rules.DIRECTIONS:
        raise ValidationFailed(f"direction must be one of {', '.join(rules.DIRECTIONS)}", field="direction")
    if intake.kind not in rules.CONTACT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.CONTACT_KINDS)}", field="kind")
    if intake.text is not None and len(intake.text) > rules.MAX_TEXT:
        raise ValidationFailed(f"text is longer than {rules.MAX_TEXT} characters", field="text")
    for kind in intake.identifiers or {}:
        if kind not in IDENTIFIER_KINDS:
            raise ValidationFailed(f"unknown identifier kind {kind!r}; one of: {', '.join(IDENTIFIER_KINDS)}",
                                   field="identifiers")


def find_by_message_id(session: Session, channel: str, message_id: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.channel == channel,
                                                Contact.channel_message_id == message_id))


def _lookups(session: Session, identifiers: dict[str, str], at: datetime, region: str
             ) -> tuple[list[rules.Lookup], dict[str, str]]:
    lookups, normalised = [], {}
    for kind, value in identifiers.items():
        try:
            res = identifier_service.resolve(session, kind, value, at, region=region)
        except ValidationFailed:
            continue  # a channel may send junk (a withheld number); it just does not help
        normalised[kind] = res.value
        lookups.append(rules.Lookup(kind, res.value, res.status, res.customer_id, tuple(res.candidates)))
    return lookups, normalised


def record(session: Session, clock: Clock, actor: Principal, intake: Intake, *, region: str = "GB") -> Recorded:
    """Store a contact once. A redelivery with the same channel message id returns the stored one."""
    _check(intake)
    if intake.channel_message_id:
        existing = find_by_message_id(session, intake.channel, intake.channel_message_id)
        if existing is not None:
            return Recorded(existing, created=False)
    occurred = ensure_utc(intake.occurred_at)
    now = clock.now()
    lookups, normalised = _lookups(session, intake.identifiers or {}, occurred, region)
    live = session.get(ContactSession, intake.session_id) if intake.session_id else None
    if intake.session_id and live is None:
        raise NotFound(f"no contact session {intake.session_id}", field="sessionId")

    if intake.customer_id is not None:
        get_customer(session, intake.customer_id)
        decision = rules.Decision(intake.customer_id, None, (intake.customer_id,), "recorded in the customer's file")
    elif live is not None and live.customer_id is not None:
        decision = rules.Decision(live.customer_id, None, (live.customer_id,), "part of a live contact session")
    else:
        decision = rules.decide(lookups)

    me = staff_of(session, actor)  # a person, also when they call through a token issued to them
    session_id = intake.session_id
    if live is None and decision.customer_id and intake.channel == "social":
        # S3.5: a post from a customer who is on a call right now joins that contact.
        joined = live_session_of(session, decision.customer_id, exclude_channel="social")
        session_id = joined.id if joined else None

    contact = Contact(
        customer_id=decision.customer_id,
        channel=intake.channel,
        direction=intake.direction,
        occurred_at=occurred,
        recorded_at=now,
        channel_message_id=intake.channel_message_id,
        kind=intake.kind,
        subject=intake.subject,
        text=intake.text,
        attachments=intake.attachments or [],
        identifiers=normalised or dict(intake.identifiers or {}),
        match_status="matched" if decision.customer_id else "queued",
        staff_user_id=me.id if me else None,
        actor_name=me.display_name if me else actor.name,
        session_id=session_id,
        in_reply_to=intake.in_reply_to,
        thread_id=intake.thread_id,
        extra=intake.extra or {},
    )
    try:
        with session.begin_nested():
            session.add(contact)
            session.flush()
    except IntegrityError:
        # A concurrent delivery of the same message won the race: return the stored one.
        existing = find_by_message_id(session, intake.channel, intake.channel_message_id or "")
        if existing is None:
            raise
        return Recorded(existing, created=False)
    if contact.thread_id is None:
        contact.thread_id = contact.id
    item = None
    if decision.customer_id is None:
        item = MatchItem(contact_id=contact.id, reason=decision.reason, candidates=list(decision.candidates),
                         explanation=decision.explanation, created_at=now)
        session.add(item)
        session.flush()
    _recorded_event(session, clock, actor, contact, decision.explanation)
    return Recorded(contact, created=True, match_item=item)


def _recorded_event(session: Session, clock: Clock, actor: Principal, contact: Contact, explanation: str) -> None:
    record_event(session, DomainEvent(
        type="contact.recorded", occurred_at=contact.occurred_at, aggregate_type="contact",
        aggregate_id=contact.id, customer_id=contact.customer_id,
        payload={"channel": contact.channel, "direction": contact.direction, "kind": contact.kind,
                 "subject": contact.subject, "summary": (contact.text or "")[:280], "actorName": contact.actor_name,
                 "matchStatus": contact.match_status, "explanation": explanation, "sessionId": contact.session_id,
                 "actor": actor.id},
    ))


def get_contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact with id {contact_id}")
    return contact


# --- the match queue -----------------------------------------------------------------------

def open_match_items(session: Session, *, offset: int = 0, limit: int = 50) -> list[tuple[MatchItem, Contact]]:
    rows = session.execute(
        select(MatchItem, Contact).join(Contact, Contact.id == MatchItem.contact_id)
        .where(MatchItem.resolved_at.is_(None)).order_by(MatchItem.created_at, MatchItem.id)
        .offset(offset).limit(limit)
    ).all()
    return [(item, contact) for item, contact in rows]


@dataclass(frozen=True)
class MatchQueuePage:
    rows: list[tuple[MatchItem, Contact]]
    total: int
    names: dict[str, str]  # customer id -> name, for every candidate


def match_queue(session: Session, *, offset: int = 0, limit: int = 50) -> MatchQueuePage:
    """Open items, oldest first, with the total and the candidates' names (one query each)."""
    rows = open_match_items(session, offset=offset, limit=limit)
    total = session.scalar(select(func.count()).select_from(MatchItem).where(MatchItem.resolved_at.is_(None)))
    candidates = [c for item, _ in rows for c in item.candidates or []]
    return MatchQueuePage(rows, total or 0, customer_names(session, candidates))


def customer_names(session: Session, customer_ids: list[str]) -> dict[str, str]:
    """Names of the candidates (and the linked customer) a person chooses between."""
    ids = set(customer_ids)
    return dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all()) if ids else {}


def get_match_item(session: Session, item_id: str) -> MatchItem:
    item = session.get(MatchItem, item_id)
    if item is None:
        raise NotFound(f"no match-queue item {item_id}")
    return item


def _claim(session: Session, clock: Clock, actor: Principal, item_id: str, resolution: str,
           customer_id: str | None = None) -> MatchItem:
    """Resolve an open item exactly once: a conditional UPDATE, so two people cannot both decide it."""
    item = get_match_item(session, item_id)
    if item.resolved_at is not None:
        raise Conflict(f"this item was already {item.resolution}")
    done = session.execute(
        update(MatchItem).where(MatchItem.id == item_id, MatchItem.resolved_at.is_(None))
        .values(resolved_at=clock.now(), resolved_by=actor.id, resolution=resolution,
                resolved_customer_id=customer_id)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict("someone else resolved this item a moment ago; reload the queue")
    session.refresh(item)
    return item


@dataclass(frozen=True)
class Linked:
    contact: Contact
    item: MatchItem
    added: list[str]  # "kind value" of the identifiers now recorded for the customer
    skipped: list[str]  # "kind value: why" of those that were not


def link_match(session: Session, clock: Clock, actor: Principal, item_id: str, *, customer_id: str,
               add_identifiers: bool = False, region: str = "GB") -> Linked:
    """A person attaches a queued contact to a customer, optionally recording its unknown identifiers.

    An identifier is added only if nobody held it when the contact was made and nobody holds it
    now: a number that is someone else's is never taken from them.
    """
    get_match_item(session, item_id)
    get_customer(session, customer_id)
    item = _claim(session, clock, actor, item_id, "linked", customer_id)
    contact = session.get(Contact, item.contact_id)
    added, skipped = [], []
    for kind, value in (contact.identifiers or {}).items() if add_identifiers else ():
        try:
            res = identifier_service.resolve(session, kind, value, contact.occurred_at, region=region)
        except ValidationFailed:
            skipped.append(f"{kind} {value}: not a valid {kind}")
            continue
        if res.status != "none":
            whose = "this customer's already" if res.customer_id == customer_id else "held by another customer then"
            skipped.append(f"{kind} {res.value}: {whose}")
            continue  # held by someone at that time: never silently take it from them
        try:
            with session.begin_nested():
                identifier_service.assign(session, clock, actor, customer_id=customer_id, kind=kind, value=value,
                                          valid_from=clock.now(), region=region)
            added.append(f"{kind} {res.value}")
        except (Conflict, InvalidIdentifier, ValidationFailed) as exc:
            skipped.append(f"{kind} {res.value}: {getattr(exc, 'message', str(exc))}")
    contact.customer_id, contact.match_status = customer_id, "linked"
    item.explanation = f"{item.explanation}; linked by {actor.name}"
    _recorded_event(session, clock, actor, contact,
                    f"linked by {actor.name}" + (f"; identifiers added: {', '.join(added)}" if added else ""))
    return Linked(contact, item, added, skipped)


def dismiss_match(session: Session, clock: Clock, actor: Principal, item_id: str, *, reason: str) -> MatchItem:
    get_match_item(session, item_id)
    if not (reason or "").strip():
        raise ValidationFailed("say why it is dismissed (spam, not a customer...)", field="reason")
    item = _claim(session, clock, actor, item_id, "dismissed")
    item.explanation = f"{item.explanation}; dismissed: {reason.strip()}"
    return item

