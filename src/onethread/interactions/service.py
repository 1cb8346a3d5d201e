"""Recording contacts from any channel: idempotent ingest, identity resolution, the match queue.

Sessions, verification and transfers are in ``session_service.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.attachments import service as attachments
from onethread.customers import identifier_service
from onethread.customers.rules import IDENTIFIER_KINDS, InvalidIdentifier
from onethread.customers.service import get_customer
from onethread.db.outbox import insert_now, record_event
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.interactions import keys, rules, session_service
from onethread.interactions.events import ContactDismissed, ContactRecorded
from onethread.interactions.rules import MatchStatus
from onethread.interactions.session_service import live_session_of, staff_of
from onethread.kernel import pagination
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.ids import new_id
from onethread.models import Contact, ContactSession, Customer, MatchItem, SessionHop, StaffUser


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


def check(intake: Intake) -> None:
    if intake.channel not in rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(rules.CHANNELS)}", field="channel")
    if intake.direction not in rules.DIRECTIONS:
        raise ValidationFailed(f"direction must be one of {', '.join(rules.DIRECTIONS)}", field="direction")
    if intake.kind not in rules.CONTACT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.CONTACT_KINDS)}", field="kind")
    if intake.text is not None and len(intake.text) > rules.MAX_TEXT:
        raise ValidationFailed(f"text is longer than {rules.MAX_TEXT} characters", field="text")
    for name, value, limit in (("subject", intake.subject, rules.MAX_SUBJECT),
                               ("channelMessageId", intake.channel_message_id, rules.MAX_MESSAGE_ID),
                               ("inReplyTo", intake.in_reply_to, rules.MAX_MESSAGE_ID)):
        if value is not None and len(value) > limit:  # the column's width: both databases refuse alike
            raise ValidationFailed(f"{name} is longer than {limit} characters", field=name)
    if intake.occurred_at.tzinfo is None:
        raise ValidationFailed("the contact's time needs a time zone", field="occurredAt")
    for kind in intake.identifiers or {}:
        if kind not in IDENTIFIER_KINDS:
            raise ValidationFailed(f"unknown identifier kind {kind!r}; one of: {', '.join(IDENTIFIER_KINDS)}",
                                   field="identifiers")


def find_by_message_id(session: Session, channel: str, message_id: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.channel == channel,
                                                Contact.channel_message_id == message_id))


def _lookups(session: Session, identifiers: dict[str, str], at: datetime, region: str | None
             ) -> tuple[list[rules.Lookup], dict[str, str]]:
    lookups, normalised = [], {}
    for kind, value in identifiers.items():
        try:
            res = identifier_service.resolve(session, kind, value, at, region=region)
        except ValidationFailed:
            continue  # a channel may send junk (a withheld number); it just does not help
        add_lookup(lookups, normalised, res)
    return lookups, normalised


def add_lookup(lookups: list[rules.Lookup], normalised: dict[str, str],
               res: identifier_service.Resolution) -> None:
    normalised[res.kind] = res.value
    lookups.append(rules.Lookup(res.kind, res.value, res.status, res.customer_id, tuple(res.candidates)))


def record(session: Session, clock: Clock, actor: Principal, intake: Intake, *, region: str | None = None) -> Recorded:
    """Store a contact once. A redelivery with the same channel message id returns the stored one.

    The hot path of ingest: the channel's message id is claimed in ``global_key`` by one ``INSERT
    ... ON CONFLICT DO NOTHING`` (a conflict is a redelivery, also between two concurrent
    deliveries), then the contact is one plain INSERT: no look-up before, no savepoint around.
    """
    check(intake)
    occurred = ensure_utc(intake.occurred_at)
    now = clock.now()
    lookups, normalised = _lookups(session, intake.identifiers or {}, occurred, region)
    live = session.get(ContactSession, intake.session_id) if intake.session_id else None
    if intake.session_id and live is None:
        if intake.channel_message_id:
            existing = find_by_message_id(session, intake.channel, intake.channel_message_id)
            if existing is not None:  # a redelivery is answered even if its session is gone
                return Recorded(existing, created=False)
        raise NotFound(f"no contact session {intake.session_id}", field="sessionId")

    if intake.customer_id is not None:
        get_customer(session, intake.customer_id)
        decision = rules.Decision(intake.customer_id, None, (intake.customer_id,), "recorded in the customer's file")
    elif live is not None and live.customer_id is not None:
        decision = rules.Decision(live.customer_id, None, (live.customer_id,), "part of a live contact session")
    else:
        decision = rules.decide(lookups)

    # A person, also when they call through a token issued to them (such a token authenticates
    # as its staff member); a system token has no person behind it.
    me = staff_of(session, actor) if actor.kind == "staff" else None
    session_id = intake.session_id
    if live is None and decision.customer_id and intake.channel == "social":
        # S3.5: a post from a customer who is on a call right now joins that contact.
        joined = live_session_of(session, decision.customer_id, exclude_channel="social")
        session_id = joined.id if joined else None

    values = contact_values(intake, decision, normalised, now, actor, me, session_id=session_id)
    if not _insert_contact(session, values):
        # The same message was stored before (a redelivery, or a concurrent delivery that won).
        return redelivered(session, intake)
    contact, item = as_stored(session, values, decision, now)
    if item is not None:
        session.add(item)
        session.flush()
    _recorded_event(session, clock, actor, contact, decision.explanation)
    return Recorded(contact, created=True, match_item=item)


def contact_values(intake: Intake, decision: rules.Decision, normalised: dict[str, str], now: datetime,
                   actor: Principal, me: StaffUser | None, *, session_id: str | None) -> dict:
    """The contact's row, as ``record`` and a batch write it."""
    contact_id = new_id()
    return dict(
        id=contact_id,
        customer_id=decision.customer_id,
        channel=intake.channel,
        direction=intake.direction,
        occurred_at=ensure_utc(intake.occurred_at),
        recorded_at=now,
        channel_message_id=intake.channel_message_id,
        kind=intake.kind,
        subject=intake.subject,
        text=intake.text,
        attachments=intake.attachments or [],
        identifiers=normalised or dict(intake.identifiers or {}),
        match_status=MatchStatus.MATCHED if decision.customer_id else MatchStatus.QUEUED,
        staff_user_id=me.id if me else None,
        actor_name=me.display_name if me else actor.name,
        session_id=session_id,
        in_reply_to=intake.in_reply_to,
        thread_id=intake.thread_id or contact_id,
        case_id=None,
        extra=intake.extra or {},
    )


