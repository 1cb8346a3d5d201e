"""Read models for customers: lists, and what a customer's TMF shape needs, in few queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from onethread.models import BillingAccount, Customer, Identifier, IdentifierHolding, Party


def list_customers(session: Session, *, offset: int, limit: int, name: str | None = None,
                   status: str | None = None) -> tuple[list[Customer], int]:
    query = select(Customer)
    if name:
        query = query.where(func.lower(Customer.name).contains(name.lower()))
    if status:
        query = query.where(Customer.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Customer.id).offset(offset).limit(limit)).all()
    return list(rows), total


def accounts_by_customer(session: Session, customer_ids: list[str]) -> dict[str, list[BillingAccount]]:
    out: dict[str, list[BillingAccount]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    for acc in session.scalars(select(BillingAccount).where(BillingAccount.customer_id.in_(customer_ids))
                               .order_by(BillingAccount.opened_on, BillingAccount.id)):
        out[acc.customer_id].append(acc)
    return out


def current_identifiers(session: Session, customer_ids: list[str], at: datetime) -> dict[str, list[tuple]]:
    """Identifiers each customer holds at ``at``: ``{customer_id: [(kind, value, holding), ...]}``."""
    out: dict[str, list[tuple]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    rows = session.execute(
        select(IdentifierHolding, Identifier.kind, Identifier.value)
        .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(IdentifierHolding.customer_id.in_(customer_ids), IdentifierHolding.valid_from <= at,
               or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > at))
        .order_by(Identifier.kind, Identifier.value)
    ).all()
    for holding, kind, value in rows:
        out[holding.customer_id].append((kind, value, holding))
    return out


def parties_by_id(session: Session, party_ids: list[str]) -> dict[str, Party]:
    if not party_ids:
        return {}
    return {p.id: p for p in session.scalars(select(Party).where(Party.id.in_(set(party_ids))))}


def customers_of_party(session: Session, party_id: str) -> list[Customer]:
    return list(session.scalars(select(Customer).where(Customer.party_id == party_id).order_by(Customer.id)))
