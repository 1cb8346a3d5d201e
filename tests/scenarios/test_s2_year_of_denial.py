"""S2 "A year of denial": twelve months on the clock; the complaint never sits unescalated,
repeat contacts join one case, the deadlock letter goes out at the regulator's deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks, items_service, queries
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.demo import worlds
from onethread.errors import Conflict
from onethread.interactions import service as interactions
from onethread.interactions import timeline
from onethread.models import Case, CaseClock, CaseEvent, Contact, Escalation


def setup_world(uow, clock):
    with uow() as s:
        users, _ = worlds.staff(s, clock, [*worlds.S2_ESCALATION_STAFF,
                                           ("alex.agent", "Alex Morgan", "agent", "Contact centre")],
                                worlds.S2_ESCALATION_TEAMS)
        lead, head, agent = users["lee.lead"], users["hana.head"], users["alex.agent"]
        party = customers.create_individual(s, clock, SYSTEM, given_name="Margaret", family_name="Hughes")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="msisdn", value="07700 900201",
                                  region="GB")
        return cust.id, access.staff_principal(agent), lead.id, head.id


def call(uow, clock, text, n):
    with uow() as s:
        return interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="phone", direction="inbound", occurred_at=clock.now(), text=text,
            identifiers={"msisdn": "07700900201"}, channel_message_id=f"call-{n}"), region="GB").contact.id


def run_worker(uow, clock):
    with uow() as s:
        clocks.sweep(s, clock)


def test_a_year_of_the_same_complaint(uow, clock):
    customer_id, agent, _lead_id, head_id = setup_world(uow, clock)
    first = call(uow, clock, "I cannot receive calls or voicemail", 0)
    with uow() as s:
        case, joined = cases.route_contact(s, clock, agent, first, kind="complaint", title="No incoming calls",
                                           category="network")
        case_id = case.id
        assert not joined
    # Every day for a year the worker sweeps; every month the customer calls again.
    longest_quiet = timedelta(0)
    last_escalation = clock.now()
    for day in range(1, 366):
        clock.advance(timedelta(days=1))
        if day % 30 == 0:
            contact = call(uow, clock, f"still no calls, month {day // 30}", day)
            with uow() as s:
                joined_case, joined = cases.route_contact(s, clock, agent, contact, kind="complaint",
                                                          title="No incoming calls again", category="network")
                assert joined and joined_case.id == case_id
        run_worker(uow, clock)
        with uow() as s:  # an escalation, or (once it has reached the top) a reminder to the head
            newest = max([t for t in (
                s.scalar(select(func.max(Escalation.at)).where(Escalation.case_id == case_id)),
                s.scalar(select(func.max(CaseEvent.at)).where(CaseEvent.case_id == case_id,
                                                              CaseEvent.kind == "reminder"))) if t], default=None)
        if newest is not None:
            last_escalation = max(last_escalation, newest)
        longest_quiet = max(longest_quiet, clock.now() - last_escalation)

    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1  # twelve calls, one case
        escalations = s.scalars(select(Escalation).where(Escalation.case_id == case_id)
                                .order_by(Escalation.at)).all()
        kinds = [e.clock_kind for e in escalations]
        assert "regulator_warning" in kinds and "regulator_deadline" in kinds
        # exactly once per breach
        assert len({e.clock_id for e in escalations}) == len(escalations)
        # the ladder climbs to the head of customer relations
        assert escalations[0].to_staff_id == s.get(Case, case_id).owner_id or escalations[0].level == 1
        assert head_id in {e.to_staff_id for e in escalations}
        deadline = next(e for e in escalations if e.clock_kind == "regulator_deadline")
        letter = s.scalar(select(Contact).where(Contact.channel == "letter", Contact.direction == "outbound"))
        assert letter is not None and letter.occurred_at == deadline.at
        assert "ombudsman" in letter.text.lower()
        opened = s.get(Case, case_id).opened_at
        assert deadline.at - opened == timedelta(weeks=8)
        on_timeline = [e.title for e in timeline.read(s, customer_id, limit=200).entries]
        assert any("Escalated" in t for t in on_timeline)
        assert any(t.startswith("Letter") for t in on_timeline)
        queue, total = queries.supervisor_queue(s)
        assert total == 1 and queue[0].case_id == case_id
    # At no point in twelve months did the complaint sit unnoticed for long: escalated up to the head,
    # then the head reminded every ten working days (at most 17 calendar days over Christmas).
    assert longest_quiet <= timedelta(days=17)
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Escalation).where(Escalation.case_id == case_id)) <= 40


def test_closing_is_refused_while_anything_is_open(uow, clock):
    customer_id, agent, _, _ = setup_world(uow, clock)
    with uow() as s:
        case = cases.open_new(s, clock, agent, customer_id=customer_id, kind="complaint", title="No calls",
                              opened_via="phone")
        items_service.add_commitment(s, clock, agent, case.id, text="engineer to check the mast",
                                     due_at=clock.now() + timedelta(days=5), made_via="social", public=True)
        case_id = case.id
    with uow() as s:
        with pytest.raises(Conflict) as refused:
            cases.close(s, clock, agent, case_id, outcome="fixed", customer_confirmed=True)
        message = str(refused.value)
    assert "open commitment: engineer to check the mast" in message
    assert "complaint step missing: acknowledged by a person" in message
    with uow() as s:
        assert s.get(Case, case_id).status == "open"
        assert s.scalar(select(func.count()).select_from(CaseClock).where(CaseClock.stopped_at.is_(None))) > 0