def as_stored(session: Session, values: dict, decision: rules.Decision, now: datetime
              ) -> tuple[Contact, MatchItem | None]:
    """The written row as a session object, and the match-queue item it needs (not added yet)."""
    contact = Contact(**values)
    make_transient_to_detached(contact)  # the row is written: the object joins the session as stored
    session.add(contact)
    if decision.customer_id is not None:
        return contact, None
    return contact, MatchItem(contact_id=contact.id, reason=decision.reason, candidates=list(decision.candidates),
                              explanation=decision.explanation, created_at=now)


def redelivered(session: Session, intake: Intake) -> Recorded:
    """The stored contact a redelivery answers with (its INSERT met the channel's message id)."""
    existing = find_by_message_id(session, intake.channel, intake.channel_message_id or "")
    if existing is None:  # pragma: no cover - the conflict names exactly this row
        raise Conflict("the contact could not be stored; try again")
    return Recorded(existing, created=False)


_CONTACTS = Contact.__table__
INSERT_CONTACT = insert(_CONTACTS)  # plain: a redelivery is decided by the global key first


def claim_message_keys(session: Session, rows: list[dict]) -> set[str]:
    """Claim the (channel, message id) of each contact row: the ids of the rows that may be
    written (their key was free, or they have none). One statement, in the caller's transaction;
    two concurrent deliveries of one message: the second waits for the first and finds it taken."""
    keyed = [{**keys.message_key(r["channel"], r["channel_message_id"]), "ref_id": r["id"]}
             for r in rows if r["channel_message_id"] is not None]
    return {r["id"] for r in rows if r["channel_message_id"] is None} | keys.claim(session, keyed)


