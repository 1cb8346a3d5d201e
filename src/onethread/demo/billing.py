"""Demo bills and one four-eyes request.

S3: Priya has paid every monthly bill on her number since it was recycled to her; an agent has
asked to terminate her line on suspicion of fraud, and the request waits for a second person with
that evidence. S4: the business customer's monthly bills, which go on charging the old tablet SIM
for the two months after the store removed it (April and May), April with usage on the removed
SIM's ICCID (the bill audit run in the S4 case's replay, demo/cases.py, finds them all).
Everything goes through the billing and approval services.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.billing import service as billing
from onethread.bootstrap import Container
from onethread.decisions import approvals
from onethread.kernel.case_status import CaseStatus
from onethread.models import BillingAccount, Case, Identifier, IdentifierHolding, Product

TABLET_USAGE_MINOR = 450  # S4: "usage was made that month", on a SIM binned in the store


def _iccid(session: Session, product_id: str) -> str:
    """The ICCID the product held last."""
    return session.scalars(select(Identifier.value).join(IdentifierHolding, IdentifierHolding.identifier_id
                                                         == Identifier.id)
                           .where(IdentifierHolding.product_id == product_id, Identifier.kind == "iccid")
                           .order_by(IdentifierHolding.valid_from.desc())).first()


def _months(first: date, last: date):
    """(first day, last day) of each month from ``first``'s month up to ``last``'s month."""
    day = first.replace(day=1)
    while day <= last:
        nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        yield day, nxt - timedelta(days=1)
        day = nxt


def _account(session: Session, customer_id: str) -> BillingAccount:
    return session.scalars(select(BillingAccount).where(BillingAccount.customer_id == customer_id)
                           .order_by(BillingAccount.id)).first()


def _products(session: Session, customer_id: str) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.customer_id == customer_id).order_by(Product.id)))


def _bill(session, clock, actor, account, number, start, end, charges, *, paid: bool, region: str):
    total = sum(c.amount_minor for c in charges)
    bill = billing.import_bill(session, clock, actor, billing_account_id=account.id, bill_number=number,
                               period_start=start, period_end=end, issued_on=end + timedelta(days=1),
                               due_on=end + timedelta(days=15), amount_minor=total, currency=account.currency,
                               charges=charges, region=region)
    if paid:
        when = datetime.combine(end + timedelta(days=10), datetime.min.time(), tzinfo=UTC).replace(hour=8)
        billing.record_payment(session, clock, actor, bill.id, amount_minor=total, paid_at=min(when, clock.now()))
    return bill


def load_billing(session: Session, c: Container, people: dict, users: dict, renewal: date) -> int:
    """Bills for S3 and S4, before the stories' cases (S4's audit runs in the case replay); returns
    how many bills."""
    clock, region = c.clock, c.settings.default_region
    today = clock.now().date()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    feed = access.staff_principal(users["bea.backoffice"])
    count = 0

    # S3: every month on the number since it became hers, every bill paid.
    priya = people["priya"]
    account = _account(session, priya.id)
    line = next(p for p in _products(session, priya.id) if p.kind == "mobile_line")
    since = line.activated_at.date()
    for start, end in _months(since, last_month_end):
        _bill(session, clock, feed, account, f"{account.account_number}-{start:%Y%m}", max(start, since), end,
              [billing.ChargeIn(kind="recurring", description=line.name, amount_minor=line.price_minor,
                                product_id=line.id)], paid=True, region=region)
        count += 1

    # S4: the business account, before and after the renewal; the old tablet SIM is still charged
    # for the two months after its removal, and those bills are not paid.
    joinery = people["joinery"]
    account = _account(session, joinery.id)
    products = _products(session, joinery.id)
    tablet = next(p for p in products if p.kind == "data_sim" and p.terminated_at is not None)
    wrongly_until = date(renewal.year + (renewal.month + 2) // 12, (renewal.month + 2) % 12 + 1, 1)
    for start, end in _months(renewal - timedelta(days=150), last_month_end):
        charges = []
        for p in products:
            started = p.activated_at is not None and p.activated_at.date() <= end
            live = started and (p.terminated_at is None or p.terminated_at.date() > start)
            ended = p.terminated_at.date() if p.terminated_at is not None else None
            if p.id == tablet.id and ended is not None and ended < start < wrongly_until:
                live = True  # the billing system never heard of the removal: April and May charged in full
                if start.month == (ended.month % 12) + 1:
                    # and the month after the removal carries usage on the destroyed SIM's ICCID: a
                    # data error, not evidence of use (the audit flags it as usage after deactivation)
                    charges.append(billing.ChargeIn(kind="usage", description="Mobile data (tablet SIM)",
                                                    amount_minor=TABLET_USAGE_MINOR, identifier_kind="iccid",
                                                    identifier_value=_iccid(session, tablet.id),
                                                    period_start=start, period_end=end))
            elif live and ended is not None and ended <= end:
                # the month it ended is charged to the day before, pro rata (as a billing system does)
                days, month_days = (ended - start).days, (end - start).days + 1
                if days > 0:
                    charges.append(billing.ChargeIn(
                        kind="recurring", description=p.name, amount_minor=p.price_minor * days // month_days,
                        product_id=p.id, period_start=start, period_end=ended - timedelta(days=1)))
                continue
            if live:
                charges.append(billing.ChargeIn(kind="recurring", description=p.name, amount_minor=p.price_minor,
                                                product_id=p.id, period_start=start, period_end=end))
        _bill(session, clock, feed, account, f"{account.account_number}-{start:%Y%m}", start, end, charges,
              paid=start < renewal.replace(day=1), region=region)
        count += 1

    return count


def request_s3_termination(session: Session, c: Container, people: dict, users: dict) -> None:
    """The S3 request: an agent wants Priya's line terminated; it waits for a second person (on her case)."""
    clock, priya = c.clock, people["priya"]
    line = next(p for p in _products(session, priya.id) if p.kind == "mobile_line")
    case = session.scalars(select(Case).where(Case.customer_id == priya.id, Case.status != CaseStatus.CLOSED)
                           .order_by(Case.opened_at)).first()
    approvals.request(session, clock, access.staff_principal(users["alex.agent"]), action="terminate_line",
                      product_id=line.id, case_id=case.id if case else None, channel="phone",
                      reason="The number is registered online in another person's name (Tom Bennett): "
                             "suspected fraud; terminate the line")
