"""Recording a batch of contacts (a channel gateway's delivery) in one transaction.

Each contact is stored as ``service.record`` stores one; the plain ones share the database work.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.customers import identifier_service
from onethread.db.outbox import record_events
from onethread.errors import DomainError, ValidationFailed
from onethread.interactions import rules
from onethread.interactions.service import (
    INSERT_CONTACT,
    Intake,
    Recorded,
    add_lookup,
    as_stored,
    check,
    claim_message_keys,
    contact_values,
    record,
    recorded_event,
    redelivered,
)
from onethread.interactions.session_service import staff_of
from onethread.kernel.clock import Clock, ensure_utc

MAX_BATCH = 100


def _plain(intake: Intake) -> bool:
    """Needs nothing but its identifiers' look-up: no live session (whose customer and id it
    takes), no customer named by the caller (to be checked), not a social post (which may join
    the customer's live call)."""
    return intake.session_id is None and intake.customer_id is None and intake.channel != "social"


def _naming(i: int, exc: DomainError) -> DomainError:
    """The same error, saying which contact of the batch it is about."""
    return type(exc)(f"contact {i}: {exc.message}", field=f"{i}.{exc.field}" if exc.field else str(i),
                     details=exc.details)


def record_many(session: Session, clock: Clock, actor: Principal, intakes: list[Intake], *,
                region: str | None = None) -> list[Recorded]:
    """Store a batch of contacts in the caller's transaction, each as ``service.record`` stores
    one (matching, the match queue, redeliveries, the event and the timeline entry), in the
    order given.

    Every contact is checked before anything is written, and one contact that ``record``
    refuses (here or when it is recorded: an unknown session) fails the batch, whose transaction
    then stores none; the error names the contact (``contact 3: ...``, field ``3.<field>``).

    The plain contacts share one look-up of every identifier in the batch, one ``INSERT`` of the
    contacts, one of their match-queue items and one of their events and timeline entries; the
    others (a live session, a customer named by the caller, a social post) go through ``record``
    one by one. Within a batch, as between deliveries, a repeated channel message id is a
    redelivery of the first.
    """
    if not intakes:
        raise ValidationFailed("a batch holds at least one contact", field="contacts")
    if len(intakes) > MAX_BATCH:
        raise ValidationFailed(f"a batch holds at most {MAX_BATCH} contacts, not {len(intakes)}", field="contacts")
    for i, intake in enumerate(intakes):
        try:
            check(intake)
        except ValidationFailed as exc:
            raise _naming(i, exc) from exc

    out: list[Recorded | None] = [None] * len(intakes)
    # A contact whose message id an earlier contact of the batch that goes one by one also has is
    # one by one too, after it: it is that contact's redelivery, as it would be sent alone.
    one_by_one: set[tuple[str, str]] = set()
    plain = []
    for i, intake in enumerate(intakes):
        key = (intake.channel, intake.channel_message_id) if intake.channel_message_id else None
        if _plain(intake) and key not in one_by_one:
            plain.append(i)
        elif key is not None:
            one_by_one.add(key)
    if plain:
        _record_plain(session, clock, actor, [(i, intakes[i]) for i in plain], out, region)
    for i, intake in enumerate(intakes):
        if out[i] is None:
            try:
                out[i] = record(session, clock, actor, intake, region=region)
            except DomainError as exc:  # the whole batch rolls back with the request
                raise _naming(i, exc) from exc
    return out  # type: ignore[return-value]


def _record_plain(session: Session, clock: Clock, actor: Principal, items: list[tuple[int, Intake]],
                  out: list, region: str | None) -> None:
    now = clock.now()
    asks, owners = [], []
    for n, (_, intake) in enumerate(items):
        for kind, value in (intake.identifiers or {}).items():
            asks.append((kind, value, ensure_utc(intake.occurred_at)))
            owners.append(n)
    lookups: list[list[rules.Lookup]] = [[] for _ in items]
    normalised: list[dict[str, str]] = [{} for _ in items]
    for n, res in zip(owners, identifier_service.resolve_many(session, asks, region=region), strict=True):
        if not isinstance(res, ValidationFailed):  # a channel may send junk; it just does not help
            add_lookup(lookups[n], normalised[n], res)

    me = staff_of(session, actor) if actor.kind == "staff" else None
    decisions = [rules.decide(lookups[n]) for n in range(len(items))]
    rows = [contact_values(intake, decisions[n], normalised[n], now, actor, me, session_id=None)
            for n, (_, intake) in enumerate(items)]
    if session.autoflush:
        session.flush()
    written = claim_message_keys(session, rows)  # the rest are redeliveries
    if written:
        session.execute(INSERT_CONTACT, [r for r in rows if r["id"] in written])
    events, queued = [], []
    for n, (i, intake) in enumerate(items):
        if rows[n]["id"] not in written:  # a redelivery is the conflict: not written
            out[i] = redelivered(session, intake)
            continue
        contact, item = as_stored(session, rows[n], decisions[n], now)
        if item is not None:
            queued.append(item)
        events.append(recorded_event(actor, contact, decisions[n].explanation))
        out[i] = Recorded(contact, created=True, match_item=item)
    if queued:
        session.add_all(queued)
        session.flush()
    record_events(session, events)