def _insert_contact(session: Session, values: dict) -> bool:
    """INSERT the contact unless its (channel, message id) is stored already; True if written."""
    if not claim_message_keys(session, [values]):
        return False
    insert_now(session, INSERT_CONTACT, values)
    return True


def recorded_event(actor: Principal, contact: Contact, explanation: str, *, update: bool = False) -> ContactRecorded:
    """The contact's event; ``update``: a contact recorded before is now known to be the customer's."""
    return ContactRecorded(
        occurred_at=contact.occurred_at, aggregate_id=contact.id, customer_id=contact.customer_id,
        channel=contact.channel, direction=contact.direction, kind=contact.kind, subject=contact.subject,
        summary=(contact.text or "")[:280], actor_name=contact.actor_name, match_status=contact.match_status,
        explanation=explanation, session_id=contact.session_id, actor=actor.id, update=update,
        thread_id=contact.thread_id if contact.thread_id not in (None, contact.id) else None,
    )


def _recorded_event(session: Session, clock: Clock, actor: Principal, contact: Contact, explanation: str,
                    *, update: bool = False) -> None:
    event = recorded_event(actor, contact, explanation, update=update)
    if update:  # handlers (triage) act now, not at the contact's own time
        event = replace(event, at=clock.now().isoformat())
    record_event(session, event)


def get_contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact with id {contact_id}")
    return contact


# --- the match queue -----------------------------------------------------------------------

def open_match_items(session: Session, *, offset: int = 0, limit: int = 50,
                     cursor: str | None = None) -> list[tuple[MatchItem, Contact]]:
    query = (select(MatchItem, Contact).join(Contact, Contact.id == MatchItem.contact_id)
             .where(MatchItem.resolved_at.is_(None)))
    keyset = pagination.after(cursor, MatchItem.created_at, MatchItem.id, descending=False)
    if keyset is not None:
        query, offset = query.where(keyset), 0
    rows = session.execute(query.order_by(MatchItem.created_at, MatchItem.id).offset(offset).limit(limit)).all()
    return [(item, contact) for item, contact in rows]


@dataclass(frozen=True)
class MatchQueuePage:
    rows: list[tuple[MatchItem, Contact]]
    total: int
    names: dict[str, str]  # customer id -> name, for every candidate


def match_queue(session: Session, *, offset: int = 0, limit: int = 50, cursor: str | None = None) -> MatchQueuePage:
    """Open items, oldest first, with the total and the candidates' names (one query each);
    ``cursor``: the page after the item it names (``pagination.after``)."""
    rows = open_match_items(session, offset=offset, limit=limit, cursor=cursor)
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
               add_identifiers: bool = False, region: str | None = None) -> Linked:
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
    contact.customer_id, contact.match_status = customer_id, MatchStatus.LINKED
    attachments.follow_contact(session, contact.id, customer_id)
    item.explanation = f"{item.explanation}; linked by {actor.name}"
    _recorded_event(session, clock, actor, contact,
                    f"linked by {actor.name}" + (f"; identifiers added: {', '.join(added)}" if added else ""),
                    update=True)
    return Linked(contact, item, added, skipped)


def dismiss_match(session: Session, clock: Clock, actor: Principal, item_id: str, *, reason: str) -> MatchItem:
    get_match_item(session, item_id)
    if not (reason or "").strip():
        raise ValidationFailed("say why it is dismissed (spam, not a customer...)", field="reason")
    item = _claim(session, clock, actor, item_id, "dismissed")
    item.explanation = f"{item.explanation}; dismissed: {reason.strip()}"
    record_event(session, ContactDismissed(occurred_at=clock.now(), aggregate_id=item.contact_id, customer_id=None,
                                           actor=actor.id, reason=reason.strip()))
    return item


# --- contacts as TMF683 party interactions: audited reads ------------------------------------

@dataclass(frozen=True)
class ContactContext:
    """What a contact's representation needs besides its row: its session and its customer."""

    sessions: dict[str, ContactSession]
    customers: dict[str, Customer]


