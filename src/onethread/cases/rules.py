"""Pure rules for cases: kinds, severities, what blocks closure, the escalation ladder, threading."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from onethread.kernel.case_status import CaseStatus as CaseStatus  # re-exported for cases
from onethread.kernel.channels import REPLY_CHANNELS as REPLY_CHANNELS  # re-exported for cases
from onethread.kernel.channels import SENT_CHANNELS as SENT_CHANNELS

KINDS = ("fault", "complaint", "billing_dispute", "order_problem", "damage_claim", "request")


class ClockKind(StrEnum):
    """What a case's clock measures (``CaseClock.kind``)."""

    FIRST_RESPONSE = "first_response"
    CUSTOMER_WAITING = "customer_waiting"
    NO_ACTIVITY = "no_activity"
    RESOLUTION_TARGET = "resolution_target"
    TASK_OVERDUE = "task_overdue"
    COMMITMENT_DUE = "commitment_due"
    REGULATOR_WARNING = "regulator_warning"
    REGULATOR_DEADLINE = "regulator_deadline"
    PROACTIVE_CONTACT = "proactive_contact"

    @property
    def label(self) -> str:
        return CLOCK_LABELS[self]


# What a breach line says the clock was waiting for.
CLOCK_LABELS: dict[ClockKind, str] = {
    ClockKind.FIRST_RESPONSE: "first response",
    ClockKind.CUSTOMER_WAITING: "reply to the customer's message",
    ClockKind.NO_ACTIVITY: "activity on the case",
    ClockKind.RESOLUTION_TARGET: "resolution target",
    ClockKind.TASK_OVERDUE: "task due",
    ClockKind.COMMITMENT_DUE: "commitment due",
    ClockKind.REGULATOR_WARNING: "regulator warning",
    ClockKind.REGULATOR_DEADLINE: "regulator deadline",
    ClockKind.PROACTIVE_CONTACT: "proactive contact with the customer",
}


class ItemStatus(StrEnum):
    """A task's or a commitment's status (``Task.status``, ``Commitment.status``)."""

    OPEN = "open"
    DONE = "done"  # a task
    KEPT = "kept"  # a commitment
    CANCELLED = "cancelled"


class HandoverStatus(StrEnum):
    """A hand-over's status (``Handover.status``)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    IMPOSED = "imposed"  # a team lead moved the case without asking
    EXPIRED = "expired"  # an offer nobody answered in time


STATUSES = tuple(CaseStatus)
OPEN_STATUSES = frozenset(STATUSES) - {CaseStatus.CLOSED}
SEVERITIES = ("low", "medium", "high", "urgent")
# TMF621 case status words for onethread's statuses (TroubleTicketStatusType).
TMF_STATUS = {CaseStatus.OPEN: "acknowledged", CaseStatus.IN_PROGRESS: "inProgress",
              CaseStatus.WAITING_CUSTOMER: "pending", CaseStatus.RESOLVED: "resolved", CaseStatus.CLOSED: "closed"}
# TMF621 leaves severity and ticketType free text; the words other systems send for onethread's.
SEVERITY_WORDS = {"critical": "urgent", "major": "high", "minor": "medium", "warning": "low", "normal": "medium"}
KIND_WORDS = {"bill dispute": "billing_dispute", "billing": "billing_dispute", "incident": "fault",
              "trouble": "fault", "complain": "complaint", "service request": "request", "order": "order_problem",
              "damage": "damage_claim"}
HARM_KINDS = ("no_service", "no_heating", "no_water", "property_damage", "money_taken", "health", "other")
PARTICIPANT_KINDS = ("insurer", "claims_handler", "plumber", "subcontractor", "builder", "social_worker", "other")
COMPLAINT_STEPS = ("acknowledged", "customer_account", "apology", "resolution_offer")
STEP_LABELS = {
    "acknowledged": "acknowledged by a person",
    "customer_account": "the customer's own account recorded",
    "apology": "apology given",
    "resolution_offer": "resolution offered",
}
HANDOVER_REASONS_REQUIRED = True
TITLE_MAX = 300  # column widths, checked so both databases refuse the same input
CATEGORY_MAX = 60
THREADING_WINDOW = timedelta(days=30)

# REPLY_CHANNELS: the channels a reply to the customer can go out on; SENT_CHANNELS: those that
# onethread itself delivers (outreach), where the reply is queued as an outbound message.
# Both live with the other channel lists in kernel/channels.py.

# Harms that leave a vulnerable person exposed are urgent whatever was reported.
URGENT_WHEN_VULNERABLE = frozenset({"no_heating", "no_water", "no_service", "health"})


def _words(text: str) -> str:
    """``"Bill Dispute"``, ``"billDispute"``, ``"bill_dispute"`` -> ``"bill dispute"``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text.strip())
    return " ".join(spaced.replace("_", " ").replace("-", " ").lower().split())


