"""The kernel: ids, money, the clock, pagination cursors, events. No database."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.kernel.clock import SettableClock, SystemClock, ensure_utc
from onethread.kernel.events import DomainEvent, Event, EventBus
from onethread.kernel.ids import is_valid_id, new_id
from onethread.kernel.money import CurrencyMismatch, Money, exponent, format_money, total
from onethread.kernel.pagination import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- ids -----------------------------------------------------------------------------------

def test_ids_are_unique_and_sort_in_creation_order_across_100k():
    ids = [new_id() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(is_valid_id(i) for i in ids[:: 997])


def test_ids_from_several_threads_are_unique():
    out: list[list[str]] = [[] for _ in range(4)]

    def make(n: int) -> None:
        out[n].extend(new_id() for _ in range(10_000))

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for chunk in out for i in chunk]
    assert len(set(every)) == 40_000
    assert all(chunk == sorted(chunk) for chunk in out)


def test_id_shape():
    value = new_id()
    assert len(value) == 26 and value.isupper() and is_valid_id(value)
    for bad in ("", "x" * 26, value[:-1], value + "0", value[:-1] + "U", value[:-1] + "I"):
        assert not is_valid_id(bad)


# --- money ---------------------------------------------------------------------------------

def test_money_arithmetic_stays_in_minor_units():
    a, b = Money(1250, "GBP"), Money(399, "GBP")
    assert a + b == Money(1649, "GBP")
    assert a - b == Money(851, "GBP")
    assert -a == Money(-1250, "GBP")
    assert b.times(3) == Money(1197, "GBP")
    assert total([a, b, b], "GBP") == Money(2048, "GBP")
    assert total([], "EUR") == Money.zero("EUR") == Money(0, "EUR")


def test_money_refuses_to_mix_currencies():
    with pytest.raises(CurrencyMismatch, match="GBP and EUR"):
        Money(100, "GBP") + Money(100, "EUR")
    with pytest.raises(CurrencyMismatch):
        Money(100, "GBP") - Money(100, "USD")
    with pytest.raises(CurrencyMismatch):
        total([Money(1, "GBP"), Money(1, "EUR")], "GBP")
    with pytest.raises(TypeError):
        Money(100, "GBP") + 5


@pytest.mark.parametrize(("currency", "digits", "plain", "for_people"), [
    ("GBP", 2, "12.34", "£12.34"), ("BHD", 3, "1.234", "BHD\u00a01.234"), ("IQD", 3, "1.234", "IQD\u00a01.234"),
    ("VND", 0, "1234", "₫1,234"), ("JPY", 0, "1234", "JP¥1,234"), ("CLF", 4, "0.1234", "CLF\u00a00.1234"),
])
def test_one_table_of_iso_4217_exponents_serves_both_the_plain_and_the_people_form(currency, digits, plain,
                                                                                   for_people):
    # IQD: CLDR (Babel's own precision) says 0, ISO 4217 says 3; amounts are kept in ISO minor units.
    assert exponent(currency) == Money(1234, currency).exponent == digits
    assert Money(1234, currency).as_decimal_str() == plain
    assert format_money(1234, currency) == Money(1234, currency).format() == for_people


def test_money_is_written_in_the_locale_of_the_reader():
    assert format_money(3500, "EUR", "nl_NL") == "€\u00a035,00"
    assert format_money(123456, "EUR", "en_GB") == "€1,234.56"
    assert format_money(-250, "GBP") == "-£2.50"


@pytest.mark.parametrize("amount", [12.5, 12.0, "1250", None, True])
def test_money_refuses_floats_and_other_non_integers(amount):
    with pytest.raises(TypeError):
        Money(amount, "GBP")


def test_money_multiplies_by_whole_numbers_only():
    with pytest.raises(TypeError):
        Money(100, "GBP").times(1.5)
    with pytest.raises(TypeError):
        Money(100, "GBP").times(True)


@pytest.mark.parametrize("code", ["gbp", "GB", "GBPX", "G1P", ""])
def test_money_refuses_what_is_not_a_currency_code(code):
    with pytest.raises(ValueError):
        Money(1, code)


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (1250, "JPY", "1250"),
    (0, "JPY", "0"),
    (-7, "JPY", "-7"),
    (1250, "GBP", "12.50"),
    (5, "GBP", "0.05"),
    (-5, "GBP", "-0.05"),
    (100, "GBP", "1.00"),
    (1250, "KWD", "1.250"),
    (7, "KWD", "0.007"),
    (-1001, "KWD", "-1.001"),
    (99, "EUR", "0.99"),
])
def test_money_formats_with_the_currency_exponent(amount, currency, text):
    money = Money(amount, currency)
    assert money.as_decimal_str() == text
    assert str(money) == f"{text} {currency}"
    assert money.to_json() == {"unit": currency, "value": float(text), "amountMinor": amount}


def test_money_exponents():
    assert (Money(1, "JPY").exponent, Money(1, "GBP").exponent, Money(1, "KWD").exponent) == (0, 2, 3)


@given(st.integers(min_value=-10**15, max_value=10**15), st.integers(min_value=-10**15, max_value=10**15))
def test_money_addition_is_exact(a, b):
    assert (Money(a, "GBP") + Money(b, "GBP")).amount_minor == a + b
    assert (Money(a, "GBP") + Money(b, "GBP") - Money(b, "GBP")) == Money(a, "GBP")


# --- the clock -----------------------------------------------------------------------------

def test_settable_clock_moves_only_when_told():
    clock = SettableClock(START)
    assert clock.now() == START == clock.now()
    assert clock.advance(timedelta(days=90)) == START + timedelta(days=90) == clock.now()
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_settable_clock_converts_to_utc_and_refuses_naive_times():
    paris = timezone(timedelta(hours=1))
    clock = SettableClock(datetime(2026, 3, 2, 10, 0, tzinfo=paris))
    assert clock.now() == START and clock.now().utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="naive"):
        SettableClock(datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2026, 3, 2, 9, 0))
    assert clock.now() == START  # a refused set changes nothing


def test_settable_clock_is_safe_across_threads():
    clock = SettableClock(START)
    threads = [threading.Thread(target=lambda: [clock.advance(timedelta(seconds=1)) for _ in range(1000)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == START + timedelta(seconds=4000)


def test_ensure_utc():
    assert ensure_utc(datetime(2026, 3, 2, 4, 0, tzinfo=timezone(timedelta(hours=-5)))) == START
    assert ensure_utc(START).tzinfo is UTC
    with pytest.raises(ValueError):
        ensure_utc(datetime(2026, 3, 2))


def test_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


# --- pagination cursors --------------------------------------------------------------------

def test_cursor_round_trip():
    values = ["2026-03-02T09:00:00+00:00", "01J0000000000000000000000", 42, None]
    cursor = encode_cursor(values)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor) == values


_json = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))


@given(st.lists(_json, max_size=5))
def test_cursor_round_trip_for_any_sort_keys(values):
    assert decode_cursor(encode_cursor(values)) == values


@pytest.mark.parametrize("cursor", [
    "", "!!!", "not a cursor", "e30",  # {} is not a list
    "bnVsbA",  # null
    "_w",  # bytes that are not UTF-8
    encode_cursor([1])[:-2] + "@@",
    "W" * (MAX_CURSOR_LENGTH + 1),
])
def test_malformed_cursors_are_a_value_error(cursor):
    with pytest.raises(ValueError, match="malformed cursor"):
        decode_cursor(cursor)


def test_a_deeply_nested_cursor_is_malformed_not_a_crash():
    import base64

    deep = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")
    with pytest.raises(ValueError, match="malformed cursor"):
        decode_cursor(deep)


@given(st.text(max_size=200))
def test_decoding_any_text_gives_a_list_or_a_value_error(text):
    with contextlib.suppress(ValueError):
        assert isinstance(decode_cursor(text), list)


# --- events --------------------------------------------------------------------------------

def test_event_bus_calls_type_handlers_then_wildcards_in_order():
    bus = EventBus()
    calls = []
    bus.subscribe(Event, lambda s, e: calls.append(("any", e.type)))
    bus.subscribe("customer.created", lambda s, e: calls.append(("one", e.type)))
    bus.subscribe("customer.created", lambda s, e: calls.append(("two", e.type)))
    event = DomainEvent(type="customer.created", occurred_at=START, aggregate_type="customer", aggregate_id="C1")
    for handler in bus.handlers_for(event.type):
        handler(None, event)
    assert calls == [("one", "customer.created"), ("two", "customer.created"), ("any", "customer.created")]
    assert len(bus.handlers_for("nothing.else")) == 1
    with pytest.raises(AttributeError):
        event.type = "changed"  # events are facts: frozen
