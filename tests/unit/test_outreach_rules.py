"""The guard's rules, retries and channel health (pure), and letters per market and language."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.outreach import letters, rules
from onethread.outreach.rules import CustomerState, Proposed, Representative, evaluate

LEAVER = CustomerState(email="a@b.example", active_products=0, commitment_change_minor=-2500)


def codes(verdict) -> list[str]:
    return [r.code for r in verdict.reasons]


def test_s4_retention_after_one_line_is_suppressed_a_genuine_leaver_gets_it():
    renewed = CustomerState(email="m@h.example", active_products=7, commitment_change_minor=5900)
    v = evaluate(renewed, Proposed("letter", "retention", "line_disconnected"))
    assert v.verdict == "suppress" and codes(v)[:2] == ["RETENTION_COMMITMENT_ROSE", "RETENTION_STILL_CUSTOMER"]
    assert evaluate(LEAVER, Proposed("letter", "retention", "line_disconnected")).verdict == "send"


@given(complaints=st.integers(0, 3), billing=st.integers(0, 3), consent=st.booleans(),
       opted=st.sets(st.sampled_from(["marketing", "retention"])), sent=st.integers(0, 5),
       vulnerable=st.booleans())
def test_regulatory_letters_are_never_suppressed_or_held(complaints, billing, consent, opted, sent, vulnerable):
    state = CustomerState(open_complaints=complaints, open_billing_cases=billing, marketing_consent=consent,
                          opted_out=frozenset(opted), promotional_sent_recently=sent, vulnerable=vulnerable,
                          active_products=2, commitment_change_minor=100)
    for purpose in ("regulatory", "service"):
        assert evaluate(state, Proposed("letter", purpose)).verdict == "send"


@given(complaints=st.integers(1, 3))
def test_marketing_waits_while_a_complaint_or_billing_case_is_open(complaints):
    state = CustomerState(email="x@y.example", marketing_consent=True, open_complaints=complaints)
    assert codes(evaluate(state, Proposed("email", "marketing"))) == ["OPEN_COMPLAINT"]
    state = CustomerState(email="x@y.example", marketing_consent=True, open_billing_cases=complaints)
    assert codes(evaluate(state, Proposed("email", "marketing"))) == ["OPEN_BILLING_CASE"]


def test_consent_opt_out_frequency_and_vulnerability():
    assert codes(evaluate(CustomerState(email="x@y.example"), Proposed("email", "marketing"))) == [
        "NO_MARKETING_CONSENT"]
    assert "OPTED_OUT" in codes(evaluate(CustomerState(opted_out=frozenset({"retention"})),
                                         Proposed("letter", "retention")))
    busy = CustomerState(email="x@y.example", marketing_consent=True, promotional_sent_recently=2)
    assert codes(evaluate(busy, Proposed("email", "marketing"))) == ["TOO_MANY_MESSAGES"]
    held = evaluate(CustomerState(email="x@y.example", marketing_consent=True, vulnerable=True),
                    Proposed("email", "marketing"))
    assert held.verdict == "hold" and held.status == "held" and codes(held) == ["VULNERABLE_REVIEW"]


def test_letters_only_never_gets_email_and_the_representative_is_copied():
    edith = CustomerState(email="robert@mail.example", needs=frozenset({"letters"}),
                          representatives=(Representative("Robert Clarke", None, True),
                                           Representative("Amira Haddad", None, False)))
    for asked in ("email", "sms"):
        v = evaluate(edith, Proposed(asked, "service"))
        assert v.channel == "letter" and codes(v)[0] == "CHANNEL_LETTERS_ONLY"
        assert [r.name for r in v.cc] == ["Robert Clarke"]
    no_address = evaluate(CustomerState(), Proposed("email", "service"))
    assert no_address.channel == "letter" and codes(no_address) == ["NO_EMAIL_ADDRESS"]
    chose = CustomerState(email="x@y.example", allowed_channels=("email", "letter"), copy_representative=True,
                          representatives=(Representative("Sam", "sam@x.example", True),))
    v = evaluate(chose, Proposed("sms", "service"))
    assert v.channel == "letter" and codes(v)[0] == "CHANNEL_NOT_CHOSEN" and v.cc[0].email == "sam@x.example"


@pytest.mark.parametrize(("hour", "quiet", "inside", "wait"), [
    (22, (21, 8), True, 10), (7, (21, 8), True, 1), (8, (21, 8), False, None), (13, (12, 14), True, 1),
    (14, (12, 14), False, None), (3, (0, 0), False, None)])
def test_quiet_hours_wrap_around_midnight(hour, quiet, inside, wait):
    assert rules.in_quiet_hours(hour, quiet) is inside
    if wait:
        assert rules.hours_until_quiet_ends(hour, quiet) == wait


def test_backoff_and_what_an_attempt_leads_to():
    assert [rules.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert rules.backoff(30) == timedelta(hours=6)
    assert rules.after_attempt(rules.Outcome("retry"), 1, 3) == "queued"
    assert rules.after_attempt(rules.Outcome("retry"), 3, 3) == "failed"
    assert rules.after_attempt(rules.Outcome("failed"), 1, 3) == "failed"
    assert rules.after_attempt(rules.Outcome("unknown"), 1, 3) == "held"  # never sent twice
    assert rules.after_attempt(rules.Outcome("sent"), 2, 3) == "sent"


def test_a_channel_is_red_when_failing_or_silent_and_green_by_itself_again():
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ok = rules.judge(now=now, last_success=now, last_error=None, error=None, expected_every=60, last_activity=None)
    assert ok.state == "green"
    failing = rules.judge(now=now, last_success=now - timedelta(minutes=1), last_error=now, error="login refused",
                          expected_every=None, last_activity=now - timedelta(hours=1))
    assert failing.state == "red" and "login refused" in failing.why and failing.lag_seconds == 3600
    silent = rules.judge(now=now, last_success=now - timedelta(hours=2), last_error=None, error=None,
                         expected_every=3600, last_activity=None)
    assert silent.state == "red" and silent.why.startswith("silent")
    back = rules.judge(now=now, last_success=now, last_error=now - timedelta(seconds=1), error="x",
                       expected_every=60, last_activity=None)
    assert back.state == "green"


def test_the_nl_deadlock_letter_is_dutch_with_dutch_dates_and_a_pdf():
    filled = letters.fill("deadlock", "NL", letters.language_for("NL", None), {
        "customer_name": "Margriet de Vries", "case_title": "Geen inkomende gesprekken",
        "opened_on": datetime(2026, 3, 2, 9, tzinfo=UTC), "weeks": 6,
        "ombudsman": "de Geschillencommissie Telecommunicatie"})
    assert filled.language == "nl" and filled.subject.startswith("Uw klacht")
    assert "op 2 maart 2026 bij ons geklaagd" in filled.body
    pdf = letters.render_pdf(operator="onethread Telecom", recipient="Margriet de Vries", subject=filled.subject,
                             body=filled.body, dated=datetime(2026, 4, 13, 9, tzinfo=UTC), locale=filled.locale)
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "13 april 2026" in text and "Geschillencommissie" in text and "Geachte Margriet de Vries" in text


def test_amounts_follow_the_locale_and_missing_placeholders_are_named():
    ended = date(2026, 3, 10)
    en = letters.fill("retention", "GB", "en", {"customer_name": "A", "product_name": "Fibre", "ended_on": ended,
                                                "monthly_price": letters.Money(3500, "GBP")})
    assert "£35.00 a month" in en.body and "10 March 2026" in en.body
    nl = letters.fill("retention", "NL", "nl", {"customer_name": "A", "product_name": "Glasvezel", "ended_on": ended,
                                                "monthly_price": letters.Money(3500, "EUR")})
    assert "€\xa035,00 per maand" in nl.body and "10 maart 2026" in nl.body
    with pytest.raises(letters.TemplateError, match="needs 'product_name'"):
        letters.fill("retention", "GB", "en", {"customer_name": "A"})
    with pytest.raises(letters.TemplateError, match="no template"):
        letters.fill("nope", "GB", "en", {})
