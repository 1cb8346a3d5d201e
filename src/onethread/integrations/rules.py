"""Pure rules of event subscriptions: the events each TMF API publishes and onethread's own, the
hub query filter, which callback addresses may be called, retries and the signature.

No database here (checked by import-linter): ``fanout`` and ``delivery`` do the I/O.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from onethread.interactions.rules import webhook_signature

SCHEMA_BASE = "/tmf-api/schema"
MAX_QUERY = 2000
MAX_CALLBACK = 2000


def schema_location(type_name: str) -> str:
    """Where onethread publishes the JSON Schema of one of its TMF sub-classes (``@schemaLocation``)."""
    return f"{SCHEMA_BASE}/{type_name}.schema.json"


# --- the TMF APIs and their events ----------------------------------------------------------

@dataclass(frozen=True)
class TmfApi:
    name: str  # the hub's API, as in its base path
    base: str
    resources: tuple[str, ...]  # the key of the resource in an event's payload ("troubleTicket")
    events: tuple[str, ...]  # every event type the specification names, as it names them
    filters: tuple[str, ...]  # what a query may filter on, below event.<resource>.

    def path(self, resource: str, resource_id: str) -> str:
        return f"{self.base}/{resource}/{resource_id}"


def _events(*names: str) -> tuple[str, ...]:
    return tuple(f"{n}{kind}Event" for n in names
                 for kind in ("Create", "AttributeValueChange", "StateChange", "Delete"))


APIS = {api.name: api for api in (
    TmfApi("troubleTicket", "/tmf-api/troubleTicket/v5", ("troubleTicket",),
           ("TroubleTicketCreateEvent", "TroubleTicketAttributeValueChangeEvent", "TroubleTicketStatusChangeEvent",
            "TroubleTicketDeleteEvent", "TroubleTicketResolvedEvent", "TroubleTicketInformationRequiredEvent"),
           ("id", "status", "ticketType", "severity", "relatedParty.id")),
    TmfApi("customer", "/tmf-api/customer/v5", ("customer",), _events("Customer"), ("id", "status")),
    TmfApi("party", "/tmf-api/party/v5", ("individual", "organization"), _events("Individual", "Organization"),
           ("id", "status")),
    TmfApi("productInventory", "/tmf-api/productInventory/v5", ("product",),
           (*_events("Product"), "ProductBatchEvent"), ("id", "status", "relatedParty.id")),
    TmfApi("partyInteraction", "/tmf-api/partyInteraction/v5", ("partyInteraction",),
           ("PartyInteractionCreateEvent", "PartyInteractionAttributeValueChangeEvent",
            "PartyInteractionStatusChangeEvent", "PartyInteractionDeleteEvent"),
           ("id", "status", "direction", "relatedChannel.id", "relatedParty.id")),
)}
# Named by the specifications, never sent: onethread deletes none of these (cases close, customers
# and products end with a status, contacts are a record) and has no batches of products.
NEVER_SENT = frozenset({"TroubleTicketDeleteEvent", "CustomerDeleteEvent", "IndividualDeleteEvent",
                        "OrganizationDeleteEvent", "ProductDeleteEvent", "ProductBatchEvent",
                        "PartyInteractionDeleteEvent"})


@dataclass(frozen=True)
class TmfEvent:
    """A TMF event a domain event becomes: on which API, its type, about which resource."""

    api: str
    type: str
    resource: str  # the key in the payload ("troubleTicket", "individual"...)
    status: str | None = None  # the resource's onethread status the event is about, when it says


_CASE_STATUS = ("status_changed", "closed", "merged")


def tmf_events(event_type: str, payload: dict[str, Any]) -> list[TmfEvent]:
    """The TMF events one of onethread's domain events is, as every hub sees it."""
    kind, _, what = event_type.partition(".")
    fields = None if payload.get("fields") is None else set(payload["fields"])
    if kind == "case":
        if what == "opened":
            return [TmfEvent("troubleTicket", "TroubleTicketCreateEvent", "troubleTicket")]
        if what in _CASE_STATUS:
            status = payload.get("to") if what == "status_changed" else "closed"
            found = [TmfEvent("troubleTicket", "TroubleTicketStatusChangeEvent", "troubleTicket", status)]
            if status == "resolved":
                found.append(TmfEvent("troubleTicket", "TroubleTicketResolvedEvent", "troubleTicket", status))
            if status == "waiting_customer":
                found.append(TmfEvent("troubleTicket", "TroubleTicketInformationRequiredEvent", "troubleTicket",
                                      status))
            return found
        return [TmfEvent("troubleTicket", "TroubleTicketAttributeValueChangeEvent", "troubleTicket")]
    if kind == "customer":
        return _created_or_changed("customer", "Customer", "customer", what, fields)
    if kind in ("individual", "organization"):
        return _created_or_changed("party", kind.capitalize(), kind, what, fields)
    if event_type == "billing_account.opened":  # the customer's account list changed
        return [TmfEvent("customer", "CustomerAttributeValueChangeEvent", "customer")]
    if kind == "product":
        if what == "created":
            return [TmfEvent("productInventory", "ProductCreateEvent", "product")]
        if what in ("status_changed", "terminated"):
            return [TmfEvent("productInventory", "ProductStateChangeEvent", "product", payload.get("toStatus"))]
        if what in ("updated", "sim_replaced"):
            return [TmfEvent("productInventory", "ProductAttributeValueChangeEvent", "product")]
    if event_type == "contact.recorded":
        name = "PartyInteractionAttributeValueChangeEvent" if payload.get("update") else "PartyInteractionCreateEvent"
        return [TmfEvent("partyInteraction", name, "partyInteraction")]
    if event_type == "session.ended":  # its contacts were in progress and are completed
        return [TmfEvent("partyInteraction", "PartyInteractionStatusChangeEvent", "partyInteraction", "completed")]
    return []


