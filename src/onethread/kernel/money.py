"""Money as integer minor units plus an ISO 4217 currency. Never floats."""

from __future__ import annotations

from dataclasses import dataclass

# Minor-unit exponents for the currencies we format; the rest default to 2.
_EXPONENT = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "TND": 3}


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
        return _EXPONENT.get(self.currency, 2)

    def as_decimal_str(self) -> str:
        """'12.50' for 1250 GBP; exact, no float involved."""
        exp = self.exponent
        sign = "-" if self.amount_minor < 0 else ""
        units, minor = divmod(abs(self.amount_minor), 10**exp)
        return f"{sign}{units}.{minor:0{exp}d}" if exp else f"{sign}{units}"

    def __str__(self) -> str:
        return f"{self.as_decimal_str()} {self.currency}"

    def to_json(self) -> dict:
        """TMF ``Money`` shape plus the exact minor units."""
        return {"unit": self.currency, "value": float(self.as_decimal_str()), "amountMinor": self.amount_minor}


def total(items: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for item in items:
        result = result + item
    return result
