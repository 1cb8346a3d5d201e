"""Personal-data rights: which record kinds erasure anonymises, deletes or keeps, how long each kind
is kept, and when a customer may be erased. Pure: no database.

The policy is data (``privacy/privacy.yaml``, or ``ONETHREAD_PRIVACY_POLICY_FILE``), read by
``parse`` through ``kernel.config_files`` and checked by a Pydantic model (its shape), then record
kind by record kind: a bad file stops with its name, the line, the field and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from onethread.customers.rules import IDENTIFIER_KINDS
from onethread.kernel import config_files
from onethread.kernel.config_files import STRICT, ConfigError

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


def _days(days: int) -> int:
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(f"a whole number of days from 1 to {MAX_RETENTION_DAYS}, not {days!r}")
    return days


class _Retention(BaseModel):
    model_config = STRICT
    days: Annotated[int, AfterValidator(_days)]
    action: str


class _PolicyFile(BaseModel):
    """The file's shape; what each record kind may do is checked after (``parse``), at its line."""

    model_config = STRICT
    name: Literal["privacy"]
    version: Annotated[int, Field(ge=1)]
    erasure: dict[str, str | dict[str, str]]
    retention: dict[str, _Retention] | None = None


def parse(text: str, source: str) -> PrivacyPolicy:
    """The privacy policy from its YAML text; ``PolicyError`` naming ``source``, the line and the field."""
    raw = config_files.load_text(text, source)
    if not isinstance(raw, dict):
        raise PolicyError(source, getattr(raw, "line", None) or 1, "expected a mapping with name: privacy")
    policy = config_files.validate(_PolicyFile, raw, source)

    def fail(path: tuple[str, ...], message: str) -> PolicyError:
        """An error at the line of ``path``, naming the field that holds the bad entry."""
        name = config_files.field_name(path[:-1])
        return PolicyError(source, config_files.line_of(raw, path), f"{name}: {message}", name)

    erasure: dict[str, str] = {}
    identifiers: dict[str, str] = {}
    for kind, action in policy.erasure.items():
        if kind == "identifier":
            if not isinstance(action, dict):
                raise fail(("erasure", kind, ""), "expected a mapping of identifier kind -> keep | anonymise")
            for ident_kind, ident_action in action.items():
                if ident_kind not in IDENTIFIER_KINDS:
                    raise fail(("erasure", kind, ident_kind), f"unknown identifier kind {ident_kind!r}; one of "
                                                              f"{', '.join(IDENTIFIER_KINDS)}")
                if ident_action not in (KEEP, ANONYMISE):
                    raise fail(("erasure", kind, ident_kind, ""), f"keep or anonymise, not {ident_action!r}")
                identifiers[ident_kind] = ident_action
            continue
        if kind not in ERASURE_KINDS:
            hint = " (always kept)" if kind in ALWAYS_KEPT else ""
            raise fail(("erasure", kind), f"unknown record kind {kind!r}{hint}; one of identifier, "
                                          f"{', '.join(ERASURE_KINDS)}")
        if action not in ERASURE_KINDS[kind]:
            raise fail(("erasure", kind, ""), f"{' or '.join(ERASURE_KINDS[kind])}, not {action!r}")
        erasure[kind] = str(action)

    retention: dict[str, Retention] = {}
    for kind, body in (policy.retention or {}).items():
        if kind not in RETENTION_KINDS:
            raise fail(("retention", kind), f"unknown record kind {kind!r}; one of {', '.join(RETENTION_KINDS)}")
        allowed = RETENTION_KINDS[kind]
        if body.action not in allowed:
            raise fail(("retention", kind, "action", ""), f"{' or '.join(allowed)}, not {body.action!r}")
        retention[kind] = Retention(kind, body.days, body.action)
    return PrivacyPolicy(policy.version, erasure, identifiers, retention)


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
