"""TMF681 Communication Management v4: ``/tmf-api/communicationManagement/v4/communicationMessage``.

An outbound e-mail, letter or SMS to a customer. onethread's own attributes (purpose, the guard's
verdict and reasons, the case, the send key) ride on the ``OnethreadCommunicationMessage``
sub-class, ``@baseType: CommunicationMessage``. The receiver names the customer; the address is
the one on the customer's record, never the caller's. See docs/api/communication-message.md.

Translation only: the guard, queueing and the audit of reads are in ``onethread.outreach``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field, StrictInt

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.answers import CommunicationMessage
from onethread.api.tmf.conventions import ListParams, created, paged, parse_fields, select_fields
from onethread.api.tmf.shapes import TmfIn as _Tmf
from onethread.errors import ValidationFailed
from onethread.models import OutboundMessage
from onethread.outreach import queries, rules
from onethread.outreach import service as outreach

BASE = "/tmf-api/communicationManagement/v4"
EXTENSION = "OnethreadCommunicationMessage"
TYPES = {"email": "email", "e-mail": "email", "sms": "sms", "letter": "letter"}
router = APIRouter(prefix=BASE, tags=["TMF681 communication"], route_class=AnswerRoute)


class PartyRefIn(_Tmf):
    id: str = Field(..., max_length=26)
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class ReceiverIn(_Tmf):
    id: str | None = Field(None, max_length=26)
    name: str | None = Field(None, max_length=200)
    email: str | None = None
    phoneNumber: str | None = None
    appUserId: str | None = None
    ip: str | None = None
    party: PartyRefIn | None = None


class SenderIn(_Tmf):
    id: str | None = Field(None, max_length=26)
    name: str | None = Field(None, max_length=200)
    email: str | None = None
    phoneNumber: str | None = None
    party: PartyRefIn | None = None


class CharacteristicIn(_Tmf):
    name: str = Field(..., max_length=100)
    value: Any
    valueType: str | None = None


class MessageCreate(_Tmf):
    messageType: str = Field(..., max_length=20, description="Email | SMS | Letter")
    content: str | None = Field(None, max_length=rules.BODY_MAX, description="the text (or name a template)")
    subject: str | None = Field(None, max_length=rules.SUBJECT_MAX)
    description: str | None = Field(None, max_length=2000)
    receiver: list[ReceiverIn] = Field(..., min_length=1, max_length=1)
    sender: SenderIn
    priority: str | None = Field(None, max_length=10)
    tryTimes: StrictInt | None = Field(None, ge=1, le=20, description="attempts before it is failed (default 6)")
    characteristic: list[CharacteristicIn] = Field(default_factory=list, max_length=20)
    logFlag: bool | None = None
    state: str | None = None
    # OnethreadCommunicationMessage extension
    purpose: Literal["service", "regulatory", "retention", "marketing"] | None = Field(
        None, description=f"{EXTENSION}: why it is sent (the guard's rules depend on it); default service")
    caseId: str | None = Field(None, max_length=26, description=f"{EXTENSION}: the case it belongs to")
    template: str | None = Field(None, max_length=40, description=f"{EXTENSION}: a template instead of content")
    sendKey: str | None = Field(None, max_length=120, description=f"{EXTENSION}: your idempotency key; a repeat "
                                "returns the first message (200)")


def message_path(message_id: str) -> str:
    return f"{BASE}/communicationMessage/{message_id}"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def to_tmf(m: OutboundMessage, names: dict[str, str]) -> dict:
    receiver: dict = {"@type": "Receiver", "id": m.customer_id, "name": names.get(m.customer_id, ""),
                      "party": {"@type": "RelatedParty", "id": m.customer_id, "role": "customer",
                                "name": names.get(m.customer_id, ""), "@referredType": "Customer",
                                "href": f"/tmf-api/customer/v5/customer/{m.customer_id}"}}
    if m.channel == "email" and m.to_address:
        receiver["email"] = m.to_address
    if m.channel == "sms" and m.to_address:
        receiver["phoneNumber"] = m.to_address
    body: dict = {
        "id": m.id, "href": message_path(m.id), "@type": EXTENSION, "@baseType": "CommunicationMessage",
        "messageType": rules.TMF_MESSAGE_TYPE[m.channel], "content": m.body, "state": rules.TMF_STATE[m.status],
        "receiver": [receiver], "sender": {"@type": "Sender", "name": "onethread"},
        "tryTimes": m.max_attempts, "priority": "1" if m.purpose == "regulatory" else "5",
        "attachment": [{"@type": "Attachment", "id": a["documentId"], "name": a["filename"],
                        "mimeType": a["contentType"], "url": f"/api/v1/letters/{a['documentId']}/pdf",
                        "size": {"amount": a["size"], "units": "bytes"}} for a in m.attachments or []],
        "characteristic": [{"@type": "Characteristic", "name": "purpose", "valueType": "string", "value": m.purpose}],
        # extension
        "status": m.status, "verdict": m.verdict, "reasons": m.reasons or [], "purpose": m.purpose,
        "channel": m.channel, "askedChannel": m.asked_channel, "caseId": m.case_id, "contactId": m.contact_id,
        "sendKey": m.send_key, "template": m.template, "language": m.language, "attempts": m.attempts,
        "lastError": m.last_error, "copiedTo": [c["name"] for c in m.cc or []], "createdBy": m.created_by_name,
        "messageId": m.message_id,
    }
    if m.subject:
        body["subject"] = m.subject
    for key, value in (("scheduledSendTime", m.next_attempt_at if m.status == "queued" else None),
                       ("sendTime", m.sent_at), ("sendTimeComplete", m.delivered_at or m.sent_at)):
        if value is not None:
            body[key] = _iso(value)
    return body


def render(session, rows: list[OutboundMessage]) -> list[dict]:
    people = queries.names(session, {m.customer_id for m in rows})
    return [to_tmf(m, people) for m in rows]


def _channel(message_type: str) -> str:
    found = TYPES.get(message_type.strip().lower())
    if found is None:
        raise ValidationFailed("messageType is Email, SMS or Letter", field="messageType")
    return found


def _customer(receiver: ReceiverIn) -> str:
    if receiver.email or receiver.phoneNumber or receiver.appUserId or receiver.ip:
        raise ValidationFailed("onethread sends to the address on the customer's record: name the customer in "
                               "receiver.party (or receiver.id) and leave out email and phoneNumber",
                               field="receiver")
    customer_id = receiver.party.id if receiver.party is not None else receiver.id
    if not customer_id:
        raise ValidationFailed("receiver.party.id names the customer", field="receiver")
    if receiver.party is not None and receiver.party.referred_type not in (None, "Customer"):
        raise ValidationFailed("receiver.party is a Customer (@referredType Customer)", field="receiver")
    return customer_id


@router.post("/communicationMessage", response_model=CommunicationMessage, status_code=201,
             summary="Queue a message to a customer; the guard decides send, hold or suppress, with reasons")
def create_message(body: MessageCreate, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(CUSTOMER_WRITERS), fields: str | None = None) -> dict:
    if body.type_ not in (None, "CommunicationMessage", EXTENSION):
        raise ValidationFailed(f"@type is CommunicationMessage (or {EXTENSION})", field="@type")
    used = [k for k in ("purpose", "caseId", "template", "sendKey") if getattr(body, k) is not None]
    if used and body.type_ != EXTENSION:
        raise ValidationFailed(f"{', '.join(used)}: {EXTENSION} extension fields; send \"@type\": \"{EXTENSION}\"",
                               field="@type")
    if body.state not in (None, "initial"):
        raise ValidationFailed("a new message starts in state initial; the worker moves it on", field="state")
    existing = outreach.by_send_key(session, body.sendKey) if body.sendKey else None
    message = existing or outreach.queue(
        session, clock, actor, customer_id=_customer(body.receiver[0]), channel=_channel(body.messageType),
        purpose=body.purpose or "service", body=body.content, subject=body.subject, template=body.template,
        case_id=body.caseId, send_key=body.sendKey, max_attempts=body.tryTimes)
    if existing is not None:
        response.status_code = 200
    created(response, message_path(message.id))
    return select_fields(render(session, [message])[0], parse_fields(fields))


@router.get("/communicationMessage", response_model=list[CommunicationMessage],
            summary="List messages to customers (newest first)")
def list_messages(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                  params: ListParams = Depends(),
                  customer_id: str | None = Query(None, alias="receiver.id", description="the customer's id"),
                  case_id: str | None = Query(None, alias="caseId"),
                  status: str | None = Query(None, description=" | ".join(rules.STATUSES))) -> list[dict]:
    rows, total = queries.list_messages(session, clock, actor, offset=params.offset, limit=params.limit,
                                        customer_id=customer_id, case_id=case_id, status=status, channel="api")
    return paged(response, render(session, rows), total, params.fields)


@router.get("/communicationMessage/{message_id}", response_model=CommunicationMessage,
            summary="Retrieve a message, its status and the guard's reasons")
def get_message(message_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                fields: str | None = None) -> dict:
    message = queries.read_message(session, clock, actor, message_id, channel="api")
    return select_fields(render(session, [message])[0], parse_fields(fields))
