"""S4's bills through the TMF customerBill API: the ``s4`` fixture and ``april``'s bill as rates."""

from __future__ import annotations

import pytest

from tests.support.s4_bills import TABLET_ICCID, joinery

BASE = "/tmf-api/customerBillManagement/v5"


@pytest.fixture
def s4(uow, clock):
    return joinery(uow, clock)


def gbp(value) -> dict:
    return {"unit": "GBP", "value": value}


def rate(kind: str, name: str, value, **extra) -> dict:
    return {"@type": "AppliedCustomerBillingRate", "appliedBillingRateType": kind, "name": name,
            "taxIncludedAmount": gbp(value), **extra}


def april(s4, **extra) -> dict:
    """April's bill: three lines, the removed tablet SIM, and data roaming on its ICCID."""
    rates = [rate("recurringCharge", f"Business Unlimited (line {n})", 28, product={"id": line})
             for n, line in enumerate(s4.lines, start=1)]
    rates.append(rate("recurringCharge", "Tablet data SIM (old iPad)", 10.0, product={"id": s4.tablet}))
    rates.append(rate("usageCharge", "Data roaming", 4.5, characteristic=[
        {"@type": "StringCharacteristic", "name": "iccid", "value": TABLET_ICCID}]))
    body = {"@type": "OnethreadCustomerBill", "@baseType": "CustomerBill", "billNo": "HLJ-2026-04",
            "billingAccount": {"id": s4.account}, "billDate": "2026-05-01T00:00:00Z",
            "paymentDueDate": "2026-05-15T00:00:00Z",
            "billingPeriod": {"startDateTime": "2026-04-01T00:00:00Z", "endDateTime": "2026-05-01T00:00:00Z"},
            "amountDue": gbp(98.5), "appliedCustomerBillingRate": rates}
    return {**body, **extra}
