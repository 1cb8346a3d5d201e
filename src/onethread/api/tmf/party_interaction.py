"""TMF683 Party Interaction v5: ``/tmf-api/partyInteraction/v5/partyInteraction`` (contacts).

A contact is a ``PartyInteraction``. onethread's own attributes (how the contact was matched to a
customer, its contact session, its case) ride on the ``OnethreadPartyInteraction`` sub-class,
``@baseType: PartyInteraction``, as TMF allows. See docs/api/party-interaction.md.

Every PartyInteraction attribute of the specification is accepted (``api.tmf.attributes``):
stored (channel, direction, reason, description, dates, the customer in ``relatedParty``,
attachments' metadata, notes, external identifiers), kept as given (``KEPT``: interaction items and
relationships, and the ``relatedParty`` entries other than the customer), set by onethread
(``status``, ``creationDate``, ``lastUpdate``) or refused with the reason (attachment content).

Translation only: matching, idempotency and the audit of reads are in ``interactions.service``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.answers import PartyInteraction as PartyInteractionAnswer
from onethread.api.tmf.attributes import OBJECTS, TmfResourceIn, split_entries, with_kept
from onethread.api.tmf.conventions import ListParams, paged, parse_fields, parse_model, select_fields
from onethread.api.tmf.shapes import RelatedPartyIn
from onethread.api.tmf.shapes import TmfIn as _Tmf
from onethread.api.v1.attachments import files_of
from onethread.attachments import service as attachments
from onethread.errors import ValidationFailed
from onethread.integrations.rules import schema_location
from onethread.interactions import rules
from onethread.interactions import service as interactions
from onethread.inventory import service as inventory
from onethread.kernel import channels
from onethread.models import Contact

BASE = "/tmf-api/partyInteraction/v5"
EXTENSION = "OnethreadPartyInteraction"
MESSAGE_ID = "messageId"  # externalIdentifierType of the channel's own message id
CHANNEL_ROLE = "interactionChannel"
CHANNEL_NAMES = channels.LABELS
router = APIRouter(prefix=BASE, tags=["TMF683 party interaction"], route_class=AnswerRoute)


class ChannelRefIn(_Tmf):
    id: str | None = Field(None, max_length=40)
    href: str | None = None
    name: str | None = Field(None, max_length=100)
    referred_type: str | None = Field(None, alias="@referredType")


class RelatedChannelIn(_Tmf):
    role: str = Field(..., max_length=100)
    channel: ChannelRefIn


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: StrictInt | StrictFloat = Field(..., ge=0)
    units: str = Field(..., max_length=20)


class TimePeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    startDateTime: AwareDatetime | None = None
    endDateTime: AwareDatetime | None = None


class AttachmentIn(_Tmf):
    type_: Literal["Attachment", "AttachmentRef"] = Field("Attachment", alias="@type")
    id: str | None = Field(None, max_length=200)
    href: str | None = Field(None, max_length=2000)
    name: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=2000)
    url: str | None = Field(None, max_length=2000)
    mimeType: str | None = Field(None, max_length=100)
    attachmentType: str | None = Field(None, max_length=100)
    size: QuantityIn | None = None
    validFor: TimePeriodIn | None = None
    content: str | None = None


class NoteIn(_Tmf):
    id: str | None = Field(None, max_length=100)
    author: str | None = Field(None, max_length=200)
    date: AwareDatetime | None = None
    text: str = Field(..., max_length=10_000)


class ExternalIdentifierIn(_Tmf):
    id: str = Field(..., min_length=1, max_length=200)
    owner: str | None = Field(None, max_length=100)
    externalIdentifierType: str | None = Field(None, max_length=100)


# TMF683 attributes onethread keeps as given (no home of its own): checked for their JSON type.
KEPT = {"interactionItem": OBJECTS, "interactionRelationship": OBJECTS,
        "relatedParty": OBJECTS}  # the customer's entry is onethread's, the others are kept


class PartyInteractionCreate(TmfResourceIn):
    KEPT = KEPT
    SERVER_SET = frozenset({"id", "href", "creationDate", "lastUpdate", "statusChangeDate"})
    relatedChannel: list[RelatedChannelIn] = Field(..., min_length=1, max_length=1)
    direction: Literal["inbound", "outbound", "internal"]
    reason: str = Field(..., min_length=1, max_length=rules.MAX_SUBJECT)
    description: str | None = Field(None, max_length=rules.MAX_TEXT)
    interactionDate: TimePeriodIn | None = None
    status: Literal["open", "inProgress", "completed"] | None = None
    attachment: list[AttachmentIn] = Field(default_factory=list, max_length=50)
    note: list[NoteIn] = Field(default_factory=list, max_length=50)
    externalIdentifier: list[ExternalIdentifierIn] = Field(default_factory=list, max_length=10)
    # OnethreadPartyInteraction extension
    kind: str | None = Field(None, max_length=30, description=f"{EXTENSION}: message, call, visit, post, letter...")
    identifiers: dict[str, str] | None = Field(None, max_length=6, description=f"{EXTENSION}: what the channel "
                                               "knew about the sender (msisdn, email, social, account, iccid, imei)")
    sessionId: str | None = Field(None, max_length=26, description=f"{EXTENSION}: the contact session it is part of")


def contact_path(contact_id: str) -> str:
    return f"{BASE}/partyInteraction/{contact_id}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _attachment(a: dict) -> dict:
    """A stored attachment's metadata as a TMF ``Attachment`` (channels store a few shapes of it)."""
    out: dict = {"@type": "Attachment"}
    for key in ("id", "name", "description", "url", "attachmentType"):
        if isinstance(a.get(key), str):
            out[key] = a[key]
    mime = a.get("mimeType") or a.get("contentType")
    if isinstance(mime, str):
        out["mimeType"] = mime
    size = a.get("size")
    if isinstance(size, dict) and isinstance(size.get("amount"), int | float):
        out["size"] = {"amount": size["amount"], "units": str(size.get("units", "bytes"))}
    elif isinstance(a.get("sizeBytes"), int) or isinstance(size, int):
        out["size"] = {"amount": a.get("sizeBytes", size), "units": "bytes"}
    return out