def severity_from(text: str) -> str | None:
    """onethread's severity for a TMF severity word (ours, or Critical/Major/Minor...), else None."""
    word = _words(text)
    return word if word in SEVERITIES else SEVERITY_WORDS.get(word)


def kind_from(text: str) -> str | None:
    """onethread's case kind for a TMF ticketType (ours in any spelling, or a common word), else None."""
    word = _words(text)
    ours = word.replace(" ", "_")
    return ours if ours in KINDS else KIND_WORDS.get(word)


def raise_severity(reported: str, harm_kind: str, vulnerable: bool) -> str:
    """Vulnerability raises a harm's severity one step, to urgent for essential needs."""
    if reported not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    if not vulnerable:
        return reported
    if harm_kind in URGENT_WHEN_VULNERABLE:
        return "urgent"
    return SEVERITIES[min(SEVERITIES.index(reported) + 1, len(SEVERITIES) - 1)]


def max_severity(values: list[str], floor: str = "low") -> str:
    return max([floor, *values], key=SEVERITIES.index)


@dataclass(frozen=True)
class OpenItems:
    harms: list[str]  # descriptions
    commitments: list[str]
    tasks: list[str]
    awaiting_reply_since: datetime | None
    missing_complaint_steps: list[str]


def closure_blockers(items: OpenItems) -> list[str]:
    """Everything that forbids closing, each as a sentence a person can act on. Empty: may close.

    Whatever the product's state: "the fibre works" closes nothing while a harm is open.
    """
    out = [f"open harm: {h}" for h in items.harms]
    out += [f"open commitment: {c}" for c in items.commitments]
    out += [f"open task: {t}" for t in items.tasks]
    if items.awaiting_reply_since is not None:
        out.append(f"the customer's message of {items.awaiting_reply_since:%Y-%m-%d %H:%M} UTC is unanswered")
    out += [f"complaint step missing: {STEP_LABELS[s]}" for s in items.missing_complaint_steps]
    return out


LADDER = ("owner", "team_lead", "head_of_customer_relations")

# Whose failure a breach is decides who hears of it (S5.4, S5.5): a delegated task that is
# overdue goes to the case owner, who chases it; the owner's own silence towards the customer
# (an unanswered message, a broken promise, a missed target) goes to their team lead; the
# regulator's deadline to the head of customer relations.
BREACH_RUNG: dict[str, int] = {
    ClockKind.FIRST_RESPONSE: 1,
    ClockKind.TASK_OVERDUE: 1,
    ClockKind.NO_ACTIVITY: 1,
    ClockKind.CUSTOMER_WAITING: 2,
    ClockKind.PROACTIVE_CONTACT: 2,
    ClockKind.COMMITMENT_DUE: 2,
    ClockKind.RESOLUTION_TARGET: 2,
    ClockKind.REGULATOR_WARNING: 2,
    ClockKind.REGULATOR_DEADLINE: 3,
}


def ladder_rung(level: int) -> str:
    """Escalation level 1 goes to the owner, 2 to their team lead, 3 and above to the head."""
    return LADDER[min(max(level, 1), len(LADDER)) - 1]


