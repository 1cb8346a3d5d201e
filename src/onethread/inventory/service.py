"""Use cases for the product inventory: add, read, list, change status, terminate, replace a SIM.

Services take ``(session, clock, actor, ...)``, never commit, record a domain event for every
change and an audit row for every read of a customer's products (personal data).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.customers import identifier_service
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.inventory import rules
from onethread.inventory.events import ProductStatusChanged, ProductTerminated
from onethread.inventory.rules import ProductStatus
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.events import DomainEvent
from onethread.kernel.money import Money
from onethread.models import (
    ApiToken,
    BillingAccount,
    Customer,
    Identifier,
    IdentifierHolding,
    Product,
    ProductStatusChange,
    StaffUser,
)

# --- helpers -------------------------------------------------------------------------------


def _event(session: Session, clock: Clock, actor: Principal, type_: str, product: Product, *,
           effective: datetime | None = None, **payload) -> None:
    """``effective``: when the change happened (the status date), which may be earlier than now; the
    timeline shows it there, in order, not when it was recorded."""
    extra = {"effectiveAt": effective.isoformat()} if effective is not None else {}
    record_event(session, DomainEvent(
        type=type_, occurred_at=clock.now(), aggregate_type="product", aggregate_id=product.id,
        customer_id=product.customer_id,
        payload={"actor": actor.id, "kind": product.kind, "name": product.name, **payload, **extra},
    ))


def _log_status(session: Session, product: Product, from_status: str | None, to_status: str, at: datetime,
                actor: Principal, channel: str | None, reason: str | None) -> None:
    session.add(ProductStatusChange(product_id=product.id, customer_id=product.customer_id, from_status=from_status,
                                    to_status=to_status, at=at, channel=channel, actor_id=actor.id, reason=reason))


def _check_channel(channel: str | None) -> None:
    if channel is not None and channel not in rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(rules.CHANNELS)}", field="channel")


def _check_reason(reason: str | None, limit: int, field: str = "reason") -> None:
    if reason is not None and len(reason) > limit:
        raise ValidationFailed(f"the reason is at most {limit} characters", field=field)


def _when(clock: Clock, at: datetime | None, field: str = "at") -> datetime:
    """A recorded instant: timezone-aware, and not in the future (we record what happened)."""
    if at is None:
        return clock.now()
    try:
        when = ensure_utc(at)
    except ValueError as exc:
        raise ValidationFailed("give the time with its time zone (e.g. 2026-03-10T11:00:00Z)", field=field) from exc
    if when > clock.now():
        raise ValidationFailed("a change cannot be dated in the future", field=field)
    return when


def _check_after_last_change(session: Session, product: Product, when: datetime) -> None:
    """History is append-only: a change cannot be dated before the product's last recorded change."""
    last = session.scalar(select(func.max(ProductStatusChange.at)).where(ProductStatusChange.product_id == product.id))
    if last is not None and when < ensure_utc(last):
        raise ValidationFailed(f"the product's last recorded change is at {ensure_utc(last).isoformat()}; "
                               "a later change cannot be dated before it", field="at")


# --- adding and reading ------------------------------------------------------------------


def resolve_customer(session: Session, ref_type: str, ref_id: str) -> Customer:
    """The customer a TMF related-party reference names.

    ``PartyRoleRef``: the customer id. ``PartyRef``: a party (individual or organization) that is
    exactly one customer; a customer id is accepted too (ids are unique across tables).
    """
    customer = session.get(Customer, ref_id)
    if customer is not None:
        return customer
    if ref_type == "PartyRoleRef":
        raise NotFound(f"no customer with id {ref_id}", field="relatedParty")
    roles = list(session.scalars(select(Customer).where(Customer.party_id == ref_id).order_by(Customer.id)))
    if not roles:
        raise NotFound(f"no customer with id {ref_id}, and no party with that id is a customer", field="relatedParty")
    if len(roles) > 1:
        raise ValidationFailed(f"party {ref_id} is {len(roles)} customers; name one with a PartyRoleRef "
                               f"({', '.join(c.id for c in roles)})", field="relatedParty")
    return roles[0]


