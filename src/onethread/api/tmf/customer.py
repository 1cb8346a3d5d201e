"""TMF629 Customer Management v5: ``/tmf-api/customer/v5/customer``.

Every Customer attribute of the specification is accepted (``api.tmf.attributes``): stored
(``name``, ``status``, ``validFor.startDateTime`` as the date the customer joined, the ``segment``
characteristic, ``engagedParty`` on create), kept as given (``KEPT``, and the ``contactMedium``
and ``characteristic`` entries onethread does not derive), set by onethread (``id``, ``href``,
``account``) or refused with the reason. See docs/api/customer.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.access.service import audit_list
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.answers import Customer as CustomerAnswer
from onethread.api.tmf.attributes import (
    OBJECT,
    OBJECTS,
    STRING,
    TmfResourceIn,
    check_unchanged,
    patched,
    split_entries,
    their_contact_media,
    with_kept,
)
from onethread.api.tmf.conventions import (
    ListParams,
    check_if_match,
    created,
    etag_for,
    merge_patch_body,
    paged,
    parse_fields,
    parse_model,
    select_fields,
)
from onethread.api.tmf.shapes import TmfIn as _Tmf
from onethread.customers import queries
from onethread.customers import service as customers
from onethread.errors import ValidationFailed
from onethread.models import BillingAccount, Customer, Party

BASE = "/tmf-api/customer/v5"
router = APIRouter(prefix=BASE, tags=["TMF629 customer"], route_class=AnswerRoute)

_CONTACT = {
    "msisdn": ("PhoneContactMedium", "phoneNumber", "mobile"),
    "email": ("EmailContactMedium", "emailAddress", "email"),
}


class PartyRefIn(_Tmf):
    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class TimePeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    startDateTime: datetime | None = None
    endDateTime: datetime | None = None


# TMF629 Customer attributes onethread keeps as given (no column of its own): checked for their JSON type.
KEPT = {"description": STRING, "role": STRING, "statusReason": STRING, "partyRoleSpecification": OBJECT,
        "agreement": OBJECTS, "paymentMethod": OBJECTS, "creditProfile": OBJECTS, "relatedParty": OBJECTS,
        "contactMedium": OBJECTS, "characteristic": OBJECTS}
APPENDED = ("contactMedium", "characteristic")  # onethread's entries first, then the client's
SEGMENTS = ("consumer", "business")
# What a PATCH may only send back unchanged, and what to do instead.
READ_ONLY = {
    "id": "", "href": "",
    "engagedParty": "a customer stays the role of the party it was created for; create another customer",
    "account": "billing accounts are opened with POST /api/v1/customers/{id}/billing-accounts",
}


class CustomerCreate(TmfResourceIn):
    KEPT = KEPT
    SERVER_SET = frozenset({"id", "href"})
    engagedParty: PartyRefIn
    name: str | None = Field(None, max_length=200)
    status: Literal["initialized", "approved", "validated"] | None = None
    validFor: TimePeriodIn | None = None
    account: list[dict] | None = Field(None, description="set by onethread: refused when not empty")


class CustomerPatch(TmfResourceIn):
    KEPT = KEPT
    name: str | None = Field(None, max_length=200)
    status: Literal["initialized", "approved", "validated", "closed"] | None = None
    validFor: TimePeriodIn | None = None


def customer_path(customer_id: str) -> str:
    return f"{BASE}/customer/{customer_id}"


def _since(value: date) -> str:
    return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()


def to_tmf(customer: Customer, party: Party | None, accounts: list[BillingAccount], identifiers: list[tuple]) -> dict:
    body: dict = {
        "id": customer.id,
        "href": customer_path(customer.id),
        "@type": "Customer",
        "name": customer.name,
        "status": customer.status,
        "role": "customer",
        "validFor": {"startDateTime": _since(customer.customer_since)},
        "engagedParty": {
            "@type": "PartyRef",
            "id": customer.party_id,
            "href": f"/tmf-api/party/v5/{'organization' if party and party.kind == 'organization' else 'individual'}"
            f"/{customer.party_id}",
            "name": party.display_name if party else None,
            "@referredType": "Organization" if party and party.kind == "organization" else "Individual",
        },
        "account": [
            {"@type": "AccountRef", "id": a.id, "name": a.account_number, "@referredType": "BillingAccount"}
            for a in accounts
        ],
        "contactMedium": [],
        "characteristic": [
            {"@type": "StringCharacteristic", "name": "segment", "valueType": "string", "value": customer.segment},
        ],
    }
    for kind, value, holding in identifiers:
        if kind in _CONTACT:
            type_, attr, contact_type = _CONTACT[kind]
            body["contactMedium"].append({
                "@type": type_, "id": holding.id, "contactType": contact_type, attr: value,
                "validFor": {"startDateTime": holding.valid_from.isoformat()},
            })
    if party is None or body["engagedParty"]["name"] is None:
        body["engagedParty"].pop("name")
    return body


def _render(session, clock, customers_: list[Customer]) -> list[dict]:
    ids = [c.id for c in customers_]
    parties = queries.parties_by_id(session, [c.party_id for c in customers_])
    accounts = queries.accounts_by_customer(session, ids)
    idents = queries.current_identifiers(session, ids, clock.now())
    bodies = []
    for c in customers_:
        body = with_kept(to_tmf(c, parties.get(c.party_id), accounts[c.id], idents[c.id]), c.tmf_attributes,
                         appended=APPENDED)
        body["role"] = (c.tmf_attributes or {}).get("role", body["role"])  # the client's word for the role, if any
        bodies.append(body)
    return bodies


def _is_segment(entry: dict) -> bool:
    return entry.get("name") == "segment"


def _segment(entries: list[dict]) -> str | None:
    for entry in entries:
        if entry.get("value") not in SEGMENTS:
            raise ValidationFailed(f"characteristic 'segment' is one of {', '.join(SEGMENTS)}",
                                   field="characteristic")
        return entry["value"]
    return None


def _check_period(period: TimePeriodIn | None) -> None:
    if period is not None and period.endDateTime is not None:
        raise ValidationFailed("validFor.endDateTime: a customer ends by being closed (status 'closed'), "
                               "which onethread records with its date", field="validFor")


def _kept_on_create(body: CustomerCreate) -> tuple[dict | None, str | None]:
    """(the attributes kept as given, the segment) of a create body."""
    kept = body.kept_new or {}
    segment = None
    if "characteristic" in kept:
        mine, theirs = split_entries(kept.pop("characteristic"), _is_segment)
        segment = _segment(mine)
        if theirs:
            kept["characteristic"] = theirs
    return kept or None, segment


@router.get("/customer", response_model=list[CustomerAnswer], summary="List or find customers")
def list_customers(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                   params: ListParams = Depends(), name: str | None = None, status: str | None = None) -> list[dict]:
    rows, total = queries.list_customers(session, offset=params.offset, limit=params.limit, name=name, status=status)
    audit_list(session, clock, actor, [("customer", c.id, c.id) for c in rows], channel="api")
    return paged(response, _render(session, clock, rows), total, params.fields)


@router.post("/customer", response_model=CustomerAnswer,
             status_code=201, summary="Create a customer (a role of an existing party)")
def create_customer(body: CustomerCreate, request: Request, response: Response, session: DbSession,
                    clock: ClockDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    _check_period(body.validFor)
    if body.account:
        raise ValidationFailed(f"account: {READ_ONLY['account']}", field="account")
    since = body.validFor.startDateTime.date() if body.validFor and body.validFor.startDateTime else None
    kept, segment = _kept_on_create(body)
    customer = customers.create_customer(session, clock, actor, party_id=body.engagedParty.id,
                                         customer_since=since, name=body.name, segment=segment,
                                         tmf_attributes=kept)
    if body.status:
        customer.status = body.status
    customers.read_customer(session, clock, actor, customer.id, channel="api", purpose="create")
    created(response, customer_path(customer.id))
    response.headers["ETag"] = etag_for(customer.version)
    return _render(session, clock, [customer])[0]


@router.get("/customer/{customer_id}", response_model=CustomerAnswer, summary="Retrieve a customer")
def get_customer(customer_id: str, response: Response, session: DbSession, clock: ClockDep,
                 actor: allow(CUSTOMER_READERS), fields: str | None = None) -> dict:
    customer = customers.read_customer(session, clock, actor, customer_id, channel="api")
    response.headers["ETag"] = etag_for(customer.version)
    return select_fields(_render(session, clock, [customer])[0], parse_fields(fields))


@router.patch("/customer/{customer_id}", response_model=CustomerAnswer, summary="Update a customer (JSON merge-patch)")
def patch_customer(customer_id: str, request: Request, response: Response, session: DbSession,
                   clock: ClockDep, actor: allow(CUSTOMER_WRITERS),
                   raw: dict = Depends(merge_patch_body)) -> dict:
    customer = customers.get_customer(session, customer_id)
    check_if_match(request, customer.version)
    current = _render(session, clock, [customer])[0]
    patch = parse_model(CustomerPatch, check_unchanged(raw, current, READ_ONLY))
    changes: dict = {}
    for key in raw:
        if key == "name":
            changes["name"] = patch.name
        elif key == "status":
            changes["status"] = patch.status
        elif key == "validFor":
            if patch.validFor is None or patch.validFor.startDateTime is None:
                raise ValidationFailed("validFor.startDateTime (customer since) cannot be removed", field="validFor")
            _check_period(patch.validFor)
            changes["customer_since"] = patch.validFor.startDateTime.date()
    kept = patch.kept
    if kept.get("contactMedium") is not None:
        kept["contactMedium"] = their_contact_media(kept["contactMedium"], current)
    if kept.get("characteristic") is not None:
        mine, kept["characteristic"] = split_entries(kept["characteristic"], _is_segment)
        segment = _segment(mine)
        if segment is not None:
            changes["segment"] = segment
    if kept:
        changes["tmf_attributes"] = patched(customer.tmf_attributes, kept)
    customers.update_customer(session, clock, actor, customer, changes)
    response.headers["ETag"] = etag_for(customer.version)
    return _render(session, clock, [customer])[0]