def _created_or_changed(api: str, name: str, resource: str, what: str, fields: set[str] | None) -> list[TmfEvent]:
    """``fields``: what an update changed (None: not said, so some attribute)."""
    if what == "created":
        return [TmfEvent(api, f"{name}CreateEvent", resource)]
    if what != "updated":
        return []
    if fields is None:
        return [TmfEvent(api, f"{name}AttributeValueChangeEvent", resource)]
    found = []
    if "status" in fields:
        found.append(TmfEvent(api, f"{name}StateChangeEvent", resource))
    if fields - {"status"}:  # an update that changed nothing is no event
        found.append(TmfEvent(api, f"{name}AttributeValueChangeEvent", resource))
    return found


def listener_path(event_type: str) -> str:
    """Where a TMF event is sent below the hub's callback: the specification's listener operation."""
    return f"/listener/{event_type[0].lower()}{event_type[1:]}"


# --- the hub query ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """``eventType=A,B&event.troubleTicket.status=resolved``: every condition must hold; a
    condition holds when the value is one of those listed (comma-separated)."""

    event_types: frozenset[str]  # empty: any
    conditions: tuple[tuple[str, frozenset[str]], ...]  # (attribute below the resource, accepted values)

    def matches(self, event_type: str, facts: dict[str, object]) -> bool:
        if self.event_types and event_type not in self.event_types:
            return False
        return all(str(facts.get(attr)) in values for attr, values in self.conditions)


class QueryError(ValueError):
    """The query cannot be understood; the message says why."""


def parse_query(api: TmfApi, text: str | None) -> Query:
    text = (text or "").strip()
    if len(text) > MAX_QUERY:
        raise QueryError(f"query is longer than {MAX_QUERY} characters")
    types: set[str] = set()
    conditions: list[tuple[str, frozenset[str]]] = []
    for part in filter(None, (p.strip() for p in text.split("&"))):
        key, eq, value = part.partition("=")
        values = frozenset(v.strip() for v in value.split(",") if v.strip())
        if not eq or not values:
            raise QueryError(f"query: {part!r} is not name=value")
        key = key.strip()
        if key == "eventType":
            unknown = sorted(values - set(api.events))
            if unknown:
                raise QueryError(f"query: {', '.join(unknown)} is not an event of this API; it has "
                                 f"{', '.join(api.events)}")
            types |= values
            continue
        prefix, _, attr = key.partition(".")
        resource, _, attr = attr.partition(".")
        if prefix != "event" or resource not in api.resources or attr not in api.filters:
            raise QueryError(f"query: cannot filter on {key!r}; a query takes eventType and "
                             + ", ".join(f"event.{r}.{f}" for r in api.resources for f in api.filters))
        conditions.append((attr, values))
    return Query(frozenset(types), tuple(conditions))


# --- onethread's own events, for webhooks ----------------------------------------------------

WEBHOOK_EVENTS = ("case.opened", "case.owner_changed", "case.escalated", "case.closed", "decision.made",
                  "approval.requested", "approval.approved", "approval.rejected", "approval.withdrawn",
                  "approval.executed")
# What a webhook never carries: what people wrote (read it through the API, where reads are audited).
FREE_TEXT = frozenset({"timelineTitle", "timelineDetail", "text", "summary", "subject", "explanation", "caseTitle",
                       "reason"})


def webhook_event(event_type: str) -> str | None:
    """The webhook event type a domain event is, or None when webhooks do not carry it."""
    if event_type in ("case.decision", "decision.made"):
        return "decision.made"
    for prefix in ("case.approval_", "approval."):
        if event_type.startswith(prefix):
            step = event_type[len(prefix):]
            name = f"approval.{step}"
            return name if name in WEBHOOK_EVENTS else None
    return event_type if event_type in WEBHOOK_EVENTS else None


def webhook_data(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in FREE_TEXT}


def check_webhook_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS) - {"*"})
    if unknown:
        raise QueryError(f"events: {', '.join(unknown)} unknown; onethread sends {', '.join(WEBHOOK_EVENTS)} "
                         "(or * for all)")
    if not events:
        raise QueryError("events: name at least one event type (or * for all)")
    return sorted(set(events))


# --- callback addresses ------------------------------------------------------------------------

_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class AllowList:
    """``ONETHREAD_CALLBACK_ALLOWLIST``: host names (``*.example.com`` for a domain and its
    sub-domains), IP addresses and networks that callbacks may reach although they are internal
    (loopback, link-local, private). With ``only``, callbacks may reach nothing else at all."""

    hosts: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    only: bool = False

    @classmethod
    def parse(cls, text: str, *, only: bool = False) -> AllowList:
        hosts, domains, networks = set(), [], []
        for entry in filter(None, (e.strip().lower() for e in (text or "").split(","))):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if not _HOST.match(entry):
                raise ValueError(f"{entry!r} is neither a host name, an IP address nor a network")
            if entry.startswith("*."):
                domains.append(entry[2:])
            else:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(domains), tuple(networks), only)

    def names_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or any(host == d or host.endswith("." + d) for d in self.domains)

    def names_address(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in net for net in self.networks if net.version == ip.version)


@dataclass(frozen=True)
class Callback:
    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line


def parse_callback(url: str, *, production: bool, allow: AllowList) -> Callback:
    """The callback, or ``ValueError`` saying what is wrong with it."""
    url = (url or "").strip()
    if not url or len(url) > MAX_CALLBACK:
        raise ValueError(f"callback is an http or https URL of at most {MAX_CALLBACK} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("callback is an absolute http or https URL")
    if parts.username or parts.password:
        raise ValueError("callback carries no user name or password: onethread signs what it sends instead")
    if parts.fragment:
        raise ValueError("callback has no #fragment")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValueError(f"callback port: {exc}") from exc
    if production and parts.scheme == "http" and not allow.names_host(host) and not _allow_literal(host, allow):
        raise ValueError("callback: in production a callback is https (or an allow-listed host)")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Callback(url, parts.scheme, host, port, target)


def _allow_literal(host: str, allow: AllowList) -> bool:
    try:
        return allow.names_address(host)
    except ValueError:
        return False


def address_problem(host: str, address: str, allow: AllowList) -> str | None:
    """Why a callback must not be sent to ``address`` (what ``host`` resolved to), or None."""
    if allow.names_host(host) or allow.names_address(address):
        return None
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    ip = mapped or ip
    if allow.only:
        return f"{host} ({address}) is not on ONETHREAD_CALLBACK_ALLOWLIST, and only the list may be called"
    if ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_reserved \
            or ip.is_unspecified or not ip.is_global:
        where = f"{address} is" if host == address else f"{host} is {address},"
        return (f"{where} an internal address (loopback, link-local, private or reserved); "
                "allow it with ONETHREAD_CALLBACK_ALLOWLIST")
    return None


# --- sending -----------------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min, ... at most 6 hours."""
    return timedelta(seconds=min(6 * 3600, 30 * 2 ** max(0, attempts - 1)))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of ``"{timestamp}.{body}"`` (the inbound social webhook also signs its platform)."""
    return webhook_signature(secret, timestamp, body)
