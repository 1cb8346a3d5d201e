"""Pure customer rules: periods, normalisation, tenure, representatives. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from onethread.customers import rules

BASE = datetime(2012, 3, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


minutes = st.integers(min_value=-500, max_value=500)


@st.composite
def periods(draw):
    start = draw(minutes)
    length = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=300)))
    return at(start), None if length is None else at(start + length)


# --- periods -------------------------------------------------------------------------------

@given(periods(), periods())
def test_overlaps_means_some_instant_is_in_both(a, b):
    """On a minute grid a half-open overlap always contains its start minute, so a scan is exact."""
    instants = [at(m) for m in range(-501, 802)]
    shared = any(rules.contains(*a, t) and rules.contains(*b, t) for t in instants)
    assert rules.overlaps(*a, *b) == shared
    assert rules.overlaps(*a, *b) == rules.overlaps(*b, *a)


@given(periods())
def test_a_period_contains_its_start_not_its_end_and_overlaps_itself(p):
    start, end = p
    assert rules.contains(start, end, start)
    assert not rules.contains(start, end, start - timedelta(microseconds=1))
    if end is not None:
        assert not rules.contains(start, end, end)
        assert rules.contains(start, end, end - timedelta(microseconds=1))
    assert rules.overlaps(start, end, start, end)


@given(periods(), st.integers(min_value=1, max_value=300))
def test_touching_periods_do_not_overlap(p, length):
    start, end = p
    assume(end is not None)
    assert not rules.overlaps(start, end, end, end + timedelta(minutes=length))
    assert not rules.overlaps(start, end, end, None)


@given(periods(), periods(), minutes)
def test_overlapping_holders_would_both_claim_an_instant_disjoint_ones_never(a, b, m):
    """The invariant the service enforces: disjoint periods never both contain an instant."""
    if not rules.overlaps(*a, *b):
        assert not (rules.contains(*a, at(m)) and rules.contains(*b, at(m)))


# --- normalisation -------------------------------------------------------------------------

separators = st.sampled_from(["", " ", "-", ".", "  ", "/"])


@st.composite
def uk_mobiles(draw):
    digits = "7" + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    prefix = draw(st.sampled_from(["0", "+44", "+44 ", "0044", "0044 ", "+44 (0)", "(0)"]))
    sep = draw(separators)
    groups = [digits[:4], digits[4:7], digits[7:]]
    wrap = draw(st.booleans())
    body = sep.join(groups)
    if wrap and prefix == "0":
        return f"(0{groups[0]}) {groups[1]}{sep}{groups[2]}"
    return draw(st.sampled_from([" ", ""])) + prefix + body + draw(st.sampled_from([" ", ""]))


@given(uk_mobiles())
@example("07700 900123")
@example("+44 7700 900123")
@example("0044-7700-900-123")
def test_normalised_msisdn_is_e164_and_idempotent(raw):
    try:
        once = rules.normalise(rules.MSISDN, raw, region="GB")
    except rules.InvalidIdentifier:
        assume(False)
    assert once.startswith("+44") and once[1:].isdigit()
    assert rules.normalise(rules.MSISDN, once, region="GB") == once
    # An E.164 number means the same whatever region is assumed for national numbers.
    assert rules.normalise(rules.MSISDN, once, region="US") == once


@given(uk_mobiles(), uk_mobiles())
def test_two_spellings_of_one_number_normalise_alike(a, b):
    try:
        na, nb = rules.normalise(rules.MSISDN, a, region="GB"), rules.normalise(rules.MSISDN, b, region="GB")
    except rules.InvalidIdentifier:
        assume(False)
    digits = ["".join(ch for ch in x if ch.isdigit())[-10:] for x in (a, b)]
    assert (na == nb) == (digits[0] == digits[1])


@given(st.sampled_from(rules.IDENTIFIER_KINDS), st.text(max_size=40), st.sampled_from(["GB", "US", "FR", "DE"]))
@example(rules.SOCIAL, "Twitter:@Jane_Doe", "GB")
@example(rules.ICCID, "8944 1000 0000 0001 016F", "GB")
@example(rules.EMAIL, " Jane.Doe@Mail.Example ", "GB")
@example(rules.ACCOUNT, "acc 100 101", "GB")
def test_normalise_is_idempotent_for_any_input_it_accepts(kind, raw, region):
    try:
        once = rules.normalise(kind, raw, region=region)
    except rules.InvalidIdentifier:
        return
    assert rules.normalise(kind, once, region=region) == once


@pytest.mark.parametrize(("kind", "raw", "says"), [
    (rules.IMEI, "356938035643808", "check digit"),
    (rules.IMEI, "35693803564380", "15 digits"),
    (rules.ICCID, "8944100000000001017", "check digit"),
    (rules.ICCID, "1234567890123456789", "starting with 89"),
    (rules.EMAIL, "nobody", "not an e-mail"),
    (rules.SOCIAL, "janedoe", "platform:handle"),
    (rules.MSISDN, "", "empty"),
    ("fax", "0123", "unknown identifier kind"),
])
def test_bad_identifiers_say_why(kind, raw, says):
    with pytest.raises(rules.InvalidIdentifier, match=says):
        rules.normalise(kind, raw)


def test_a_national_number_is_read_by_the_region_given_and_refused_without_one():
    assert rules.normalise(rules.MSISDN, "06 12345678", region="NL") == "+31612345678"
    assert rules.normalise(rules.MSISDN, "07700 900123", region="GB") == "+447700900123"
    assert rules.normalise(rules.MSISDN, "+31 6 12345678") == "+31612345678"  # its own country code
    with pytest.raises(rules.InvalidIdentifier, match="no country code and no region"):
        rules.normalise(rules.MSISDN, "06 12345678")  # never guessed as British


def test_good_identifiers_normalise_to_one_form():
    assert rules.normalise(rules.IMEI, "35-693803-564380-9") == "356938035643809"
    assert rules.normalise(rules.ICCID, "8944 1000 0000 0001 016F") == "8944100000000001016"
    assert rules.normalise(rules.SOCIAL, "Twitter:@Jane_Doe") == "x:jane_doe"
    assert rules.normalise(rules.EMAIL, "Jane.Doe@Mail.Example") == "jane.doe@mail.example"
    assert rules.normalise(rules.ACCOUNT, "acc 100 101") == "ACC100101"


# --- tenure --------------------------------------------------------------------------------

@pytest.mark.parametrize(("since", "on", "label"), [
    (date(2014, 2, 1), date(2026, 3, 2), "12 years, 1 month"),
    (date(2015, 6, 1), date(2026, 3, 2), "10 years, 9 months"),
    (date(2026, 1, 15), date(2026, 3, 2), "1 month"),
    (date(2026, 3, 2), date(2026, 3, 2), "0 months"),
    (date(2025, 3, 2), date(2026, 3, 2), "1 year, 0 months"),
    (date(2025, 3, 3), date(2026, 3, 2), "11 months"),
])
def test_tenure_label(since, on, label):
    assert rules.tenure(since, on).label == label


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 1, 1)),
       st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 1, 1)))
def test_tenure_counts_whole_months_never_negative(since, on):
    t = rules.tenure(since, on)
    assert t.years >= 0 and 0 <= t.months < 12
    total = t.years * 12 + t.months
    if on < since:
        assert total == 0
    else:
        # ``total`` whole months have passed, and one more has not.
        assert _add_months(since, total) <= on
        assert _add_months(since, total + 1) > on


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the day after the month's end when that month is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    first = date(day.year + y, m + 1, 1)
    return first + timedelta(days=day.day - 1)


# --- representatives -----------------------------------------------------------------------

REVOKED_ON = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("on", "revoked_at", "status"), [
    (date(2025, 12, 31), None, "pending"),
    (date(2026, 1, 1), None, "active"),
    (date(2026, 6, 30), None, "active"),
    (date(2026, 7, 1), None, "expired"),
    (date(2026, 3, 11), REVOKED_ON, "active"),
    (date(2026, 3, 12), REVOKED_ON, "revoked"),
    (date(2026, 8, 1), REVOKED_ON, "revoked"),
])
def test_representative_status_by_date(on, revoked_at, status):
    assert rules.representative_status(date(2026, 1, 1), date(2026, 7, 1), revoked_at, on) == status
    granted = ["view_cases", "message_owner"]
    expected = sorted(granted) if status == "active" else []
    assert rules.permissions_in_force(granted, status) == expected


def test_open_ended_representative_stays_active():
    assert rules.representative_status(date(2020, 1, 1), None, None, date(2099, 1, 1)) == "active"


def test_permissions_are_checked():
    assert rules.check_permissions(["view_cases", "view_cases", "order"]) == ["order", "view_cases"]
    with pytest.raises(ValueError, match="unknown permission"):
        rules.check_permissions(["sell_house"])
    with pytest.raises(ValueError, match="at least one"):
        rules.check_permissions([])
