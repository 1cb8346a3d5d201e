"""Channel intake (``/api/v1/channels/...``): one documented JSON shape per channel.

Store visits and their notes, telephony call events, letters keyed in by the back office,
field technicians' notes, web chat messages and online forms. Each shape refuses unknown
fields; each contact is recorded through ``interactions.service`` (matching to a customer, the
match queue, the timeline) and is idempotent on the channel's own message id: a redelivery
answers ``200`` with the stored contact and writes nothing. See docs/api/channels.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from onethread.access.rules import CUSTOMER_WRITERS, FIELD_SUBCONTRACTOR
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.party_interaction import contact_path
from onethread.api.v1.answers import channels as out
from onethread.api.v1.attachments import files_of
from onethread.attachments import service as attachments
from onethread.errors import NotFound, ValidationFailed
from onethread.interactions import rules
from onethread.interactions import service as interactions
from onethread.interactions import session_service as sessions
from onethread.interactions.service import Intake, Recorded
from onethread.models import Contact, ContactSession

router = APIRouter(prefix="/api/v1/channels", tags=["channel intake"], route_class=AnswerRoute)
FIELD_WRITERS = CUSTOMER_WRITERS | {FIELD_SUBCONTRACTOR}

ChannelId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=26)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=rules.MAX_SUBJECT)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=rules.MAX_TEXT)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttachmentIn(_In):
    """A file the channel hands over (a scan, a photo): its bytes as base64 ``content`` are kept by
    onethread (checked: size, type, bytes that match the type); without content, its metadata only."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    mimeType: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    url: str | None = Field(None, max_length=2000)
    sizeBytes: StrictInt | None = Field(None, ge=0)
    description: str | None = Field(None, max_length=1000)
    content: str | None = Field(None, description="the file, base64")


class _Identified(_In):
    """Who the sender may be: onethread resolves these to the holder at the contact's time."""

    customerId: Ref | None = None
    phone: Short | None = None
    email: Short | None = None
    accountNumber: Short | None = None

    def identifiers(self) -> dict[str, str]:
        pairs = (("msisdn", self.phone), ("email", self.email), ("account", self.accountNumber))
        return {kind: value for kind, value in pairs if value}

    def require_someone(self) -> None:
        if not self.customerId and not self.identifiers():
            raise ValidationFailed("say who the customer is: customerId, phone, email or accountNumber")


class StoreVisitIn(_Identified):
    visitId: ChannelId
    at: AwareDatetime | None = None
    advisorId: Ref | None = None
    reason: Subject | None = None
    note: Text | None = None


class StoreNoteIn(_In):
    noteId: ChannelId
    text: Text
    at: AwareDatetime | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class TelephonyEventIn(_In):
    event: Literal["started", "transferred", "ended"]
    callId: ChannelId
    at: AwareDatetime
    direction: Literal["inbound", "outbound"] = "inbound"
    callingNumber: Short | None = None
    calledNumber: Short | None = None
    agentId: Ref | None = None
    toTeamId: Ref | None = None
    toStaffId: Ref | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = None

    @model_validator(mode="after")
    def _fits_event(self) -> TelephonyEventIn:
        if self.event == "transferred" and not (self.toTeamId or self.toStaffId):
            raise ValueError("a transferred event says where to: toTeamId or toStaffId")
        if self.event != "transferred" and (self.toTeamId or self.toStaffId):
            raise ValueError("toTeamId and toStaffId belong to a transferred event")
        if self.event != "started" and (self.agentId or self.callingNumber or self.calledNumber):
            raise ValueError("agentId, callingNumber and calledNumber belong to a started event")
        return self


class LetterIn(_In):
    letterRef: ChannelId
    receivedOn: date
    senderName: Short
    senderAddress: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    accountNumber: Short | None = None
    customerId: Ref | None = None
    text: Text
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class TechnicianIn(_In):
    name: Short
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    company: Short | None = None


class FieldNoteIn(_Identified):
    noteId: ChannelId
    workOrderRef: Short
    technician: TechnicianIn
    text: Text
    at: AwareDatetime | None = None
    photos: list[AttachmentIn] = Field(default_factory=list, max_length=50)


class VisitorIn(_In):
    name: Short | None = None
    phone: Short | None = None
    email: Short | None = None
    accountNumber: Short | None = None


class ChatMessageIn(_In):
    chatId: ChannelId
    messageId: ChannelId
    sender: Literal["customer", "agent"] = Field(..., alias="from")
    text: Text
    at: AwareDatetime | None = None
    agentId: Ref | None = None
    visitor: VisitorIn | None = None


class ChatEndedIn(_In):
    chatId: ChannelId


class WebFormIn(_In):
    submissionId: ChannelId
    formName: Short | None = None
    email: Short | None = None
    phone: Short | None = None
    accountNumber: Short | None = None
    subject: Subject
    text: Text
    at: AwareDatetime | None = None