def to_tmf(contact: Contact, ctx: interactions.ContactContext) -> dict:
    live = ctx.sessions.get(contact.session_id) if contact.session_id else None
    extra = contact.extra or {}
    when: dict = {"startDateTime": _iso(contact.occurred_at)}
    ended = live.ended_at if live is not None else None
    if ended is None and isinstance(extra.get("endedAt"), str):
        ended = datetime.fromisoformat(extra["endedAt"])
    if ended is not None:
        when["endDateTime"] = _iso(ended)
    body: dict = {
        "id": contact.id,
        "href": contact_path(contact.id),
        "@type": EXTENSION,
        "@baseType": "PartyInteraction",
        "@schemaLocation": schema_location(EXTENSION),
        "direction": contact.direction,
        "interactionDate": when,
        "status": rules.contact_status(live.status if live is not None else None),
        "creationDate": _iso(contact.recorded_at),
        "relatedChannel": [{
            "@type": "RelatedChannel", "role": CHANNEL_ROLE,
            "channel": {"@type": "ChannelRef", "id": contact.channel,
                        "name": CHANNEL_NAMES.get(contact.channel, contact.channel)},
        }],
        "relatedParty": [],
        "attachment": [_attachment(a) for a in contact.attachments or [] if isinstance(a, dict)],
        "note": [{"@type": "Note", **{k: n[k] for k in ("id", "author", "date", "text") if isinstance(n.get(k), str)}}
                 for n in extra.get("notes", []) if isinstance(n, dict)],
        "externalIdentifier": [],
        "kind": contact.kind,
        "matchStatus": contact.match_status,
        "sessionId": contact.session_id,
        "caseId": contact.case_id,
        "identifiers": contact.identifiers or {},
        "recordedBy": contact.actor_name,
    }
    if contact.subject:
        body["reason"] = contact.subject
    if contact.text:
        body["description"] = contact.text
    customer = ctx.customers.get(contact.customer_id) if contact.customer_id else None
    if customer is not None:
        body["relatedParty"].append({
            "@type": "RelatedPartyOrPartyRole", "role": "customer",
            "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer.id, "name": customer.name,
                                 "href": f"/tmf-api/customer/v5/customer/{customer.id}",
                                 "@referredType": "Customer", "partyId": customer.party_id},
        })
    if contact.channel_message_id:
        body["externalIdentifier"].append({
            "@type": "ExternalIdentifier", "id": contact.channel_message_id, "externalIdentifierType": MESSAGE_ID,
            "owner": str(extra.get("messageIdOwner") or contact.channel)})
    for ext in extra.get("externalIdentifier", []):
        if isinstance(ext, dict) and isinstance(ext.get("id"), str):
            body["externalIdentifier"].append({"@type": "ExternalIdentifier", **{
                k: ext[k] for k in ("id", "owner", "externalIdentifierType") if isinstance(ext.get(k), str)}})
    return with_kept(body, extra.get("tmf"), appended=("relatedParty",))


