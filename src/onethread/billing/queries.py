"""Read models for bills: a customer's bills with their charges and payments, and what a customer
paid on one identifier while it was theirs (the S3 evidence: years of paid bills on that number)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.errors import NotFound
from onethread.kernel.clock import Clock
from onethread.models import Bill, BillingAccount, Charge, Identifier, IdentifierHolding


def customer_bills(session: Session, clock: Clock, actor: Principal, customer_id: str, *, offset: int = 0,
                   limit: int = 50, channel: str | None = None) -> tuple[list[Bill], int, dict[str, list[Charge]]]:
    """A page of the customer's bills, newest first, with their charges (the read is audited)."""
    query = select(Bill).where(Bill.customer_id == customer_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    bills = list(session.scalars(query.order_by(Bill.issued_on.desc(), Bill.id.desc()).offset(offset).limit(limit)))
    charges: dict[str, list[Charge]] = defaultdict(list)
    if bills:
        for charge in session.scalars(select(Charge).where(Charge.bill_id.in_([b.id for b in bills]))
                                      .order_by(Charge.created_at, Charge.id)):
            charges[charge.bill_id].append(charge)
    access.audit(session, clock, actor, action="read", resource_type="bill", resource_id=None,
                 customer_id=customer_id, channel=channel, purpose="bills",
                 detail={"billIds": [b.id for b in bills]})
    return bills, total, charges


def read_bill(session: Session, clock: Clock, actor: Principal, bill_id: str, *,
              channel: str | None = None) -> tuple[Bill, list[Charge]]:
    """One bill with its charges, for display (the read is audited)."""
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise NotFound(f"no bill {bill_id}")
    access.audit(session, clock, actor, action="read", resource_type="bill", resource_id=bill.id,
                 customer_id=bill.customer_id, channel=channel, purpose="bill")
    return bill, list(session.scalars(select(Charge).where(Charge.bill_id == bill.id)
                                      .order_by(Charge.created_at, Charge.id)))


def _audit_shown(session: Session, clock: Clock, actor: Principal, kind: str, rows: list, channel: str | None) -> None:
    """One audit row per customer whose bills (or charges) a list shows."""
    shown: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        shown[row.customer_id].append(row.id)
    for customer_id, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type=kind,
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=customer_id, channel=channel,
                     purpose="list", detail={f"{kind}Ids": ids})


def _page(session: Session, query, equal: dict, order: tuple, offset: int, limit: int) -> tuple[list, int]:
    """One page of ``query`` narrowed to the columns given a value in ``equal``, and the total."""
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    return list(session.scalars(query.order_by(*order).offset(offset).limit(limit))), total


def list_bills(session: Session, clock: Clock, actor: Principal, *, offset: int, limit: int,
               customer_id: str | None = None, billing_account_id: str | None = None, bill_number: str | None = None,
               channel: str | None = None) -> tuple[list[Bill], int]:
    """A page of bills, newest first, narrowed to a customer, an account or a bill number (audited per customer)."""
    bills, total = _page(session, select(Bill), {Bill.customer_id: customer_id,
                                                Bill.billing_account_id: billing_account_id,
                                                Bill.bill_number: bill_number},
                         (Bill.issued_on.desc(), Bill.id.desc()), offset, limit)
    _audit_shown(session, clock, actor, "bill", bills, channel)
    return bills, total


def list_charges(session: Session, clock: Clock, actor: Principal, *, offset: int, limit: int,
                 bill_id: str | None = None, customer_id: str | None = None, product_id: str | None = None,
                 channel: str | None = None) -> tuple[list[Charge], int]:
    """A page of charges, oldest first, narrowed to a bill, a customer or a product (audited per customer)."""
    charges, total = _page(session, select(Charge), {Charge.bill_id: bill_id, Charge.customer_id: customer_id,
                                                     Charge.product_id: product_id},
                           (Charge.created_at, Charge.id), offset, limit)
    _audit_shown(session, clock, actor, "charge", charges, channel)
    return charges, total


