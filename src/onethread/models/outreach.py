"""Outbound messages (TMF681 communicationMessage), the customer's contact preferences, letters
as PDF documents, and the health of every channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, customer_fk, id_column, keyed_by, keyed_id_column
from onethread.db.types import JSONType


class OutboundMessage(Base):
    """One message to a customer by e-mail, letter or SMS: what it says, why it was (or was not)
    sent, and each step of its delivery. ``send_key`` is unique: the same message is never queued
    twice, and an e-mail's Message-ID is built from it."""

    __tablename__ = "outbound_message"
    __table_args__ = (keyed_by(), UniqueConstraint("send_key", "customer_id"))

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    case_id: Mapped[str | None] = mapped_column(String(26), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(26))  # the outbound contact on the timeline
    campaign_id: Mapped[str | None] = mapped_column(String(26))
    channel: Mapped[str] = mapped_column(String(10))  # email | letter | sms
    asked_channel: Mapped[str] = mapped_column(String(10))  # what the caller asked for (the guard may change it)
    purpose: Mapped[str] = mapped_column(String(20))  # service | regulatory | retention | marketing
    template: Mapped[str | None] = mapped_column(String(40))
    market: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(10))
    trigger: Mapped[dict] = mapped_column(JSONType, default=dict)  # what caused it (a product's termination...)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str | None] = mapped_column(String(300))  # e-mail address or E.164 number
    cc: Mapped[list] = mapped_column(JSONType, default=list)  # [{name, address, why}]
    send_key: Mapped[str] = mapped_column(String(120))  # unique with customer_id
    message_id: Mapped[str | None] = mapped_column(String(300))  # RFC 5322 Message-ID of an e-mail
    in_reply_to: Mapped[str | None] = mapped_column(String(300))
    references: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # queued | held | sending | sent | delivered | failed | suppressed
    verdict: Mapped[str] = mapped_column(String(20))  # send | suppress | hold
    reasons: Mapped[list] = mapped_column(JSONType, default=list)  # [{code, reason}]
    attachments: Mapped[list] = mapped_column(JSONType, default=list)  # [{documentId, filename, contentType, size}]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=6)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(200))  # the SMS provider's id, for receipts
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(26))
    created_by_name: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


_DUE = OutboundMessage.status.in_(("queued", "sending"))
Index("ix_outbound_message_due", OutboundMessage.next_attempt_at, postgresql_where=_DUE, sqlite_where=_DUE)
Index("ix_outbound_message_customer_at", OutboundMessage.customer_id, OutboundMessage.created_at)


class ContactPreference(Base):
    """How a customer wants to be reached: chosen channels, marketing consent and opt-outs, quiet
    hours, and whether their representative is copied. No row: any channel, no marketing."""

    __tablename__ = "contact_preference"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    channels: Mapped[list] = mapped_column(JSONType, default=list)  # allowed channels; empty: any
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[list] = mapped_column(JSONType, default=list)  # purposes: marketing, retention
    quiet_from: Mapped[int | None] = mapped_column(Integer)  # hour of day, market time
    quiet_to: Mapped[int | None] = mapped_column(Integer)
    copy_representative: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(26))


class LetterDocument(Base):
    """A letter rendered as PDF from its template, kept as sent; printed in batches."""

    __tablename__ = "letter_document"
    __table_args__ = (keyed_by(), customer_fk("letter_document", "message_id", "outbound_message"),)

    id: Mapped[str] = keyed_id_column()
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(String(26), index=True)
    case_id: Mapped[str | None] = mapped_column(String(26))
    template: Mapped[str] = mapped_column(String(40))
    market: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    postal: Mapped[bool] = mapped_column(Boolean, default=False)  # goes out on paper (in a print batch)
    print_batch_id: Mapped[str | None] = mapped_column(String(26), index=True)
    created_at: Mapped[datetime]

    __mapper_args__ = {"primary_key": [id]}


class ChannelHealth(Base):
    """One inbound or outbound channel as the worker last found it."""

    __tablename__ = "channel_health"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # imap://user@host/INBOX, smtp, sms...
    kind: Mapped[str] = mapped_column(String(20))  # imap | smtp | sms | social | telephony
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    expected_every_seconds: Mapped[int | None] = mapped_column(Integer)  # silent longer than this: red
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_activity_at: Mapped[datetime | None]  # last message through it (lag is measured from it)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10), default="green")  # green | red, as last judged
    changed_at: Mapped[datetime | None]  # when it last turned red or green (the alert)
    updated_at: Mapped[datetime]


class Campaign(Base):
    """A promotional message to a segment: a filter or an uploaded list, evaluated by the guard in
    one set-based pass (``outreach.campaigns``), with the counts per verdict and reason."""

    __tablename__ = "campaign"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20))  # marketing | retention
    channel: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    segment: Mapped[dict] = mapped_column(JSONType, default=dict)  # the filter, or {"list": n}
    status: Mapped[str] = mapped_column(String(20))  # draft | evaluated | sending | sent
    counts: Mapped[list] = mapped_column(JSONType, default=list)  # [{verdict, reason, count}]
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(26))
    evaluated_at: Mapped[datetime | None]
    send_requested_at: Mapped[datetime | None]
    send_requested_by: Mapped[str | None] = mapped_column(String(26))
    send_requested_by_name: Mapped[str | None] = mapped_column(String(200))
    queued: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CampaignRecipient(Base):
    """One customer in a campaign and the guard's verdict with its first reason."""

    __tablename__ = "campaign_recipient"

    campaign_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    verdict: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
