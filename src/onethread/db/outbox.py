"""The transactional outbox.

``record_event`` writes the event row in the caller's transaction and runs the in-process
handlers there too. The worker's ``deliver`` hands committed events to asynchronous
consumers at least once; each consumer's effect and its receipt commit together, so a
redelivery after a crash is recognised and skipped (idempotent consumers).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, Text, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from onethread.db.base import Base
from onethread.db.bulk import insert_rows
from onethread.db.types import JSONType
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent, Event, EventBus, as_envelope
from onethread.kernel.ids import new_id

log = logging.getLogger(__name__)


class OutboxEvent(Base):
    __tablename__ = "outbox_event"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    type: Mapped[str] = mapped_column(String(80), index=True)
    aggregate_type: Mapped[str] = mapped_column(String(40))
    aggregate_id: Mapped[str] = mapped_column(String(26))
    customer_id: Mapped[str | None] = mapped_column(String(26), index=True)
    payload: Mapped[dict] = mapped_column(JSONType)
    occurred_at: Mapped[datetime]
    available_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


# The backlog only (migration 0007): the worker's claim and the pending count read it, however
# many delivered events the table holds.
_PENDING = text("delivered_at IS NULL AND dead_at IS NULL")
Index("ix_outbox_event_pending", OutboxEvent.id, postgresql_where=_PENDING, sqlite_where=_PENDING)


class ConsumerReceipt(Base):
    """Proof that a consumer handled an event: its primary key makes handling idempotent."""

    __tablename__ = "consumer_receipt"

    consumer: Mapped[str] = mapped_column(String(80), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"), primary_key=True)
    processed_at: Mapped[datetime]

# The default lease on a claimed event (ONETHREAD_OUTBOX_LEASE_SECONDS): a claim older than this
# belongs to a worker that died (killed, its machine gone), and another worker takes the event.
CLAIM_TIMEOUT = timedelta(minutes=5)


def insert_now(session: Session, statement, params: dict | list[dict]):
    """Execute a prebuilt Core ``INSERT`` (built once on the table, parameters passed) after the
    session's pending ORM changes, which it may refer to. For rows written on every request and
    not read back in the transaction (outbox events, timeline entries, contacts): no statement
    construction and no unit-of-work bookkeeping per row."""
    if session.autoflush:
        session.flush()
    return session.execute(statement, params)


_INSERT_EVENT = insert(OutboxEvent.__table__)


class NoEventBus(RuntimeError):
    """A session not made by ``db.session.make_sessionmaker`` tried to record an event."""


def _bus(session: Session) -> EventBus:
    """The session's event bus. Every session the application opens carries one; recording an
    event without it would store the event but skip its in-process handlers (the timeline
    projection, a reply joining its case, ...), leaving the change half-applied. So: refused."""
    bus: EventBus | None = session.info.get("bus")
    if bus is None:
        raise NoEventBus("this session has no event bus, so the event's in-process handlers cannot run: "
                         "open sessions with db.session.make_sessionmaker (the container's sessions)")
    return bus


def record_event(session: Session, event: DomainEvent | Event) -> DomainEvent:
    """Write ``event`` to the outbox in the current transaction and run in-process handlers. A typed
    ``Event`` is stored as its envelope; handlers receive the stored envelope either way."""
    bus = _bus(session)
    event = as_envelope(event)
    event_id = new_id()
    stored = DomainEvent(
        type=event.type,
        occurred_at=event.occurred_at,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        customer_id=event.customer_id,
        payload=event.payload,
        id=event_id,
    )
    insert_now(session, _INSERT_EVENT, {
        "id": event_id,
        "type": event.type,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "customer_id": event.customer_id,
        "payload": event.payload,
        "occurred_at": event.occurred_at,
        "available_at": event.occurred_at,
        "attempts": 0,
    })
    for handler in bus.handlers_for(event.type):
        handler(session, stored)
    return stored


Consumer = Callable[[Session, DomainEvent], None]


@dataclass(frozen=True)
class Subscription:
    name: str  # stable: receipts are keyed by it
    event_types: frozenset[str]  # "*" for all, "case.*" for every "case." event
    handle: Consumer
    # Asked once per delivery pass, after the claim: False means the consumer has nothing to do with
    # any event now (e.g. nobody subscribed to webhooks), and the events are delivered without it.
    active: Callable[[Session], bool] | None = None

    def wants(self, event_type: str) -> bool:
        if "*" in self.event_types or event_type in self.event_types:
            return True
        kind = event_type.partition(".")[0]
        return f"{kind}.*" in self.event_types


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    skipped_duplicates: int = 0


def _as_event(row: OutboxEvent) -> DomainEvent:
    return DomainEvent(
        type=row.type,
        occurred_at=row.occurred_at,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        customer_id=row.customer_id,
        payload=row.payload,
        id=row.id,
    )


def claim_batch(session: Session, clock: Clock, worker_id: str, limit: int,
                lease: timedelta = CLAIM_TIMEOUT) -> list[str]:
    """Claim up to ``limit`` due, undelivered events for this worker; returns their ids. An event
    another worker claimed more than ``lease`` ago is claimed again (that worker died).

    The claim is a conditional UPDATE, so two workers never both win the same row. On
    PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``: a second worker takes the
    next rows instead of waiting for the first one's claim to commit (SQLite has one writer
    at a time anyway and ignores the clause).
    """
    now = clock.now()
    stale = now - lease
    candidates = session.scalars(
        select(OutboxEvent.id)
        .where(
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.dead_at.is_(None),
            OutboxEvent.available_at <= now,
            or_(OutboxEvent.claimed_at.is_(None), OutboxEvent.claimed_at < stale),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        return []
    won = session.scalars(
        update(OutboxEvent)
        .where(
            OutboxEvent.id.in_(candidates),
            OutboxEvent.delivered_at.is_(None),
            or_(OutboxEvent.claimed_at.is_(None), OutboxEvent.claimed_at < stale),
        )
        .values(claimed_at=now, claimed_by=worker_id)
        .returning(OutboxEvent.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(won)


def deliver(
    factory: sessionmaker[Session],
    subscriptions: list[Subscription],
    clock: Clock,
    *,
    worker_id: str = "worker",
    limit: int = 200,
    max_attempts: int = 10,
    lease: timedelta = CLAIM_TIMEOUT,
) -> DeliveryReport:
    """One delivery pass. Each (event, consumer) runs in its own transaction with its receipt."""
    report = DeliveryReport()
    with factory() as session, session.begin():
        ids = claim_batch(session, clock, worker_id, limit, lease)
    report.claimed = len(ids)
    if not ids:
        return report
    with factory() as session:
        events = [_as_event(row) for row in session.scalars(
            select(OutboxEvent).where(OutboxEvent.id.in_(ids)).order_by(OutboxEvent.id))]
        subscriptions = [sub for sub in subscriptions if sub.active is None or sub.active(session)]
    # Events no consumer wants are delivered together, in one statement.
    unwanted = {e.id for e in events if not any(sub.wants(e.type) for sub in subscriptions)}
    if unwanted:
        with factory() as session, session.begin():
            session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(sorted(unwanted)),
                                                        OutboxEvent.claimed_by == worker_id)
                            .values(delivered_at=clock.now()).execution_options(synchronize_session=False))
        report.delivered += len(unwanted)
    for event in events:
        if event.id in unwanted:
            continue
        event_id = event.id
        errors: list[str] = []
        for sub in subscriptions:
            if not sub.wants(event.type):
                continue
            try:
                with factory() as session, session.begin():
                    done = session.get(ConsumerReceipt, (sub.name, event.id))
                    if done is not None:
                        report.skipped_duplicates += 1
                        continue
                    sub.handle(session, event)
                    session.add(ConsumerReceipt(consumer=sub.name, event_id=event.id, processed_at=clock.now()))
            except IntegrityError:
                if _has_receipt(factory, sub.name, event.id):
                    # Another worker committed the same receipt first: already handled.
                    report.skipped_duplicates += 1
                else:  # the consumer's own write broke a constraint: a failure like any other
                    errors.append(f"{sub.name}: {traceback.format_exc(limit=-3)}")
                    log.exception("consumer %s failed on event %s", sub.name, event.id)
            except Exception:  # a consumer's failure must not stop the others
                errors.append(f"{sub.name}: {traceback.format_exc(limit=-3)}")
                log.exception("consumer %s failed on event %s", sub.name, event.id)
        with factory() as session, session.begin():
            row = session.get(OutboxEvent, event_id)
            if not errors:
                row.delivered_at = clock.now()
                report.delivered += 1
            else:
                row.attempts += 1
                row.last_error = "\n".join(errors)[-2000:]
                row.claimed_at = None
                row.claimed_by = None
                if row.attempts >= max_attempts:
                    row.dead_at = clock.now()
                else:
                    row.available_at = clock.now() + _backoff(row.attempts)
                report.failed += 1
    return report


def _has_receipt(factory: sessionmaker[Session], consumer: str, event_id: str) -> bool:
    with factory() as session:
        return session.get(ConsumerReceipt, (consumer, event_id)) is not None


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 2 ** min(attempts, 12)))


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(
        select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.delivered_at.is_(None), OutboxEvent.dead_at.is_(None)
        )
    )




def record_events(session: Session, events: list[DomainEvent | Event]) -> list[DomainEvent]:
    """``record_event`` for many events at once (sweeps): one bulk INSERT, handlers in bulk.

    A handler with a ``many(session, events)`` attribute gets the whole list; others one by one.
    """
    if not events:
        return []
    bus = _bus(session)
    stored = [DomainEvent(type=e.type, occurred_at=e.occurred_at, aggregate_type=e.aggregate_type,
                          aggregate_id=e.aggregate_id, customer_id=e.customer_id, payload=e.payload, id=new_id())
              for e in map(as_envelope, events)]
    insert_rows(session, OutboxEvent.__table__, [  # one statement for the batch (db.bulk)
        {"id": e.id, "type": e.type, "aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id,
         "customer_id": e.customer_id, "payload": e.payload, "occurred_at": e.occurred_at,
         "available_at": e.occurred_at, "attempts": 0}
        for e in stored
    ])
    by_handler: dict = {}
    for e in stored:
        for handler in bus.handlers_for(e.type):
            by_handler.setdefault(handler, []).append(e)
    for handler, batch in by_handler.items():
        many = getattr(handler, "many", None)
        if many is not None:
            many(session, batch)
        else:
            for e in batch:
                handler(session, e)
    return stored
