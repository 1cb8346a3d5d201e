"""Bills as the operator's billing system sends them, payments against them, and write-offs.

Lean on purpose: a bill is imported with its charges and checked (its account's currency, whole
minor units, each charge's product and number this customer's at the charge's period, one bill
number per account); a payment or a write-off moves what the bill still owes. A write-off is only
made by an approved four-eyes request (``decisions.approvals``). The bill audit (S4) is a later
issue. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.billing import rules
from onethread.customers import identifier_service
from onethread.db.outbox import record_event
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.events import DomainEvent
from onethread.kernel.money import Money
from onethread.models import Bill, BillingAccount, Charge, Identifier, IdentifierHolding, Product

# The identifier a charge for a product is about when the bill does not name one: its number,
# else its SIM.
PRODUCT_IDENTIFIER_KINDS = ("msisdn", "iccid")


@dataclass(frozen=True)
class ChargeIn:
    kind: str
    description: str
    amount_minor: int
    product_id: str | None = None
    identifier_kind: str | None = None
    identifier_value: str | None = None
    period_start: date | None = None
    period_end: date | None = None


def _event(session: Session, clock: Clock, actor: Principal, type_: str, bill: Bill, **payload) -> None:
    record_event(session, DomainEvent(
        type=type_, occurred_at=clock.now(), aggregate_type="bill", aggregate_id=bill.id,
        customer_id=bill.customer_id,
        payload={"actor": actor.id, "actorName": actor.name, "billNumber": bill.bill_number, **payload}))


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _fail(problems: list[tuple[str, str]], prefix: str = "") -> None:
    if problems:
        field, message = problems[0]
        raise ValidationFailed(message, field=f"{prefix}{field}",
                               details={"problems": [{"field": f"{prefix}{f}", "problem": m} for f, m in problems]})


def _holding_in_period(session: Session, customer_id: str, identifier_id: str, start: date,
                       end: date) -> IdentifierHolding | None:
    """This customer's holding of the identifier that overlaps the days ``start``..``end``."""
    return session.scalar(select(IdentifierHolding).where(
        IdentifierHolding.identifier_id == identifier_id, IdentifierHolding.customer_id == customer_id,
        IdentifierHolding.valid_from < _start(end + timedelta(days=1)),
        or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > _start(start)),
    ).order_by(IdentifierHolding.valid_from.desc()).limit(1))


def _holding_before(session: Session, customer_id: str, identifier_id: str, start: date) -> IdentifierHolding | None:
    """This customer's latest holding of the identifier that ended by the day ``start``."""
    return session.scalar(select(IdentifierHolding).where(
        IdentifierHolding.identifier_id == identifier_id, IdentifierHolding.customer_id == customer_id,
        IdentifierHolding.valid_to.is_not(None), IdentifierHolding.valid_to <= _start(start + timedelta(days=1)),
    ).order_by(IdentifierHolding.valid_to.desc()).limit(1))


def _product_identifier(session: Session, product: Product, start: date, end: date) -> str | None:
    rows = session.execute(
        select(IdentifierHolding.identifier_id, Identifier.kind)
        .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(IdentifierHolding.product_id == product.id, IdentifierHolding.customer_id == product.customer_id,
               Identifier.kind.in_(PRODUCT_IDENTIFIER_KINDS),
               IdentifierHolding.valid_from < _start(end + timedelta(days=1)),
               or_(IdentifierHolding.valid_to.is_(None), IdentifierHolding.valid_to > _start(start)))
        .order_by(IdentifierHolding.valid_from.desc())).all()
    for kind in PRODUCT_IDENTIFIER_KINDS:
        for identifier_id, found in rows:
            if found == kind:
                return identifier_id
    return None