def render(session, contacts: list[Contact]) -> list[dict]:
    ctx = interactions.context_of(session, contacts)
    return [to_tmf(c, ctx) for c in contacts]


def _channel(related: list[RelatedChannelIn]) -> str:
    ref = related[0].channel
    names = {(ref.id or "").strip().lower(), (ref.name or "").strip().lower()} - {""}
    known = {v.lower(): k for k, v in CHANNEL_NAMES.items()}
    chosen = {known.get(n) or rules.channel_named(n) for n in names}
    if not names or None in chosen or len(chosen) != 1:
        raise ValidationFailed(f"relatedChannel.channel names one onethread channel by id: "
                               f"{', '.join(rules.CHANNELS)} (got id {ref.id!r}, name {ref.name!r})",
                               field="relatedChannel")
    return chosen.pop()


def _is_customer(entry: dict) -> bool:
    return entry.get("role") == "customer"


def _customer_id(session, entries: list[dict]) -> str | None:
    if not entries:
        return None
    if len(entries) > 1:
        raise ValidationFailed("relatedParty: a contact has one customer (role 'customer')", field="relatedParty")
    ref = parse_model(RelatedPartyIn, entries[0]).partyOrPartyRole
    return inventory.resolve_customer(session, ref.type_, ref.id).id


def _message_id(ids: list[ExternalIdentifierIn]) -> tuple[ExternalIdentifierIn | None, list[dict]]:
    mine = [e for e in ids if e.externalIdentifierType == MESSAGE_ID]
    if len(mine) > 1:
        raise ValidationFailed(f"one externalIdentifier of type {MESSAGE_ID!r} at most: the channel's own "
                               "message id", field="externalIdentifier")
    others = [e.model_dump(exclude_none=True, include={"id", "owner", "externalIdentifierType"})
              for e in ids if e.externalIdentifierType != MESSAGE_ID]
    return (mine[0] if mine else None), others


def _check_type(body: PartyInteractionCreate) -> None:
    if body.type_ not in (None, "PartyInteraction", EXTENSION):
        raise ValidationFailed(f"@type is PartyInteraction (or {EXTENSION} with onethread's extension fields)",
                               field="@type")
    used = [k for k in ("kind", "identifiers", "sessionId") if getattr(body, k) is not None]
    if used and body.type_ != EXTENSION:
        raise ValidationFailed(f"{', '.join(used)}: {EXTENSION} extension fields; send \"@type\": \"{EXTENSION}\"",
                               field="@type")
    period = body.interactionDate
    if period and period.startDateTime and period.endDateTime and period.endDateTime < period.startDateTime:
        raise ValidationFailed("interactionDate ends before it starts", field="interactionDate")


@router.get("/partyInteraction", response_model=list[PartyInteractionAnswer],
            summary="List or find contacts (newest first)")
def list_party_interactions(
    response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
    params: ListParams = Depends(),
    customer_id: str | None = Query(None, alias="relatedParty.id", description="the customer's id"),
    channel: str | None = Query(None, description=f"one of {', '.join(rules.CHANNELS)}"),
    status: str | None = Query(None, description="inProgress (its session is live) or completed"),
    message_id: str | None = Query(None, alias="externalIdentifier.id", max_length=300,
                                   description="the channel's own message id (the externalIdentifier of type "
                                   "messageId; with channel=, the one contact it names)"),
) -> list[dict]:
    rows, total = interactions.list_contacts(session, clock, actor, offset=params.offset, limit=params.limit,
                                             customer_id=customer_id, channel=channel, status=status,
                                             message_id=message_id, via="api")
    return paged(response, render(session, rows), total, params.fields)


