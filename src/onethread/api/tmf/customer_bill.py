"""TMF678 Customer Bill Management v5 (``/tmf-api/customerBillManagement/v5``): ``customerBill``
and ``appliedCustomerBillingRate`` (a bill's charges), read as the specification has them.

TMF678 has no operation to create a bill: bills are made by the billing system. onethread is
not one; it keeps the bills the billing system sends, so ``POST customerBill`` is onethread's
extension (``@type`` ``OnethreadCustomerBill``, ``@baseType`` ``CustomerBill``): a bill with
its applied rates in ``appliedCustomerBillingRate``, imported by the same service as
``POST /api/v1/bills`` and the CSV import (``billing.service.import_bill``) and audited after
it. The same bill posted again (same account, number and amount) imports nothing: 200 with the
bill already recorded.

Translation only: every rule is in ``onethread.billing``. See docs/api/customer-bill.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from onethread.access.rules import CUSTOMER_READERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.answers import AppliedCustomerBillingRate, CustomerBill
from onethread.api.tmf.conventions import ListParams, created, paged, parse_fields, select_fields
from onethread.api.tmf.shapes import TmfIn
from onethread.api.v1.bills import BILLING_WRITERS
from onethread.billing import queries as bills_read
from onethread.billing import rules
from onethread.billing import service as billing
from onethread.decisions import bill_audit
from onethread.errors import DomainError, ValidationFailed
from onethread.kernel.money import Money
from onethread.models import Bill, Charge

BASE = "/tmf-api/customerBillManagement/v5"
EXTENSION = "OnethreadCustomerBill"
TAGS = ["TMF678 customer bill"]
router = APIRouter(route_class=AnswerRoute)

# onethread's charge kinds as TMF678 appliedBillingRateType (the specification names
# recurringCharge, oneTimeCharge and usageCharge; credits, refunds and write-offs are onethread's).
RATE_TYPES = {"recurring": "recurringCharge", "usage": "usageCharge", "one_off": "oneTimeCharge",
              "credit": "credit", "refund": "refund", "write_off": "writeOff"}
KIND_OF = {v: k for k, v in RATE_TYPES.items() if k in rules.IMPORTED_CHARGE_KINDS}
IDENTIFIER_KINDS = ("msisdn", "iccid", "imei")
# How the import's field names read in a TMF678 body (an error names what the client sent).
FIELD_NAMES = {"productId": "product", "identifier": "characteristic",
               "amount": "taxIncludedAmount", "periodStart": "periodCoverage", "periodEnd": "periodCoverage",
               "kind": "appliedBillingRateType", "billNumber": "billNo", "billingAccountId": "billingAccount",
               "issuedOn": "billDate", "dueOn": "paymentDueDate", "currency": "amountDue.unit",
               "charges": "appliedCustomerBillingRate"}


class MoneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(..., min_length=3, max_length=3)
    value: StrictInt | StrictFloat = Field(..., description="in the currency's main unit (12.5 is £12.50)")
    amountMinor: StrictInt | None = Field(None, description="onethread's exact minor units; must agree with value")


class TimePeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    startDateTime: AwareDatetime
    endDateTime: AwareDatetime = Field(..., description="the instant the period ends: midnight UTC ends the day "
                                                        "before, any other instant ends its own day")


class RefIn(TmfIn):
    id: str = Field(..., max_length=26)
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class CharacteristicIn(TmfIn):
    id: str | None = None
    name: Literal["msisdn", "iccid", "imei"] = Field(..., description="the number, SIM or device the rate is on")
    value: str = Field(..., max_length=200)
    valueType: str | None = None


class RateIn(TmfIn):
    type_: Literal["AppliedCustomerBillingRate"] | None = Field(None, alias="@type")
    appliedBillingRateType: str = Field(..., description=" | ".join(KIND_OF))
    name: str | None = Field(None, max_length=rules.DESCRIPTION_MAX)
    description: str | None = Field(None, max_length=rules.DESCRIPTION_MAX)
    taxIncludedAmount: MoneyIn
    periodCoverage: TimePeriodIn | None = Field(None, description="default: the bill's period")
    product: RefIn | None = None
    characteristic: list[CharacteristicIn] = Field(default_factory=list, max_length=1)
    isBilled: Literal[True] | None = None


class BillIn(TmfIn):
    type_: Literal["CustomerBill", "OnethreadCustomerBill"] = Field(..., alias="@type")
    billNo: str = Field(..., max_length=rules.BILL_NUMBER_MAX)
    billingAccount: RefIn
    billingPeriod: TimePeriodIn
    billDate: AwareDatetime
    paymentDueDate: AwareDatetime
    amountDue: MoneyIn = Field(..., description="the bill's total, tax included")
    taxIncludedAmount: MoneyIn | None = Field(None, description="the same total, when sent")
    appliedCustomerBillingRate: list[RateIn] = Field(
        default_factory=list, max_length=1000, description=f"{EXTENSION} extension: the bill's charges")


def _at(day: date) -> str:
    return datetime.combine(day, time(0), tzinfo=UTC).isoformat()


def _day(when: datetime) -> date:
    return when.astimezone(UTC).date()


def _last_day(when: datetime) -> date:
    """The last day a period ending at ``when`` covers: midnight UTC ends the day before."""
    utc = when.astimezone(UTC)
    return utc.date() - timedelta(days=1) if utc.time() == time(0) else utc.date()


def _period(start: date, last: date) -> dict:
    return {"startDateTime": _at(start), "endDateTime": _at(last + timedelta(days=1))}


def _minor(money: MoneyIn, currency: str, field: str) -> int:
    if money.unit.upper() != currency.upper():
        raise ValidationFailed(f"{field} is in {money.unit}; the billing account is in {currency}", field=field)
    try:
        minor = rules.to_minor_units(money.value, currency.upper())
    except ValueError as exc:
        raise ValidationFailed(str(exc), field=field) from exc
    if money.amountMinor is not None and money.amountMinor != minor:
        raise ValidationFailed(f"amountMinor {money.amountMinor} is not value {money.value}", field=field)
    return minor


def _charge(rate: RateIn, n: int, currency: str) -> billing.ChargeIn:
    where = f"appliedCustomerBillingRate[{n}]"
    kind = KIND_OF.get(rate.appliedBillingRateType)
    if kind is None:
        raise ValidationFailed(f"appliedBillingRateType is one of {', '.join(KIND_OF)}",
                               field=f"{where}.appliedBillingRateType")
    text = rate.description or rate.name
    if not text:
        raise ValidationFailed("a rate needs a name or a description (the text on the bill)", field=f"{where}.name")
    ident = rate.characteristic[0] if rate.characteristic else None
    period = rate.periodCoverage
    amount = _minor(rate.taxIncludedAmount, currency, f"{where}.taxIncludedAmount")
    return billing.ChargeIn(kind=kind, description=text, amount_minor=amount,
                            product_id=rate.product.id if rate.product else None,
                            identifier_kind=ident.name if ident else None,
                            identifier_value=ident.value if ident else None,
                            period_start=_day(period.startDateTime) if period else None,
                            period_end=_last_day(period.endDateTime) if period else None)


def _renamed(exc: DomainError) -> DomainError:
    """The import's error with the field names of the TMF678 body."""
    def rename(name: str | None) -> str | None:
        if name is None:
            return None
        name = name.replace("charges[", "appliedCustomerBillingRate[")
        return ".".join(FIELD_NAMES.get(part, part) for part in name.split("."))
    exc.field = rename(exc.field)
    for problem in exc.details.get("problems", []):
        problem["field"] = rename(problem.get("field"))
    return exc


