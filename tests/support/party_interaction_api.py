"""Contacts through the TMF partyInteraction API: a customer with a number, a request body, and
the counts of what a request wrote."""

from __future__ import annotations

from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.db.outbox import OutboxEvent
from onethread.models import Contact, ContactSession, MatchItem, TimelineEntry

BASE = "/tmf-api/partyInteraction/v5/partyInteraction"


def make_customer(uow, clock, given="Jane", family="Doe", msisdn="07700 900555") -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
        cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="msisdn", value=msisdn, region="GB")
    return cid


def body(customer_id: str | None = None, message_id: str | None = "M-1", channel: str = "phone", **extra) -> dict:
    out = {
        "@type": "PartyInteraction",
        "relatedChannel": [{"@type": "RelatedChannel", "role": "interaction creation",
                            "channel": {"@type": "ChannelRef", "id": channel}}],
        "direction": "inbound",
        "reason": "Billing error",
        "description": "Charged for a SIM that was removed in March.",
        "interactionDate": {"startDateTime": "2026-03-02T08:30:00Z", "endDateTime": "2026-03-02T08:41:00Z"},
        "attachment": [{"@type": "Attachment", "name": "bill-april.pdf", "mimeType": "application/pdf",
                        "attachmentType": "bill", "url": "https://files.example/bill-april.pdf",
                        "size": {"amount": 120, "units": "KB"}}],
        "note": [{"@type": "Note", "author": "Sam", "date": "2026-03-02T08:45:00Z", "text": "Promised a call back"}],
        **extra,
    }
    if customer_id:
        out["relatedParty"] = [{"@type": "RelatedPartyOrPartyRole", "role": "customer",
                                "partyOrPartyRole": {"@type": "PartyRef", "id": customer_id}}]
    if message_id:
        out["externalIdentifier"] = [{"@type": "ExternalIdentifier", "id": message_id, "owner": "ContactCentreACD",
                                      "externalIdentifierType": "messageId"}]
    return out


def counts(container) -> dict[str, int]:
    with container.sessions() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m))
                for m in (Contact, ContactSession, MatchItem, OutboxEvent, TimelineEntry)}
