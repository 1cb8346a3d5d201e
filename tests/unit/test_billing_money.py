"""Amounts sent in a currency's main unit (TMF ``Money``) become whole minor units exactly, as
written, or are refused: never a float's binary value, never a fraction of a penny."""

from __future__ import annotations

from decimal import Decimal

import pytest

from onethread.billing.rules import AMOUNT_MAX_MINOR, to_minor_units


@pytest.mark.parametrize(("value", "currency", "minor"), [
    (28, "GBP", 2800), (4.5, "GBP", 450), (0.1, "GBP", 10), (1.15, "GBP", 115), (-12.5, "EUR", -1250),
    (Decimal("0.29"), "GBP", 29), (500, "JPY", 500), (1.234, "BHD", 1234), (0, "GBP", 0),
])
def test_amounts_become_exact_minor_units(value, currency, minor):
    assert to_minor_units(value, currency) == minor


@pytest.mark.parametrize(("value", "currency", "words"), [
    (98.505, "GBP", "GBP has 2 decimal places"), (1.5, "JPY", "JPY has 0 decimal places"),
    (float("nan"), "GBP", "finite"), (float("inf"), "GBP", "finite"), (True, "GBP", "a number"),
    ("12.50", "GBP", "a number"), (AMOUNT_MAX_MINOR, "GBP", "more than an amount may be"),
])
def test_anything_else_is_refused_with_the_reason(value, currency, words):
    with pytest.raises(ValueError, match=words):
        to_minor_units(value, currency)
