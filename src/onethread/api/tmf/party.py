"""TMF632 Party Management v5: ``/tmf-api/party/v5/individual`` and ``/organization``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.access.service import audit
from onethread.api.deps import ClockDep, DbSession, allow
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
from onethread.models import Party

BASE = "/tmf-api/party/v5"
router = APIRouter(prefix=BASE, tags=["TMF632 party"])

_CONTACT = {
    "msisdn": ("PhoneContactMedium", "phoneNumber", "mobile"),
    "email": ("EmailContactMedium", "emailAddress", "email"),
}


class IndividualIn(_Tmf):
    givenName: str | None = Field(None, max_length=120)
    familyName: str | None = Field(None, max_length=120)
    title: str | None = Field(None, max_length=40)
    birthDate: datetime | None = None
    preferredLanguage: str | None = Field(None, max_length=20, description="onethread extension (BCP 47 tag)")


class OrganizationIn(_Tmf):
    name: str = Field(..., max_length=200)
    preferredLanguage: str | None = Field(None, max_length=20)


class OrganizationPatch(_Tmf):
    name: str | None = Field(None, max_length=200)
    preferredLanguage: str | None = Field(None, max_length=20)


_INDIVIDUAL_MAP = {"givenName": "given_name", "familyName": "family_name", "title": "title",
                   "birthDate": "birth_date", "preferredLanguage": "preferred_language"}
_ORG_MAP = {"name": "organization_name", "preferredLanguage": "preferred_language"}


def party_path(party: Party) -> str:
    return f"{BASE}/{party.kind}/{party.id}"


def to_tmf(party: Party, identifiers: list[tuple]) -> dict:
    body: dict = {"id": party.id, "href": party_path(party), "status": party.status}
    if party.kind == "individual":
        body["@type"] = "Individual"
        if party.given_name:
            body["givenName"] = party.given_name
        if party.family_name:
            body["familyName"] = party.family_name
        body["formattedName"] = party.display_name
        if party.title:
            body["title"] = party.title
        if party.birth_date:
            body["birthDate"] = datetime.combine(party.birth_date, datetime.min.time(), tzinfo=UTC).isoformat()
    else:
        body["@type"] = "Organization"
        body["name"] = party.organization_name
        body["tradingName"] = party.organization_name
    if party.preferred_language:
        body["partyCharacteristic"] = [{"@type": "StringCharacteristic", "name": "preferredLanguage",
                                        "valueType": "string", "value": party.preferred_language}]
    contact = []
    for kind, value, holding in identifiers:
        if kind in _CONTACT:
            type_, attr, contact_type = _CONTACT[kind]
            contact.append({"@type": type_, "id": holding.id, "contactType": contact_type, attr: value,
                            "validFor": {"startDateTime": holding.valid_from.isoformat()}})
    body["contactMedium"] = contact
    return body


def _contacts(session, clock, parties: list[Party]) -> dict[str, list[tuple]]:
    """Current contact identifiers of the customers each party plays (one query)."""
    from onethread.models import Customer

    by_party: dict[str, list[tuple]] = {p.id: [] for p in parties}
    if not parties:
        return by_party
    rows = session.execute(select(Customer.id, Customer.party_id).where(Customer.party_id.in_(list(by_party))))
    customer_party = dict(rows.all())
    idents = queries.current_identifiers(session, list(customer_party), clock.now())
    for cid, items in idents.items():
        by_party[customer_party[cid]].extend(items)
    return by_party


def _render(session, clock, parties: list[Party]) -> list[dict]:
    contacts = _contacts(session, clock, parties)
    return [to_tmf(p, contacts[p.id]) for p in parties]


def _audit_read(session, clock, actor, party: Party) -> None:
    for customer in queries.customers_of_party(session, party.id) or [None]:
        audit(session, clock, actor, action="read", resource_type=party.kind, resource_id=party.id,
              customer_id=customer.id if customer else None, channel="api")


def _list(kind: str, response: Response, session, clock, params: ListParams, name: str | None) -> list[dict]:
    query = select(Party).where(Party.kind == kind)
    if name:
        col = Party.organization_name if kind == "organization" else func.coalesce(Party.given_name, "") + " " + \
            func.coalesce(Party.family_name, "")
        query = query.where(func.lower(col).contains(name.lower()))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Party.id).offset(params.offset).limit(params.limit)).all()
    return paged(response, _render(session, clock, list(rows)), total, params.fields)


def _get(kind: str, party_id: str, response: Response, session, clock, actor, fields: str | None) -> dict:
    party = customers.get_party(session, party_id, kind)
    _audit_read(session, clock, actor, party)
    response.headers["ETag"] = etag_for(party.version)
    return select_fields(_render(session, clock, [party])[0], parse_fields(fields))


def _changes(raw: dict, mapping: dict, model: BaseModel) -> dict:
    changes = {}
    for key in raw:
        if key.startswith("@"):
            continue
        value = getattr(model, key)
        if key == "birthDate" and value is not None:
            value = value.date()
        changes[mapping[key]] = value
    return changes


def _patch(kind: str, party_id: str, raw: dict, model_cls, mapping, request, response, session, clock, actor) -> dict:
    patch = parse_model(model_cls, raw)
    party = customers.get_party(session, party_id, kind)
    check_if_match(request, party.version)
    customers.update_party(session, clock, actor, party, _changes(raw, mapping, patch))
    response.headers["ETag"] = etag_for(party.version)
    return _render(session, clock, [party])[0]


@router.get("/individual", summary="List or find individuals")
def list_individuals(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                     params: ListParams = Depends(), name: str | None = None) -> list[dict]:
    return _list("individual", response, session, clock, params, name)


@router.post("/individual", status_code=201, summary="Create an individual")
def create_individual(body: IndividualIn, response: Response, session: DbSession, clock: ClockDep,
                      actor: allow(CUSTOMER_WRITERS)) -> dict:
    party = customers.create_individual(
        session, clock, actor, given_name=body.givenName or "", family_name=body.familyName or "", title=body.title,
        birth_date=body.birthDate.date() if body.birthDate else None, preferred_language=body.preferredLanguage)
    created(response, party_path(party))
    response.headers["ETag"] = etag_for(party.version)
    return _render(session, clock, [party])[0]


@router.get("/individual/{party_id}", summary="Retrieve an individual")
def get_individual(party_id: str, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(CUSTOMER_READERS), fields: str | None = None) -> dict:
    return _get("individual", party_id, response, session, clock, actor, fields)


@router.patch("/individual/{party_id}", summary="Update an individual (JSON merge-patch)")
def patch_individual(party_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
                     actor: allow(CUSTOMER_WRITERS), raw: dict = Depends(merge_patch_body)) -> dict:
    return _patch("individual", party_id, raw, IndividualIn, _INDIVIDUAL_MAP, request, response, session, clock,
                  actor)


@router.get("/organization", summary="List or find organizations")
def list_organizations(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                       params: ListParams = Depends(), name: str | None = None) -> list[dict]:
    return _list("organization", response, session, clock, params, name)


@router.post("/organization", status_code=201, summary="Create an organization")
def create_organization(body: OrganizationIn, response: Response, session: DbSession, clock: ClockDep,
                        actor: allow(CUSTOMER_WRITERS)) -> dict:
    party = customers.create_organization(session, clock, actor, name=body.name,
                                          preferred_language=body.preferredLanguage)
    created(response, party_path(party))
    response.headers["ETag"] = etag_for(party.version)
    return _render(session, clock, [party])[0]


@router.get("/organization/{party_id}", summary="Retrieve an organization")
def get_organization(party_id: str, response: Response, session: DbSession, clock: ClockDep,
                     actor: allow(CUSTOMER_READERS), fields: str | None = None) -> dict:
    return _get("organization", party_id, response, session, clock, actor, fields)


@router.patch("/organization/{party_id}", summary="Update an organization (JSON merge-patch)")
def patch_organization(party_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
                       actor: allow(CUSTOMER_WRITERS), raw: dict = Depends(merge_patch_body)) -> dict:
    return _patch("organization", party_id, raw, OrganizationPatch, _ORG_MAP, request, response, session, clock,
                  actor)


