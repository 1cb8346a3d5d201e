"""The clock sweep: idempotent, safe with two workers at once, and set-based (the number of
SQL statements does not grow with the number of due clocks)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks, queries
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.db.session import session_scope
from onethread.demo import loader, worlds
from onethread.models import (
    BillFinding,
    Case,
    CaseClock,
    CaseEvent,
    Contact,
    Customer,
    Decision,
    Escalation,
    Handover,
    Harm,
    Participant,
    StaffUser,
    Task,
    TimelineEntry,
)


def staff(uow, clock, agents: int = 4) -> dict:
    with uow() as s:
        users, _ = worlds.staff(s, clock, [*worlds.S2_ESCALATION_STAFF, *(
            (f"agent{i}", f"Agent {i}", "agent", "Contact centre") for i in range(agents))], worlds.S2_ESCALATION_TEAMS)
        lead, head = users["lee.lead"], users["hana.head"]
        people = [users[f"agent{i}"] for i in range(agents)]
        return {"lead": lead.id, "head": head.id, "agents": [access.staff_principal(p) for p in people]}


def open_cases(uow, clock, agent, n: int, tag: str) -> list[str]:
    ids = []
    with uow() as s:
        for i in range(n):
            party = customers.create_individual(s, clock, SYSTEM, given_name=f"{tag}{i}", family_name="Sweep")
            cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
            ids.append(cases.open_new(s, clock, agent, customer_id=cust.id, kind="request", title=f"Request {i}",
                                      opened_via="phone").id)
    return ids


def sweep(uow, clock):
    with uow() as s:
        return clocks.sweep(s, clock)


class StatementCounter:
    def __init__(self, engine):
        self.engine, self.count, self.statements = engine, 0, []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        self.statements.append(statement.split("\n", 1)[0][:100])

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


def test_a_second_sweep_fires_nothing_new(uow, clock):
    people = staff(uow, clock)
    ids = open_cases(uow, clock, people["agents"][0], 5, "Idem")
    clock.advance(timedelta(days=30))
    first = sweep(uow, clock)
    assert first.fired >= 5 * 3 and first.escalations == first.fired
    with uow() as s:
        before = (s.scalar(select(func.count()).select_from(Escalation)),
                  s.scalar(select(func.count()).select_from(CaseEvent)),
                  s.scalar(select(func.count()).select_from(TimelineEntry)),
                  s.scalar(select(func.count()).select_from(Handover)))
    again = sweep(uow, clock)
    assert (again.fired, again.escalations, again.replaced_owners) == (0, 0, 0)
    with uow() as s:
        after = (s.scalar(select(func.count()).select_from(Escalation)),
                 s.scalar(select(func.count()).select_from(CaseEvent)),
                 s.scalar(select(func.count()).select_from(TimelineEntry)),
                 s.scalar(select(func.count()).select_from(Handover)))
        assert after == before
        # every fired clock escalated exactly once
        fired = s.scalar(select(func.count()).select_from(CaseClock).where(CaseClock.fired_at.is_not(None)))
        assert fired == before[0] == s.scalar(select(func.count(func.distinct(Escalation.clock_id))))
        # a month of silence: each owner was reminded, then replaced by a recorded hand-over
        assert before[3] >= len(ids)
        for case_id in ids:
            case = s.get(Case, case_id)
            handovers = s.scalars(select(Handover).where(Handover.case_id == case_id)
                                  .order_by(Handover.requested_at)).all()
            assert handovers and handovers[-1].to_owner_id == case.owner_id
            assert all(h.status == "imposed" and h.requested_by == "SYSTEM" for h in handovers)


def test_two_sweeps_at_once_fire_each_clock_once(container, uow, clock):
    people = staff(uow, clock)
    open_cases(uow, clock, people["agents"][0], 60, "Twin")
    clock.advance(timedelta(days=40))
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(container.sessions) as s:
                reports.append(clocks.sweep(s, clock, worker=name))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with uow() as s:
        escalations = s.scalar(select(func.count()).select_from(Escalation))
        distinct = s.scalar(select(func.count(func.distinct(Escalation.clock_id))))
        fired = s.scalar(select(func.count()).select_from(CaseClock).where(CaseClock.fired_at.is_not(None)))
        assert escalations == distinct == fired == sum(r.fired for r in reports)
        assert s.scalar(select(func.count()).select_from(CaseClock).where(
            CaseClock.fired_at.is_(None), CaseClock.stopped_at.is_(None), CaseClock.due_at <= clock.now())) == 0
        # one owner per case, each change a recorded hand-over
        for case in s.scalars(select(Case)):
            last = s.scalar(select(Handover.to_owner_id).where(Handover.case_id == case.id,
                                                               Handover.status.in_(("accepted", "imposed")))
                            .order_by(Handover.requested_at.desc(), Handover.id.desc()).limit(1))
            assert last is None or last == case.owner_id
            assert s.get(StaffUser, case.owner_id).active
    assert sweep(uow, clock).fired == 0


def _counted_sweep(container, uow, clock) -> tuple[int, int, list[str]]:
    with uow() as s, StatementCounter(container.engine) as counter:
        report = clocks.sweep(s, clock)
    return report.fired, counter.count, counter.statements


def _close_all(uow, clock, agent_of) -> None:
    with uow() as s:
        for case in s.scalars(select(Case).where(Case.status != "closed")).all():
            owner = s.get(StaffUser, case.owner_id)
            cases.close(s, clock, access.staff_principal(owner), case.id, outcome="done", customer_confirmed=True)


def test_the_sweep_is_set_based(container, uow, clock):
    """20 and 200 due clocks cost the same handful of statements: first responses only, then
    weeks of silence (reminders, owners replaced by rule, no-activity clocks restarted)."""
    people = staff(uow, clock, agents=6)
    counts = {}
    for n in (20, 200):
        open_cases(uow, clock, people["agents"][0], n, f"N{n}-")
        clock.advance(timedelta(days=2))  # first responses missed (8 working hours)
        fired, first, statements = _counted_sweep(container, uow, clock)
        assert fired == n, statements
        clock.advance(timedelta(days=21))  # three weeks of nothing: reminders, replacements, lead, head
        fired_later, later, later_statements = _counted_sweep(container, uow, clock)
        assert fired_later >= 3 * n
        counts[n] = (first, later, statements, later_statements)
        with uow() as s:
            replaced = s.scalar(select(func.count(func.distinct(Handover.case_id))))
        assert replaced >= n
        _close_all(uow, clock, people)
    (small_first, small_later, *_), (big_first, big_later, s1, s2) = counts[20], counts[200]
    assert big_first <= small_first + 2, s1
    assert big_later <= small_later + 2, s2
    assert big_first <= 25 and big_later <= 60, (s1, s2)


@pytest.mark.parametrize("today", [datetime(2026, 11, 23, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)],
                         ids=["november", "march"])
def test_the_demo_replays_the_five_stories_through_the_worker(container, uow, clock, today):
    clock.set(today)
    with uow() as s:
        summary = loader.load(s, container)  # the loader routes the stories' cases (demo.cases)
        assert summary["cases"] == 6
        people = {key: s.scalar(select(Customer).where(Customer.name == name)) for key, name in (
            ("daniel", "Daniel Okafor"), ("margaret", "Margaret Hughes"), ("priya", "Priya Shah"),
            ("joinery", "Harbour Lane Joinery Ltd"), ("edith", "Edith Clarke"))}
        users = {u.username: u for u in s.scalars(select(StaffUser))}
    with uow() as s:
        def case_of(key, kind):
            return s.scalars(select(Case).where(Case.customer_id == people[key].id, Case.kind == kind)).one()

        # S2: past its clocks, escalated to the top, the deadlock letter sent; first in the supervisor queue
        s2 = case_of("margaret", "complaint")
        queue, _ = queries.supervisor_queue(s)
        assert queue[0].case_id == s2.id and s2.status != "closed"
        kinds = {e.clock_kind for e in queries.escalations_of(s, s2.id)}
        assert {"regulator_deadline", "regulator_warning", "commitment_due", "no_activity"} <= kinds
        # The deadlock letter (a PDF; by e-mail, as she writes to us by e-mail), on the case
        letter = s.scalar(select(Contact).where(Contact.customer_id == people["margaret"].id,
                                                Contact.kind == "letter", Contact.direction == "outbound"))
        assert letter is not None and letter.case_id == s2.id and letter.channel == "email"
        assert len(s.scalars(select(Contact).where(Contact.case_id == s2.id,
                                                   Contact.direction == "inbound")).all()) == 5
        # S4: four channels, one owner, the missed refund escalated
        s4 = case_of("joinery", "billing_dispute")
        channels = {c.channel for c in s.scalars(select(Contact).where(Contact.case_id == s4.id,
                                                                        Contact.direction == "inbound"))}
        assert channels == {"store", "portal", "phone", "social"}
        assert s4.owner_id == users["bea.backoffice"].id
        assert not s.scalars(select(Handover).where(Handover.case_id == s4.id)).all()
        if today.month == 11:  # loaded early in March, the S4 story has not happened yet (dates clamp to now)
            assert "commitment_due" in {e.clock_kind for e in queries.escalations_of(s, s4.id)}
            assert s4.status == "closed" and s4.customer_confirmed
            # the bill audit put the tablet SIM's April and May charges on this case, confirmed by Bea,
            # with the refund for both months decided by the billing-error policy
            found = s.scalars(select(BillFinding).where(BillFinding.customer_id == people["joinery"].id)).all()
            assert sorted((f.code, f.period_start.month, f.status, f.case_id, f.reviewed_by) for f in found) == [
                ("BA01", 4, "confirmed", s4.id, users["bea.backoffice"].id),
                ("BA01", 5, "confirmed", s4.id, users["bea.backoffice"].id),
                # April's usage on the removed SIM's ICCID: usage after deactivation, a data error
                ("BA02", 4, "confirmed", s4.id, users["bea.backoffice"].id)]
            refund = s.scalars(select(Decision).where(Decision.case_id == s4.id,
                                                      Decision.policy_name == "billing_error_goodwill")).one()
            assert refund.facts["months_overcharged"] == 2 and refund.outcome == "refund_and_goodwill"
        # S5: the damage case with an urgent harm and third parties, and its owner
        s5 = case_of("edith", "damage_claim")
        assert s5.status != "closed" and s5.severity == "urgent" and s5.owner_id == users["sofia.specialist"].id
        harm = s.scalars(select(Harm).where(Harm.case_id == s5.id)).one()
        assert harm.severity == "urgent" and harm.resolved_at is None
        kinds = {p.kind for p in s.scalars(select(Participant).where(Participant.case_id == s5.id))}
        assert {"insurer", "plumber", "claims_handler"} <= kinds
        assert s.scalars(select(Task).where(Task.case_id == s5.id, Task.status == "open")).all()
        assert case_of("priya", "complaint").status == "closed"
        assert case_of("daniel", "fault").status != "closed"
        # the demo's history is the worker's: sweeping now fires nothing new
    assert sweep(uow, clock).fired == 0


def _history(uow, case_ids: list[str]) -> list[list[tuple]]:
    """Each case's escalations as (clock, level), in order."""
    with uow() as s:
        out = []
        for case_id in case_ids:
            out.append([(e.clock_kind, e.level) for e in s.scalars(
                select(Escalation).where(Escalation.case_id == case_id)
                .order_by(Escalation.at, Escalation.clock_kind))])
        return sorted(out)


def test_a_sweep_in_small_batches_writes_the_same_history(uow, clock, monkeypatch):
    """Ten weeks of silence in one sweep: no-activity clocks restarted by a batch fall due again
    within the same sweep, before clocks later batches claim. Batches of 4 clocks must fire all
    of them, as one batch does."""
    people = staff(uow, clock, agents=4)
    histories = []
    for batch in (clocks.BATCH, 4):
        monkeypatch.setattr(clocks, "BATCH", batch)
        ids = open_cases(uow, clock, people["agents"][0], 6, f"B{batch}-")
        clock.advance(timedelta(days=70))
        fired = sweep(uow, clock).fired
        assert fired > 6 * 3  # the three policy clocks, then restarted no-activity clocks
        with uow() as s:
            assert s.scalar(select(func.count()).select_from(CaseClock).where(
                CaseClock.fired_at.is_(None), CaseClock.stopped_at.is_(None), CaseClock.due_at <= clock.now())) == 0
        histories.append((fired, _history(uow, ids)))
        _close_all(uow, clock, people)
    assert histories[0] == histories[1]
