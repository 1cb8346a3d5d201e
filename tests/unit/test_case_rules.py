"""Case rules without a database: severities, what blocks closure, who a breach goes to,
threading, business calendars and the clock policy."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onethread.cases import policy, rules
from onethread.kernel.calendar import BusinessCalendar, Duration

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
LONDON = BusinessCalendar()  # Europe/London, England's holidays, 09:00-17:00 Monday to Friday


# --- severity -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(rules.URGENT_WHEN_VULNERABLE))
def test_a_vulnerable_customer_without_an_essential_is_urgent_whatever_was_reported(kind):
    for reported in rules.SEVERITIES:
        assert rules.raise_severity(reported, kind, vulnerable=True) == "urgent"
        assert rules.raise_severity(reported, kind, vulnerable=False) == reported


def test_vulnerability_raises_other_harms_one_step_and_never_past_urgent():
    assert [rules.raise_severity(s, "property_damage", True) for s in rules.SEVERITIES] == [
        "medium", "high", "urgent", "urgent"]
    assert rules.raise_severity("low", "other", False) == "low"
    with pytest.raises(ValueError):
        rules.raise_severity("catastrophic", "other", True)


def test_a_case_takes_its_highest_severity():
    assert rules.max_severity([]) == "low"
    assert rules.max_severity(["medium", "urgent", "low"]) == "urgent"
    assert rules.max_severity(["low"], floor="high") == "high"


# --- closure --------------------------------------------------------------------------------

def test_anything_open_blocks_closure_and_is_named():
    items = rules.OpenItems(harms=["no heating"], commitments=["refund in 5 days"], tasks=["plumber to repair"],
                            awaiting_reply_since=T, missing_complaint_steps=["apology"])
    assert rules.closure_blockers(items) == [
        "open harm: no heating", "open commitment: refund in 5 days", "open task: plumber to repair",
        "the customer's message of 2026-03-02 09:00 UTC is unanswered", "complaint step missing: apology given"]


def test_nothing_open_may_close():
    assert rules.closure_blockers(rules.OpenItems([], [], [], None, [])) == []


@given(harms=st.lists(st.text(min_size=1), max_size=3), commitments=st.lists(st.text(min_size=1), max_size=3),
       tasks=st.lists(st.text(min_size=1), max_size=3), waiting=st.booleans())
def test_closure_is_blocked_exactly_when_something_is_open(harms, commitments, tasks, waiting):
    blockers = rules.closure_blockers(rules.OpenItems(harms, commitments, tasks, T if waiting else None, []))
    assert len(blockers) == len(harms) + len(commitments) + len(tasks) + waiting


# --- escalation -----------------------------------------------------------------------------

def test_a_breach_goes_to_whoever_failed_first():
    assert rules.breach_rung("task_overdue") == 1  # a third party's task: the owner chases it
    assert rules.breach_rung("first_response") == 1
    assert rules.breach_rung("customer_waiting") == 2  # the owner left the customer unanswered: their lead
    assert rules.breach_rung("commitment_due") == 2
    assert rules.breach_rung("resolution_target") == 2
    assert rules.breach_rung("regulator_warning") == 2
    assert rules.breach_rung("regulator_deadline") == 3  # the head of customer relations
    assert rules.breach_rung("proactive_contact") == 2  # the owner did not contact a vulnerable customer: their lead
    assert set(rules.BREACH_RUNG) == {"first_response", "customer_waiting", "no_activity", "resolution_target",
                                      "task_overdue", "commitment_due", "regulator_warning", "regulator_deadline",
                                      "proactive_contact"}


def test_silence_climbs_one_rung_per_quiet_period_and_replaces_the_owner_after_a_reminder():
    assert [rules.breach_rung("no_activity", n) for n in (1, 2, 3, 4, 10)] == [1, 2, 3, 3, 3]
    assert [rules.replaces_owner("no_activity", n) for n in (1, 2, 3)] == [False, True, True]
    assert not rules.replaces_owner("task_overdue", 5)


def test_the_ladder_names_its_rungs():
    assert [rules.ladder_rung(n) for n in (0, 1, 2, 3, 7)] == [
        "owner", "owner", "team_lead", "head_of_customer_relations", "head_of_customer_relations"]


def test_escalation_targets_skip_empty_rungs_and_the_owner_themself():
    assert rules.escalation_target(1, "own", "lead", "head") == (1, "own")
    assert rules.escalation_target(2, "own", "lead", "head") == (2, "lead")
    assert rules.escalation_target(3, "own", "lead", "head") == (3, "head")
    assert rules.escalation_target(2, "own", None, "head") == (3, "head")  # a team without a lead
    assert rules.escalation_target(2, "lead", "lead", "head") == (3, "head")  # the lead owns it: above them
    assert rules.escalation_target(3, "head", "lead", "head") == (3, "head")  # nobody above the head
    assert rules.escalation_target(2, "own", None, None) == (1, "own")  # nobody above: the owner still hears
    assert rules.escalation_target(3, "own", "lead", None) == (2, "lead")


@given(rung=st.integers(-2, 6), owner=st.sampled_from(["a", "b"]), lead=st.sampled_from([None, "a", "b", "c"]),
       head=st.sampled_from([None, "a", "c", "d"]))
def test_someone_always_hears_of_a_breach(rung, owner, lead, head):
    level, who = rules.escalation_target(rung, owner, lead, head)
    assert 1 <= level <= 3 and who in {owner, lead, head} and who is not None
    if rung <= 1:
        assert (level, who) == (1, owner)
    else:  # the first person at or above the rung who is not the owner, if there is one
        above = [(r, p) for r, p in ((2, lead), (3, head)) if r >= min(rung, 3) and p and p != owner]
        if above:
            assert (level, who) == above[0]


# --- threading ------------------------------------------------------------------------------

def _matches(**kw):
    base = dict(same_customer=True, case_open=True, case_kind="complaint", kind="complaint", case_product=None,
                product=None, case_category=None, category=None, last_activity=T, at=T + timedelta(days=1))
    return rules.thread_matches(**{**base, **kw})


def test_the_same_problem_joins_the_open_case():
    assert _matches()
    assert _matches(case_product="p1", product="p1", kind="billing_dispute")
    assert not _matches(case_product="p1", product="p2")
    assert _matches(case_category="network", category="network")
    assert not _matches(case_category="network", category="billing")
    assert not _matches(kind="fault")
    assert not _matches(case_open=False) and not _matches(same_customer=False)


def test_the_same_product_or_category_joins_however_long_the_case_sat_open():
    a_year = T + timedelta(days=365)
    assert _matches(case_product="p1", product="p1", at=a_year)
    assert _matches(case_category="network", category="network", at=a_year)
    # a match on the kind of case alone only within the window
    assert not _matches(at=T + rules.THREADING_WINDOW + timedelta(seconds=1))
    assert _matches(at=T + rules.THREADING_WINDOW)


# --- business calendars ---------------------------------------------------------------------

def test_durations_parse_iso_8601_without_months():
    assert Duration.parse("P8W") == Duration(days=56)
    assert Duration.parse("p1dt4h30m") == Duration(days=1, hours=4, minutes=30)
    assert Duration.parse("PT1H30S") == Duration(hours=1, seconds=30)  # the case clocks' reader lacked seconds
    friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert LONDON.add(friday_4pm, Duration.parse("PT1H30S"), "business") == datetime(2026, 3, 9, 9, 0, 30, tzinfo=UTC)
    for bad in ("", "P", "PT", "P1DT", "P1M1D", "8 weeks", "P-1D"):
        with pytest.raises(ValueError):
            Duration.parse(bad)


def test_working_time_skips_nights_weekends_and_public_holidays():
    friday_4pm = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert LONDON.add(friday_4pm, Duration(hours=2), "business") == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert LONDON.add(friday_4pm, Duration(days=1), "business") == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    # Good Friday and Easter Monday 2026 are holidays in England; the clocks change on 29 March
    thursday = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)  # 10:30 in London
    assert LONDON.add(thursday, Duration(days=1), "business") == datetime(2026, 4, 7, 9, 30, tzinfo=UTC)
    assert LONDON.add(thursday, Duration(days=3), "calendar") == thursday + timedelta(days=3)
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert LONDON.add(saturday, Duration(hours=8), "business") == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        LONDON.add(T, Duration(days=1), "lunar")


def test_a_calendar_without_working_time_is_refused():
    with pytest.raises(ValueError, match="working days"):
        BusinessCalendar(workdays=())
    with pytest.raises(ValueError, match="opening"):
        BusinessCalendar(opens=time(17), closes=time(9))
    with pytest.raises(ValueError, match="public holidays"):
        BusinessCalendar(country="XX", subdiv=None)


@settings(max_examples=200)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
       days=st.integers(0, 30), hours=st.integers(0, 40), minutes=st.integers(0, 59))
def test_business_time_always_ends_in_working_hours_and_grows_with_the_duration(start, days, hours, minutes):
    duration = Duration(days=days, hours=hours, minutes=minutes)
    due = LONDON.add(start, duration, "business")
    local = due.astimezone(LONDON.tz)
    assert due >= start
    assert LONDON.is_working_day(local.date()) and time(9) <= local.time() <= time(17)
    if hours or minutes:
        longer = LONDON.add(start, Duration(days=days, hours=hours, minutes=minutes + 1), "business")
        assert longer > due
    assert LONDON.add(start, Duration(days=days + 1, hours=hours, minutes=minutes), "business") > due


# --- the clock policy -----------------------------------------------------------------------

def test_the_built_in_policy_loads_with_a_rule_for_every_clock_of_every_kind():
    for code in ("GB", "NL"):
        market = policy.market(code)
        for kind in rules.KINDS:
            for clock in policy.CLOCK_KINDS:
                assert market.rule(kind, clock) is not None, (code, kind, clock)
    gb = policy.market("GB")
    assert gb.regulator_deadline.after == Duration(days=56) and "Ombudsman" in gb.ombudsman
    assert gb.rule("damage_claim", "no_activity").after == Duration(days=2)
    assert gb.rule("billing_dispute", "no_activity") == gb.rule("default", "no_activity")
    with pytest.raises(policy.PolicyError, match="no clock policy for market 'ZZ'"):
        policy.market("ZZ")


GOOD = """
markets:
  GB:
    timezone: Europe/London
    business_hours: {opens: "09:00", closes: "17:00", days: [mon, tue, wed, thu, fri]}
    regulator:
      warning: {after: P6W, basis: calendar}
      deadline: {after: P8W, basis: calendar}
    clocks:
      default:
        no_activity: {after: P5D, basis: business}
