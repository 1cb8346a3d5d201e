"""TMF632 Party Management v5: ``/tmf-api/party/v5/individual`` and ``/organization``.

Every Individual and Organization attribute of the specification is accepted
(``api.tmf.attributes``): stored (names, title, birth date, status, the ``preferredLanguage``
characteristic), kept as given (``KEPT_*``), set by onethread (``id``, ``href``, an individual's
``name`` and ``formattedName``) or refused with the reason (``disability``). See docs/api/customer.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.access.service import audit, audit_list
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.answers import Party as PartyAnswer
from onethread.api.tmf.attributes import (
    BOOLEAN,
    DATETIME,
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
from onethread.customers import queries
from onethread.customers import service as customers
from onethread.errors import ValidationFailed
from onethread.models import Party

BASE = "/tmf-api/party/v5"
router = APIRouter(prefix=BASE, tags=["TMF632 party"], route_class=AnswerRoute)

_CONTACT = {
    "msisdn": ("PhoneContactMedium", "phoneNumber", "mobile"),
    "email": ("EmailContactMedium", "emailAddress", "email"),
}


_SHARED = {"externalReference": OBJECTS, "partyCharacteristic": OBJECTS, "taxExemptionCertificate": OBJECTS,
           "creditRating": OBJECTS, "relatedParty": OBJECTS, "contactMedium": OBJECTS}
# TMF632 attributes onethread keeps as given (no column of its own): checked for their JSON type.
KEPT_INDIVIDUAL = {**_SHARED, "gender": STRING, "placeOfBirth": STRING, "countryOfBirth": STRING,
                   "nationality": STRING, "maritalStatus": STRING, "deathDate": DATETIME,
                   "aristocraticTitle": STRING, "generation": STRING, "preferredGivenName": STRING,
                   "familyNamePrefix": STRING, "legalName": STRING, "middleName": STRING, "location": STRING,
                   "otherName": OBJECTS, "individualIdentification": OBJECTS, "languageAbility": OBJECTS,
                   "skill": OBJECTS}
KEPT_ORGANIZATION = {**_SHARED, "isLegalEntity": BOOLEAN, "isHeadOffice": BOOLEAN, "organizationType": STRING,
                     "existsDuring": OBJECT, "nameType": STRING, "otherName": OBJECTS,
                     "organizationIdentification": OBJECTS, "organizationChildRelationship": OBJECTS,
                     "organizationParentRelationship": OBJECT, "tradingName": STRING}
APPENDED = ("contactMedium", "partyCharacteristic")  # onethread's entries first, then the client's
LANGUAGE = "preferredLanguage"
# What a PATCH may only send back unchanged.
READ_ONLY = {"organization": {"id": "", "href": ""},
             "individual": {"id": "", "href": "", "name": "it is the given and family names",
                            "formattedName": "it is the given and family names"}}
DISABILITY = ("disability: onethread records a customer's disability as a vulnerability, with their consent and a "
              "review date: POST /api/v1/customers/{id}/vulnerabilities")


class IndividualIn(TmfResourceIn):
    KEPT = KEPT_INDIVIDUAL
    SERVER_SET = frozenset({"id", "href", "name", "formattedName"})
    givenName: str | None = Field(None, max_length=120)
    familyName: str | None = Field(None, max_length=120)
    title: str | None = Field(None, max_length=40)
    birthDate: datetime | None = None
    status: str | None = Field(None, description="initialized, validated or deceased")
    preferredLanguage: str | None = Field(None, max_length=20, description="onethread extension (BCP 47 tag)")
    disability: list | None = Field(None, description="refused: record a vulnerability with consent instead")


class OrganizationIn(TmfResourceIn):
    KEPT = KEPT_ORGANIZATION
    SERVER_SET = frozenset({"id", "href"})
    name: str = Field(..., max_length=200)
    status: str | None = Field(None, description="initialized, validated or closed")
    preferredLanguage: str | None = Field(None, max_length=20)


class OrganizationPatch(TmfResourceIn):
    KEPT = KEPT_ORGANIZATION
    name: str | None = Field(None, max_length=200)
    status: str | None = None
    preferredLanguage: str | None = Field(None, max_length=20)


_INDIVIDUAL_MAP = {"givenName": "given_name", "familyName": "family_name", "title": "title",
                   "birthDate": "birth_date", "preferredLanguage": "preferred_language", "status": "status"}
_ORG_MAP = {"name": "organization_name", "preferredLanguage": "preferred_language", "status": "status"}


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
        body["tradingName"] = (party.tmf_attributes or {}).get("tradingName", party.organization_name)
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
    return with_kept(body, party.tmf_attributes, appended=APPENDED)


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


def _list(kind: str, response: Response, session, clock, actor, params: ListParams,
          name: str | None) -> list[dict]:
    query = select(Party).where(Party.kind == kind)
    if name:
        col = Party.organization_name if kind == "organization" else func.coalesce(Party.given_name, "") + " " + \
            func.coalesce(Party.family_name, "")
        query = query.where(func.lower(col).contains(name.lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Party.id).offset(params.offset).limit(params.limit)).all()
    held = queries.customer_ids_of_parties(session, [p.id for p in rows])
    audit_list(session, clock, actor, [(p.kind, p.id, cid) for p in rows for cid in held.get(p.id) or [None]],
               channel="api")
    return paged(response, _render(session, clock, list(rows)), total, params.fields)


def _get(kind: str, party_id: str, response: Response, session, clock, actor, fields: str | None) -> dict:
    party = customers.get_party(session, party_id, kind)
    _audit_read(session, clock, actor, party)
    response.headers["ETag"] = etag_for(party.version)
    return select_fields(_render(session, clock, [party])[0], parse_fields(fields))


def _is_language(entry: dict) -> bool:
    return entry.get("name") == LANGUAGE


def _language(entries: list[dict]) -> str | None:
    for entry in entries:
        value = entry.get("value")
        if not isinstance(value, str) or not value.strip() or len(value) > 20:
            raise ValidationFailed("partyCharacteristic 'preferredLanguage' is a language tag of at most 20 "
                                   "characters", field="partyCharacteristic")
        return value.strip()
    return None


def _kept_and_language(kept: dict) -> tuple[dict, str | None]:
    """Kept attributes without the ``preferredLanguage`` characteristic, which onethread stores."""
    language = None
    if kept.get("partyCharacteristic") is not None:
        mine, kept["partyCharacteristic"] = split_entries(kept["partyCharacteristic"], _is_language)
        language = _language(mine)
    return kept, language


def _changes(raw: dict, mapping: dict, model: BaseModel) -> dict:
    changes = {}
    for key in raw:
        if key.startswith("@") or key not in mapping:
            continue
        value = getattr(model, key)
        if key == "birthDate" and value is not None:
            value = value.date()
        if key == "status" and value is None:
            raise ValidationFailed("status cannot be removed", field="status")
        changes[mapping[key]] = value
    return changes


def _patch(kind: str, party_id: str, raw: dict, model_cls, mapping, request, response, session, clock, actor) -> dict:
    party = customers.get_party(session, party_id, kind)
    check_if_match(request, party.version)
    current = _render(session, clock, [party])[0]
    raw = check_unchanged(raw, current, READ_ONLY[kind])
    patch = parse_model(model_cls, raw)
    if "disability" in raw:
        raise ValidationFailed(DISABILITY, field="disability")
    changes = _changes(raw, mapping, patch)
    kept, language = _kept_and_language(patch.kept)
    if language is not None:
        changes["preferred_language"] = language
    if kept.get("contactMedium") is not None:
        kept["contactMedium"] = their_contact_media(kept["contactMedium"], current)
    if kept:
        changes["tmf_attributes"] = patched(party.tmf_attributes, kept)
    customers.update_party(session, clock, actor, party, changes)
    response.headers["ETag"] = etag_for(party.version)
    return _render(session, clock, [party])[0]


@router.get("/individual", response_model=list[PartyAnswer], summary="List or find individuals")
def list_individuals(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                     params: ListParams = Depends(), name: str | None = None) -> list[dict]:
    return _list("individual", response, session, clock, actor, params, name)


@router.post("/individual", response_model=PartyAnswer, status_code=201, summary="Create an individual")
def create_individual(body: IndividualIn, response: Response, session: DbSession, clock: ClockDep,
                      actor: allow(CUSTOMER_WRITERS)) -> dict:
    if body.disability:
        raise ValidationFailed(DISABILITY, field="disability")
    kept, language = _kept_and_language(body.kept_new or {})
    party = customers.create_individual(
        session, clock, actor, given_name=body.givenName or "", family_name=body.familyName or "", title=body.title,
        birth_date=body.birthDate.date() if body.birthDate else None,
        preferred_language=body.preferredLanguage or language, status=body.status, tmf_attributes=kept or None)
    created(response, party_path(party))
    response.headers["ETag"] = etag_for(party.version)
    return _render(session, clock, [party])[0]


@router.get("/individual/{party_id}", response_model=PartyAnswer, summary="Retrieve an individual")
def get_individual(party_id: str, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(CUSTOMER_READERS), fields: str | None = None) -> dict:
    return _get("individual", party_id, response, session, clock, actor, fields)


@router.patch("/individual/{party_id}", response_model=PartyAnswer, summary="Update an individual (JSON merge-patch)")
def patch_individual(party_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
                     actor: allow(CUSTOMER_WRITERS), raw: dict = Depends(merge_patch_body)) -> dict:
    return _patch("individual", party_id, raw, IndividualIn, _INDIVIDUAL_MAP, request, response, session, clock,
                  actor)


@router.get("/organization", response_model=list[PartyAnswer], summary="List or find organizations")
def list_organizations(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                       params: ListParams = Depends(), name: str | None = None) -> list[dict]:
    return _list("organization", response, session, clock, actor, params, name)


@router.post("/organization", response_model=PartyAnswer, status_code=201, summary="Create an organization")
def create_organization(body: OrganizationIn, response: Response, session: DbSession, clock: ClockDep,
                        actor: allow(CUSTOMER_WRITERS)) -> dict:
    kept, language = _kept_and_language(body.kept_new or {})
    party = customers.create_organization(session, clock, actor, name=body.name,
                                          preferred_language=body.preferredLanguage or language, status=body.status,
                                          tmf_attributes=kept or None)
    created(response, party_path(party))
    response.headers["ETag"] = etag_for(party.version)
    return _render(session, clock, [party])[0]


@router.get("/organization/{party_id}", response_model=PartyAnswer, summary="Retrieve an organization")
def get_organization(party_id: str, response: Response, session: DbSession, clock: ClockDep,
                     actor: allow(CUSTOMER_READERS), fields: str | None = None) -> dict:
    return _get("organization", party_id, response, session, clock, actor, fields)


@router.patch("/organization/{party_id}", response_model=PartyAnswer,
              summary="Update an organization (JSON merge-patch)")
def patch_organization(party_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
                       actor: allow(CUSTOMER_WRITERS), raw: dict = Depends(merge_patch_body)) -> dict:
    return _patch("organization", party_id, raw, OrganizationPatch, _ORG_MAP, request, response, session, clock,
                  actor)


