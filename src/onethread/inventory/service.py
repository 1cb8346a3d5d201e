"""Use cases for the product inventory: add, change status, terminate, replace a SIM."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.customers import identifier_service
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.inventory import rules
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.events import DomainEvent
from onethread.kernel.money import Money
from onethread.models import BillingAccount, Identifier, IdentifierHolding, Product, ProductStatusChange


def _event(session: Session, clock: Clock, actor: Principal, type_: str, product: Product, **payload) -> None:
    record_event(session, DomainEvent(
        type=type_, occurred_at=clock.now(), aggregate_type="product", aggregate_id=product.id,
        customer_id=product.customer_id,
        payload={"actor": actor.id, "kind": product.kind, "name": product.name, **payload},
    ))


def _log_status(session: Session, product: Product, from_status: str | None, to_status: str, at: datetime,
                actor: Principal, channel: str | None, reason: str | None) -> None:
    session.add(ProductStatusChange(product_id=product.id, customer_id=product.customer_id, from_status=from_status,
                                    to_status=to_status, at=at, channel=channel, actor_id=actor.id, reason=reason))


def _check_channel(channel: str | None) -> None:
    if channel is not None and channel not in rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(rules.CHANNELS)}", field="channel")


def add_product(session: Session, clock: Clock, actor: Principal, *, customer_id: str, kind: str, name: str,
                price_minor: int = 0, currency: str | None = None, billing_account_id: str | None = None,
                status: str = "active", purchased_on: date | None = None, activated_at: datetime | None = None,
                model: str | None = None, description: str | None = None, identifiers: dict[str, str] | None = None,
                channel: str | None = None, parent_product_id: str | None = None,
                region: str = "GB") -> Product:
    customer = get_customer(session, customer_id)
    if kind not in rules.PRODUCT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.PRODUCT_KINDS)}", field="kind")
    if status not in ("created", "pendingActive", "active"):
        raise ValidationFailed("a new product starts as created, pendingActive or active", field="status")
    if not (name or "").strip():
        raise ValidationFailed("a product needs a name", field="name")
    if not isinstance(price_minor, int) or isinstance(price_minor, bool) or price_minor < 0:
        raise ValidationFailed("price is a non-negative whole number of minor units", field="price")
    _check_channel(channel)
    account = None
    if billing_account_id is not None:
        account = session.get(BillingAccount, billing_account_id)
        if account is None or account.customer_id != customer.id:
            raise ValidationFailed("the billing account is not this customer's", field="billingAccount")
    currency = (currency or (account.currency if account else None) or "").upper()
    if len(currency) != 3:
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
    now = clock.now()
    start = ensure_utc(activated_at) if activated_at else (now if status == "active" else None)
    product = Product(customer_id=customer.id, billing_account_id=billing_account_id, kind=kind, name=name.strip(),
                      description=description, status=status, price_minor=price_minor, currency=currency,
                      model=model, purchased_on=purchased_on, activated_at=start,
                      parent_product_id=parent_product_id, created_at=now, updated_at=now)
    session.add(product)
    session.flush()
    _log_status(session, product, None, status, start or now, actor, channel, "added")
    for id_kind, value in identifiers.items():
        identifier_service.assign(session, clock, actor, customer_id=customer.id, kind=id_kind, value=value,
                                  valid_from=start or now, product_id=product.id, region=region)
    _event(session, clock, actor, "product.created", product, status=status, channel=channel)
    return product


def get_product(session: Session, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


def change_status(session: Session, clock: Clock, actor: Principal, product: Product, to_status: str, *,
                  at: datetime | None = None, channel: str | None = None, reason: str | None = None) -> Product:
    if to_status not in rules.STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    if to_status == product.status:
        return product
    if not rules.can_move(product.status, to_status):
        raise Conflict(rules.transition_error(product.status, to_status), field="status")
    _check_channel(channel)
    when = ensure_utc(at) if at else clock.now()
    if when > clock.now():
        raise ValidationFailed("a status change cannot be dated in the future", field="at")
    from_status = product.status
    product.status = to_status
    product.updated_at = clock.now()
    if to_status == "active" and product.activated_at is None:
        product.activated_at = when
    if to_status in rules.TERMINAL:
        product.terminated_at = when
        product.termination_channel = channel
        product.termination_reason = reason
        _end_identifiers(session, clock, actor, product, when, reason or to_status)
    _log_status(session, product, from_status, to_status, when, actor, channel, reason)
    session.flush()
    type_ = "product.terminated" if to_status == "terminated" else "product.status_changed"
    _event(session, clock, actor, type_, product, fromStatus=from_status, toStatus=to_status, at=when.isoformat(),
           channel=channel, reason=reason)
    return product


def _end_identifiers(session: Session, clock: Clock, actor: Principal, product: Product, when: datetime,
                     reason: str) -> None:
    holdings = session.scalars(select(IdentifierHolding).where(
        IdentifierHolding.product_id == product.id,
        or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > when),
    )).all()
    for holding in holdings:
        identifier_service.end_holding(session, clock, actor, holding.id, at=when, reason=reason)


def replace_sim(session: Session, clock: Clock, actor: Principal, product: Product, *, new_iccid: str,
                channel: str, at: datetime | None = None, reason: str = "SIM replaced",
                region: str = "GB") -> IdentifierHolding:
    """Swap the SIM of a line: the old ICCID's holding ends and the new one starts, same instant."""
    if product.kind not in rules.SIM_KINDS:
        raise ValidationFailed(f"a {product.kind} has no SIM", field="productId")
    if product.status in rules.TERMINAL:
        raise Conflict(f"the product is {product.status}")
    _check_channel(channel)
    when = ensure_utc(at) if at else clock.now()
    current = session.execute(
        select(IdentifierHolding, Identifier).join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(IdentifierHolding.product_id == product.id, Identifier.kind == "iccid",
               or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > when))
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
    holding = identifier_service.assign(session, clock, actor, customer_id=product.customer_id, kind="iccid",
                                        value=new_value, valid_from=when, product_id=product.id, region=region)
    _log_status(session, product, product.status, product.status, when, actor, channel,
                f"{reason}: {old_value or 'none'} -> {new_value}")
    product.updated_at = clock.now()
    _event(session, clock, actor, "product.sim_replaced", product, oldIccid=old_value, newIccid=new_value,
           at=when.isoformat(), channel=channel)
    return holding


def is_billable_on(product: Product, day: date) -> bool:
    """Active (or suspended/pending terminate) on that day, by its activation and termination dates."""
    if product.activated_at is None or product.activated_at.date() > day:
        return False
    return not (product.terminated_at is not None and product.terminated_at.date() <= day)


def monthly_value(products: list[Product], day: date) -> dict[str, Money]:
    """Recurring value per currency of the products billable on ``day``."""
    totals: dict[str, int] = defaultdict(int)
    for product in products:
        if is_billable_on(product, day):
            totals[product.currency] += product.price_minor
    return {cur: Money(amount, cur) for cur, amount in sorted(totals.items())}
