"""interactions.rules: how identifiers decide a customer (every branch), verification validity,
and the webhook signature (HMAC-SHA256 over "{timestamp}.{body}", constant-time, replay window)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.interactions import rules
from onethread.interactions.rules import Lookup, decide

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "s3cret-shared-with-the-platform"


def found(kind, value, cid):
    return Lookup(kind, value, "found", cid)


def none(kind, value):
    return Lookup(kind, value, "none", None)


def ambiguous(kind, value, *cids):
    return Lookup(kind, value, "ambiguous", None, tuple(cids))


# --- decide ----------------------------------------------------------------------------------

def test_no_identifiers_goes_to_the_queue():
    d = decide([])
    assert (d.customer_id, d.reason, d.candidates) == (None, "no_identifiers", ())
    assert "no identifier" in d.explanation


def test_one_identifier_found_attaches():
    d = decide([found("msisdn", "+447700900301", "B")])
    assert (d.customer_id, d.reason, d.candidates) == ("B", None, ("B",))
    assert d.explanation == "all known identifiers agree"


def test_identifiers_that_agree_attach():
    d = decide([found("msisdn", "+447700900301", "B"), found("email", "b@example.com", "B")])
    assert (d.customer_id, d.reason, d.candidates) == ("B", None, ("B",))


def test_found_plus_unknown_attaches_and_names_the_unknown():
    d = decide([found("msisdn", "+447700900301", "B"), none("email", "new@example.com")])
    assert d.customer_id == "B" and d.reason is None
    assert "not on record: email new@example.com" in d.explanation


def test_identifiers_pointing_to_different_customers_conflict():
    d = decide([found("msisdn", "+447700900301", "B"), found("email", "a@example.com", "A")])
    assert (d.customer_id, d.reason, d.candidates) == (None, "conflict", ("A", "B"))
    assert "msisdn +447700900301 -> B" in d.explanation and "email a@example.com -> A" in d.explanation


def test_nothing_resolves_is_no_match_with_no_candidates():
    d = decide([none("msisdn", "+447700900999"), none("email", "x@example.com")])
    assert (d.customer_id, d.reason, d.candidates) == (None, "no_match", ())
    assert "+447700900999" in d.explanation and "x@example.com" in d.explanation


def test_a_found_lookup_without_a_customer_never_attaches():
    """A lookup marked found but naming nobody is not a match: the contact goes to the queue, never to no one."""
    d = decide([Lookup("msisdn", "+447700900301", "found", None)])
    assert (d.customer_id, d.reason, d.candidates) == (None, "no_match", ())


def test_ambiguous_goes_to_the_queue_with_every_candidate():
    d = decide([ambiguous("social", "janedoe", "A", "C"), found("msisdn", "+447700900301", "B")])
    assert (d.customer_id, d.reason, d.candidates) == (None, "ambiguous", ("A", "B", "C"))
    assert "social janedoe" in d.explanation


def test_ambiguous_wins_even_when_the_rest_agrees():
    d = decide([ambiguous("social", "janedoe", "A", "B"), found("email", "a@example.com", "A")])
    assert d.customer_id is None and d.reason == "ambiguous"


statuses = st.sampled_from(["found", "none", "ambiguous"])
customers = st.sampled_from(["A", "B", "C"])


@st.composite
def lookups(draw):
    status = draw(statuses)
    if status == "found":
        return found("msisdn", f"+4477009{draw(st.integers(0, 99999)):05d}", draw(customers))
    if status == "ambiguous":
        return ambiguous("social", "h", *draw(st.lists(customers, min_size=2, max_size=3, unique=True)))
    return none("email", "n@example.com")


@given(st.lists(lookups(), max_size=5))
def test_attached_only_when_every_resolved_identifier_agrees(items):
    d = decide(items)
    holders = {lk.customer_id for lk in items if lk.status == "found"}
    if d.customer_id is not None:
        assert holders == {d.customer_id} and not any(lk.status == "ambiguous" for lk in items)
        assert d.reason is None
    else:
        assert d.reason in ("no_identifiers", "no_match", "conflict", "ambiguous")
        assert set(d.candidates) >= holders  # a person sees everyone it could be
        assert len(holders) != 1 or any(lk.status == "ambiguous" for lk in items)


# --- verification ----------------------------------------------------------------------------

def test_verification_valid_until_expiry_and_never_after_the_session_ended():
    expires = NOW + timedelta(minutes=30)
    assert rules.verification_valid(expires, NOW)
    assert not rules.verification_valid(expires, expires)
    assert not rules.verification_valid(expires, expires + timedelta(seconds=1))
    assert rules.verification_valid(expires, NOW, ended_at=NOW + timedelta(minutes=5))
    assert not rules.verification_valid(expires, NOW + timedelta(minutes=5), ended_at=NOW + timedelta(minutes=5))


@pytest.mark.parametrize(("best", "required", "needed"), [
    (None, 1, True), (1, 1, False), (1, 2, True), (2, 2, False), (3, 2, False),
])
def test_needs_verification(best, required, needed):
    assert rules.needs_verification(best, required) is needed


# --- webhook signature -----------------------------------------------------------------------

BODY = b'{"type":"post","postId":"1","handle":"@jane","text":"hi","createdAt":"2026-03-02T09:00:00Z"}'


def stamp(at: datetime = NOW) -> str:
    return str(int(at.timestamp()))


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{stamp()}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert rules.webhook_signature(SECRET, stamp(), BODY) == f"sha256={expected}"


def test_a_good_signature_passes():
    sig = rules.webhook_signature(SECRET, stamp(), BODY)
    assert rules.webhook_problem(SECRET, stamp(), sig, BODY, NOW) is None
    # within the window either way
    assert rules.webhook_problem(SECRET, stamp(NOW - timedelta(seconds=300)),
                                 rules.webhook_signature(SECRET, stamp(NOW - timedelta(seconds=300)), BODY),
                                 BODY, NOW) is None
    assert rules.webhook_problem(SECRET, stamp(NOW + timedelta(seconds=300)),
                                 rules.webhook_signature(SECRET, stamp(NOW + timedelta(seconds=300)), BODY),
                                 BODY, NOW) is None


@pytest.mark.parametrize(("secret", "ts", "sig", "body", "says"), [
    (None, "T", "S", BODY, "not configured"),
    ("", "T", "S", BODY, "not configured"),
    (SECRET, "T", None, BODY, "Signature is missing"),
    (SECRET, "T", "", BODY, "Signature is missing"),
    (SECRET, None, "S", BODY, "Timestamp is missing"),
    (SECRET, "yesterday", "S", BODY, "Unix seconds"),
    (SECRET, "-5", "S", BODY, "Unix seconds"),
    (SECRET, "T", "S", BODY + b" ", "does not match"),  # body changed after signing
    (SECRET, "T", "sha256=00", BODY, "does not match"),
    (SECRET, "T", "S-other-secret", BODY, "does not match"),
    (SECRET, "T", "S-unicode", BODY, "does not match"),
])
def test_refusals_say_why(secret, ts, sig, body, says):
    good_ts = stamp()
    ts = good_ts if ts == "T" else ts
    if sig == "S":
        sig = rules.webhook_signature(SECRET, good_ts, BODY)
    elif sig == "S-other-secret":
        sig = rules.webhook_signature("another-secret", good_ts, BODY)
    elif sig == "S-unicode":
        sig = "sha256=é" + "0" * 63
    problem = rules.webhook_problem(secret, ts, sig, body, NOW)
    assert problem is not None and says in problem


def test_a_stale_or_future_timestamp_is_refused_even_when_signed():
    for skew in (301, -301, 86_400):
        ts = stamp(NOW - timedelta(seconds=skew))
        sig = rules.webhook_signature(SECRET, ts, BODY)
        assert "away from our clock" in rules.webhook_problem(SECRET, ts, sig, BODY, NOW)


def test_replaying_a_body_with_a_fresh_timestamp_fails():
    old = stamp(NOW - timedelta(hours=1))
    sig = rules.webhook_signature(SECRET, old, BODY)
    assert "does not match" in rules.webhook_problem(SECRET, stamp(), sig, BODY, NOW)