def add_product(session: Session, clock: Clock, actor: Principal, *, customer_id: str, kind: str, name: str,
                price_minor: int = 0, currency: str | None = None, billing_account_id: str | None = None,
                status: str = "active", purchased_on: date | None = None, activated_at: datetime | None = None,
                model: str | None = None, description: str | None = None, identifiers: dict[str, str] | None = None,
                channel: str | None = None, parent_product_id: str | None = None,
                region: str | None = None, tmf_attributes: dict | None = None) -> Product:
    """Record a product of the customer's. ``tmf_attributes``: TMF attributes kept as the client
    sent them (onethread has no column for them; the API checks their shape)."""
    customer = get_customer(session, customer_id)
    if kind not in rules.PRODUCT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.PRODUCT_KINDS)}", field="kind")
    if status not in rules.NEW_STATUSES:
        raise ValidationFailed(f"a new product starts as {', '.join(rules.NEW_STATUSES)}", field="status")
    if not (name or "").strip() or len(name.strip()) > 200:
        raise ValidationFailed("a product needs a name of at most 200 characters", field="name")
    if model is not None and len(model) > 120:
        raise ValidationFailed("a model name is at most 120 characters", field="model")
    if not isinstance(price_minor, int) or isinstance(price_minor, bool) or price_minor < 0:
        raise ValidationFailed("price is a non-negative whole number of minor units", field="price")
    if price_minor > rules.PRICE_MAX_MINOR:
        raise ValidationFailed("price is too large", field="price")
    _check_channel(channel)
    account = None
    if billing_account_id is not None:
        account = session.get(BillingAccount, billing_account_id)
        if account is None:
            raise NotFound(f"no billing account with id {billing_account_id}", field="billingAccount")
        if account.customer_id != customer.id:
            raise ValidationFailed("the billing account is not this customer's", field="billingAccount")
    currency = (currency or (account.currency if account else None) or "").upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValidationFailed("currency is a three-letter ISO 4217 code", field="currency")
    if account is not None and account.currency != currency:
        raise ValidationFailed(f"the billing account is in {account.currency}", field="currency")
    identifiers = identifiers or {}
    wrong = set(identifiers) - set(rules.IDENTIFIER_KINDS[kind])
    if wrong:
        raise ValidationFailed(f"a {kind} carries no {', '.join(sorted(wrong))}", field="identifiers")
    if parent_product_id is not None:
        parent = session.get(Product, parent_product_id)
        if parent is None or parent.customer_id != customer.id:
            raise ValidationFailed("the parent product is not this customer's", field="parentProductId")
    if activated_at is not None and status != ProductStatus.ACTIVE:
        raise ValidationFailed(f"a {status} product has not started yet: no activation date", field="startDate")
    now = clock.now()
    if purchased_on is not None and purchased_on > now.date():
        raise ValidationFailed("the purchase date is in the future", field="orderDate")
    start = _when(clock, activated_at, field="startDate") if status == ProductStatus.ACTIVE else None
    product = Product(customer_id=customer.id, billing_account_id=billing_account_id, kind=kind, name=name.strip(),
                      description=description, status=status, price_minor=price_minor, currency=currency,
                      model=model, purchased_on=purchased_on, activated_at=start,
                      parent_product_id=parent_product_id, tmf_attributes=tmf_attributes, created_at=now,
                      updated_at=now)
    session.add(product)
    session.flush()
    _log_status(session, product, None, status, start or now, actor, channel, "added")
    for id_kind, value in identifiers.items():
        identifier_service.assign(session, clock, actor, customer_id=customer.id, kind=id_kind, value=value,
                                  valid_from=start or now, product_id=product.id, region=region)
    _event(session, clock, actor, "product.created", product, effective=start or now, status=status,
           channel=channel)
    session.flush()
    return product


def get_product(session: Session, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


def read_product(session: Session, clock: Clock, actor: Principal, product_id: str, *, channel: str | None = None,
                 purpose: str | None = None) -> Product:
    """Load a product for display: it is the customer's personal data, so the read is audited."""
    product = get_product(session, product_id)
    access.audit(session, clock, actor, action="read", resource_type="product", resource_id=product.id,
                 customer_id=product.customer_id, channel=channel, purpose=purpose)
    return product


def list_products(session: Session, clock: Clock, actor: Principal, *, offset: int, limit: int,
                  customer_id: str | None = None, status: str | None = None,
                  channel: str | None = None) -> tuple[list[Product], int]:
    """A page of products (oldest first); one audit row per customer whose products are shown."""
    if status is not None and status not in rules.STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    query = select(Product)
    if customer_id is not None:
        query = query.where(Product.customer_id == customer_id)
    if status is not None:
        query = query.where(Product.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(session.scalars(query.order_by(Product.id).offset(offset).limit(limit)))
    shown: dict[str, list[str]] = defaultdict(list)
    for product in rows:
        shown[product.customer_id].append(product.id)
    for cid, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type="product",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=cid, channel=channel,
                     purpose="list", detail={"productIds": ids})
    return rows, total


def customer_products(session: Session, customer_id: str) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.customer_id == customer_id).order_by(Product.id)))


