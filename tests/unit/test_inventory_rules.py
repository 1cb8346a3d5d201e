"""Product lifecycle, price and billability rules, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.inventory import rules
from onethread.kernel.money import Money

ACTIVATED = datetime(2018, 5, 1, 0, 0, tzinfo=UTC)
REMOVED = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(("start", "end"), [
    ("created", "active"), ("created", "pendingActive"), ("created", "cancelled"), ("pendingActive", "active"),
    ("active", "suspended"), ("suspended", "active"), ("active", "pendingTerminate"), ("pendingTerminate", "active"),
    ("active", "terminated"), ("suspended", "terminated"), ("pendingTerminate", "terminated"),
])
def test_the_usual_lifecycle_steps_are_allowed(start, end):
    assert rules.can_move(start, end)


@pytest.mark.parametrize(("start", "end"), [
    ("created", "terminated"), ("created", "suspended"), ("active", "created"), ("active", "cancelled"),
    ("terminated", "active"), ("cancelled", "active"), ("aborted", "created"), ("pendingActive", "suspended"),
])
def test_impossible_steps_are_refused(start, end):
    assert not rules.can_move(start, end)


@given(st.sampled_from(rules.STATUSES), st.sampled_from(rules.STATUSES))
def test_a_refusal_names_exactly_the_allowed_next_statuses(start, end):
    message = rules.transition_error(start, end)
    allowed = rules.TRANSITIONS[start]
    if start in rules.TERMINAL:
        assert not allowed
        assert message == f"a {start} product cannot change status"
    else:
        assert message.endswith("allowed: " + ", ".join(sorted(allowed)))
        assert rules.can_move(start, end) == (end in allowed)


def test_every_status_is_reachable_from_a_new_product_and_nothing_leaves_an_end_state():
    seen, todo = set(rules.NEW_STATUSES), list(rules.NEW_STATUSES)
    while todo:
        for nxt in rules.TRANSITIONS[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    assert seen == set(rules.STATUSES)
    assert all(not rules.TRANSITIONS[s] for s in rules.TERMINAL)


def test_never_active_statuses_cannot_be_reached_from_active():
    """What makes ``billable_on`` safe: a cancelled or aborted product was never in service."""
    reached, todo = {"active"}, ["active"]
    while todo:
        for nxt in rules.TRANSITIONS[todo.pop()] - reached:
            reached.add(nxt)
            todo.append(nxt)
    assert not reached & rules.NEVER_ACTIVE


@pytest.mark.parametrize(("value", "currency", "minor"), [
    ("12.50", "GBP", 1250), ("12.5", "GBP", 1250), ("0", "GBP", 0), ("19.99", "EUR", 1999), ("1000", "JPY", 1000),
    ("1.234", "BHD", 1234), ("12.500", "GBP", 1250), ("7", "gbp", 700),
])
def test_prices_convert_exactly_to_minor_units(value, currency, minor):
    assert rules.minor_units(Decimal(value), currency) == minor


@pytest.mark.parametrize(("value", "currency", "words"), [
    ("12.345", "GBP", "GBP has 2 decimal places"), ("1000.5", "JPY", "JPY has 0 decimal places"),
    ("-1", "GBP", "negative"), ("NaN", "GBP", "finite"), ("Infinity", "GBP", "finite"), ("1", "POUNDS", "ISO 4217"),
])
def test_prices_that_are_not_money_in_that_currency_are_refused(value, currency, words):
    with pytest.raises(rules.PriceError, match=words):
        rules.minor_units(Decimal(value), currency)


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["GBP", "EUR", "JPY", "BHD"]))
def test_price_round_trip_through_the_decimal_shown_to_clients(minor, currency):
    shown = Money(minor, currency).as_decimal_str()
    assert rules.minor_units(Decimal(shown), currency) == minor


def test_a_sim_removed_on_10_march_is_billable_until_the_day_before():
    assert rules.billable_on("terminated", ACTIVATED, REMOVED, date(2026, 3, 9))
    assert not rules.billable_on("terminated", ACTIVATED, REMOVED, date(2026, 3, 10))
    assert not rules.billable_on("terminated", ACTIVATED, REMOVED, date(2026, 4, 1))
    assert not rules.billable_on("active", ACTIVATED, None, date(2018, 4, 30))
    assert rules.billable_on("active", ACTIVATED, None, date(2018, 5, 1))
    assert rules.billable_on("suspended", ACTIVATED, None, date(2026, 3, 1))


@pytest.mark.parametrize("status", sorted(rules.NEVER_ACTIVE))
def test_a_product_that_never_started_is_never_billable(status):
    assert not rules.billable_on(status, ACTIVATED, None, date(2026, 3, 1))
