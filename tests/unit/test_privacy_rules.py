"""The privacy policy file: the shipped one loads; a wrong one is refused naming the file, the line
and the problem (issue 19 item 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onethread.privacy import rules
from onethread.privacy.service import DEFAULT_FILE, load_policy

GOOD = """\
name: privacy
version: 1
erasure:
  party: anonymise
  identifier:
    email: anonymise
    msisdn: keep
retention:
  audit_entry: {days: 730, action: delete}
"""


def test_the_shipped_policy_loads_with_its_documented_defaults():
    policy = load_policy(None)
    assert policy.erasure["contact"] == "anonymise" and policy.identifiers["msisdn"] == "keep"
    assert {k: (r.days, r.action) for k, r in policy.retention.items()}["audit_entry"] == (730, "delete")
    assert set(policy.retention) <= set(rules.RETENTION_KINDS)
    assert DEFAULT_FILE.name == "privacy.yaml"


def test_a_good_file_parses_and_cutoffs_count_back_from_now():
    policy = rules.parse(GOOD, "p.yaml")
    assert policy.erases("party") and not policy.erases("contact")  # not listed: kept
    now = datetime(2026, 3, 2, tzinfo=UTC)
    assert policy.retention["audit_entry"].cutoff(now) == datetime(2024, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(("change", "message"), [
    (("  party: anonymise", "  bill: anonymise"), "p.yaml, line 4: erasure: unknown record kind 'bill' (always kept)"),
    (("  party: anonymise", "  party: delete"), "p.yaml, line 4: erasure.party: anonymise or keep, not 'delete'"),
    (("    msisdn: keep", "    pager: keep"), "p.yaml, line 7: erasure.identifier: unknown identifier kind 'pager'"),
    (("    msisdn: keep", "    msisdn: delete"), "p.yaml, line 7: erasure.identifier.msisdn: keep or anonymise"),
    (("days: 730", "days: 0"), "p.yaml, line 9: retention.audit_entry.days: a whole number of days from 1"),
    (("action: delete}", "action: anonymise}"), "p.yaml, line 9: retention.audit_entry.action: delete, not"),
    (("  audit_entry:", "  case:"), "p.yaml, line 9: retention: unknown record kind 'case'"),
    (("version: 1", "version: one"), "p.yaml, line 2: version: input should be a valid integer"),
    (("version: 1", "version: 0"), "p.yaml, line 2: version: input should be greater than or equal to 1"),
    (("name: privacy", "name: other"), "p.yaml, line 1: name: input should be 'privacy'"),
    (("  party: anonymise", "  party: anonymise\n  colour: keep"), "p.yaml, line 5: erasure: unknown record kind"),
    (("name: privacy", "name: privacy\nowner: dpo"), "p.yaml, line 2: owner: is not a known entry"),
    (("{days: 730, action: delete}", "{days: 730, action: delete, note: x}"),
     "p.yaml, line 9: retention.audit_entry.note: is not a known entry"),
    (("erasure:\n", "erasure: [\n"), "p.yaml, line"),
])
def test_a_wrong_file_names_the_file_the_line_and_the_problem(change, message):
    old, new = change
    with pytest.raises(rules.PolicyError) as refused:
        rules.parse(GOOD.replace(old, new, 1), "p.yaml")
    assert str(refused.value).startswith(message), str(refused.value)


def test_an_unreadable_file_names_itself(tmp_path):
    with pytest.raises(rules.PolicyError, match=r"missing\.yaml: cannot read it"):
        load_policy(str(tmp_path / "missing.yaml"))


def test_what_blocks_an_erasure_is_named():
    assert rules.erasure_blockers([], []) == []
    assert rules.erasure_blockers([("C1", "No signal")], [("B-7", 1200, "GBP")]) == [
        "case C1 (No signal) is open", "bill B-7 owes 1200 minor units of GBP"]
    assert rules.reason_problem("  ") and rules.reason_problem("x" * 2001) and not rules.reason_problem("asked")
    assert rules.reason_problem("a\x00b")  # PostgreSQL cannot store it: a 400, not a 500
