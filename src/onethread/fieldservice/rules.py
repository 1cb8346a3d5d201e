"""Field service rules. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass

WORK_ORDER_KINDS = ("installation", "repair")
TASK_KINDS = ("step", "prerequisite")
# Why a visit failed. A prerequisite names the cause it answers to (the network connection).
FAILURE_CAUSES = ("network_connection", "access", "equipment", "technician", "weather", "other")
# Causes that are the subcontractor's own doing (counted against its record's failure rate).
SUBCONTRACTOR_CAUSES = ("equipment", "technician")
OUTCOMES = ("done", "failed", "customer_absent")
CANCELLED_BY = ("operator", "customer", "subcontractor")
VISIT_OPEN = ("booked", "dispatched")
INCIDENT_KINDS = ("damage", "injury", "unsafe")
# The harm an incident is on the case, by what the customer is left without.
HARM_KINDS = ("property_damage", "no_heating", "no_water", "health", "other")
CONFIRMED_HOW = ("customer", "inspection")
FAILURES_TO_ESCALATE = 2  # the same cause twice on one work order


def failures_escalate(causes_so_far: list[str], cause: str) -> bool:
    """A visit fails for ``cause``: escalate when it is exactly the second time for that cause."""
    return causes_so_far.count(cause) + 1 == FAILURES_TO_ESCALATE


def wasted_day(outcome: str | None, cancelled_by: str | None, notice_hours: float | None) -> bool:
    """The customer stayed in for nothing: a failed visit, or one the operator or subcontractor
    cancelled with less than a day's notice. Not when the customer was absent or cancelled."""
    if outcome == "failed":
        return True
    if cancelled_by in ("operator", "subcontractor") and notice_hours is not None:
        return notice_hours < 24
    return False


@dataclass(frozen=True)
class Thresholds:
    min_visits: int
    incidents_per_100: float
    failed_percent: float
    complaints: int


@dataclass(frozen=True)
class Record:
    visits: int  # visits with an outcome
    failed_by_cause: dict[str, int]
    incidents: int
    complaints: int

    @property
    def own_failures(self) -> int:
        return sum(n for cause, n in self.failed_by_cause.items() if cause in SUBCONTRACTOR_CAUSES)

    @property
    def incidents_per_100(self) -> float:
        return round(100 * self.incidents / self.visits, 1) if self.visits else 0.0

    @property
    def failed_percent(self) -> float:
        return round(100 * self.own_failures / self.visits, 1) if self.visits else 0.0


def audit_reasons(record: Record, limits: Thresholds) -> list[str]:
    """Which thresholds the record passes (none below the minimum number of visits, except complaints)."""
    reasons = []
    if record.visits >= limits.min_visits:
        if record.incidents and record.incidents_per_100 > limits.incidents_per_100:
            reasons.append(f"{record.incidents_per_100:g} incidents per 100 visits (threshold "
                           f"{limits.incidents_per_100:g})")
        if record.own_failures and record.failed_percent > limits.failed_percent:
            reasons.append(f"{record.failed_percent:g}% of visits failed for the subcontractor's own causes "
                           f"(threshold {limits.failed_percent:g}%)")
    if record.complaints > limits.complaints:
        reasons.append(f"{record.complaints} complaints (threshold {limits.complaints})")
    return reasons
