"""Personal-data rights: which record kinds erasure anonymises, deletes or keeps, how long each kind
is kept, and when a customer may be erased. Pure: no database.

The policy is data (``privacy/privacy.yaml``, or ``ONETHREAD_PRIVACY_POLICY_FILE``), read by
``parse`` and checked there: a bad file stops with its name, the line and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import yaml

from onethread.customers.rules import IDENTIFIER_KINDS

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


class PolicyError(ValueError):
    pass


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


def _line(node: yaml.Node | None) -> str:
    return f", line {node.start_mark.line + 1}" if node is not None else ""


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node under ``key`` of a mapping node (for the line of an error)."""
    if isinstance(node, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        for k, v in pairs:
            if getattr(k, "value", None) == key:
                return v
    return None


def _key(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        for k, _ in pairs:
            if getattr(k, "value", None) == key:
                return k
    return None


def parse(text: str, source: str) -> PrivacyPolicy:
    """The privacy policy from its YAML text; ``PolicyError`` naming ``source`` and the line."""
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"{source}, line {mark.line + 1}" if mark else source
        raise PolicyError(f"{place}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc

    def fail(node: yaml.Node | None, message: str) -> PolicyError:
        return PolicyError(f"{source}{_line(node)}: {message}")

    if not isinstance(raw, dict) or raw.get("name") != "privacy":
        raise fail(root, "expected a mapping with name: privacy")
    unknown = set(raw) - {"name", "version", "erasure", "retention"}
    if unknown:
        first = sorted(unknown)[0]
        raise fail(_key(root, first), f"unknown entry {first!r}: expected name, version, erasure, retention")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise fail(_child(root, "version") or root, "version must be a whole number from 1")

    erasure_node = _child(root, "erasure")
    erasure_raw = raw.get("erasure")
    if not isinstance(erasure_raw, dict):
        raise fail(erasure_node or root, "erasure: expected a mapping of record kind -> keep | anonymise | delete")
    erasure: dict[str, str] = {}
    identifiers: dict[str, str] = {}
    for kind, action in erasure_raw.items():
        node = _child(erasure_node, kind)
        if kind == "identifier":
            if not isinstance(action, dict):
                raise fail(node, "erasure.identifier: expected a mapping of identifier kind -> keep | anonymise")
            for ident_kind, ident_action in action.items():
                where = _child(node, ident_kind)
                if ident_kind not in IDENTIFIER_KINDS:
                    raise fail(_key(node, ident_kind), f"erasure.identifier: unknown identifier kind {ident_kind!r}; "
                                                       f"one of {', '.join(IDENTIFIER_KINDS)}")
                if ident_action not in (KEEP, ANONYMISE):
                    raise fail(where, f"erasure.identifier.{ident_kind}: keep or anonymise, not {ident_action!r}")
                identifiers[ident_kind] = ident_action
            continue
        if kind not in ERASURE_KINDS:
            hint = " (always kept)" if kind in ALWAYS_KEPT else ""
            raise fail(_key(erasure_node, kind), f"erasure: unknown record kind {kind!r}{hint}; one of identifier, "
                                                 f"{', '.join(ERASURE_KINDS)}")
        if action not in ERASURE_KINDS[kind]:
            raise fail(node, f"erasure.{kind}: {' or '.join(ERASURE_KINDS[kind])}, not {action!r}")
        erasure[kind] = action

    retention_node = _child(root, "retention")
    retention_raw = raw.get("retention") or {}
    if not isinstance(retention_raw, dict):
        raise fail(retention_node, "retention: expected a mapping of record kind -> {days: N, action: ...}")
    retention: dict[str, Retention] = {}
    for kind, body in retention_raw.items():
        node = _child(retention_node, kind)
        if kind not in RETENTION_KINDS:
            raise fail(_key(retention_node, kind), f"retention: unknown record kind {kind!r}; one of "
                                                   f"{', '.join(RETENTION_KINDS)}")
        allowed = RETENTION_KINDS[kind]
        if not isinstance(body, dict) or set(body) != {"days", "action"}:
            raise fail(node, f"retention.{kind}: expected {{days: N, action: {' | '.join(allowed)}}}")
        days = body["days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_RETENTION_DAYS:
            raise fail(_child(node, "days"), f"retention.{kind}.days: a whole number of days from 1 to "
                                             f"{MAX_RETENTION_DAYS}, not {days!r}")
        if body["action"] not in allowed:
            raise fail(_child(node, "action"), f"retention.{kind}.action: {' or '.join(allowed)}, "
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
