"""Field service rules: when a failure escalates, what wastes the customer's day, when an audit opens."""

from __future__ import annotations

from onethread.fieldservice import rules

LIMITS = rules.Thresholds(min_visits=3, incidents_per_100=2.0, failed_percent=20.0, complaints=3)


def test_the_second_failure_for_the_same_cause_escalates_once():
    assert not rules.failures_escalate([], "network_connection")
    assert rules.failures_escalate(["network_connection"], "network_connection")
    assert not rules.failures_escalate(["network_connection"], "access")
    assert not rules.failures_escalate(["network_connection", "network_connection"], "network_connection")


def test_a_wasted_day_is_a_failed_visit_or_a_late_cancellation_not_of_the_customers_making():
    assert rules.wasted_day("failed", None, None)
    assert not rules.wasted_day("customer_absent", None, None)
    assert not rules.wasted_day("done", None, None)
    assert rules.wasted_day(None, "operator", 3.0)
    assert rules.wasted_day(None, "subcontractor", 23.9)
    assert not rules.wasted_day(None, "subcontractor", 24.0)
    assert not rules.wasted_day(None, "customer", 1.0)


def test_an_audit_opens_past_a_threshold_and_not_below_the_minimum_visits():
    s5 = rules.Record(visits=3, failed_by_cause={"network_connection": 2}, incidents=1, complaints=0)
    assert s5.own_failures == 0 and s5.incidents_per_100 == 33.3
    assert rules.audit_reasons(s5, LIMITS) == ["33.3 incidents per 100 visits (threshold 2)"]
    early = rules.Record(visits=2, failed_by_cause={"technician": 2}, incidents=1, complaints=0)
    assert rules.audit_reasons(early, LIMITS) == []
    sloppy = rules.Record(visits=10, failed_by_cause={"technician": 2, "equipment": 1}, incidents=0, complaints=4)
    assert rules.audit_reasons(sloppy, LIMITS) == [
        "30% of visits failed for the subcontractor's own causes (threshold 20%)", "4 complaints (threshold 3)"]
    fine = rules.Record(visits=100, failed_by_cause={"weather": 50, "technician": 5}, incidents=2, complaints=1)
    assert rules.audit_reasons(fine, LIMITS) == []