# --- answers ---------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def contact_json(contact: Contact | None) -> dict:
    if contact is None:
        return {"@type": "ChannelContact", "id": None, "matchStatus": None, "customerId": None}
    return {"@type": "ChannelContact", "id": contact.id, "href": contact_path(contact.id), "channel": contact.channel,
            "kind": contact.kind, "direction": contact.direction, "occurredAt": _iso(contact.occurred_at),
            "messageId": contact.channel_message_id, "matchStatus": contact.match_status,
            "customerId": contact.customer_id, "sessionId": contact.session_id}


def _answer(response: Response, recorded: Recorded) -> dict:
    """201 with the new contact, or 200 with the stored one for a redelivery."""
    response.status_code = 201 if recorded.created else 200
    response.headers["Location"] = contact_path(recorded.contact.id)
    return contact_json(recorded.contact)


def _session_json(live: ContactSession, contact: Contact | None = None) -> dict:
    return {**contact_json(contact), "sessionId": live.id, "sessionStatus": live.status,
            "holder": {"staffId": live.holder_staff_id, "teamId": live.holder_team_id},
            "startedAt": _iso(live.started_at), "endedAt": _iso(live.ended_at)}


def _attachments(items: list[AttachmentIn], attachment_type: str) -> list[dict]:
    """The metadata kept on the contact; those with content first (their files are kept in that order)."""
    return [{**a.model_dump(exclude_none=True, exclude={"content"}), "attachmentType": attachment_type}
            for a in sorted(items, key=lambda a: a.content is None)]


def _recorded_with_files(session, clock, actor, intake: Intake, items: list[AttachmentIn], source: str,
                         container, *, field: str = "attachments", record=None) -> interactions.Recorded:
    """Record the contact and keep the files it carries; a refused file refuses it all (nothing written)."""
    files = files_of(items, field=field)
    attachments.check_all(session, files, field=field)
    recorded = (record or interactions.record)(session, clock, actor, intake, region=_region(container))
    if recorded.created and files:
        attachments.keep(session, clock, actor, recorded.contact, files, source=source)
    return recorded


def _region(container) -> str:
    return container.settings.default_region


def _store_visit(session, session_id: str) -> ContactSession:
    live = sessions.get(session, session_id)
    if live.channel != "store":
        raise NotFound(f"no store visit {session_id} (it is a {live.channel} session)")
    return live


# --- store -----------------------------------------------------------------------------------

@router.post("/store/visits", response_model=out.ChannelContact,
             status_code=201, summary="A customer checks in at the store: opens the visit session")
def store_visit(body: StoreVisitIn, response: Response, session: DbSession, clock: ClockDep, container: ContainerDep,
                actor: allow(CUSTOMER_WRITERS)) -> dict:
    body.require_someone()
    intake = Intake(channel="store", direction="inbound", occurred_at=body.at or clock.now(), kind="visit",
                    subject=body.reason, text=body.note, channel_message_id=f"visit:{body.visitId}",
                    identifiers=body.identifiers(), customer_id=body.customerId,
                    extra={"visitId": body.visitId, "advisorId": body.advisorId})
    recorded = interactions.open_session_contact(session, clock, actor, intake, external_id=body.visitId,
                                                 staff_id=body.advisorId, staff_field="advisorId",
                                                 region=_region(container))
    return _answer(response, recorded)


@router.post("/store/visits/{session_id}/notes", response_model=out.ChannelContact,
             status_code=201, summary="The advisor's note on a store visit")