def update_product(session: Session, clock: Clock, actor: Principal, product: Product, changes: dict) -> Product:
    """Rename or re-describe a product. Status goes through ``change_status``, the SIM through ``replace_sim``."""
    unknown = set(changes) - {"name", "description", "tmf_attributes"}
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))} on a product")
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name or len(name) > 200:
            raise ValidationFailed("a product needs a name of at most 200 characters", field="name")
        changes["name"] = name
    changed = sorted(k for k, v in changes.items() if getattr(product, k) != v)
    if not changed:
        return product
    for key in changed:
        setattr(product, key, changes[key])
    product.updated_at = clock.now()
    session.flush()
    _event(session, clock, actor, "product.updated", product, fields=changed)
    return product


# --- lifecycle -----------------------------------------------------------------------------


def change_status(session: Session, clock: Clock, actor: Principal, product: Product, to_status: str, *,
                  at: datetime | None = None, channel: str | None = None, reason: str | None = None) -> Product:
    if to_status not in rules.STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    if to_status == product.status:
        return product
    if not rules.can_move(product.status, to_status):
        raise Conflict(rules.transition_error(product.status, to_status), field="status",
                       details={"allowed": sorted(rules.TRANSITIONS.get(product.status, ()))})
    _check_channel(channel)
    _check_reason(reason, rules.REASON_MAX)
    when = _when(clock, at)
    _check_after_last_change(session, product, when)
    from_status = product.status
    product.status = to_status
    product.updated_at = clock.now()
    if to_status == ProductStatus.ACTIVE and product.activated_at is None:
        product.activated_at = when
    if to_status in rules.TERMINAL:
        product.terminated_at = when
        product.termination_channel = channel
        product.termination_reason = reason
        _end_identifiers(session, clock, actor, product, when, reason or to_status)
    _log_status(session, product, from_status, to_status, when, actor, channel, reason)
    session.flush()
    changed = ProductTerminated if to_status == ProductStatus.TERMINATED else ProductStatusChanged
    record_event(session, changed(
        occurred_at=clock.now(), aggregate_id=product.id, customer_id=product.customer_id, actor=actor.id,
        kind=product.kind, name=product.name, from_status=from_status, to_status=to_status, at=when.isoformat(),
        channel=channel, reason=reason, effective_at=when.isoformat()))
    return product


def _end_identifiers(session: Session, clock: Clock, actor: Principal, product: Product, when: datetime,
                     reason: str) -> None:
    holdings = session.scalars(select(IdentifierHolding).where(
        IdentifierHolding.product_id == product.id,
        or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > when),
    )).all()
    for holding in holdings:
        identifier_service.end_holding(session, clock, actor, holding.id, at=when, reason=reason)


@dataclass(frozen=True)
class SimReplacement:
    product: Product
    old_iccid: str | None
    new_iccid: str
    at: datetime
    channel: str
    reason: str