def bill_path(bill_id: str) -> str:
    return f"{BASE}/customerBill/{bill_id}"


def rate_path(charge_id: str) -> str:
    return f"{BASE}/appliedCustomerBillingRate/{charge_id}"


def _state(b: Bill) -> str:
    if b.status in ("paid", "written_off"):
        return "settled"
    if b.status == "disputed":
        return "onHold"
    return "partiallyPaid" if b.paid_minor > 0 else "sent"


def _account_ref(account_id: str, numbers: dict[str, str]) -> dict:
    return {"@type": "BillingAccountRef", "id": account_id, "name": numbers.get(account_id, account_id),
            "@referredType": "BillingAccount"}


def bill_to_tmf(b: Bill, numbers: dict[str, str]) -> dict:
    body = {
        "@type": "CustomerBill", "id": b.id, "href": bill_path(b.id), "billNo": b.bill_number,
        "billingAccount": _account_ref(b.billing_account_id, numbers),
        "billingPeriod": _period(b.period_start, b.period_end), "billDate": _at(b.issued_on),
        "paymentDueDate": _at(b.due_on), "lastUpdate": (b.paid_at or b.created_at).astimezone(UTC).isoformat(),
        "amountDue": Money(b.amount_minor, b.currency).to_json(),
        "taxIncludedAmount": Money(b.amount_minor, b.currency).to_json(),
        "remainingAmount": Money(billing.owed(b), b.currency).to_json(),
        "state": _state(b), "category": "normal", "runType": "onCycle",
        "relatedParty": [{"@type": "RelatedPartyRefOrPartyRoleRef", "role": "customer", "partyOrPartyRole": {
            "@type": "PartyRoleRef", "id": b.customer_id, "href": f"/tmf-api/customer/v5/customer/{b.customer_id}",
            "@referredType": "Customer"}}],
    }
    return body