def read_charge(session: Session, clock: Clock, actor: Principal, charge_id: str, *,
                channel: str | None = None) -> Charge:
    """One charge (the read is audited)."""
    charge = session.get(Charge, charge_id)
    if charge is None:
        raise NotFound(f"no applied customer billing rate {charge_id}")
    access.audit(session, clock, actor, action="read", resource_type="charge", resource_id=charge.id,
                 customer_id=charge.customer_id, channel=channel, purpose="charge")
    return charge


def identifier_values(session: Session, identifier_ids: set[str]) -> dict[str, tuple[str, str]]:
    """(kind, value) of each identifier a charge names."""
    if not identifier_ids:
        return {}
    return {i: (kind, value) for i, kind, value in session.execute(
        select(Identifier.id, Identifier.kind, Identifier.value).where(Identifier.id.in_(identifier_ids)))}


@dataclass(frozen=True)
class PaidOnIdentifier:
    """Bills with a charge on the identifier for a period this customer held it."""

    bills_charged: int
    bills_paid: int
    paid_minor: dict[str, int] = field(default_factory=dict)  # currency -> charges on it in paid bills
    first_period: date | None = None
    last_paid_at: datetime | None = None


def paid_on_identifier(session: Session, customer_id: str, identifier_id: str) -> PaidOnIdentifier:
    """What this customer was billed and paid on one identifier during their own holdings of it.

    A charge counts when its period (the bill's, when the charge names none) overlaps one of the
    customer's holdings; a former or later holder's bills never count. One aggregate query.
    """
    holdings = session.execute(select(IdentifierHolding.valid_from, IdentifierHolding.valid_to).where(
        IdentifierHolding.customer_id == customer_id, IdentifierHolding.identifier_id == identifier_id)).all()
    if not holdings:
        return PaidOnIdentifier(0, 0)
    start = func.coalesce(Charge.period_start, Bill.period_start)
    end = func.coalesce(Charge.period_end, Bill.period_end)
    overlaps = or_(*[and_(end >= held_from.date(), *([start < held_to.date()] if held_to is not None else []))
                     for held_from, held_to in holdings])
    base = (select(Bill.id.label("bill_id"), Bill.status, Bill.paid_at, Bill.currency, Charge.amount_minor,
                   start.label("start"))
            .join(Bill, Bill.id == Charge.bill_id)
            .where(Charge.customer_id == customer_id, Charge.identifier_id == identifier_id,
                   Charge.kind != "write_off", overlaps)).subquery()
    paid = base.c.status == "paid"
    charged, paid_count, first, last = session.execute(select(
        func.count(func.distinct(base.c.bill_id)),
        func.count(func.distinct(base.c.bill_id)).filter(paid),
        func.min(base.c.start), func.max(base.c.paid_at).filter(paid))).one()
    totals = {cur: int(amount) for cur, amount in session.execute(
        select(base.c.currency, func.sum(base.c.amount_minor)).where(paid).group_by(base.c.currency))}
    return PaidOnIdentifier(charged or 0, paid_count or 0, totals, first, last)


def payment_record(session: Session, customer_id: str) -> dict:
    """The customer's bills overall: how many, how many paid, the last payment, what is owed."""
    count, paid, last = session.execute(select(
        func.count(Bill.id), func.count(Bill.id).filter(Bill.status == "paid"),
        func.max(Bill.paid_at)).where(Bill.customer_id == customer_id)).one()
    owed = {cur: int(v) for cur, v in session.execute(
        select(Bill.currency, func.sum(Bill.amount_minor - Bill.paid_minor - Bill.written_off_minor))
        .where(Bill.customer_id == customer_id, Bill.status.in_(("issued", "overdue", "disputed")))
        .group_by(Bill.currency)) if v}
    return {"bills": count or 0, "paid": paid or 0, "lastPaidAt": last, "owed": owed}


def account_numbers(session: Session, account_ids: set[str]) -> dict[str, str]:
    """The account number of each billing account."""
    if not account_ids:
        return {}
    return dict(session.execute(select(BillingAccount.id, BillingAccount.account_number)
                                .where(BillingAccount.id.in_(account_ids))).all())


def bills_by_id(session: Session, bill_ids: set[str]) -> dict[str, Bill]:
    if not bill_ids:
        return {}
    return {b.id: b for b in session.scalars(select(Bill).where(Bill.id.in_(bill_ids)))}