def replace_sim(session: Session, clock: Clock, actor: Principal, product: Product, *, new_iccid: str,
                channel: str, at: datetime | None = None, reason: str | None = None,
                region: str | None = None) -> SimReplacement:
    """Swap the SIM of a line: the old ICCID's holding ends and the new one starts, same instant."""
    reason = reason or "SIM replaced"
    if product.kind not in rules.SIM_KINDS:
        raise ValidationFailed(f"a {product.kind} has no SIM", field="productId")
    if product.status in rules.TERMINAL:
        raise Conflict(f"the product is {product.status}")
    if channel is None:
        raise ValidationFailed("say through which channel the SIM was replaced", field="channel")
    _check_channel(channel)
    _check_reason(reason, rules.SIM_REASON_MAX)
    when = _when(clock, at)
    _check_after_last_change(session, product, when)
    current = session.execute(
        select(IdentifierHolding, Identifier).join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(IdentifierHolding.product_id == product.id, Identifier.kind == "iccid",
               or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > when))
        .order_by(IdentifierHolding.valid_from)
    ).first()
    new_value = identifier_service.normalise("iccid", new_iccid, region)
    old_value = None
    if current is not None:
        old_holding, old_ident = current
        old_value = old_ident.value
        if old_value == new_value:
            raise Conflict("that is already the product's SIM", field="iccid")
        identifier_service.end_holding(session, clock, actor, old_holding.id, at=when,
                                       reason=f"{reason}: replaced by {new_value}")
    identifier_service.assign(session, clock, actor, customer_id=product.customer_id, kind="iccid",
                              value=new_value, valid_from=when, product_id=product.id, region=region)
    _log_status(session, product, product.status, product.status, when, actor, channel,
                f"{reason}: {old_value or 'none'} -> {new_value}")
    product.updated_at = clock.now()
    session.flush()
    _event(session, clock, actor, "product.sim_replaced", product, effective=when, oldIccid=old_value,
           newIccid=new_value, at=when.isoformat(), channel=channel, reason=reason)
    return SimReplacement(product, old_value, new_value, when, channel, reason)


def status_history(session: Session, clock: Clock, actor: Principal, product: Product, *,
                   channel: str | None = None) -> list[ProductStatusChange]:
    """Every lifecycle step of a product, oldest first (the read is audited)."""
    access.audit(session, clock, actor, action="read", resource_type="product", resource_id=product.id,
                 customer_id=product.customer_id, channel=channel, purpose="history")
    return list(session.scalars(select(ProductStatusChange).where(ProductStatusChange.product_id == product.id)
                                .order_by(ProductStatusChange.at, ProductStatusChange.id)))


def actor_names(session: Session, actor_ids: list[str]) -> dict[str, str]:
    """Display names for the ids recorded as actors (staff users and API tokens)."""
    ids = sorted({i for i in actor_ids if i})
    if not ids:
        return {}
    names = {row.id: row.name for row in
             session.execute(select(ApiToken.id, ApiToken.name).where(ApiToken.id.in_(ids)))}
    names.update({row.id: row.display_name for row in
                  session.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids)))})
    return names


# --- read models for the API ---------------------------------------------------------------


@dataclass(frozen=True)
class Related:
    customers: dict[str, Customer]
    accounts: dict[str, BillingAccount]
    identifiers: dict[str, dict[str, str]]  # product id -> {kind: value}


def related(session: Session, products: list[Product], at: datetime) -> Related:
    """What a product's representation names, for a page of products, in three queries.

    Identifiers: per kind, the latest one the product held by ``at`` (the current SIM of a live
    line; the last one of a terminated product).
    """
    ids = [p.id for p in products]
    customer_ids = {p.customer_id for p in products}
    account_ids = {p.billing_account_id for p in products if p.billing_account_id}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))} \
        if customer_ids else {}
    accounts = {a.id: a for a in session.scalars(select(BillingAccount).where(BillingAccount.id.in_(account_ids)))} \
        if account_ids else {}
    identifiers: dict[str, dict[str, str]] = {pid: {} for pid in ids}
    if ids:
        rows = session.execute(
            select(IdentifierHolding.product_id, Identifier.kind, Identifier.value)
            .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
            .where(IdentifierHolding.product_id.in_(ids), IdentifierHolding.valid_from <= at)
            .order_by(IdentifierHolding.valid_from, IdentifierHolding.id)
        ).all()
        for product_id, kind, value in rows:
            identifiers[product_id][kind] = value
    return Related(customers, accounts, identifiers)


# --- value ---------------------------------------------------------------------------------


def is_billable_on(product: Product, day: date) -> bool:
    """In service on that day, by its status, activation and termination dates."""
    return rules.billable_on(product.status, product.activated_at, product.terminated_at, day)


def monthly_value(products: list[Product], day: date) -> dict[str, Money]:
    """Recurring value per currency of the products billable on ``day``."""
    totals: dict[str, int] = defaultdict(int)
    for product in products:
        if is_billable_on(product, day):
            totals[product.currency] += product.price_minor
    return {cur: Money(amount, cur) for cur, amount in sorted(totals.items())}
