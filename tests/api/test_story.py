"""Issue 15, item 4: escalations that inform instead of burying. On the demo's S2 complaint (a case
nobody works on for eleven months) the customer's timeline tells her story: her contacts on the
first page, a handful of escalation lines, onethread's own entries folded into a countable line;
the ladder reaches the top once and then reminds at the market's cadence; the case page puts the
owner, the next step and the clocks first, and "Done so far" is what people did."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks, policy, rules
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.demo import loader
from onethread.models import Case, CaseEvent, Contact, Customer, Escalation, StaffUser


def _demo_s2(uow, container) -> tuple[str, str]:
    with uow() as s:
        loader.load(s, container)
    with uow() as s:
        margaret = s.scalar(select(Customer.id).where(Customer.name == "Margaret Hughes"))
        case_id = s.scalar(select(Case.id).where(Case.customer_id == margaret, Case.kind == "complaint"))
    return margaret, case_id


def test_the_s2_demo_case_reads_as_a_story(client, admin, uow, container):
    margaret, case_id = _demo_s2(uow, container)
    with uow() as s:
        contacts = set(s.scalars(select(Contact.id).where(Contact.customer_id == margaret)))
        escalations = s.scalar(select(func.count()).select_from(Escalation).where(Escalation.case_id == case_id))
        reminders = s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == "reminder"))
    assert len(contacts) == 7
    # The ladder reached the top once; after that the head is reminded every two working weeks.
    assert escalations <= 20 and reminders >= 10, (escalations, reminders)

    # The first page of her timeline (the 360's size on the desktop) holds every contact, her story.
    page = client.get(f"/api/v1/customers/{margaret}/timeline", params={"limit": 25}, headers=admin).json()
    assert page["view"] == "story"
    shown = {e["ref"]["id"] for e in page["entries"] if e["kind"] == "contact"}
    assert shown == contacts
    escalation_lines = [e for e in page["entries"] if e["title"].startswith(("Escalated to", "Reminder to"))]
    assert 1 <= len(escalation_lines) <= 5, [e["title"] for e in escalation_lines]
    folded = sum(f["count"] for f in page["folded"])
    assert folded >= 20  # the rest, counted where they fall
    # Every entry about the case links to it; the contacts on it too.
    on_case = [e for e in page["entries"] if e["case"]]
    assert {e["case"]["id"] for e in on_case} == {case_id}
    assert {e["ref"]["id"] for e in on_case if e["kind"] == "contact"} == contacts

    # Everything is still there when asked for.
    everything = client.get(f"/api/v1/customers/{margaret}/timeline", params={"limit": 200, "view": "all"},
                            headers=admin).json()
    assert len(everything["entries"]) >= len(page["entries"]) + folded and not everything["folded"]
    assert client.get(f"/api/v1/customers/{margaret}/timeline", params={"view": "most"},
                      headers=admin).status_code == 400

    # The brief: what people did, and the escalations in one line.
    brief = client.get(f"/api/v1/cases/{case_id}/brief", headers=admin).json()
    assert not any("Escalated to" in line or "Reminder" in line for line in brief["done"]), brief["done"]
    assert "head of customer relations" in brief["escalation"] and "reminded" in brief["escalation"]


def test_the_s2_case_page_shows_owner_next_step_and_clocks_first(client, uow, container):
    _, case_id = _demo_s2(uow, container)
    r = client.post("/login", data={"username": "lee.lead", "password": "onethread-demo"}, follow_redirects=False)
    assert r.status_code == 303
    html = client.get(f"/cases/{case_id}").text
    glance, story = html.index('id="glance-h"'), html.index('id="brief-h"')
    assert glance < story
    top = html[glance:story]
    with uow() as s:
        name = s.get(StaffUser, s.get(Case, case_id).owner_id).display_name
    assert name in top and "Next step" in top
    assert "activity on the case: breached" in top and "times" in top  # the repeated breach, once, counted
    assert top.count("activity on the case: breached") == 1
    assert "Escalated to" not in html[story:html.index('id="items-h"')]  # "Done so far" is people's work


def test_a_case_nobody_touches_escalates_to_the_top_once_then_reminds(uow, clock):
    with uow() as s:
        centre = access.create_team(s, clock, name="Contact centre")
        relations = access.create_team(s, clock, name="Customer relations", kind="customer_relations")
        lead = access.create_user(s, clock, username="lee", display_name="Lee Carter", role="team_lead",
                                  password=None, team_id=centre.id)
        head = access.create_user(s, clock, username="hana", display_name="Hana Novak", role="team_lead",
                                  password=None, team_id=relations.id)
        agent = access.create_user(s, clock, username="alex", display_name="Alex Morgan", role="agent",
                                   password=None, team_id=centre.id)
        centre.lead_id, relations.lead_id = lead.id, head.id
        party = customers.create_individual(s, clock, SYSTEM, given_name="Margaret", family_name="Hughes")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        case = cases.open_new(s, clock, access.staff_principal(agent), customer_id=cust.id, kind="request",
                              title="Nobody touches this", opened_via="phone")
        case_id = case.id
    clock.advance(timedelta(weeks=26))
    with uow() as s:
        clocks.sweep(s, clock)
    with uow() as s:
        quiet = s.scalars(select(Escalation).where(
            Escalation.case_id == case_id, Escalation.clock_kind == "no_activity").order_by(Escalation.at)).all()
        reminders = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "reminder")
                              .order_by(CaseEvent.at)).all()
    top = [e for e in quiet if e.level == 3]
    # Up the ladder to the head (the lead who became owner passes the second period up too) ...
    assert 1 <= len(top) <= 2 and {e.to_staff_id for e in top} == {head.id}
    assert reminders and all("Reminder to Hana Novak" in r.text for r in reminders)  # ... then reminders
    assert all(e.at < reminders[0].at for e in quiet)  # and no escalation after the first reminder
    cadence = policy.market("GB").reminder
    assert (cadence.after.days, cadence.basis) == (10, "business")
    gaps = [b.at - a.at for a, b in zip([top[-1], *reminders], reminders, strict=False)]
    assert all(timedelta(days=13) <= g <= timedelta(days=16) for g in gaps), gaps  # ten working days apart
    # Half a year of silence: a few escalations, a dozen reminders, not an escalation every five days.
    assert len(quiet) <= 6 and len(reminders) <= 14


def test_the_reminder_cadence_is_set_per_market_and_checked(tmp_path):
    path = tmp_path / "policy.yaml"
    base = policy.DEFAULT_FILE.read_text()
    path.write_text(base.replace("      reminder_every: {after: P10D, basis: business}",
                                 "      reminder_every: {after: P4W, basis: calendar}", 1))
    market = policy.load(str(path))["GB"]
    assert (market.reminder.after.days, market.reminder.basis) == (28, "calendar")
    wrong = tmp_path / "misspelt.yaml"  # (a new file: policies are read once per path)
    wrong.write_text(base.replace("      reminder_every:", "      remind_every:", 1))
    with pytest.raises(policy.PolicyError, match="escalation"):
        policy.load(str(wrong))
    assert rules.is_reminder("no_activity", 4) and not rules.is_reminder("no_activity", 3)
    assert not rules.is_reminder("commitment_due", 9)