def rate_to_tmf(c: Charge, bill: Bill, numbers: dict[str, str], idents: dict[str, tuple[str, str]]) -> dict:
    start = c.period_start or bill.period_start
    end = c.period_end or bill.period_end
    body = {
        "@type": "AppliedCustomerBillingRate", "id": c.id, "href": rate_path(c.id), "name": c.description,
        "description": c.description, "appliedBillingRateType": RATE_TYPES.get(c.kind, c.kind),
        "date": c.created_at.astimezone(UTC).isoformat(), "isBilled": True,
        "bill": {"@type": "CustomerBillRef", "id": bill.id, "href": bill_path(bill.id), "name": bill.bill_number,
                 "@referredType": "CustomerBill"},
        "billingAccount": _account_ref(bill.billing_account_id, numbers),
        "periodCoverage": _period(start, end), "taxIncludedAmount": Money(c.amount_minor, c.currency).to_json(),
        "characteristic": [{"@type": "BooleanCharacteristic", "name": "outsideHolding", "valueType": "boolean",
                            "value": bool(c.outside_holding)}],
    }
    if c.product_id is not None:
        body["product"] = {"@type": "ProductRef", "id": c.product_id,
                           "href": f"/tmf-api/productInventory/v5/product/{c.product_id}", "@referredType": "Product"}
    if c.identifier_id in idents:
        kind, value = idents[c.identifier_id]
        body["characteristic"].insert(0, {"@type": "StringCharacteristic", "name": kind, "valueType": "string",
                                          "value": value})
    return body


def _bills(session, bills: list[Bill]) -> list[dict]:
    numbers = bills_read.account_numbers(session, {b.billing_account_id for b in bills})
    return [bill_to_tmf(b, numbers) for b in bills]


def _rates(session, charges: list[Charge]) -> list[dict]:
    bills = bills_read.bills_by_id(session, {c.bill_id for c in charges})
    numbers = bills_read.account_numbers(session, {b.billing_account_id for b in bills.values()})
    idents = bills_read.identifier_values(session, {c.identifier_id for c in charges if c.identifier_id})
    return [rate_to_tmf(c, bills[c.bill_id], numbers, idents) for c in charges]


@router.post(f"{BASE}/customerBill", response_model=CustomerBill, status_code=201, tags=TAGS,
             summary=f"Import a bill with its applied rates from the billing system ({EXTENSION}); the same "
                     "bill again imports nothing (200)")
