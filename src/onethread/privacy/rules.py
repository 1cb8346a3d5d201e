"""Personal-data rights: which record kinds erasure anonymises, deletes or keeps, how long each kind
is kept, and when a customer may be erased. Pure: no database.

The policy is data (``privacy/privacy.yaml``, or ``ONETHREAD_PRIVACY_POLICY_FILE``), read by
``parse`` through ``kernel.config_files``: a bad file stops with its name, the line and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from onethread.customers.rules import IDENTIFIER_KINDS
from onethread.kernel import config_files
from onethread.kernel.config_files import ConfigError, Marked

KEEP, ANONYMISE, DELETE = "keep", "anonymise", "delete"

# What erasure may do to each kind of record.
ERASURE_KINDS: dict[str, tuple[str, ...]] = {
    "party": (ANONYMISE, KEEP),
    "customer": (ANONYMISE, KEEP),
    "billing_account": (ANONYMISE, KEEP),
    "contact": (ANONYMISE, KEEP),
    "attachment": (DELETE, KEEP),
    "case": (ANONYMISE, KEEP),
    "outbound_message": (ANONYMISE, KEEP),
    "letter_document": (DELETE, KEEP),
    "vulnerability": (DELETE, KEEP),
    "portal_account": (ANONYMISE, KEEP),
    "timeline": (ANONYMISE, KEEP),
    "field_service": (ANONYMISE, KEEP),
}
# Kept whatever the file says: the operator must keep them (docs/privacy.md).
ALWAYS_KEPT = ("decision", "bill", "charge", "product", "case steps", "approval_request", "audit_entry")

# What the retention sweep may do to each kind of record.
RETENTION_KINDS: dict[str, tuple[str, ...]] = {
    "audit_entry": (DELETE,),
    "verification": (DELETE,),
    "contact": (ANONYMISE,),
    "attachment": (DELETE,),
    "outbound_message": (ANONYMISE,),
    "letter_document": (DELETE,),
}
MAX_RETENTION_DAYS = 36_600  # a hundred years: anything longer is a typo
REASON_MAX = 2000

ERASED = "[erased]"  # what replaces free text
ERASED_NAME = "Erased customer"


PolicyError = ConfigError  # the one configuration error (callers and tests catch it by this name)


@dataclass(frozen=True)
class Retention:
    kind: str
    days: int
    action: str

    def cutoff(self, now: datetime) -> datetime:
        """Records older than this (strictly) are past their period."""
        return now - timedelta(days=self.days)


@dataclass(frozen=True)
class PrivacyPolicy:
    version: int
    erasure: dict[str, str]  # record kind -> keep | anonymise | delete
    identifiers: dict[str, str]  # identifier kind -> keep | anonymise
    retention: dict[str, Retention]

    def erases(self, kind: str) -> bool:
        return self.erasure.get(kind, KEEP) != KEEP


def _value_line(m: Any, key: str) -> int | None:
    """The line of the value under ``key`` (or of the mapping itself), for an error message."""
    return m.lines.get(key, m.line) if isinstance(m, Marked) else None


def _key_line(m: Any, key: str) -> int | None:
    return m.key_lines.get(key, m.line) if isinstance(m, Marked) else None


def parse(text: str, source: str) -> PrivacyPolicy:
    """The privacy policy from its YAML text; ``PolicyError`` naming ``source`` and the line."""
    raw = config_files.load_text(text, source)

    def fail(line: int | None, message: str) -> PolicyError:
        return PolicyError(source, line, message)

    if not isinstance(raw, dict) or raw.get("name") != "privacy":
        raise fail(getattr(raw, "line", None) or 1, "expected a mapping with name: privacy")
    unknown = set(raw) - {"name", "version", "erasure", "retention"}
    if unknown:
        first = sorted(unknown)[0]
        raise fail(_key_line(raw, first), f"unknown entry {first!r}: expected name, version, erasure, retention")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise fail(_value_line(raw, "version"), "version must be a whole number from 1")

    erasure_raw = raw.get("erasure")
    if not isinstance(erasure_raw, dict):
        raise fail(_value_line(raw, "erasure"),
                   "erasure: expected a mapping of record kind -> keep | anonymise | delete")
    erasure: dict[str, str] = {}
    identifiers: dict[str, str] = {}
    for kind, action in erasure_raw.items():
        line = _value_line(erasure_raw, kind)
        if kind == "identifier":
            if not isinstance(action, dict):
                raise fail(line, "erasure.identifier: expected a mapping of identifier kind -> keep | anonymise")
            for ident_kind, ident_action in action.items():
                if ident_kind not in IDENTIFIER_KINDS:
                    raise fail(_key_line(action, ident_kind), f"erasure.identifier: unknown identifier kind "
                                                               f"{ident_kind!r}; one of {', '.join(IDENTIFIER_KINDS)}")
                if ident_action not in (KEEP, ANONYMISE):
                    raise fail(_value_line(action, ident_kind),
                               f"erasure.identifier.{ident_kind}: keep or anonymise, not {ident_action!r}")
                identifiers[ident_kind] = ident_action
            continue
        if kind not in ERASURE_KINDS:
            hint = " (always kept)" if kind in ALWAYS_KEPT else ""
            raise fail(_key_line(erasure_raw, kind), f"erasure: unknown record kind {kind!r}{hint}; one of "
                                                     f"identifier, {', '.join(ERASURE_KINDS)}")
        if action not in ERASURE_KINDS[kind]:
            raise fail(line, f"erasure.{kind}: {' or '.join(ERASURE_KINDS[kind])}, not {action!r}")
        erasure[kind] = action

    retention_raw = raw.get("retention") or {}
    if not isinstance(retention_raw, dict):
        raise fail(_value_line(raw, "retention"), "retention: expected a mapping of record kind -> "
                                                  "{days: N, action: ...}")
    retention: dict[str, Retention] = {}
    for kind, body in retention_raw.items():
        if kind not in RETENTION_KINDS:
            raise fail(_key_line(retention_raw, kind), f"retention: unknown record kind {kind!r}; one of "
                                                       f"{', '.join(RETENTION_KINDS)}")
        allowed = RETENTION_KINDS[kind]
        if not isinstance(body, dict) or set(body) != {"days", "action"}:
            raise fail(_value_line(retention_raw, kind), f"retention.{kind}: expected {{days: N, action: "
                                                         f"{' | '.join(allowed)}}}")
        days = body["days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_RETENTION_DAYS:
            raise fail(_value_line(body, "days"), f"retention.{kind}.days: a whole number of days from 1 to "
                                                  f"{MAX_RETENTION_DAYS}, not {days!r}")
        if body["action"] not in allowed:
            raise fail(_value_line(body, "action"), f"retention.{kind}.action: {' or '.join(allowed)}, "
                                                    f"not {body['action']!r}")
        retention[kind] = Retention(kind, days, body["action"])
    return PrivacyPolicy(version, erasure, identifiers, retention)


def erased_login(account_id: str) -> str:
    """A portal login that cannot be anyone's address (``.invalid`` is reserved) and stays unique."""
    return f"erased-{account_id.lower()}@erased.invalid"


def erased_identifier(identifier_id: str) -> str:
    return f"erased:{identifier_id}"


def erasure_blockers(open_cases: list[tuple[str, str]], owed_bills: list[tuple[str, int, str]]) -> list[str]:
    """Why the customer cannot be erased yet: an open case (the operator still acts on it, and must
    reach the customer) or a bill with something owed (a claim the operator may pursue)."""
    found = [f"case {case_id} ({title}) is open" for case_id, title in open_cases]
    found += [f"bill {number} owes {owed} minor units of {currency}" for number, owed, currency in owed_bills]
    return found


def reason_problem(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if not text:
        return "say why: the reason is recorded in the audit log"
    if "\x00" in text:
        return "the reason cannot contain a NUL character"
    if len(text) > REASON_MAX:
        return f"the reason is at most {REASON_MAX} characters"
    return None
