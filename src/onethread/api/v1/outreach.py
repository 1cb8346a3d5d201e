"""Outreach beside TMF681 (``/api/v1``): a case's messages with the guard's verdicts, deciding a
held message, contact preferences, letters as PDF (staff and portal), print batches, the channel
board, signed SMS delivery receipts, and readiness.

Translation only: the rules are in ``onethread.outreach``. See docs/api/outreach.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from onethread.access.rules import BACK_OFFICE, CUSTOMER_READERS, CUSTOMER_WRITERS, SUPERVISORS
from onethread.api.answers import AnswerRoute, media
from onethread.api.deps import PUBLIC, ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.answers import CommunicationMessage
from onethread.api.tmf.communication_message import render
from onethread.api.tmf.conventions import paged
from onethread.api.v1.answers import outreach as out
from onethread.api.v1.portal import PortalUser
from onethread.errors import NotAuthenticated, ValidationFailed
from onethread.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT
from onethread.outreach import campaign_send, campaigns, health, queries, sms
from onethread.outreach import service as outreach

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["outreach"], route_class=AnswerRoute)
PRINTERS = frozenset({BACK_OFFICE, "admin"})


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionIn(_In):
    decision: Literal["release", "mark_sent", "cancel"]
    note: str = Field(..., min_length=1, max_length=2000)


class PreferencesIn(_In):
    channels: list[str] = Field(default_factory=list, max_length=3, description="allowed channels (empty: any)")
    marketingConsent: bool = False
    optedOut: list[str] = Field(default_factory=list, max_length=2, description="retention | marketing")
    quietFrom: int | None = Field(None, description="hour of day, market time")
    quietTo: int | None = None
    copyRepresentative: bool = False
    language: str | None = Field(None, max_length=10)


class ReceiptIn(_In):
    id: str = Field(..., min_length=1, max_length=200, description="the provider's message id")
    status: Literal["delivered", "failed"]
    at: AwareDatetime | None = None
    error: str | None = Field(None, max_length=500)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def preferences_json(customer_id: str, pref) -> dict:
    if pref is None:
        return {"@type": "ContactPreferences", "customerId": customer_id, "channels": [], "marketingConsent": False,
                "optedOut": [], "quietFrom": None, "quietTo": None, "copyRepresentative": False, "language": None,
                "recorded": False}
    return {"@type": "ContactPreferences", "customerId": customer_id, "channels": pref.channels,
            "marketingConsent": pref.marketing_consent, "optedOut": pref.opted_out, "quietFrom": pref.quiet_from,
            "quietTo": pref.quiet_to, "copyRepresentative": pref.copy_representative, "language": pref.language,
            "recorded": True, "updatedAt": _iso(pref.updated_at)}


@router.get("/cases/{case_id}/messages", response_model=list[CommunicationMessage],
            summary="The case's outbound messages with status, verdict and reasons")
def case_messages(case_id: str, response: Response, session: DbSession, clock: ClockDep,
                  actor: allow(CUSTOMER_READERS), offset: int = 0, limit: int = DEFAULT_LIMIT) -> list[dict]:
    if not 0 < limit <= MAX_LIMIT or offset < 0:
        raise ValidationFailed(f"limit is 1-{MAX_LIMIT}, offset at least 0", field="limit")
    rows, total = queries.list_messages(session, clock, actor, offset=offset, limit=limit, case_id=case_id,
                                        channel="api")
    return paged(response, render(session, rows), total, None)


@router.post("/outbound-messages/{message_id}/decision", response_model=CommunicationMessage,
             summary="A team lead or admin releases, confirms as sent, or cancels a held message")
def decide(message_id: str, body: DecisionIn, session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> dict:
    message = outreach.decide(session, clock, actor, message_id, decision=body.decision, note=body.note)
    return render(session, [message])[0]


@router.get("/customers/{customer_id}/contact-preferences", response_model=out.ContactPreferences,
            summary="How the customer wants to be reached")
def get_preferences(customer_id: str, session: DbSession, actor: allow(CUSTOMER_READERS)) -> dict:
    return preferences_json(customer_id, outreach.preferences(session, customer_id))


@router.put("/customers/{customer_id}/contact-preferences", response_model=out.ContactPreferences,
            summary="Record the customer's channels, consent, opt-outs, quiet hours and copies")
def put_preferences(customer_id: str, body: PreferencesIn, session: DbSession, clock: ClockDep,
                    actor: allow(CUSTOMER_WRITERS)) -> dict:
    pref = outreach.set_preferences(session, clock, actor, customer_id, channels=body.channels,
                                    marketing_consent=body.marketingConsent, opted_out=body.optedOut,
                                    quiet_from=body.quietFrom, quiet_to=body.quietTo,
                                    copy_representative=body.copyRepresentative, language=body.language)
    return preferences_json(customer_id, pref)


def _pdf(doc) -> Response:
    return Response(doc.content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{doc.filename}"'})


@router.get("/letters/{document_id}/pdf", responses=media("application/pdf"),
            summary="A letter as it was sent, as PDF (staff)")
def letter_pdf(document_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS)) -> Response:
    return _pdf(queries.read_letter(session, clock, actor, document_id, channel="api"))


@router.get("/portal/letters/{document_id}/pdf", responses=media("application/pdf"),
            summary="One of my letters as PDF (portal; 404 if not mine)")
def portal_letter_pdf(document_id: str, session: DbSession, clock: ClockDep, viewer: PortalUser) -> Response:
    return _pdf(queries.read_letter(session, clock, viewer.principal, document_id, channel="portal",
                                    may_see=viewer.sees))


def _zip(batch: queries.PrintBatch) -> Response:
    return Response(batch.archive, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="print-batch-{batch.id}.zip"', "X-Letter-Count":
        str(batch.count), "X-Print-Batch": batch.id})


@router.post("/print-batches", status_code=201, responses=media("application/zip", status=201),
             summary="Every postal letter not printed yet, as one ZIP of PDFs with a manifest (back office)")
def print_batch(session: DbSession, clock: ClockDep, actor: allow(PRINTERS)) -> Response:
    batch = queries.print_batch(session, clock, actor)
    answer = _zip(batch)
    answer.status_code = 201
    answer.headers["Location"] = f"{V1}/print-batches/{batch.id}"
    return answer


@router.get("/print-batches/{batch_id}", responses=media("application/zip"),
            summary="A print batch again, as it was exported")
def get_print_batch(batch_id: str, session: DbSession, clock: ClockDep, actor: allow(PRINTERS)) -> Response:
    return _zip(queries.batch_archive(session, clock, actor, batch_id))


@router.get("/channels/health", response_model=list[out.ChannelState],
            summary="Every inbound and outbound channel: state, last success and error, lag")
def channel_board(session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> list[dict]:
    return [v.as_dict() for v in health.board(session, clock)]


async def _raw(request: Request) -> bytes:
    return await request.body()


@router.post("/channels/sms/receipts", response_model=out.SmsReceipt, dependencies=[PUBLIC],
             summary="The SMS provider's delivery receipt, signed with HMAC-SHA256 (X-Onethread-Signature)")
def sms_receipt(body: Annotated[bytes, Depends(_raw)], session: DbSession, clock: ClockDep, container: ContainerDep,
                x_onethread_signature: Annotated[str | None, Header()] = None) -> dict:
    if not sms.verify_signature(container.settings.sms_webhook_secret, body, x_onethread_signature):
        raise NotAuthenticated("the receipt's signature is missing or wrong")
    try:
        receipt = ReceiptIn.model_validate_json(body)
    except ValidationError as exc:
        raise ValidationFailed("; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                                         for e in exc.errors())) from exc
    message = outreach.receipt(session, clock, provider_ref=receipt.id, status=receipt.status, at=receipt.at,
                               error=receipt.error)
    return {"@type": "SmsReceipt", "messageId": message.id, "status": message.status}


# --- campaigns -----------------------------------------------------------------------------------

class SegmentIn(_In):
    customerSegment: Literal["consumer", "business"] | None = None
    productKind: str | None = Field(None, max_length=30, description="customers with an active product of this kind")
    customerSinceBefore: str | None = Field(None, description="YYYY-MM-DD")


class CampaignIn(_In):
    name: str = Field(..., min_length=1, max_length=200)
    purpose: Literal["marketing", "retention"]
    channel: Literal["email", "letter", "sms"]
    subject: str | None = Field(None, max_length=300)
    content: str = Field(..., min_length=1, max_length=20_000)
    segment: SegmentIn | None = Field(None, description="a filter; leave out to upload a list")


class RecipientsIn(_In):
    customerIds: list[str] = Field(..., min_length=1, max_length=campaigns.LIST_MAX)


def campaign_json(c) -> dict:
    return {"@type": "Campaign", "id": c.id, "href": f"{V1}/campaigns/{c.id}", "name": c.name, "purpose": c.purpose,
            "channel": c.channel, "subject": c.subject, "content": c.body, "segment": c.segment, "status": c.status,
            "recipients": c.recipients, "counts": c.counts, "evaluatedAt": _iso(c.evaluated_at),
            "createdAt": _iso(c.created_at), "sendRequestedAt": _iso(c.send_requested_at),
            "sendRequestedBy": c.send_requested_by_name, "queued": c.queued or 0}


@router.post("/campaigns", response_model=out.Campaign,
             status_code=201, summary="A draft campaign to a segment (a filter, or a list uploaded next)")
def create_campaign(body: CampaignIn, response: Response, session: DbSession, clock: ClockDep,
                    actor: allow(SUPERVISORS)) -> dict:
    c = campaigns.create(session, clock, actor, name=body.name, purpose=body.purpose, channel=body.channel,
                         subject=body.subject, body=body.content,
                         segment=body.segment.model_dump(exclude_none=True) if body.segment else None)
    response.headers["Location"] = f"{V1}/campaigns/{c.id}"
    return campaign_json(c)


@router.post("/campaigns/{campaign_id}/recipients", response_model=out.CampaignWithUpload,
             summary="Upload a list of customers (up to 10,000 a request)")
def add_recipients(campaign_id: str, body: RecipientsIn, session: DbSession, actor: allow(SUPERVISORS)) -> dict:
    added, unknown = campaigns.add_list(session, campaign_id, body.customerIds)
    return {**campaign_json(campaigns.get(session, campaign_id)), "added": added, "notCustomers": unknown}


@router.post("/campaigns/{campaign_id}/evaluate", response_model=out.Campaign,
             summary="The guard over every recipient at once, in the database: counts per verdict and reason")
def evaluate_campaign(campaign_id: str, session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> dict:
    return campaign_json(campaigns.evaluate(session, clock, campaign_id))


@router.post("/campaigns/{campaign_id}/send", response_model=out.Campaign, status_code=202,
             summary="Send an evaluated campaign: the worker queues its recipients' messages, each guarded again")
def send_campaign(campaign_id: str, session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> dict:
    return campaign_json(campaign_send.request_send(session, clock, actor, campaign_id))


@router.get("/campaigns/{campaign_id}", response_model=out.Campaign,
            summary="A campaign with its counts per verdict and reason")
def get_campaign(campaign_id: str, session: DbSession, actor: allow(SUPERVISORS)) -> dict:
    return campaign_json(campaigns.get(session, campaign_id))