"""


@pytest.mark.parametrize("change, message", [
    (("P5D, basis: business", "P5D, basis: lunar"), "basis must be business or calendar"),
    (("after: P5D", "after: five days"), "not an ISO-8601 duration"),
    (("Europe/London", "Mars/Olympus"), "GB"),
    (('opens: "09:00"', 'opens: "18:00"'), "opening"),
    (("days: [mon, tue, wed, thu, fri]", "days: [mon, funday]"), "GB"),
    (("days: [mon, tue, wed, thu, fri]", "days: []"), "working days"),
    (("      default:", "      complain:"), "unknown case kind 'complain'"),
    (("        no_activity:", "        idle:"), "unknown clock(s) idle"),
    (("      deadline: {after: P8W, basis: calendar}\n", ""), "regulator.deadline"),
    (("markets:", "market:"), "expected a 'markets' mapping"),
])
def test_a_broken_policy_file_is_refused_with_where_and_why(tmp_path, change, message):
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(policy.PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        policy.load(str(path))


def test_a_good_policy_file_loads(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    market = policy.load(str(path))["GB"]
    assert market.rule("fault", "no_activity").after == Duration(days=5)
    assert market.rule("fault", "first_response") is None  # not configured: no such clock
    assert market.due(date_time := datetime(2026, 3, 6, 16, tzinfo=UTC), market.regulator_warning) == \
        date_time + timedelta(weeks=6)


def test_case_statuses_are_one_enum_with_their_tmf_words_and_customer_labels():
    from onethread.cases import portal
    from onethread.cases.rules import OPEN_STATUSES, STATUSES, TMF_STATUS, CaseStatus

    assert tuple(CaseStatus) == STATUSES and CaseStatus.CLOSED == "closed" and "waiting_customer" in STATUSES
    assert set(STATUSES) - {"closed"} == OPEN_STATUSES
    assert set(TMF_STATUS) == set(portal.STATUS_LABELS) == set(CaseStatus)
    assert TMF_STATUS["waiting_customer"] == "pending" and portal.STATUS_LABELS["waiting_customer"] == "Waiting for you"
