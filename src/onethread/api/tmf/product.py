"""TMF637 Product Inventory v5 (``/tmf-api/productInventory/v5/product``) and onethread's product actions.

``POST /api/v1/products/{id}/sim-replacement`` and ``GET /api/v1/products/{id}/history`` are
onethread's own: TMF637 has no SIM swap and no lifecycle log. See docs/api/product.md.

Every Product attribute of the specification is accepted (``api.tmf.attributes``): stored (name,
description, status, dates, the billing account, one monthly price, the customer in
``relatedParty`` and the characteristics onethread knows), kept as given (``KEPT``, and the
``relatedParty`` and ``productCharacteristic`` entries onethread does not use), set by onethread
(``id``, ``href``, ``creationDate``, ``terminationDate``) or refused with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.answers import Product as ProductAnswer
from onethread.api.tmf.answers import ProductHistory, SimReplacement
from onethread.api.tmf.attributes import (
    BOOLEAN,
    OBJECT,
    OBJECTS,
    STRING,
    TmfResourceIn,
    check_unchanged,
    patched,
    same,
    split_entries,
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
from onethread.api.tmf.shapes import PartyOrPartyRoleIn, RelatedPartyIn
from onethread.api.tmf.shapes import TmfIn as _Tmf
from onethread.decisions import direct_actions
from onethread.errors import ValidationFailed
from onethread.inventory import rules
from onethread.inventory import service as inventory
from onethread.kernel.money import Money
from onethread.models import Product

BASE = "/tmf-api/productInventory/v5"
V1 = "/api/v1/products"
EXTENSION = "OnethreadProduct"
router = APIRouter(route_class=AnswerRoute)

CHARACTERISTICS = ("kind", "model", "msisdn", "iccid", "imei")
# TMF637 Product attributes onethread keeps as given (no column of its own): checked for their JSON type.
KEPT = {"agreementItem": OBJECTS, "productOffering": OBJECT, "productOrderItem": OBJECTS, "product": OBJECTS,
        "productRelationship": OBJECTS, "productSerialNumber": STRING, "productSpecification": OBJECT,
        "productTerm": OBJECTS, "realizingResource": OBJECTS, "realizingService": OBJECTS, "place": OBJECTS,
        "intent": OBJECT, "isCustomerVisible": BOOLEAN, "relatedParty": OBJECTS, "productCharacteristic": OBJECTS}
APPENDED = ("relatedParty", "productCharacteristic")  # onethread's entries first, then the client's
# TMF attributes a product has but PATCH does not change, and what to do instead (sent back unchanged: accepted).
READ_ONLY = {
    "id": "", "href": "", "creationDate": "", "terminationDate": "set status to terminated",
    "startDate": "it is set when the product becomes active",
    "billingAccount": "", "productPrice": "a new price is a new product", "isBundle": "", "orderDate": "",
}


class BillingAccountRefIn(_Tmf):
    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")
    ratingType: str | None = None


class MoneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(..., min_length=3, max_length=3)
    value: StrictInt | StrictFloat


class PriceIn(_Tmf):
    taxIncludedAmount: MoneyIn


class ProductPriceIn(_Tmf):
    priceType: str
    recurringChargePeriod: str | None = None
    price: PriceIn
    name: str | None = None
    description: str | None = None


class CharacteristicIn(_Tmf):
    name: str
    value: str
    valueType: str | None = None
    id: str | None = None


class ProductCreate(TmfResourceIn):
    KEPT = KEPT
    SERVER_SET = frozenset({"id", "href", "creationDate", "terminationDate"})
    name: str = Field(..., max_length=200)
    description: str | None = None
    status: Literal["created", "pendingActive", "active"] = "active"
    isBundle: Literal[False] | None = Field(None, description="a bundle is recorded as its parts: true is refused")
    billingAccount: BillingAccountRefIn | None = None
    productPrice: list[ProductPriceIn] = Field(default_factory=list, max_length=1)
    startDate: AwareDatetime | None = None
    orderDate: AwareDatetime | None = None
    statusChannel: str | None = Field(None, description=f"{EXTENSION} extension: the channel of the sale")


class ProductPatch(TmfResourceIn):
    KEPT = KEPT
    name: str | None = Field(None, max_length=200)
    description: str | None = None
    status: str | None = None
    statusChannel: str | None = Field(None, description=f"{EXTENSION} extension: the channel of the status change")
    statusReason: str | None = Field(None, max_length=rules.REASON_MAX,
                                     description=f"{EXTENSION} extension: why the status changed")
    statusDate: AwareDatetime | None = Field(None, description=f"{EXTENSION} extension: when it happened (default now)")


class SimReplacementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    newIccid: str = Field(..., max_length=40)
    channel: str
    at: AwareDatetime | None = None
    reason: str | None = Field(None, max_length=rules.SIM_REASON_MAX)


def product_path(product_id: str) -> str:
    return f"{BASE}/product/{product_id}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _char(name: str, value: str) -> dict:
    return {"@type": "StringCharacteristic", "name": name, "valueType": "string", "value": value}


def to_tmf(product: Product, rel: inventory.Related) -> dict:
    customer = rel.customers[product.customer_id]
    body: dict = {
        "id": product.id,
        "href": product_path(product.id),
        "@type": "Product",
        "name": product.name,
        "status": product.status,
        "isBundle": False,
        "isCustomerVisible": True,
        "creationDate": _iso(product.created_at),
        "relatedParty": [{
            "@type": "RelatedPartyOrPartyRole", "role": "customer",
            "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer.id, "name": customer.name,
                                 "href": f"/tmf-api/customer/v5/customer/{customer.id}",
                                 "@referredType": "Customer", "partyId": customer.party_id},
        }],
        "productPrice": [{
            "@type": "ProductPrice", "priceType": "recurring", "recurringChargePeriod": "month",
            "price": {"@type": "Price", "taxIncludedAmount": Money(product.price_minor, product.currency).to_json()},
        }],
        "productCharacteristic": [_char("kind", product.kind)],
    }
    if product.description is not None:
        body["description"] = product.description
    if product.model:
        body["productCharacteristic"].append(_char("model", product.model))
    for kind in ("msisdn", "iccid", "imei"):
        if kind in rel.identifiers.get(product.id, {}):
            body["productCharacteristic"].append(_char(kind, rel.identifiers[product.id][kind]))
    if product.activated_at is not None:
        body["startDate"] = _iso(product.activated_at)
    if product.terminated_at is not None:
        body["terminationDate"] = _iso(product.terminated_at)
    if product.purchased_on is not None:
        body["orderDate"] = datetime(product.purchased_on.year, product.purchased_on.month, product.purchased_on.day,
                                     tzinfo=UTC).isoformat()
    if product.billing_account_id and product.billing_account_id in rel.accounts:
        account = rel.accounts[product.billing_account_id]
        body["billingAccount"] = {"@type": "BillingAccountRef", "id": account.id, "name": account.account_number,
                                  "@referredType": "BillingAccount"}
    return body


def _render(session, clock, products: list[Product]) -> list[dict]:
    rel = inventory.related(session, products, clock.now())
    bodies = []
    for p in products:
        body = with_kept(to_tmf(p, rel), p.tmf_attributes, appended=APPENDED)
        body["isCustomerVisible"] = (p.tmf_attributes or {}).get("isCustomerVisible", True)
        bodies.append(body)
    return bodies


def _is_customer(entry: dict) -> bool:
    return entry.get("role") == "customer"


def _is_ours(entry: dict) -> bool:
    return entry.get("name") in CHARACTERISTICS


def _check_type(type_: str | None, extension_used: bool) -> None:
    if type_ not in (None, "Product", EXTENSION):
        raise ValidationFailed(f"@type is Product (or {EXTENSION} with onethread's extension fields)", field="@type")
    if extension_used and type_ != EXTENSION:
        raise ValidationFailed(f"statusChannel, statusReason and statusDate are {EXTENSION} extension fields: "
                               f"send \"@type\": \"{EXTENSION}\"", field="@type")


def _customer_ref(entries: list[dict]) -> PartyOrPartyRoleIn:
    if len(entries) != 1:
        raise ValidationFailed("relatedParty names the product's customer: one entry with role 'customer' (a "
                               "product belongs to one customer; other roles are kept as given)", field="relatedParty")
    return parse_model(RelatedPartyIn, entries[0]).partyOrPartyRole


def _split_create(body: ProductCreate) -> tuple[PartyOrPartyRoleIn, list[CharacteristicIn], dict | None]:
    """(the customer, onethread's characteristics, what is kept as given) of a create body."""
    kept = body.kept_new or {}
    customer, kept["relatedParty"] = split_entries(kept.get("relatedParty", []), _is_customer)
    mine, kept["productCharacteristic"] = split_entries(kept.get("productCharacteristic", []), _is_ours)
    chars = [parse_model(CharacteristicIn, c) for c in mine]
    return _customer_ref(customer), chars, {k: v for k, v in kept.items() if v != []} or None


def _price(prices: list[ProductPriceIn]) -> tuple[int, str | None]:
    if not prices:
        return 0, None
    (price,) = prices
    if price.priceType != "recurring" or price.recurringChargePeriod != "month":
        raise ValidationFailed("onethread records one monthly price: priceType 'recurring', "
                               "recurringChargePeriod 'month'", field="productPrice")
    amount = price.price.taxIncludedAmount
    value = Decimal(repr(amount.value)) if isinstance(amount.value, float) else Decimal(amount.value)
    try:
        return rules.minor_units(value, amount.unit), amount.unit.upper()
    except rules.PriceError as exc:
        raise ValidationFailed(str(exc), field="productPrice.price.taxIncludedAmount") from exc


def _characteristics(chars: list[CharacteristicIn]) -> dict[str, str]:
    out: dict[str, str] = {}
    for char in chars:
        if char.name not in CHARACTERISTICS:
            raise ValidationFailed(f"unknown productCharacteristic {char.name!r}; onethread knows "
                                   f"{', '.join(CHARACTERISTICS)}", field="productCharacteristic")
        if char.name in out:
            raise ValidationFailed(f"productCharacteristic {char.name!r} is given twice", field="productCharacteristic")
        out[char.name] = char.value
    if "kind" not in out:
        raise ValidationFailed(f"productCharacteristic 'kind' is required: one of {', '.join(rules.PRODUCT_KINDS)}",
                               field="productCharacteristic")
    return out


def _patch_kept(kept: dict, current: dict) -> dict:
    """The kept attributes of a PATCH; the customer and onethread's characteristics may be sent back
    unchanged (the SIM changes with a SIM replacement, a product stays with its customer)."""
    for key, ours, reason in (
            ("relatedParty", _is_customer, "a product stays with its customer"),
            ("productCharacteristic", _is_ours, f"change the SIM with POST {V1}/{{id}}/sim-replacement")):
        if kept.get(key) is None:
            continue
        mine, kept[key] = split_entries(kept[key], ours)
        current_mine = [e for e in current.get(key, []) if ours(e)]
        if not all(any(same(m, c, by_id=False) for c in current_mine) for m in mine):
            raise ValidationFailed(f"{key}: onethread's entries cannot be changed with PATCH ({reason}); "
                                   "they may be sent back unchanged", field=key)
    return kept


@router.get(f"{BASE}/product", response_model=list[ProductAnswer],
            tags=["TMF637 product inventory"], summary="List or find products")
def list_products(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                  params: ListParams = Depends(),
                  customer_id: str | None = Query(None, alias="relatedParty.id", description="the customer's id"),
                  status: str | None = None) -> list[dict]:
    rows, total = inventory.list_products(session, clock, actor, offset=params.offset, limit=params.limit,
                                          customer_id=customer_id, status=status, channel="api")
    return paged(response, _render(session, clock, rows), total, params.fields)


@router.post(f"{BASE}/product", response_model=ProductAnswer,
             status_code=201, tags=["TMF637 product inventory"], summary="Record a product")
def create_product(body: ProductCreate, response: Response, session: DbSession, clock: ClockDep,
                   container: ContainerDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    _check_type(body.type_, body.statusChannel is not None)
    ref, mine, kept = _split_create(body)
    customer = inventory.resolve_customer(session, ref.type_, ref.id)
    price_minor, currency = _price(body.productPrice)
    if currency is None and body.billingAccount is None:  # no price: nothing to pay, in the operator's currency
        currency = container.settings.default_currency
    chars = _characteristics(mine)
    kind = chars.pop("kind")
    model = chars.pop("model", None)
    product = inventory.add_product(
        session, clock, actor, customer_id=customer.id, kind=kind, name=body.name, price_minor=price_minor,
        currency=currency, billing_account_id=body.billingAccount.id if body.billingAccount else None,
        status=body.status, purchased_on=body.orderDate.astimezone(UTC).date() if body.orderDate else None,
        activated_at=body.startDate, model=model, description=body.description, identifiers=chars,
        channel=body.statusChannel, region=container.settings.default_region, tmf_attributes=kept)
    created(response, product_path(product.id))
    response.headers["ETag"] = etag_for(product.version)
    return _render(session, clock, [product])[0]


@router.get(f"{BASE}/product/{{product_id}}", response_model=ProductAnswer,
            tags=["TMF637 product inventory"], summary="Retrieve a product")
def get_product(product_id: str, response: Response, session: DbSession, clock: ClockDep,
                actor: allow(CUSTOMER_READERS), fields: str | None = None) -> dict:
    product = inventory.read_product(session, clock, actor, product_id, channel="api")
    response.headers["ETag"] = etag_for(product.version)
    return select_fields(_render(session, clock, [product])[0], parse_fields(fields))


@router.patch(f"{BASE}/product/{{product_id}}", response_model=ProductAnswer, tags=["TMF637 product inventory"],
              summary="Update a product (JSON merge-patch); status changes are recorded with channel and reason")
def patch_product(product_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
                  actor: allow(CUSTOMER_WRITERS), raw: dict = Depends(merge_patch_body)) -> dict:
    product = inventory.get_product(session, product_id)
    check_if_match(request, product.version)
    current = _render(session, clock, [product])[0]
    raw = check_unchanged(raw, current, READ_ONLY)
    patch = parse_model(ProductPatch, raw)
    kept = _patch_kept(patch.kept, current)
    extension = {"statusChannel", "statusReason", "statusDate"} & set(raw)
    _check_type(patch.type_, bool(extension))
    if extension and "status" not in raw:
        raise ValidationFailed(f"{', '.join(sorted(extension))} describe a status change: send status too",
                               field=sorted(extension)[0])
    for key in ("name", "status"):
        if key in raw and raw[key] is None:
            raise ValidationFailed(f"{key} cannot be removed", field=key)
    changes = {k: getattr(patch, k) for k in ("name", "description") if k in raw}
    if kept:
        changes["tmf_attributes"] = patched(product.tmf_attributes, kept)
    inventory.update_product(session, clock, actor, product, changes)
    if "status" in raw:
        direct_actions.change_product_status(session, clock, actor, product, patch.status, at=patch.statusDate,
                                             channel=patch.statusChannel, reason=patch.statusReason)
    response.headers["ETag"] = etag_for(product.version)
    return _render(session, clock, [product])[0]


@router.post(f"{V1}/{{product_id}}/sim-replacement", response_model=SimReplacement, tags=["onethread products"],
             summary="Replace the SIM of a line: the old ICCID's holding ends and the new one's starts, same instant")
def replace_sim(product_id: str, body: SimReplacementIn, request: Request, response: Response, session: DbSession,
                clock: ClockDep, container: ContainerDep, actor: allow(CUSTOMER_WRITERS)) -> dict:
    product = inventory.get_product(session, product_id)
    check_if_match(request, product.version)
    done = inventory.replace_sim(session, clock, actor, product, new_iccid=body.newIccid, channel=body.channel,
                                 at=body.at, reason=body.reason, region=container.settings.default_region)
    response.headers["ETag"] = etag_for(product.version)
    return {"@type": "SimReplacement", "productId": product.id, "oldIccid": done.old_iccid,
            "newIccid": done.new_iccid, "at": _iso(done.at), "channel": done.channel, "reason": done.reason,
            "product": _render(session, clock, [product])[0]}


@router.get(f"{V1}/{{product_id}}/history", response_model=ProductHistory, tags=["onethread products"],
            summary="The product's lifecycle: each status change and SIM replacement, oldest first")
def product_history(product_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS)) -> dict:
    product = inventory.get_product(session, product_id)
    steps = inventory.status_history(session, clock, actor, product, channel="api")
    names = inventory.actor_names(session, [s.actor_id for s in steps])
    return {
        "productId": product.id,
        "href": product_path(product.id),
        "items": [{
            "when": _iso(s.at), "fromStatus": s.from_status, "status": s.to_status, "channel": s.channel,
            "who": {"id": s.actor_id, "name": names.get(s.actor_id, s.actor_id)}, "reason": s.reason,
        } for s in steps],
    }
