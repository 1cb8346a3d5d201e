"""One way to load configuration: every policy and table file, when broken (a value of the wrong
type, an unknown key, a missing key), is refused with an error naming the file, the line and the
field, and all of them raise the same ``ConfigError``."""

from __future__ import annotations

from pathlib import Path

import pytest

from onethread.cases import policy as clock_policy
from onethread.cases import routing
from onethread.decisions import approval_rules, symptoms
from onethread.decisions import rules as decision_rules
from onethread.kernel.config_files import ConfigError, load_text
from onethread.outreach import letters
from onethread.privacy import rules as privacy_rules

CLOCKS = """\
markets:
  GB:
    timezone: Europe/London
    regulator:
      warning: {after: P6W, basis: calendar}
      deadline: {after: P8W, basis: calendar}
    clocks:
      default:
        no_activity: {after: P5D, basis: business}
"""
ROUTING = """\
first_response: {after: PT4H, basis: business}
rules:
  - name: vulnerable customers
    when: {vulnerable: true}
    team: customer_relations
  - name: everything else
    team: contact_centre
"""
FOUR_EYES = approval_rules.__file__.replace("approval_rules.py", "four_eyes.yaml")
DECISION = """\
name: tiny
version: 1
facts:
  - {name: age, type: integer}
rules:
  - id: r
    outcome: ok
outcomes:
  ok: {staff_reason: s, customer_reason: c}
"""
PRIVACY = """\
name: privacy
version: 1
erasure:
  party: anonymise
retention:
  audit_entry: {days: 730, action: delete}
"""
SYMPTOMS = """\
version: 1
proposal: {threshold: 3, window_days: 30}
symptoms:
  audio_jack:
    label: Headphone jack
    phrases: [headphone jack]
"""
LETTERS = """\
markets:
  GB: {language: en, locale: en_GB, operator: "onethread Telecom"}
templates:
  reply:
    purpose: service
    en:
      subject: "Your case"
      body: "{text}"
"""


def _clocks(path: Path):
    return clock_policy.load(str(path))


def _routing(path: Path):
    return routing.load(str(path))


def _four_eyes(path: Path):
    return approval_rules.parse(path.read_text(), str(path))


def _decision(path: Path):
    return decision_rules.parse(path.read_text(), str(path))


def _privacy(path: Path):
    return privacy_rules.parse(path.read_text(), str(path))


def _symptoms(path: Path):
    return symptoms.parse(path.read_text(), str(path))


def _letters(path: Path):
    return letters.load_catalogue(path)


GOOD = {
    "clocks": (_clocks, CLOCKS),
    "routing": (_routing, ROUTING),
    "four_eyes": (_four_eyes, Path(FOUR_EYES).read_text()),
    "decision": (_decision, DECISION),
    "privacy": (_privacy, PRIVACY),
    "symptoms": (_symptoms, SYMPTOMS),
    "letters": (_letters, LETTERS),
}

BROKEN = [
    # kind, (old, new), the line (or a text on it), what the message must name
    ("clocks", ("after: P5D", "after: 5"), 9, "markets.GB.clocks.default.no_activity.after"),
    ("clocks", ("    timezone:", "    time_zone:"), 3, "markets.GB.time_zone"),
    ("clocks", ("      deadline: {after: P8W, basis: calendar}\n", ""), "    regulator:",
     "markets.GB.regulator.deadline"),
    ("routing", ("{vulnerable: true}", "{vulnerable: sometimes}"), 4, "rules[0].when.vulnerable"),
    ("routing", ("    team: contact_centre", "    team: contact_centre\n    queue: q"), 8,
     "rules[1].queue: is not a known entry (known: name, team, when)"),
    ("routing", ("    team: customer_relations\n", ""), 3, "rules[0].team"),
    ("four_eyes", ("version: 1", "version: '1'"), "version:", "version"),
    ("four_eyes", ("    label: Terminate a line", "    lable: Terminate a line"), "lable:",
     "actions.terminate_line.lable"),
    ("four_eyes", ("    approvers: [team_lead, back_office]\n", ""), "  write_off:", "actions.write_off.approvers"),
    ("decision", ("version: 1", "version: [1]"), 2, "version"),
    ("decision", ("    outcome: ok\n", "    outcome: ok\n    then: ok\n"), 8, "unknown key 'then'"),
    ("decision", ("  ok: {staff_reason: s, customer_reason: c}", "  ok: {staff_reason: s}"), 9, "customer_reason"),
    ("privacy", ("days: 730", "days: two years"), 6, "retention.audit_entry.days"),
    ("privacy", ("  party: anonymise", "  party: anonymise\n  colour: keep"), 5, "unknown record kind 'colour'"),
    ("privacy", ("audit_entry: {days: 730, action: delete}", "audit_entry: {days: 730}"), 6,
     "retention.audit_entry"),
    ("symptoms", ("threshold: 3", "threshold: many"), 2, "threshold"),
    ("symptoms", ("    label: Headphone jack", "    label: Headphone jack\n    colour: red"), 6,
     "unknown key 'colour'"),
    ("symptoms", ("    label: Headphone jack\n", ""), 5, "missing label"),
    ("letters", ('body: "{text}"', "body: [text]"), 8, "templates.reply.en.body"),
    ("letters", ("locale: en_GB,", "locale: en_GB, currency: GBP,"), 2, "markets.GB.currency"),
    ("letters", ('      subject: "Your case"\n', ""), "    en:", "templates.reply.en.subject"),
]


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("kind", "change", "line", "field"), BROKEN)
def test_a_broken_file_names_the_file_the_line_and_the_field(tmp_path, kind, change, line, field):
    load, good = GOOD[kind]
    assert change[0] in good
    path = tmp_path / f"{kind}.yaml"
    path.write_text(good.replace(*change, 1))
    with pytest.raises(ConfigError) as refused:
        load(path)
    error = refused.value
    if isinstance(line, str):
        line = _line_of(path.read_text(), line)
    assert str(error).startswith(f"{path}, line {line}: "), str(error)
    assert field in str(error), str(error)


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_the_good_files_load_and_a_key_given_twice_is_refused(tmp_path, kind):
    load, good = GOOD[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(good)
    assert load(path)
    first = next(line for line in good.splitlines() if not line.startswith("#"))
    path = tmp_path / f"{kind}_twice.yaml"
    path.write_text(f"{good}{first}\n")
    with pytest.raises(ConfigError, match=rf"line {len(good.splitlines()) + 1}: .*given twice"):
        load(path)


def test_the_old_error_names_are_the_one_error():
    assert (clock_policy.PolicyError is approval_rules.PolicyError is decision_rules.PolicyError
            is privacy_rules.PolicyError is symptoms.SymptomTableError is ConfigError)


def test_not_yaml_and_an_unreadable_file_name_themselves(tmp_path):
    with pytest.raises(ConfigError, match=r"^r\.yaml, line 3: not valid YAML"):
        load_text("rules:\n  - [\n", "r.yaml")
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read it"):
        routing.load(str(tmp_path / "missing.yaml"))


def test_an_empty_condition_list_or_escalation_means_the_default(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING.replace("    when: {vulnerable: true}", "    when:"))
    assert routing.load(str(path)).rules[0].when == {}
    path = tmp_path / "clocks.yaml"
    path.write_text(CLOCKS.replace("    clocks:", "    escalation:\n    clocks:"))
    assert clock_policy.load(str(path))["GB"].reminder == clock_policy.Market.reminder
