"""Bills (``/api/v1/bills``): the billing system's import of a bill with its charges, a customer's
bills, and payments against a bill. Amounts are whole minor units of the bill's currency.

Translation only: every rule is in ``onethread.billing``. See docs/api/bills.md.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from onethread.access.rules import ADMIN, BACK_OFFICE, CUSTOMER_READERS, INTEGRATION
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.conventions import ListParams, created, paged
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.answers import bills as out
from onethread.billing import queries as bills_read
from onethread.billing import rules
from onethread.billing import service as billing
from onethread.customers.service import get_customer
from onethread.decisions import bill_audit
from onethread.models import Bill, Charge

V1 = "/api/v1"
BILLING_WRITERS = frozenset({INTEGRATION, BACK_OFFICE, ADMIN})
router = APIRouter(prefix=V1, tags=["onethread bills"], route_class=AnswerRoute)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentifierIn(_In):
    kind: str = Field(..., max_length=20)
    value: str = Field(..., max_length=200)


class ChargeIn(_In):
    kind: str = Field(..., max_length=20, description=" | ".join(rules.IMPORTED_CHARGE_KINDS))
    description: str = Field(..., max_length=rules.DESCRIPTION_MAX)
    amount: StrictInt = Field(..., description="minor units; credits and refunds negative")
    productId: str | None = Field(None, max_length=26)
    identifier: IdentifierIn | None = Field(None, description="the number (or SIM) charged; default: the product's")
    periodStart: date | None = None
    periodEnd: date | None = None


class BillIn(_In):
    billingAccountId: str = Field(..., max_length=26)
    billNumber: str = Field(..., max_length=rules.BILL_NUMBER_MAX)
    periodStart: date
    periodEnd: date
    issuedOn: date
    dueOn: date
    amount: StrictInt = Field(..., description="the total due, tax included, in minor units")
    currency: str = Field(..., min_length=3, max_length=3)
    charges: list[ChargeIn] = Field(default_factory=list, max_length=1000)


class PaymentIn(_In):
    amount: StrictInt = Field(..., description="minor units")
    paidAt: AwareDatetime | None = None


def charge_json(c: Charge) -> dict:
    return {"id": c.id, "kind": c.kind, "description": c.description, "amount": c.amount_minor,
            "currency": c.currency, "productId": c.product_id, "identifierId": c.identifier_id,
            "periodStart": c.period_start.isoformat() if c.period_start else None,
            "periodEnd": c.period_end.isoformat() if c.period_end else None,
            "outsideHolding": bool(c.outside_holding)}


def bill_json(b: Bill, charges: list[Charge]) -> dict:
    return {
        "@type": "Bill", "id": b.id, "href": f"{V1}/bills/{b.id}", "billNumber": b.bill_number,
        "customerId": b.customer_id, "billingAccountId": b.billing_account_id,
        "periodStart": b.period_start.isoformat(), "periodEnd": b.period_end.isoformat(),
        "issuedOn": b.issued_on.isoformat(), "dueOn": b.due_on.isoformat(), "currency": b.currency,
        "amount": b.amount_minor, "paid": b.paid_minor, "writtenOff": b.written_off_minor, "owed": billing.owed(b),
        "paidAt": iso(b.paid_at), "status": b.status, "charges": [charge_json(c) for c in charges],
    }


@router.post("/bills", response_model=out.Bill,
             status_code=201, summary="Import a bill with its charges from the billing system")
def import_bill(body: BillIn, response: Response, session: DbSession, clock: ClockDep, container: ContainerDep,
                actor: allow(BILLING_WRITERS)) -> dict:
    charges = [billing.ChargeIn(kind=c.kind, description=c.description, amount_minor=c.amount,
                                product_id=c.productId, identifier_kind=c.identifier.kind if c.identifier else None,
                                identifier_value=c.identifier.value if c.identifier else None,
                                period_start=c.periodStart, period_end=c.periodEnd) for c in body.charges]
    bill = billing.import_bill(session, clock, actor, billing_account_id=body.billingAccountId,
                               bill_number=body.billNumber, period_start=body.periodStart, period_end=body.periodEnd,
                               issued_on=body.issuedOn, due_on=body.dueOn, amount_minor=body.amount,
                               currency=body.currency, charges=charges, region=container.settings.default_region)
    # docs/billing.md: every import is audited, and what it finds goes on the customer's billing case
    bill_audit.audit_and_follow_up(session, clock, actor, bill_ids=[bill.id])
    created(response, f"{V1}/bills/{bill.id}")
    return bill_json(bill, billing.charges_of(session, bill.id))


@router.get("/bills/{bill_id}", response_model=out.Bill, summary="One bill with its charges")
def get_bill(bill_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS)) -> dict:
    return bill_json(*bills_read.read_bill(session, clock, actor, bill_id, channel="api"))


@router.get("/customers/{customer_id}/bills", response_model=list[out.Bill],
            summary="The customer's bills, newest first, with their charges")
def customer_bills(customer_id: str, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(CUSTOMER_READERS), params: Annotated[ListParams, Depends()]) -> list[dict]:
    get_customer(session, customer_id)
    bills, total, charges = bills_read.customer_bills(session, clock, actor, customer_id, offset=params.offset,
                                                      limit=params.limit, channel="api")
    return paged(response, [bill_json(b, charges.get(b.id, [])) for b in bills], total, params.fields)


@router.post("/bills/{bill_id}/payments", response_model=out.Bill,
             status_code=201, summary="Record a payment against a bill")
def record_payment(bill_id: str, body: PaymentIn, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(BILLING_WRITERS)) -> dict:
    bill = billing.record_payment(session, clock, actor, bill_id, amount_minor=body.amount, paid_at=body.paidAt)
    created(response, f"{V1}/bills/{bill.id}")
    return bill_json(bill, billing.charges_of(session, bill.id))
