"""Product lifecycle rules (TMF637 ProductStatusType). Pure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from onethread.kernel.channels import PRODUCT_CHANNELS
from onethread.kernel.money import Money

PRODUCT_KINDS = ("mobile_line", "data_sim", "handset", "fibre", "broadband", "tv", "accessory")
DEVICE_KINDS = frozenset({"handset", "accessory"})  # goods the customer holds, not a service on a line


def is_line_in_service(kind: str, status: str) -> bool:
    """A service the customer has now (not a device): what a termination request can name."""
    return status == ProductStatus.ACTIVE and kind not in DEVICE_KINDS
SIM_KINDS = frozenset({"mobile_line", "data_sim"})
CHANNELS = PRODUCT_CHANNELS  # what a product change can be asked through


class ProductStatus(StrEnum):
    """A product's status: TMF637 ProductStatusType, stored and sent as TMF spells it."""

    CREATED = "created"
    PENDING_ACTIVE = "pendingActive"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    PENDING_TERMINATE = "pendingTerminate"
    TERMINATED = "terminated"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


STATUSES = tuple(ProductStatus)
TERMINAL = frozenset({ProductStatus.TERMINATED, ProductStatus.CANCELLED, ProductStatus.ABORTED})
BILLABLE = frozenset({ProductStatus.ACTIVE, ProductStatus.SUSPENDED, ProductStatus.PENDING_TERMINATE})

_S = ProductStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    _S.CREATED: frozenset({_S.PENDING_ACTIVE, _S.ACTIVE, _S.CANCELLED, _S.ABORTED}),
    _S.PENDING_ACTIVE: frozenset({_S.ACTIVE, _S.CANCELLED, _S.ABORTED}),
    _S.ACTIVE: frozenset({_S.SUSPENDED, _S.PENDING_TERMINATE, _S.TERMINATED}),
    _S.SUSPENDED: frozenset({_S.ACTIVE, _S.PENDING_TERMINATE, _S.TERMINATED}),
    _S.PENDING_TERMINATE: frozenset({_S.ACTIVE, _S.TERMINATED}),
    _S.TERMINATED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.ABORTED: frozenset(),
}

# Which identifier kinds each product kind carries.
IDENTIFIER_KINDS = {
    "mobile_line": ("msisdn", "iccid"),
    "data_sim": ("msisdn", "iccid"),
    "handset": ("imei",),
    "fibre": (),
    "broadband": (),
    "tv": (),
    "accessory": (),
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def transition_error(from_status: str, to_status: str) -> str:
    allowed = sorted(TRANSITIONS.get(from_status, frozenset()))
    if not allowed:
        return f"a {from_status} product cannot change status"
    return f"cannot go from {from_status} to {to_status}; allowed: {', '.join(allowed)}"


# What a new product may start as; only an active product has started (has a start date).
NEW_STATUSES = (ProductStatus.CREATED, ProductStatus.PENDING_ACTIVE, ProductStatus.ACTIVE)
# Statuses a product only reaches without ever having been active (see TRANSITIONS).
NEVER_ACTIVE = frozenset({_S.CREATED, _S.PENDING_ACTIVE, _S.CANCELLED, _S.ABORTED})

REASON_MAX = 200  # ProductStatusChange.reason and IdentifierHolding.end_reason are 200 characters
SIM_REASON_MAX = 140  # the replacement reason is stored with both ICCIDs appended (22 digits each)
PRICE_MAX_MINOR = 2**31 - 1  # the price column is a 32-bit integer of minor units


class PriceError(ValueError):
    """The amount cannot be a price in that currency; the message says why."""


def minor_units(value: Decimal, currency: str) -> int:
    """``Decimal('12.50')`` GBP -> 1250, exactly; more decimals than the currency has is an error."""
    try:
        exponent = Money(0, currency.upper()).exponent
    except ValueError as exc:
        raise PriceError(f"{currency!r} is not an ISO 4217 currency code") from exc
    if not value.is_finite():
        raise PriceError("a price is a finite number")
    if value < 0:
        raise PriceError("a price cannot be negative")
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise PriceError(f"{currency} has {exponent} decimal place{'s' if exponent != 1 else ''}; got {value}")
    return int(scaled)


def billable_on(status: str, activated_at: datetime | None, terminated_at: datetime | None, day: date) -> bool:
    """Was the product in service (so chargeable) on ``day``? From activation to termination, UTC dates.

    A product is not billable on the day it is terminated: its value drops from that day.
    """
    if status in NEVER_ACTIVE or activated_at is None or activated_at.date() > day:
        return False
    return not (terminated_at is not None and terminated_at.date() <= day)