def import_customer_bill(body: BillIn, response: Response, session: DbSession, clock: ClockDep,
                         container: ContainerDep, actor: allow(BILLING_WRITERS)) -> dict:
    if body.appliedCustomerBillingRate and body.type_ != EXTENSION:
        raise ValidationFailed(f"appliedCustomerBillingRate is an {EXTENSION} extension attribute: send "
                               f"\"@type\": \"{EXTENSION}\"", field="@type")
    if body.base_type not in (None, "CustomerBill"):
        raise ValidationFailed(f"@baseType of an {EXTENSION} is CustomerBill", field="@baseType")
    account = billing.get_account(session, body.billingAccount.id)
    currency = body.amountDue.unit.upper()
    amount = _minor(body.amountDue, currency, "amountDue")
    if body.taxIncludedAmount is not None and _minor(body.taxIncludedAmount, currency, "taxIncludedAmount") != amount:
        raise ValidationFailed("taxIncludedAmount is not amountDue (onethread keeps the total, tax included)",
                               field="taxIncludedAmount")
    charges = [_charge(rate, n, account.currency) for n, rate in enumerate(body.appliedCustomerBillingRate)]
    try:
        existing = billing.recorded_bill(session, account, body.billNo, amount)
        if existing is not None:  # posted again: nothing is imported twice
            response.status_code = 200
            return _bills(session, [existing])[0]
        bill = billing.import_bill(
            session, clock, actor, billing_account_id=account.id, bill_number=body.billNo,
            period_start=_day(body.billingPeriod.startDateTime), period_end=_last_day(body.billingPeriod.endDateTime),
            issued_on=_day(body.billDate), due_on=_day(body.paymentDueDate), amount_minor=amount, currency=currency,
            charges=charges, region=container.settings.default_region)
    except DomainError as exc:
        raise _renamed(exc) from None
    # docs/billing.md: every import is audited, and what it finds goes on the customer's billing case
    bill_audit.audit_and_follow_up(session, clock, actor, bill_ids=[bill.id])
    created(response, bill_path(bill.id))
    return _bills(session, [bill])[0]


@router.get(f"{BASE}/customerBill", response_model=list[CustomerBill],
            tags=TAGS, summary="List or find customer bills, newest first")
def list_customer_bills(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                        params: ListParams = Depends(),
                        customer_id: str | None = Query(None, alias="relatedParty.id", description="the customer's id"),
                        account_id: str | None = Query(None, alias="billingAccount.id"),
                        bill_no: str | None = Query(None, alias="billNo")) -> list[dict]:
    bills, total = bills_read.list_bills(session, clock, actor, offset=params.offset, limit=params.limit,
                                         customer_id=customer_id, billing_account_id=account_id,
                                         bill_number=bill_no, channel="api")
    return paged(response, _bills(session, bills), total, params.fields)


@router.get(f"{BASE}/customerBill/{{bill_id}}", response_model=CustomerBill,
            tags=TAGS, summary="Retrieve a customer bill")
def get_customer_bill(bill_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
                      fields: str | None = None) -> dict:
    bill, _ = bills_read.read_bill(session, clock, actor, bill_id, channel="api")
    return select_fields(_bills(session, [bill])[0], parse_fields(fields))


@router.get(f"{BASE}/appliedCustomerBillingRate", response_model=list[AppliedCustomerBillingRate], tags=TAGS,
            summary="List or find applied customer billing rates (a bill's charges), oldest first")
def list_rates(response: Response, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
               params: ListParams = Depends(), bill_id: str | None = Query(None, alias="bill.id"),
               product_id: str | None = Query(None, alias="product.id"),
               customer_id: str | None = Query(None, alias="relatedParty.id", description="the customer's id")
               ) -> list[dict]:
    charges, total = bills_read.list_charges(session, clock, actor, offset=params.offset, limit=params.limit,
                                             bill_id=bill_id, product_id=product_id, customer_id=customer_id,
                                             channel="api")
    return paged(response, _rates(session, charges), total, params.fields)


@router.get(f"{BASE}/appliedCustomerBillingRate/{{rate_id}}", response_model=AppliedCustomerBillingRate,
            tags=TAGS, summary="Retrieve an applied billing rate")
def get_rate(rate_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_READERS),
             fields: str | None = None) -> dict:
    charge = bills_read.read_charge(session, clock, actor, rate_id, channel="api")
    return select_fields(_rates(session, [charge])[0], parse_fields(fields))

