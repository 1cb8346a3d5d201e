"""Contacts (TMF683 partyInteraction), contact sessions, verification, transfers, the match
queue, and the customer timeline projection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, id_column, keyed_by, keyed_id_column
from onethread.db.types import JSONType


class ContactSession(Base):
    """A live exchange (a call, a store visit, a chat): verification and transfers belong to it."""

    __tablename__ = "contact_session"

    id: Mapped[str] = id_column()
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(200))  # the telephony call id, chat id...
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"), index=True)
    holder_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    holder_team_id: Mapped[str | None] = mapped_column(ForeignKey("team.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="live")  # live | ended
    case_id: Mapped[str | None] = mapped_column(String(26))  # set by the cases capability


class Verification(Base):
    __tablename__ = "verification"
    __table_args__ = (keyed_by(),)

    id: Mapped[str] = keyed_id_column()
    session_id: Mapped[str] = mapped_column(ForeignKey("contact_session.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    method: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer)
    verified_by: Mapped[str] = mapped_column(String(26))
    verified_by_name: Mapped[str] = mapped_column(String(120))
    verified_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


class SessionHop(Base):
    """One hand-over of a live session: a transfer, or a bounce back with a reason."""

    __tablename__ = "session_hop"
    __table_args__ = (keyed_by("session_id"),)

    id: Mapped[str] = keyed_id_column()
    session_id: Mapped[str] = mapped_column(ForeignKey("contact_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # transfer | bounce
    from_staff_id: Mapped[str | None] = mapped_column(String(26))
    from_team_id: Mapped[str | None] = mapped_column(String(26))
    to_staff_id: Mapped[str | None] = mapped_column(String(26))
    to_team_id: Mapped[str | None] = mapped_column(String(26))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # the story so far, for the receiver
    at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


class Contact(Base):
    __tablename__ = "contact"

    id: Mapped[str] = id_column()
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound | internal
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    channel_message_id: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30), default="message")  # message, call, visit, post, note, letter...
    subject: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSONType, default=list)
    identifiers: Mapped[dict] = mapped_column(JSONType, default=dict)  # what the channel knew
    match_status: Mapped[str] = mapped_column(String(20))  # matched | queued | linked
    staff_user_id: Mapped[str | None] = mapped_column(ForeignKey("staff_user.id"))
    actor_name: Mapped[str | None] = mapped_column(String(120))  # staff or system that recorded it
    session_id: Mapped[str | None] = mapped_column(ForeignKey("contact_session.id"), index=True)
    thread_id: Mapped[str | None] = mapped_column(String(26), index=True)  # first contact of an e-mail thread
    in_reply_to: Mapped[str | None] = mapped_column(String(300))
    case_id: Mapped[str | None] = mapped_column(String(26), index=True)
    case_reason: Mapped[str | None] = mapped_column(String(300))  # why it joined its case (triage)
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)  # channel specifics (post url, platform...)


class MatchItem(Base):
    """A contact whose identifiers did not agree on one customer, waiting for a person."""

    __tablename__ = "match_item"
    __table_args__ = (keyed_by("contact_id"),)

    id: Mapped[str] = keyed_id_column()
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(30))  # no_match | conflict | ambiguous
    candidates: Mapped[list] = mapped_column(JSONType, default=list)
    explanation: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(26))
    resolved_customer_id: Mapped[str | None] = mapped_column(String(26))
    resolution: Mapped[str | None] = mapped_column(String(30))  # linked | dismissed

    __mapper_args__ = {"primary_key": [id]}


class MailboxCursor(Base):
    """How far the IMAP poller has read a mailbox (UIDVALIDITY + last UID fully stored)."""

    __tablename__ = "mailbox_cursor"

    mailbox: Mapped[str] = mapped_column(String(300), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)  # IMAP values go up to 2**32 - 1
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class TimelineEntry(Base):
    """The customer's timeline: one row per thing that happened, from every capability.

    Written by event handlers in the same transaction as the change; read newest first
    with keyset pagination on (occurred_at, id).
    """

    __tablename__ = "timeline_entry"
    __table_args__ = (keyed_by(), UniqueConstraint("event_id", "customer_id"))

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))  # contact, product, identifier, case, decision...
    channel: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    actor_name: Mapped[str | None] = mapped_column(String(120))
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[str | None] = mapped_column(String(26))
    event_id: Mapped[str | None] = mapped_column(String(26))  # unique with customer_id
    # Written by onethread on its own (an escalation by the sweep, a reminder): folded out of the
    # default "story" view of the timeline into a countable line.
    system: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    case_id: Mapped[str | None] = mapped_column(String(26))  # the case the entry is about, when known

    __mapper_args__ = {"primary_key": [id]}


class Attachment(Base):
    """A file a contact carried (an e-mail's attachment, a portal upload, a field photo), stored
    in the attachment store under ``storage_key``; readable under the contact's own permissions."""

    __tablename__ = "attachment"
    __table_args__ = (keyed_by("contact_id"),)

    id: Mapped[str] = keyed_id_column()
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(26), index=True)  # the contact's, once known
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))  # email | portal | field | api
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(26))

    __mapper_args__ = {"primary_key": [id]}


Index("ix_contact_customer_time", Contact.customer_id, Contact.occurred_at)
Index("ix_contact_match_status", Contact.match_status)
# A redelivery is decided by the global key (GlobalKey, space "contact:<channel>"); these find the stored row.
Index("ix_contact_channel_message", Contact.channel, Contact.channel_message_id)
Index("ix_contact_session_channel_external", ContactSession.channel, ContactSession.external_id)
Index("ix_timeline_customer_time", TimelineEntry.customer_id, TimelineEntry.occurred_at, TimelineEntry.id)
Index("ix_match_item_open", MatchItem.resolved_at, MatchItem.created_at)
# The match queue's keyset pages: open items, oldest first.
_OPEN_ITEM = MatchItem.resolved_at.is_(None)
Index("ix_match_item_open_created", MatchItem.created_at, MatchItem.id, postgresql_where=_OPEN_ITEM,
      sqlite_where=_OPEN_ITEM)


class GlobalKey(Base):
    """A value unique across all customers, kept apart from the rows it names so that those rows
    can be spread by customer (docs/scaling.md): a channel's message id (space
    ``contact:<channel>``, the redelivery key of a contact) and a live session's external id
    (``session:<channel>``). Written first, in the transaction of the row it names: a conflict
    here is the redelivery. Distributed by ``value``."""

    __tablename__ = "global_key"

    space: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(300), primary_key=True)
    ref_id: Mapped[str] = mapped_column(String(26))  # the contact or session it names