def store_note(session_id: str, body: StoreNoteIn, response: Response, session: DbSession, clock: ClockDep,
               container: ContainerDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    live = _store_visit(session, session_id)
    intake = Intake(channel="store", direction="internal", occurred_at=body.at or clock.now(), kind="visit_note",
                    text=body.text, channel_message_id=f"note:{body.noteId}", session_id=live.id,
                    attachments=_attachments(body.attachments, "storeDocument"), extra={"noteId": body.noteId})
    return _answer(response, _recorded_with_files(session, clock, actor, intake, body.attachments, "api", container,
                                                  record=interactions.record_in_session))


@router.post("/store/visits/{session_id}/end", response_model=out.ChannelSession,
             summary="The customer leaves: the visit session ends (repeatable)")
def store_visit_end(session_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    live = _store_visit(session, session_id)
    sessions.end(session, clock, actor, live.id)
    return _session_json(live)


# --- telephony -------------------------------------------------------------------------------

@router.post("/telephony/events", response_model=out.ChannelSession, status_code=201,
             summary="A call event from the telephony system: started, transferred or ended")
def telephony_event(body: TelephonyEventIn, response: Response, session: DbSession, clock: ClockDep,
                    container: ContainerDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    message_id = f"call:{body.callId}"
    if body.event == "started":
        number = body.callingNumber if body.direction == "inbound" else body.calledNumber
        intake = Intake(channel="phone", direction=body.direction, occurred_at=body.at, kind="call",
                        channel_message_id=message_id, identifiers={"msisdn": number} if number else {},
                        extra={"callId": body.callId, "callingNumber": body.callingNumber,
                               "calledNumber": body.calledNumber, "agentId": body.agentId})
        recorded = interactions.open_session_contact(session, clock, actor, intake, external_id=body.callId,
                                                     staff_id=body.agentId, staff_field="agentId",
                                                     region=_region(container))
        answer = _answer(response, recorded) | {"event": "started"}
        if recorded.contact.session_id is None:  # a phone contact stored earlier without a call session
            return answer
        return _session_json(sessions.get(session, recorded.contact.session_id), recorded.contact) | answer
    if body.event == "transferred":
        live, hop = interactions.transfer_by_external_id(
            session, clock, actor, channel="phone", external_id=body.callId, at=body.at, to_staff_id=body.toStaffId,
            to_team_id=body.toTeamId, reason=body.reason or "transferred by the telephony system", field="callId")
        response.status_code = 201 if hop is not None else 200
    else:
        live, _ = interactions.end_by_external_id(session, clock, actor, channel="phone", external_id=body.callId,
                                                  field="callId")
        response.status_code = 200
    contact = interactions.find_by_message_id(session, "phone", message_id)
    return _session_json(live, contact) | {"event": body.event}


# --- letters, field notes, forms ---------------------------------------------------------------

@router.post("/letters", response_model=out.ChannelContact,
             status_code=201, summary="The back office keys in a letter (with its scans' metadata)")
def letter(body: LetterIn, response: Response, session: DbSession, clock: ClockDep, container: ContainerDep,
           actor: allow(CUSTOMER_WRITERS)) -> dict:
    if body.receivedOn > clock.now().date():
        raise ValidationFailed("receivedOn is in the future", field="receivedOn")
    intake = Intake(channel="letter", direction="inbound", kind="letter", text=body.text,
                    occurred_at=datetime.combine(body.receivedOn, time(0), tzinfo=UTC),
                    channel_message_id=f"letter:{body.letterRef}",
                    identifiers={"account": body.accountNumber} if body.accountNumber else {},
                    customer_id=body.customerId, attachments=_attachments(body.attachments, "scan"),
                    extra={"letterRef": body.letterRef, "senderName": body.senderName,
                           "senderAddress": body.senderAddress})
    return _answer(response, _recorded_with_files(session, clock, actor, intake, body.attachments, "api", container))


@router.post("/field/notes", response_model=out.ChannelContact,
             status_code=201, summary="A field technician's note on a work order (with photos)")
def field_note(body: FieldNoteIn, response: Response, session: DbSession, clock: ClockDep, container: ContainerDep,
               actor: allow(FIELD_WRITERS)) -> dict:
    body.require_someone()
    intake = Intake(channel="field", direction="internal", kind="technician_note", text=body.text,
                    occurred_at=body.at or clock.now(), channel_message_id=f"fieldnote:{body.noteId}",
                    identifiers=body.identifiers(), customer_id=body.customerId,
                    attachments=_attachments(body.photos, "photo"),
                    extra={"noteId": body.noteId, "workOrderRef": body.workOrderRef,
                           "technician": body.technician.model_dump(exclude_none=True)})
    return _answer(response, _recorded_with_files(session, clock, actor, intake, body.photos, "field", container,
                                                  field="photos"))


@router.post("/web-forms", response_model=out.ChannelContact,
             status_code=201, summary="An online form submission (contact us, complaint form)")
def web_form(body: WebFormIn, response: Response, session: DbSession, clock: ClockDep, container: ContainerDep,
             actor: allow(CUSTOMER_WRITERS)) -> dict:
    ids = _Identified(phone=body.phone, email=body.email, accountNumber=body.accountNumber).identifiers()
    intake = Intake(channel="portal", direction="inbound", kind="form", subject=body.subject, text=body.text,
                    occurred_at=body.at or clock.now(), channel_message_id=f"form:{body.submissionId}",
                    identifiers=ids, extra={"submissionId": body.submissionId, "formName": body.formName})
    return _answer(response, interactions.record(session, clock, actor, intake, region=_region(container)))


# --- web chat --------------------------------------------------------------------------------

@router.post("/chat/messages", response_model=out.ChannelContact, status_code=201,
             summary="A web chat message; the chat's first message opens its session")
def chat_message(body: ChatMessageIn, response: Response, session: DbSession, clock: ClockDep,
                 container: ContainerDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    visitor = body.visitor or VisitorIn()
    ids = _Identified(phone=visitor.phone, email=visitor.email, accountNumber=visitor.accountNumber).identifiers()
    intake = Intake(channel="chat", direction="inbound" if body.sender == "customer" else "outbound", kind="chat",
                    text=body.text, occurred_at=body.at or clock.now(),
                    channel_message_id=f"chat:{body.chatId}:{body.messageId}", identifiers=ids,
                    extra={"chatId": body.chatId, "messageId": body.messageId, "from": body.sender,
                           "agentId": body.agentId, "visitorName": visitor.name})
    recorded = interactions.open_session_contact(session, clock, actor, intake, external_id=body.chatId,
                                                 staff_id=body.agentId, staff_field="agentId",
                                                 region=_region(container))
    return _answer(response, recorded)


@router.post("/chat/ended", response_model=out.ChannelSession,
             summary="The chat is over: its session ends (repeatable)")
def chat_ended(body: ChatEndedIn, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    live, _ = interactions.end_by_external_id(session, clock, actor, channel="chat", external_id=body.chatId,
                                              field="chatId")
    return _session_json(live)