def _charge(session: Session, customer_id: str, bill_period: tuple[date, date], c: ChargeIn,
            n: int, region: str | None) -> dict:
    where = f"charges[{n}]."
    _fail(rules.charge_problems(kind=c.kind, amount_minor=c.amount_minor, period_start=c.period_start,
                                period_end=c.period_end, description=c.description or ""), where)
    start, end = (c.period_start, c.period_end) if c.period_start is not None else bill_period
    product = None
    if c.product_id is not None:
        product = session.get(Product, c.product_id)
        if product is None or product.customer_id != customer_id:
            raise ValidationFailed("the product is not this customer's", field=f"{where}productId")
    identifier_id, outside = None, False
    if c.identifier_kind is not None or c.identifier_value is not None:
        if not (c.identifier_kind and c.identifier_value):
            raise ValidationFailed("an identifier needs its kind and value", field=f"{where}identifier")
        try:
            value = identifier_service.normalise(c.identifier_kind, c.identifier_value, region)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, field=f"{where}identifier") from exc
        ident = session.scalar(select(Identifier).where(Identifier.kind == c.identifier_kind,
                                                        Identifier.value == value))
        holding = None if ident is None else _holding_in_period(session, customer_id, ident.id, start, end)
        if holding is None and ident is not None:
            # Held before the charged period, not during it (a SIM removed in the store): the
            # charge is evidence for the bill audit, not an error.
            holding = _holding_before(session, customer_id, ident.id, start)
            outside = holding is not None
        if holding is None:
            raise ValidationFailed(f"{value} was not this customer's between {start} and {end}",
                                   field=f"{where}identifier")
        identifier_id = ident.id
        if product is None and holding.product_id is not None:
            product = session.get(Product, holding.product_id)
    elif product is not None:
        identifier_id = _product_identifier(session, product, start, end)
    return {"product_id": product.id if product else None, "identifier_id": identifier_id, "kind": c.kind,
            "description": c.description.strip(), "amount_minor": c.amount_minor,
            "period_start": c.period_start, "period_end": c.period_end, "outside_holding": outside}


def import_bill(session: Session, clock: Clock, actor: Principal, *, billing_account_id: str, bill_number: str,
                period_start: date, period_end: date, issued_on: date, due_on: date, amount_minor: int,
                currency: str, charges: list[ChargeIn], region: str | None = None) -> Bill:
    """Record a bill from the billing system with its charges; everything is checked before anything is written."""
    account = session.get(BillingAccount, billing_account_id)
    if account is None:
        raise NotFound(f"no billing account {billing_account_id}", field="billingAccountId")
    currency = (currency or "").upper()
    if currency != account.currency:
        raise ValidationFailed(f"the billing account is in {account.currency}, not {currency or 'no currency'}",
                               field="currency")
    total = sum(c.amount_minor for c in charges if rules.is_minor_units(c.amount_minor)) if charges else None
    _fail(rules.bill_problems(bill_number=bill_number or "", period_start=period_start, period_end=period_end,
                              issued_on=issued_on, due_on=due_on, amount_minor=amount_minor, charges_total=total))
    if issued_on > clock.now().date():
        raise ValidationFailed("a bill cannot be issued in the future", field="issuedOn")
    number = bill_number.strip()
    if session.scalar(select(Bill.id).where(Bill.billing_account_id == account.id, Bill.bill_number == number)):
        raise Conflict(f"bill {number} is already recorded for account {account.account_number}",
                       field="billNumber")
    lines = [_charge(session, account.customer_id, (period_start, period_end), c, n, region)
             for n, c in enumerate(charges)]
    now = clock.now()
    bill = Bill(customer_id=account.customer_id, billing_account_id=account.id, bill_number=number,
                period_start=period_start, period_end=period_end, issued_on=issued_on, due_on=due_on,
                amount_minor=amount_minor, currency=currency, status="issued", paid_minor=0, written_off_minor=0,
                created_at=now)
    if amount_minor == 0:
        bill.status = "paid"
    session.add(bill)
    session.flush()
    for line in lines:
        session.add(Charge(customer_id=bill.customer_id, bill_id=bill.id, currency=currency, created_at=now, **line))
    session.flush()
    _event(session, clock, actor, "bill.imported", bill, amount=amount_minor, currency=currency, charges=len(lines))
    return bill


def get_account(session: Session, billing_account_id: str) -> BillingAccount:
    account = session.get(BillingAccount, billing_account_id)
    if account is None:
        raise NotFound(f"no billing account {billing_account_id}", field="billingAccount")
    return account