@router.get("/partyInteraction/{contact_id}", response_model=PartyInteractionAnswer, summary="Retrieve a contact")
def get_party_interaction(contact_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                          fields: str | None = None) -> dict:
    contact = interactions.read_contact(session, clock, actor, contact_id, channel="api")
    return select_fields(render(session, [contact])[0], parse_fields(fields))


@router.post("/partyInteraction", response_model=PartyInteractionAnswer, status_code=201,
             responses={200: {"model": PartyInteractionAnswer, "description": "a repeat: the stored contact"}},
             summary="Record a contact; a repeat with the same channel and messageId returns the stored one (200)")
def create_party_interaction(body: PartyInteractionCreate, session: DbSession, clock: ClockDep,
                             container: ContainerDep, actor: allow(CUSTOMER_WRITERS),
                             fields: str | None = None) -> JSONResponse:
    intake = intake_of(body, session, clock, with_content=True)
    files = files_of(body.attachment)
    attachments.check_all(session, files)  # a refused file refuses the contact: nothing is written
    recorded = interactions.record(session, clock, actor, intake, region=container.settings.default_region)
    if recorded.created and files:
        attachments.keep(session, clock, actor, recorded.contact, files, source="api")
    body = select_fields(render(session, [recorded.contact])[0], parse_fields(fields))
    # The body is JSON already (strings, numbers, stored JSON): written as it is, without a second
    # walk through FastAPI's encoder. A redelivery answers 200 with the stored contact.
    return JSONResponse(body, status_code=201 if recorded.created else 200,
                        headers={"Location": contact_path(recorded.contact.id)})


def intake_of(body: PartyInteractionCreate, session, clock, *, with_content: bool = False) -> interactions.Intake:
    """What a TMF683 create body hands to ``interactions.service`` (also each contact of a batch).
    Files (``attachment[].content``, base64) are kept only for a contact created on its own."""
    _check_type(body)
    if not with_content and any(a.content is not None for a in body.attachment):
        raise ValidationFailed("a batch carries attachment metadata only: send a contact with file content "
                               "on its own (POST /tmf-api/partyInteraction/v5/partyInteraction)", field="attachment")
    channel = _channel(body.relatedChannel)
    message_id, other_ids = _message_id(body.externalIdentifier)
    period = body.interactionDate or TimePeriodIn()
    extra: dict = {}
    if other_ids:
        extra["externalIdentifier"] = other_ids
    if message_id is not None and message_id.owner:
        extra["messageIdOwner"] = message_id.owner
    if body.note:
        extra["notes"] = [{k: (_iso(v) if isinstance(v, datetime) else v) for k, v in
                           n.model_dump(exclude_none=True, include={"id", "author", "date", "text"}).items()}
                          for n in body.note]
    if period.endDateTime is not None:
        extra["endedAt"] = _iso(period.endDateTime)
    kept = body.kept_new or {}
    customer, kept["relatedParty"] = split_entries(kept.get("relatedParty", []), _is_customer)
    kept = {k: v for k, v in kept.items() if v != []}
    if kept:
        extra["tmf"] = kept
    # those with content first: their files are kept in that order (attachments.keep)
    said = [a.model_dump(exclude_none=True, by_alias=False,
                         include={"id", "name", "description", "url", "mimeType", "attachmentType", "size"})
            for a in sorted(body.attachment, key=lambda a: a.content is None)]
    return interactions.Intake(
        channel=channel, direction=body.direction, occurred_at=period.startDateTime or clock.now(),
        text=body.description, subject=body.reason, kind=body.kind or rules.default_kind(channel),
        channel_message_id=message_id.id if message_id else None, identifiers=body.identifiers,
        attachments=said, customer_id=_customer_id(session, customer), session_id=body.sessionId,
        extra=extra)
