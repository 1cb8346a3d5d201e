"""The outbox consumer that turns each domain event into deliveries, one per subscription that
wants it, in the consumer's transaction (with its receipt): an event is queued for a subscription
exactly once, however often the outbox hands it over after a crash.

A TMF event carries the resource's reference and state, not its personal data: the id, href, type,
status and a few codes (``ticketType``, ``severity``, ``direction``, the customer's id). A listener
reads the rest through the API with its own token, where every read is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from onethread.cases.rules import TMF_STATUS
from onethread.db.bulk import insert_rows
from onethread.integrations import rules
from onethread.interactions.rules import contact_status
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import Case, Contact, ContactSession, Customer, EventDelivery, EventSubscription, Party, Product

CONSUMER = "integrations.fanout"
# The domain events that can become a TMF event or a webhook (rules.tmf_events, rules.webhook_event).
EVENT_TYPES = frozenset({"case.*", "customer.*", "individual.*", "organization.*", "billing_account.opened",
                         "product.*", "contact.recorded", "session.ended", "decision.made", "approval.*"})
CUSTOMER_PATH = "/tmf-api/customer/v5/customer"


def any_subscription(session: Session) -> bool:
    """Whether anybody listens at all: when nobody does, the outbox skips this consumer."""
    return bool(session.scalar(select(exists().where(EventSubscription.deleted_at.is_(None)))))


def fanout(session: Session, clock: Clock, event: DomainEvent) -> int:
    """Queue ``event`` for every subscription registered before it that wants it; answers how many."""
    subs = session.scalars(select(EventSubscription).where(EventSubscription.deleted_at.is_(None),
                                                           EventSubscription.id < event.id)
                           .order_by(EventSubscription.id)).all()
    if not subs:
        return 0
    now = clock.now()
    rows: list[dict] = []

    def queue(sub: EventSubscription, event_id: str, type_: str, body: dict) -> None:
        rows.append({"id": new_id(), "subscription_id": sub.id, "event_id": event_id, "source_event_id": event.id,
                     "event_type": type_, "body": body, "created_at": now, "available_at": now, "attempts": 0})

    hubs = [s for s in subs if s.kind == "hub"]
    notes = _tmf_notifications(session, event) if hubs else []
    for sub in hubs:
        query = rules.parse_query(rules.APIS[sub.api], sub.query)  # checked when it was registered
        for te, event_id, body, facts in notes:
            if te.api == sub.api and query.matches(te.type, facts):
                queue(sub, event_id, te.type, body)
    kind = rules.webhook_event(event.type)
    if kind is not None:
        body = webhook_body(event, kind)
        for sub in subs:
            if sub.kind == "webhook" and ("*" in sub.event_types or kind in sub.event_types):
                queue(sub, event.id, kind, body)
    if rows:
        insert_rows(session, EventDelivery.__table__, rows)
    return len(rows)


def _iso(value: datetime) -> str:
    return value.isoformat()


def webhook_body(event: DomainEvent, kind: str) -> dict:
    data = rules.webhook_data(event.payload)
    if data.get("caseId"):
        data["caseHref"] = rules.APIS["troubleTicket"].path("troubleTicket", data["caseId"])
    return {"id": event.id, "type": kind, "occurredAt": _iso(event.occurred_at), "customerId": event.customer_id,
            "data": data}


def _tmf_notifications(session: Session, event: DomainEvent) -> list[tuple[rules.TmfEvent, str, dict, dict]]:
    """(TMF event, its event id, the body sent, the facts a query filters on) for each TMF event."""
    out = []
    for te in rules.tmf_events(event.type, event.payload):
        for resource_id in _resource_ids(session, te, event):
            found = _resource(session, te, resource_id, event)
            if found is None:
                continue
            resource, facts = found
            event_id = new_id()
            body = {"@type": te.type, "@baseType": "Event", "id": event_id, "eventId": event_id,
                    "eventTime": _iso(event.occurred_at), "timeOccurred": _iso(event.occurred_at),
                    "eventType": te.type, "event": {te.resource: resource}}
            out.append((te, event_id, body, facts))
    return out


def _resource_ids(session: Session, te: rules.TmfEvent, event: DomainEvent) -> list[str]:
    if event.type == "billing_account.opened":
        return [event.customer_id] if event.customer_id else []
    if event.type == "session.ended":
        return list(session.scalars(select(Contact.id).where(Contact.session_id == event.aggregate_id)
                                    .order_by(Contact.id)))
    return [event.aggregate_id]


def _customer_ref(api: str, customer_id: str | None) -> list[dict]:
    if not customer_id:
        return []
    wrapper = "RelatedPartyRefOrPartyRoleRef" if api == "troubleTicket" else "RelatedPartyOrPartyRole"
    return [{"@type": wrapper, "role": "customer",
             "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer_id,
                                  "href": f"{CUSTOMER_PATH}/{customer_id}", "@referredType": "Customer"}}]


def _resource(session: Session, te: rules.TmfEvent, rid: str, event: DomainEvent) -> tuple[dict, dict] | None:
    """The resource as the event shows it, and the facts a hub's query filters on."""
    api = rules.APIS[te.api]
    head = {"id": rid, "href": api.path(te.resource, rid)}
    if te.resource == "troubleTicket":
        case = session.get(Case, rid)
        if case is None:
            return None
        status = TMF_STATUS[te.status or case.status]
        body = {**head, "@type": "OnethreadTroubleTicket", "@baseType": "TroubleTicket",
                "@schemaLocation": rules.schema_location("OnethreadTroubleTicket"), "status": status,
                "ticketType": case.kind, "severity": case.severity, "lastUpdate": _iso(event.occurred_at),
                "relatedParty": _customer_ref(te.api, case.customer_id)}
        return body, {"id": rid, "status": status, "ticketType": case.kind, "severity": case.severity,
                      "relatedParty.id": case.customer_id}
    if te.resource == "customer":
        customer = session.get(Customer, rid)
        if customer is None:
            return None
        return {**head, "@type": "Customer", "status": customer.status}, {"id": rid, "status": customer.status}
    if te.resource in ("individual", "organization"):
        party = session.get(Party, rid)
        if party is None:
            return None
        return ({**head, "@type": party.kind.capitalize(), "status": party.status},
                {"id": rid, "status": party.status})
    if te.resource == "product":
        product = session.get(Product, rid)
        if product is None:
            return None
        status = te.status or product.status
        return ({**head, "@type": "Product", "status": status,
                 "relatedParty": _customer_ref(te.api, product.customer_id)},
                {"id": rid, "status": status, "relatedParty.id": product.customer_id})
    contact = session.get(Contact, rid)
    if contact is None:
        return None
    live = session.get(ContactSession, contact.session_id) if contact.session_id else None
    status = te.status or contact_status(live.status if live is not None else None)
    body = {**head, "@type": "OnethreadPartyInteraction", "@baseType": "PartyInteraction",
            "@schemaLocation": rules.schema_location("OnethreadPartyInteraction"), "direction": contact.direction,
            "status": status, "relatedChannel": [{"@type": "RelatedChannel", "role": "interactionChannel",
                                                  "channel": {"@type": "ChannelRef", "id": contact.channel}}],
            "relatedParty": _customer_ref(te.api, contact.customer_id)}
    return body, {"id": rid, "status": status, "direction": contact.direction, "relatedChannel.id": contact.channel,
                  "relatedParty.id": contact.customer_id}
