"""Bills, charges and payments: what an imported bill must satisfy and what a bill owes. Pure.

Amounts are whole minor units of the bill's currency; a credit is a negative charge.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeGuard

from onethread.kernel.money import exponent

BILL_STATUSES = ("issued", "paid", "overdue", "written_off", "disputed")
CHARGE_KINDS = ("recurring", "usage", "one_off", "credit", "refund", "write_off")
IMPORTED_CHARGE_KINDS = ("recurring", "usage", "one_off", "credit", "refund")  # a write-off is ours, not imported
AMOUNT_MAX_MINOR = 2**31 - 1  # the amount columns are 32-bit integers
BILL_NUMBER_MAX = 40
DESCRIPTION_MAX = 500


def is_minor_units(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= AMOUNT_MAX_MINOR


def to_minor_units(value: object, currency: str) -> int:
    """An amount in the currency's main unit (``12.5`` GBP) as whole minor units (``1250``), exactly.

    ``ValueError`` when it is not a finite number or has more decimals than the currency has
    (a float is read as written: ``12.1`` is ``Decimal('12.1')``, never its binary value)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("an amount is a number")
    try:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("an amount is a number") from exc
    if not exact.is_finite():
        raise ValueError("an amount is a finite number")
    digits = exponent(currency)
    scaled = exact.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} has {digits} decimal place{'s' if digits != 1 else ''}; got {value}")
    if abs(scaled) > AMOUNT_MAX_MINOR:
        raise ValueError(f"{value} {currency} is more than an amount may be")
    return int(scaled)


def bill_problems(*, bill_number: str, period_start: date, period_end: date, issued_on: date, due_on: date,
                  amount_minor: object, charges_total: int | None) -> list[tuple[str, str]]:
    """(field, problem) for each thing wrong with a bill's header; empty when it is fine."""
    out = []
    if not bill_number.strip() or len(bill_number.strip()) > BILL_NUMBER_MAX:
        out.append(("billNumber", f"a bill number is 1 to {BILL_NUMBER_MAX} characters"))
    if period_end < period_start:
        out.append(("periodEnd", "the billing period ends before it starts"))
    if due_on < issued_on:
        out.append(("dueOn", "a bill cannot be due before it is issued"))
    if not is_minor_units(amount_minor) or amount_minor < 0:
        out.append(("amount", "the amount is a whole, non-negative number of minor units (pence, cents)"))
    elif charges_total is not None and charges_total != amount_minor:
        out.append(("charges", f"the charges add up to {charges_total}, not the bill's {amount_minor}"))
    return out


def charge_problems(*, kind: str, amount_minor: object, period_start: date | None, period_end: date | None,
                    description: str) -> list[tuple[str, str]]:
    out = []
    if kind not in IMPORTED_CHARGE_KINDS:
        out.append(("kind", f"kind must be one of {', '.join(IMPORTED_CHARGE_KINDS)}"))
    if not is_minor_units(amount_minor):
        out.append(("amount", "the amount is a whole number of minor units (pence, cents); credits are negative"))
    elif kind in ("credit", "refund") and amount_minor > 0:
        out.append(("amount", f"a {kind} is a negative amount"))
    if (period_start is None) != (period_end is None):
        out.append(("periodStart", "give both ends of the charge's period, or neither"))
    elif period_start is not None and period_end is not None and period_end < period_start:
        out.append(("periodEnd", "the charge's period ends before it starts"))
    if not description.strip() or len(description) > DESCRIPTION_MAX:
        out.append(("description", f"a charge needs a description of at most {DESCRIPTION_MAX} characters"))
    return out


def outstanding(amount_minor: int, paid_minor: int, written_off_minor: int) -> int:
    return max(amount_minor - paid_minor - written_off_minor, 0)


def status_after(amount_minor: int, paid_minor: int, written_off_minor: int, current: str) -> str:
    """A bill owing nothing is paid, or written off when a write-off closed it."""
    if outstanding(amount_minor, paid_minor, written_off_minor) > 0:
        return current if current in ("issued", "overdue", "disputed") else "issued"
    return "written_off" if written_off_minor > 0 else "paid"


# --- the bill audit (S4): each rule's code, name and explanation -----------------------------------

FINDING_STATUSES = ("open", "confirmed", "dismissed")
REVIEW_NOTE_MAX = 2000
AUDIT_RULES = {
    "BA01": ("charged_after_termination",
             "A recurring charge for {product} for {start} to {end}, but the product was terminated on {ref}: "
             "{stake} of {charged} charged for days it was no longer held (the whole charge when it ended "
             "before the period, pro rata by day when during it)."),
    "BA02": ("usage_after_deactivation",
             "Usage charged on {product} for {start} to {end}, after it was deactivated on {ref}: a data error, "
             "not evidence of use; {stake} of {charged} charged."),
    "BA03": ("charged_twice",
             "{product} is charged again for {start} to {end}, a period an earlier recurring charge already "
             "covers: {stake} charged twice."),
    "BA04": ("price_mismatch",
             "The recurring charge for {product} for the whole month {start} to {end} is {charged}, not the "
             "product's price: {stake} more than the price (negative: less)."),
}


def explain_finding(code: str, *, product: str, start: object, end: object, ref: object, charged: str,
                    stake: str) -> str:
    return AUDIT_RULES[code][1].format(product=product, start=start, end=end, ref=ref or "-", charged=charged,
                                       stake=stake)


def refund_facts(stakes: list[tuple[object, int]], *, contacts_made: int, usage_after_removal: bool,
                 currency: str) -> dict[str, object]:
    """The billing-error policy's facts from the overcharges (period start, minor units) on a case:
    every affected period counted, the refund exactly their sum."""
    owed = [(period, stake) for period, stake in stakes if stake > 0]
    months = len({period for period, _ in owed})
    total = sum(stake for _, stake in owed)
    monthly = total // months if months else 0
    return {"months_overcharged": months, "monthly_charge_minor": monthly,
            "other_overcharge_minor": total - monthly * months, "contacts_made": contacts_made,
            "told_wrong_information": False, "usage_recorded_after_removal": usage_after_removal,
            "currency": currency}