def breach_rung(clock_kind: str, quiet_periods: int = 1) -> int:
    """The rung (1 owner, 2 team lead, 3 head) a breach of ``clock_kind`` escalates to.

    No activity climbs with each consecutive quiet period: a reminder to the owner, then their
    lead (and the owner is replaced), then the head of customer relations.
    """
    if clock_kind == ClockKind.NO_ACTIVITY:
        return min(max(quiet_periods, 1), len(LADDER))
    return BREACH_RUNG.get(clock_kind, 1)


def at_top(clock_kind: str, quiet_periods: int) -> bool:
    """A quiet streak that has climbed to the top of the ladder: from here on the no-activity clock
    runs at the market's reminder cadence."""
    return clock_kind == ClockKind.NO_ACTIVITY and quiet_periods >= len(LADDER)


def is_reminder(clock_kind: str, quiet_periods: int) -> bool:
    """A breach that has already been escalated to the top of the ladder reminds the person there
    instead of writing a new escalation (a case nobody touches for a year is one escalation to the
    top and a reminder every few weeks, not an escalation every three days)."""
    return clock_kind == ClockKind.NO_ACTIVITY and quiet_periods > len(LADDER)


def replaces_owner(clock_kind: str, quiet_periods: int) -> bool:
    """An owner who lets the case sit through a second no-activity period, after a reminder, is replaced."""
    return clock_kind == ClockKind.NO_ACTIVITY and quiet_periods >= 2


def escalation_target(rung: int, owner_id: str, lead_id: str | None, head_id: str | None) -> tuple[int, str]:
    """(level, person) a breach goes to. A rung with nobody on it, or with the owner again (an
    owner who leads the team), passes the breach one rung up; with nobody above, it stays with
    the highest person there is."""
    people: dict[int, str | None] = {1: owner_id, 2: lead_id, 3: head_id}
    top = len(LADDER)
    rung = min(max(rung, 1), top)
    for r in range(rung, top + 1):
        who = people[r]
        if who and (r == 1 or who != owner_id):
            return r, who
    for r in range(rung, 0, -1):
        found = people[r]
        if found:
            return r, found
    return 1, owner_id


def thread_matches(*, same_customer: bool, case_open: bool, case_kind: str, kind: str | None,
                   case_product: str | None, product: str | None, case_category: str | None,
                   category: str | None, last_activity: datetime, at: datetime,
                   window: timedelta = THREADING_WINDOW) -> bool:
    """A new contact about the same problem joins the open case instead of opening another."""
    if not (same_customer and case_open):
        return False
    # The same product, or the same category of problem, is the same problem however long the
    # case has sat open (S2: a year of the same complaint is one case). Only a match on the
    # kind of case alone is limited to a case active within the window.
    if product is not None and case_product is not None:
        return product == case_product
    if category is not None and case_category is not None:
        return category == case_category
    if at - last_activity > window:
        return False
    return kind is not None and kind == case_kind


# Waiting on someone else pauses these clocks; the regulator's clocks never pause, and the
# no-activity clock keeps running (someone still has to chase the answer).
PAUSABLE_CLOCKS = (ClockKind.FIRST_RESPONSE, ClockKind.CUSTOMER_WAITING, ClockKind.RESOLUTION_TARGET)
WAIT_ON = ("customer", "third_party")
PARTY_MAX = 200


def wait_problem(on: str, party: str | None, reason: str) -> tuple[str, str] | None:
    """What is wrong with a request to wait (field, message), or None."""
    if on not in WAIT_ON:
        return "on", f"say who the case waits on: {' or '.join(WAIT_ON)}"
    if on == "third_party" and not (party or "").strip():
        return "party", "name the third party the case waits on (an insurer, a landlord, another operator...)"
    if on == "customer" and (party or "").strip():
        return "party", "a wait on the customer names no other party"
    if len((party or "").strip()) > PARTY_MAX:
        return "party", f"the third party's name is at most {PARTY_MAX} characters"
    if not (reason or "").strip():
        return "reason", "say what the case waits for"
    return None
