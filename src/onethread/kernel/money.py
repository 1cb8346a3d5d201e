"""Money as integer minor units plus an ISO 4217 currency. Never floats.

This module is the one place that knows how many minor units a currency has (``exponent``) and
the one way an amount is written for a person (``format_money``, Babel's CLDR patterns per locale).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.numbers import NumberPattern, format_decimal, parse_pattern

# ISO 4217 minor units of every active currency whose exponent is not 2 (the rest have 2).
# CLDR (and so Babel's own precision) differs from ISO 4217 for some (IQD, RSD, ...): amounts are
# stored in ISO 4217 minor units, so ISO 4217 decides.
_EXPONENT = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                     "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
DEFAULT_LOCALE = "en_GB"
# CLDR currency spacing: a currency written in letters ("SEK", "BHD") is kept apart from the digits.
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (ISO 4217): 2 for GBP, 0 for JPY, 3 for BHD."""
    return _EXPONENT.get(currency.upper(), 2)


@functools.lru_cache(maxsize=64)
def _pattern(locale: str, digits: int) -> tuple[Locale, NumberPattern]:
    loc = Locale.parse(locale)
    pattern = copy.copy(parse_pattern(loc.currency_formats["standard"]))
    pattern.frac_prec = (digits, digits)
    return loc, pattern


def format_money(amount_minor: int, currency: str | None, locale: str = DEFAULT_LOCALE) -> str:
    """An amount as a person reads it in ``locale``: ``123456, "GBP"`` -> ``£1,234.56``;
    ``1234, "BHD"`` -> ``BHD 1.234``; ``3500, "EUR", "nl_NL"`` -> ``€ 35,00``. Exact: no float.
    Without a currency, the number alone with two decimals."""
    if not currency:
        return format_decimal(Decimal(amount_minor).scaleb(-2), format="#,##0.00", locale=locale)
    code = currency.upper()
    digits = exponent(code)
    loc, pattern = _pattern(locale, digits)
    text = pattern.apply(Decimal(amount_minor).scaleb(-digits), loc, currency=code, currency_digits=False)
    return _LETTER_DIGIT.sub("\u00a0", text)


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("amount_minor must be an int (minor units)")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def times(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            raise TypeError("Money is multiplied by whole numbers only (round explicitly first)")
        return Money(self.amount_minor * factor, self.currency)

    @property
    def exponent(self) -> int:
        return exponent(self.currency)

    def as_decimal_str(self) -> str:
        """'12.50' for 1250 GBP; exact, no float involved."""
        exp = self.exponent
        sign = "-" if self.amount_minor < 0 else ""
        units, minor = divmod(abs(self.amount_minor), 10**exp)
        return f"{sign}{units}.{minor:0{exp}d}" if exp else f"{sign}{units}"

    def format(self, locale: str = DEFAULT_LOCALE) -> str:
        """For a person (a customer's letter or reason): see ``format_money``."""
        return format_money(self.amount_minor, self.currency, locale)

    def __str__(self) -> str:
        return f"{self.as_decimal_str()} {self.currency}"

    def to_json(self) -> dict[str, str | float | int]:
        """TMF ``Money`` shape plus the exact minor units."""
        return {"unit": self.currency, "value": float(self.as_decimal_str()), "amountMinor": self.amount_minor}


def total(items: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for item in items:
        result = result + item
    return result