def recorded_bill(session: Session, account: BillingAccount, bill_number: str, amount_minor: int) -> Bill | None:
    """The bill already recorded for the account under this number, when it is the same bill (the
    same amount): importing it again imports nothing. The same number with another amount is a
    ``Conflict``."""
    number = (bill_number or "").strip()
    existing = session.scalar(select(Bill).where(Bill.billing_account_id == account.id, Bill.bill_number == number))
    if existing is not None and existing.amount_minor != amount_minor:
        raise Conflict(f"bill {number} is already recorded for {account.account_number} with another amount "
                       f"({existing.amount_minor})", field="billNumber")
    return existing


def get_bill(session: Session, bill_id: str, *, for_update: bool = False) -> Bill:
    bill = session.get(Bill, bill_id, with_for_update=for_update)
    if bill is None:
        raise NotFound(f"no bill {bill_id}")
    return bill


def charges_of(session: Session, bill_id: str) -> list[Charge]:
    return list(session.scalars(select(Charge).where(Charge.bill_id == bill_id).order_by(Charge.created_at, Charge.id)))


def owed(bill: Bill) -> int:
    return rules.outstanding(bill.amount_minor, bill.paid_minor, bill.written_off_minor)


def _when(clock: Clock, at: datetime | None) -> datetime:
    if at is None:
        return clock.now()
    try:
        when = ensure_utc(at)
    except ValueError as exc:
        raise ValidationFailed("give the time with its time zone", field="paidAt") from exc
    if when > clock.now():
        raise ValidationFailed("a payment cannot be dated in the future", field="paidAt")
    return when


def record_payment(session: Session, clock: Clock, actor: Principal, bill_id: str, *, amount_minor: int,
                   paid_at: datetime | None = None) -> Bill:
    """A payment against a bill: never more than it still owes."""
    if not rules.is_minor_units(amount_minor) or amount_minor <= 0:
        raise ValidationFailed("a payment is a whole, positive number of minor units", field="amount")
    when = _when(clock, paid_at)
    bill = get_bill(session, bill_id, for_update=True)
    due = owed(bill)
    if amount_minor > due:
        raise Conflict(f"bill {bill.bill_number} owes {Money(due, bill.currency).as_decimal_str()} "
                       f"{bill.currency}; a payment of {Money(amount_minor, bill.currency).as_decimal_str()} is more",
                       field="amount")
    bill.paid_minor += amount_minor
    bill.paid_at = when if bill.paid_at is None or when > ensure_utc(bill.paid_at) else bill.paid_at
    bill.status = rules.status_after(bill.amount_minor, bill.paid_minor, bill.written_off_minor, bill.status)
    session.flush()
    _event(session, clock, actor, "bill.payment_recorded", bill, amount=amount_minor, currency=bill.currency,
           paidAt=when.isoformat(), status=bill.status)
    return bill


def write_off(session: Session, clock: Clock, actor: Principal, bill_id: str, *, amount_minor: int, reason: str,
              approval_id: str | None) -> Bill:
    """Write off part of what a bill owes. Called by the four-eyes executor, which checked the approval."""
    if not rules.is_minor_units(amount_minor) or amount_minor <= 0:
        raise ValidationFailed("a write-off is a whole, positive number of minor units", field="amount")
    bill = get_bill(session, bill_id, for_update=True)
    due = owed(bill)
    if amount_minor > due:
        raise Conflict(f"bill {bill.bill_number} owes {Money(due, bill.currency).as_decimal_str()} {bill.currency}: "
                       "no more than that can be written off", field="amount")
    now = clock.now()
    bill.written_off_minor += amount_minor
    bill.status = rules.status_after(bill.amount_minor, bill.paid_minor, bill.written_off_minor, bill.status)
    session.add(Charge(customer_id=bill.customer_id, bill_id=bill.id, kind="write_off",
                       description=f"Written off: {reason}"[:rules.DESCRIPTION_MAX], amount_minor=-amount_minor,
                       currency=bill.currency, created_at=now))
    session.flush()
    shown = f"{Money(amount_minor, bill.currency).as_decimal_str()} {bill.currency}"
    _event(session, clock, actor, "bill.written_off", bill, amount=amount_minor, currency=bill.currency,
           approvalId=approval_id, timelineTitle=f"Written off {shown} on bill {bill.bill_number}",
           timelineDetail=reason)
    return bill
