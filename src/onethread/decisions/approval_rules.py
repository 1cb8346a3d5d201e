"""Four eyes for drastic actions: which actions need a second person, who may be that person, the
threshold below which a write-off needs nobody, and how long someone has held something. Pure.

The policy is data (``decisions/four_eyes.yaml``), read by ``parse`` and checked there, so a bad
file stops start-up with its name and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import yaml

from onethread.access.rules import STAFF_ROLES

ACTIONS = ("terminate_line", "flag_fraud", "write_off", "close_unconfirmed", "add_representative")
STATUSES = ("pending", "approved", "rejected", "withdrawn")
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


class PolicyError(ValueError):
    pass


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


def parse(text: str, source: str) -> FourEyesPolicy:
    """The four-eyes policy from its YAML text; ``PolicyError`` naming ``source`` when it is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark else source
        raise PolicyError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(raw, dict) or raw.get("name") != "four_eyes":
        raise PolicyError(f"{source}: expected a mapping with name: four_eyes")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PolicyError(f"{source}: version must be a whole number from 1")
    actions = raw.get("actions")
    if not isinstance(actions, dict) or set(actions) != set(ACTIONS):
        raise PolicyError(f"{source}: actions must name exactly {', '.join(ACTIONS)}")
    rules = {}
    for name, body in actions.items():
        where = f"{source}: actions.{name}"
        if not isinstance(body, dict) or not set(body) <= {"label", "approvers", "threshold_minor"}:
            raise PolicyError(f"{where}: expected label, approvers and (for write_off) threshold_minor")
        approvers = body.get("approvers")
        if not isinstance(approvers, list) or not approvers or not set(approvers) <= STAFF_ROLES:
            raise PolicyError(f"{where}.approvers: a list of staff roles ({', '.join(sorted(STAFF_ROLES))})")
        thresholds = body.get("threshold_minor", {})
        if thresholds and name != "write_off":
            raise PolicyError(f"{where}.threshold_minor: only a write-off has a threshold")
        if not isinstance(thresholds, dict) or not all(
                isinstance(c, str) and len(c) == 3 and c.isupper() and isinstance(v, int)
                and not isinstance(v, bool) and v >= 0 for c, v in thresholds.items()):
            raise PolicyError(f"{where}.threshold_minor: currency code -> whole minor units (0 or more)")
        rules[name] = ActionRule(name, str(body.get("label") or name.replace("_", " ")), frozenset(approvers),
                                 dict(thresholds))
    return FourEyesPolicy(version, rules)


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
    if status != "pending":
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