def context_of(session: Session, contacts: list[Contact]) -> ContactContext:
    session_ids = {c.session_id for c in contacts if c.session_id}
    customer_ids = {c.customer_id for c in contacts if c.customer_id}
    sessions = {s.id: s for s in session.scalars(select(ContactSession).where(ContactSession.id.in_(session_ids)))
                } if session_ids else {}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))
                 } if customer_ids else {}
    return ContactContext(sessions, customers)


def read_contact(session: Session, clock: Clock, actor: Principal, contact_id: str, *,
                 channel: str | None = None) -> Contact:
    """Load a contact for display: what a customer told us is personal data, so the read is audited."""
    contact = get_contact(session, contact_id)
    access.audit(session, clock, actor, action="read", resource_type="contact", resource_id=contact.id,
                 customer_id=contact.customer_id, channel=channel)
    return contact


def list_contacts(session: Session, clock: Clock, actor: Principal, *, offset: int, limit: int,
                  customer_id: str | None = None, channel: str | None = None, status: str | None = None,
                  message_id: str | None = None, via: str | None = None) -> tuple[list[Contact], int]:
    """A page of contacts, newest first. One audit row per customer whose contacts are shown (and
    one, without a customer, for contacts not attached to anybody yet)."""
    if channel is not None and channel not in rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(rules.CHANNELS)}", field="channel")
    if status is not None and status not in rules.CONTACT_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.CONTACT_STATUSES)}", field="status")
    query = select(Contact)
    if customer_id is not None:
        query = query.where(Contact.customer_id == customer_id)
    if channel is not None:
        query = query.where(Contact.channel == channel)
    if message_id is not None:  # the channel's own id: unique per channel (uq_contact_channel_...)
        query = query.where(Contact.channel_message_id == message_id)
    if status is not None:  # rules.contact_status, as a query: in progress while the session is live
        live = select(ContactSession.id).where(ContactSession.status == "live")
        query = query.where(Contact.session_id.in_(live)) if status == "inProgress" else query.where(
            or_(Contact.session_id.is_(None), Contact.session_id.not_in(live)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(session.scalars(query.order_by(Contact.occurred_at.desc(), Contact.id.desc())
                                .offset(offset).limit(limit)))
    shown: dict[str | None, list[str]] = defaultdict(list)
    for contact in rows:
        shown[contact.customer_id].append(contact.id)
    for cid, ids in sorted(shown.items(), key=lambda item: item[0] or ""):
        access.audit(session, clock, actor, action="read", resource_type="contact",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=cid, channel=via, purpose="list",
                     detail={"contactIds": ids})
    return rows, total or 0


# --- channel intake: contacts that open or continue a contact session -----------------------

def session_by_external_id(session: Session, channel: str, external_id: str) -> ContactSession | None:
    """The session a channel knows by its own id (the telephony call id, the store's visit id, the chat id)."""
    return session.scalar(select(ContactSession).where(ContactSession.channel == channel,
                                                       ContactSession.external_id == external_id))


def _external_session(session: Session, channel: str, external_id: str, field: str) -> ContactSession:
    live = session_by_external_id(session, channel, external_id)
    if live is None:
        raise NotFound(f"no {channel} session {external_id} (its start was never received)", field=field)
    return live


def record_in_session(session: Session, clock: Clock, actor: Principal, intake: Intake, *,
                      region: str | None = None) -> Recorded:
    """Record a contact in its session (``intake.session_id``).

    When the session does not know its customer yet and this contact names exactly one (a call
    from a known number, a chat visitor who gives an e-mail address), the session is that
    customer's from now on, with the earlier contacts of the session that named nobody. If an
    earlier contact contradicted it, the session stays as it is and waits for a person.
    """
    recorded = record(session, clock, actor, intake, region=region)
    live = session.get(ContactSession, intake.session_id) if intake.session_id else None
    customer_id = recorded.contact.customer_id
    if not recorded.created or live is None or live.status != "live" or live.customer_id or not customer_id:
        return recorded
    waiting = session.execute(
        select(Contact.id, MatchItem.reason, MatchItem.resolved_at)
        .outerjoin(MatchItem, MatchItem.contact_id == Contact.id)
        .where(Contact.session_id == live.id, Contact.customer_id.is_(None))
    ).all()
    if not rules.may_identify_session([reason if resolved is None else None for _, reason, resolved in waiting]):
        return recorded
    session_service.identify(session, clock, actor, live.id, customer_id)
    earlier = [contact_id for contact_id, _, _ in waiting]
    if not earlier:
        return recorded
    for item in session.scalars(select(MatchItem).where(MatchItem.contact_id.in_(earlier),
                                                        MatchItem.resolved_at.is_(None))):
        item.resolved_at, item.resolved_by, item.resolution = clock.now(), actor.id, "linked"
        item.resolved_customer_id = customer_id
    for contact in session.scalars(select(Contact).where(Contact.id.in_(earlier))):
        _recorded_event(session, clock, actor, contact, f"its contact session {live.id} was identified", update=True)
    return recorded


def open_session_contact(session: Session, clock: Clock, actor: Principal, intake: Intake, *, external_id: str,
                         staff_id: str | None = None, staff_field: str = "staffId",
                         region: str | None = None) -> Recorded:
    """A call, a store visit or a chat starts (or goes on) with this contact.

    The session is found, or opened, by the channel's own id (``external_id``) and the contact is
    recorded in it. A redelivery of the contact returns the stored one and opens nothing.
    """
    check(intake)
    if intake.channel_message_id:
        existing = find_by_message_id(session, intake.channel, intake.channel_message_id)
        if existing is not None:
            return Recorded(existing, created=False)
    if not external_id or len(external_id) > rules.MAX_EXTERNAL_ID:
        raise ValidationFailed(f"the channel's session id is 1 to {rules.MAX_EXTERNAL_ID} characters")
    if staff_id is not None and session.get(StaffUser, staff_id) is None:
        raise NotFound(f"no staff user {staff_id}", field=staff_field)
    if intake.customer_id is not None:
        get_customer(session, intake.customer_id)
    live = session_by_external_id(session, intake.channel, external_id)
    if live is None:
        try:
            with session.begin_nested():
                live = session_service.start(session, clock, actor, channel=intake.channel, external_id=external_id,
                                             customer_id=intake.customer_id, staff_id=staff_id)
        except IntegrityError:
            # A concurrent delivery opened it a moment ago: use that one.
            live = session_by_external_id(session, intake.channel, external_id)
            if live is None:
                raise
    return record_in_session(session, clock, actor, replace(intake, session_id=live.id), region=region)


def transfer_by_external_id(session: Session, clock: Clock, actor: Principal, *, channel: str, external_id: str,
                            at: datetime, to_staff_id: str | None = None, to_team_id: str | None = None,
                            reason: str, field: str = "externalId") -> tuple[ContactSession, SessionHop | None]:
    """Hand a call over as the telephony system reports it; ``None`` when the event was already applied."""
    live = _external_session(session, channel, external_id, field)
    if to_staff_id:
        to_target = SessionHop.to_staff_id == to_staff_id
    else:
        to_target = and_(SessionHop.to_team_id == to_team_id, SessionHop.to_staff_id.is_(None))
    earlier = list(session.scalars(select(SessionHop.at).where(SessionHop.session_id == live.id,
                                                              SessionHop.kind == "transfer", to_target)))
    if rules.transfer_already_applied((live.holder_staff_id, live.holder_team_id), (to_staff_id, to_team_id),
                                      earlier, ensure_utc(at)):
        return live, None
    hop = session_service.transfer(session, clock, actor, live.id, to_staff_id=to_staff_id, to_team_id=to_team_id,
                                   reason=reason)
    return live, hop


def end_by_external_id(session: Session, clock: Clock, actor: Principal, *, channel: str, external_id: str,
                       field: str = "externalId") -> tuple[ContactSession, bool]:
    """End the session the channel knows by its own id; False when it had already ended."""
    live = _external_session(session, channel, external_id, field)
    if live.status == "ended":
        return live, False
    session_service.end(session, clock, actor, live.id)
    return live, True
