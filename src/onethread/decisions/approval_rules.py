"""Four eyes for drastic actions: which actions need a second person, who may be that person, the
threshold below which a write-off needs nobody, and how long someone has held something. Pure.

The policy is data (``decisions/four_eyes.yaml``), read by ``parse`` through ``kernel.config_files``, so a
bad file stops start-up with its name, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from onethread.access.rules import STAFF_ROLES
from onethread.kernel import config_files
from onethread.kernel.config_files import STRICT, ConfigError

ACTIONS = ("terminate_line", "flag_fraud", "write_off", "close_unconfirmed", "add_representative")


class ApprovalStatus(StrEnum):
    """A four-eyes request's status (``ApprovalRequest.status``)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STATUSES = tuple(ApprovalStatus)
REASON_MAX = 2000
NOTE_MAX = 2000
OUTCOME_MAX = 2000

# What each action acts on (the request's field that must be given).
TARGET = {
    "terminate_line": "product_id",
    "flag_fraud": "customer_id",
    "write_off": "bill_id",
    "close_unconfirmed": "case_id",
    "add_representative": "customer_id",  # and the party in the request's params
}


PolicyError = ConfigError  # the one configuration error (callers and tests catch it by this name)


@dataclass(frozen=True)
class ActionRule:
    name: str
    label: str
    approvers: frozenset[str]
    threshold_minor: dict[str, int]  # currency -> largest amount written off without a second person


@dataclass(frozen=True)
class FourEyesPolicy:
    version: int
    actions: dict[str, ActionRule]

    def rule(self, action: str) -> ActionRule:
        if action not in self.actions:
            raise KeyError(action)
        return self.actions[action]


class _ActionFile(BaseModel):
    model_config = STRICT
    label: str | None = None
    approvers: Annotated[list[str], Field(min_length=1)]
    threshold_minor: dict[str, Annotated[int, Field(ge=0)]] = {}

    @field_validator("approvers", mode="after")
    @classmethod
    def _staff(cls, value: list[str]) -> list[str]:
        if not set(value) <= STAFF_ROLES:
            raise ValueError(f"a list of staff roles ({', '.join(sorted(STAFF_ROLES))})")
        return value

    @field_validator("threshold_minor", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not all(
                isinstance(c, str) and len(c) == 3 and c.isupper() and isinstance(v, int)
                and not isinstance(v, bool) and v >= 0 for c, v in value.items()):
            raise ValueError("currency code -> whole minor units (0 or more)")
        return value


class _PolicyFile(BaseModel):
    model_config = STRICT
    name: str
    version: Annotated[int, Field(ge=1)]
    actions: dict[str, _ActionFile]

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if value != "four_eyes":
            raise ValueError("expected a mapping with name: four_eyes")
        return value

    @field_validator("actions", mode="before")
    @classmethod
    def _all_actions(cls, value: Any) -> Any:
        if not isinstance(value, dict) or set(value) != set(ACTIONS):
            raise ValueError(f"actions must name exactly {', '.join(ACTIONS)}")
        for name, body in value.items():
            if name != "write_off" and isinstance(body, dict) and body.get("threshold_minor"):
                raise ValueError(f"{name}.threshold_minor: only a write-off has a threshold")
        return value


def parse(text: str, source: str) -> FourEyesPolicy:
    """The four-eyes policy from its YAML text; ``PolicyError`` naming ``source``, the line and the field."""
    data = config_files.load_text(text, source)
    if not isinstance(data, dict):
        raise PolicyError(source, None, "expected a mapping with name: four_eyes")
    policy = config_files.validate(_PolicyFile, data, source)
    rules = {name: ActionRule(name, body.label or name.replace("_", " "), frozenset(body.approvers),
                              dict(body.threshold_minor))
             for name, body in policy.actions.items()}
    return FourEyesPolicy(policy.version, rules)


def needs_second_person(policy: FourEyesPolicy, action: str, amount_minor: int | None = None,
                        currency: str | None = None) -> bool:
    """Every drastic action needs one, except a write-off at or below its currency's threshold."""
    if action != "write_off":
        return True
    limit = policy.rule(action).threshold_minor.get(currency or "")
    return limit is None or amount_minor is None or amount_minor > limit


def approval_refusal(*, requester_id: str, approver_id: str, approver_role: str, approver_kind: str,
                     required_roles: list[str] | frozenset[str]) -> str | None:
    """Why this person may not approve (or reject) the request; ``None`` when they may."""
    if approver_id == requester_id:
        return ("you asked for this yourself: a second person must approve it (four eyes), "
                "whatever your role; you may withdraw it")
    if approver_kind == "system":
        return "an approval is given by a named person, not by the system"
    if approver_kind != "staff":
        return NAMED_PERSON
    if approver_role not in required_roles:
        roles = ", ".join(r.replace("_", " ") for r in sorted(required_roles))
        return f"this request is decided by a second person with one of these roles: {roles} " \
               f"(your role: {approver_role.replace('_', ' ')})"
    return None


NAMED_PERSON = ("a four-eyes step is a named person's: sign in, or use a bearer token issued to you; "
                "a token not tied to a person cannot ask, approve or reject")


def requester_refusal(*, requester_kind: str) -> str | None:
    """Why this caller may not ask for a drastic action; ``None`` when they may."""
    return None if requester_kind == "staff" else NAMED_PERSON


def withdraw_refusal(*, requester_id: str, caller_id: str) -> str | None:
    if caller_id != requester_id:
        return "only the person who asked may withdraw a request; a second person approves or rejects it"
    return None


def decided_refusal(status: str) -> str | None:
    if status != ApprovalStatus.PENDING:
        return f"the request is already {status}"
    return None


def held_days(periods: list[tuple[datetime, datetime | None]], now: datetime) -> int:
    """Whole days held over every period, counting only up to ``now`` (overlaps counted once)."""
    spans = sorted((start, min(end, now) if end is not None else now) for start, end in periods if start < now)
    total, cursor = 0.0, None
    for start, end in spans:
        if cursor is not None and start < cursor:
            start = cursor
        if end > start:
            total += (end - start).total_seconds()
            cursor = end if cursor is None or end > cursor else cursor
    return int(total // 86400)


def years_and_months(start: date, today: date) -> str:
    """'7 years 3 months', '11 months', 'less than a month': how long, in words a person reads."""
    if today <= start:
        return "less than a month"
    months = (today.year - start.year) * 12 + today.month - start.month - (1 if today.day < start.day else 0)
    years, months = divmod(max(months, 0), 12)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if months:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    return " ".join(parts) or "less than a month"
