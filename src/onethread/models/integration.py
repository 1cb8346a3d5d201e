"""Event subscriptions (TMF hubs and outgoing webhooks) and the deliveries made to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, id_column
from onethread.db.types import JSONType


class EventSubscription(Base):
    """A callback that wants events: a TMF hub on one API (``kind`` hub, ``api`` e.g.
    ``troubleTicket``, with its TMF ``query``) or a webhook for onethread's own events
    (``kind`` webhook, the event types it wants in ``event_types``)."""

    __tablename__ = "event_subscription"

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(10))  # hub | webhook
    api: Mapped[str | None] = mapped_column(String(40))  # hubs: the TMF API it listens to
    name: Mapped[str | None] = mapped_column(String(100))  # webhooks: what the receiver is
    callback: Mapped[str] = mapped_column(String(2000))
    query: Mapped[str | None] = mapped_column(String(2000))  # hubs: the TMF query, as sent
    event_types: Mapped[list] = mapped_column(JSONType, default=list)  # webhooks; hubs: [] (all, or the query's)
    secret: Mapped[str] = mapped_column(String(100))  # signs every delivery (HMAC-SHA256); shown once
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(26))
    created_by_name: Mapped[str] = mapped_column(String(120))
    deleted_at: Mapped[datetime | None]


class EventDelivery(Base):
    """One event to one subscription: sent by the worker until the receiver answers 2xx, retried
    with backoff, dead (kept, with its last error) after the last attempt."""

    __tablename__ = "event_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),)

    id: Mapped[str] = id_column()
    subscription_id: Mapped[str] = mapped_column(ForeignKey("event_subscription.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(40))  # the id the receiver deduplicates on
    source_event_id: Mapped[str] = mapped_column(String(26), index=True)  # the outbox event
    event_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


# The backlog only: the worker's claim reads it, however many deliveries are done.
_PENDING = text("delivered_at IS NULL AND dead_at IS NULL")
Index("ix_event_delivery_pending", EventDelivery.available_at, postgresql_where=_PENDING, sqlite_where=_PENDING)
Index("ix_event_delivery_dead", EventDelivery.dead_at, postgresql_where=text("dead_at IS NOT NULL"),
      sqlite_where=text("dead_at IS NOT NULL"))
