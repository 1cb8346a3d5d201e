"""Cases under any sequence of operations (Hypothesis state machine, on SQLite and PostgreSQL).

Opening, hand-overs (request, accept, decline, impose), harms, commitments, tasks, customer
messages and replies, close attempts, staff going away and coming back, time passing and the
worker sweeping. After every step:

- every case has exactly one owner, an existing active staff member who may own cases, and
  the owner changed only through recorded hand-overs (the new ones chain from the owner we
  knew to the owner now);
- closing succeeds exactly when nothing is open, and a closed case has no open harm,
  commitment, task, unanswered message or running clock;
- a clock escalates at most once.

The fixture database is reused across examples: each example makes its own customer.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, update

from onethread.access import service as access
from onethread.access.rules import FIELD_SUBCONTRACTOR, SYSTEM
from onethread.cases import clocks, handover_service, items_service
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.errors import Conflict
from onethread.models import (
    Case,
    CaseClock,
    Commitment,
    Escalation,
    Handover,
    Harm,
    StaffUser,
    Task,
)

AGENTS = 4
KINDS = ("fault", "billing_dispute", "damage_claim", "request")
LATER = st.sampled_from([timedelta(hours=2), timedelta(hours=9), timedelta(days=1), timedelta(days=5)])
STEPS = st.sampled_from([timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(days=3),
                         timedelta(days=8)])


def make_staff(uow, clock) -> dict:
    with uow() as s:
        pool = access.create_team(s, clock, name="Pool")
        relations = access.create_team(s, clock, name="Customer relations", kind="customer_relations")
        lead = access.create_user(s, clock, username="pool.lead", display_name="Pat Lead", role="team_lead",
                                  password=None, team_id=pool.id)
        head = access.create_user(s, clock, username="rel.head", display_name="Hana Head", role="team_lead",
                                  password=None, team_id=relations.id)
        access.set_team_lead(s, pool.id, lead.id)
        access.set_team_lead(s, relations.id, head.id)
        agents = [access.create_user(s, clock, username=f"agent{i}", display_name=f"Agent {i}", role="agent",
                                     password=None, team_id=pool.id) for i in range(AGENTS)]
        return {"lead": access.staff_principal(lead),
                "agents": {a.id: access.staff_principal(a) for a in agents}}


def test_case_invariants_hold_under_any_sequence(uow, clock):
    staff = make_staff(uow, clock)
    agent_ids = sorted(staff["agents"])
    counter = iter(range(10**9))
    start = clock.now()

    class Cases(RuleBasedStateMachine):
        @initialize()
        def new_customer(self):
            # Every example starts at the same instant: what a step draws depends on what the
            # services answered, and their answers depend on the time (business hours, clocks),
            # so an example replayed later must see the same time or Hypothesis calls it flaky.
            clock.set(start)
            with uow() as s:
                s.execute(update(StaffUser).values(away=False))
                party = customers.create_individual(s, clock, SYSTEM, given_name="Example",
                                                    family_name=str(next(counter)))
                self.customer = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
            self.away: set[str] = set()
            self.owner: dict[str, str] = {}  # case -> owner as last verified
            self.seen_handovers: set[str] = set()
            self.open: dict[str, dict] = {}  # case -> {"harms", "commitments", "tasks", "waiting"}
            self.closed: set[str] = set()

        # --- helpers ----------------------------------------------------------------------

        def available(self) -> list[str]:
            return [a for a in agent_ids if a not in self.away]

        def principal(self, staff_id: str):
            return staff["agents"].get(staff_id) or staff["lead"]

        def nothing_open(self, case_id: str) -> bool:
            items = self.open[case_id]
            return not (items["harms"] or items["commitments"] or items["tasks"] or items["waiting"])

        # --- operations -------------------------------------------------------------------

        @precondition(lambda self: len(self.open) < 4)
        @rule(data=st.data(), kind=st.sampled_from(KINDS))
        def open_case(self, data, kind):
            owner = data.draw(st.sampled_from(self.available() or [staff["lead"].id]))
            with uow() as s:
                case = cases.open_new(s, clock, self.principal(owner), customer_id=self.customer, kind=kind,
                                      title=f"{kind} problem", opened_via="phone", owner_id=owner,
                                      category=f"cat-{next(counter)}")
            self.owner[case.id] = owner
            self.open[case.id] = {"harms": set(), "commitments": set(), "tasks": set(), "waiting": False}

        @precondition(lambda self: self.open)
        @rule(data=st.data())
        def request_handover(self, data):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                case = s.get(Case, case_id)
                if s.scalar(select(Handover.id).where(Handover.case_id == case_id, Handover.status == "pending")):
                    return
                targets = [a for a in self.available() if a != case.owner_id]
                if not targets:
                    return
                to = data.draw(st.sampled_from(targets))
                handover_service.request(s, clock, self.principal(case.owner_id), case_id, to_owner_id=to,
                                         reason="better placed to help")

        @precondition(lambda self: self.open)
        @rule(data=st.data(), accept=st.booleans())
        def answer_handover(self, data, accept):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                pending = s.scalar(select(Handover).where(Handover.case_id == case_id, Handover.status == "pending"))
                if pending is None:
                    return
                receiver = self.principal(pending.to_owner_id)
                if not accept:
                    handover_service.decline(s, clock, receiver, pending.id, reason="no capacity")
                    return
                if pending.to_owner_id in self.away:
                    try:
                        handover_service.accept(s, clock, receiver, pending.id)
                    except Conflict:
                        return  # an absent person cannot take a case
                    raise AssertionError("someone marked away accepted a case")
                handover_service.accept(s, clock, receiver, pending.id)

        @precondition(lambda self: self.open)
        @rule(data=st.data())
        def impose_handover(self, data):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                case = s.get(Case, case_id)
                targets = [a for a in self.available() if a != case.owner_id]
                if not targets:
                    return
                handover_service.impose(s, clock, staff["lead"], case_id, to_owner_id=data.draw(
                    st.sampled_from(targets)), reason="rebalancing the pool")

        @precondition(lambda self: self.open)
        @rule(data=st.data(), severity=st.sampled_from(["low", "medium", "high", "urgent"]),
              kind=st.sampled_from(["no_service", "no_heating", "property_damage", "other"]))
        def add_harm(self, data, severity, kind):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                harm = items_service.add_harm(s, clock, staff["lead"], case_id, kind=kind, severity=severity,
                                              description=f"{kind} harm")
                assert harm.severity == severity  # not vulnerable: as reported
            self.open[case_id]["harms"].add(harm.id)

        @precondition(lambda self: any(i["harms"] for i in self.open.values()))
        @rule(data=st.data())
        def resolve_harm(self, data):
            case_id = data.draw(st.sampled_from(sorted(c for c, i in self.open.items() if i["harms"])))
            harm_id = data.draw(st.sampled_from(sorted(self.open[case_id]["harms"])))
            with uow() as s:
                items_service.resolve_harm(s, clock, staff["lead"], harm_id, resolution="put right")
            self.open[case_id]["harms"].discard(harm_id)

        @precondition(lambda self: self.open)
        @rule(data=st.data(), due=LATER)
        def add_commitment(self, data, due):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                item = items_service.add_commitment(s, clock, staff["lead"], case_id, text="call back",
                                                    due_at=clock.now() + due, made_via="phone")
            self.open[case_id]["commitments"].add(item.id)

        @precondition(lambda self: any(i["commitments"] for i in self.open.values()))
        @rule(data=st.data())
        def keep_commitment(self, data):
            case_id = data.draw(st.sampled_from(sorted(c for c, i in self.open.items() if i["commitments"])))
            item_id = data.draw(st.sampled_from(sorted(self.open[case_id]["commitments"])))
            with uow() as s:
                items_service.close_commitment(s, clock, staff["lead"], item_id, kept=True)
            self.open[case_id]["commitments"].discard(item_id)

        @precondition(lambda self: self.open)
        @rule(data=st.data(), due=LATER)
        def add_task(self, data, due):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                task = items_service.add_task(s, clock, staff["lead"], case_id, title="check the line",
                                              assignee_kind="staff", assignee_id=data.draw(st.sampled_from(agent_ids)),
                                              due_at=clock.now() + due)
            self.open[case_id]["tasks"].add(task.id)

        @precondition(lambda self: any(i["tasks"] for i in self.open.values()))
        @rule(data=st.data(), cancelled=st.booleans())
        def complete_task(self, data, cancelled):
            case_id = data.draw(st.sampled_from(sorted(c for c, i in self.open.items() if i["tasks"])))
            task_id = data.draw(st.sampled_from(sorted(self.open[case_id]["tasks"])))
            with uow() as s:
                items_service.complete_task(s, clock, staff["lead"], task_id, cancelled=cancelled,
                                            note="not needed" if cancelled else None)
            self.open[case_id]["tasks"].discard(task_id)

        @precondition(lambda self: self.open)
        @rule(data=st.data())
        def customer_writes(self, data):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                cases.customer_message(s, clock, SYSTEM, case_id, text="any news?", channel="email")
            self.open[case_id]["waiting"] = True

        @precondition(lambda self: self.open)
        @rule(data=st.data())
        def owner_replies(self, data):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            with uow() as s:
                owner = s.get(Case, case_id).owner_id
                cases.reply(s, clock, self.principal(owner), case_id, text="here is where it stands", channel="email")
            self.open[case_id]["waiting"] = False

        @precondition(lambda self: self.open)
        @rule(data=st.data(), confirmed=st.booleans())
        def try_to_close(self, data, confirmed):
            case_id = data.draw(st.sampled_from(sorted(self.open)))
            expected = self.nothing_open(case_id)
            try:
                with uow() as s:
                    cases.close(s, clock, self.principal(s.get(Case, case_id).owner_id), case_id,
                                outcome="sorted", customer_confirmed=confirmed)
            except Conflict as exc:
                assert not expected, f"closing a case with nothing open was refused: {exc.message}"
                assert exc.details["open"]
                return
            assert expected, f"closed with something open: {self.open[case_id]}"
            del self.open[case_id]
            self.closed.add(case_id)

        @rule(data=st.data(), away=st.booleans())
        def staff_away_or_back(self, data, away):
            who = data.draw(st.sampled_from(agent_ids))
            if away and len(self.away) >= AGENTS - 1:
                return  # someone has to be at work
            with uow() as s:
                s.get(StaffUser, who).away = away
            (self.away.add if away else self.away.discard)(who)

        @rule(step=STEPS)
        def time_passes(self, step):
            clock.advance(step)
            with uow() as s:  # the worker
                clocks.sweep(s, clock)
                handover_service.replace_away_owners(s, clock)

        # --- invariants -------------------------------------------------------------------

        @invariant()
        def one_owner_changed_only_by_recorded_handovers(self):
            with uow() as s:
                bad = s.scalar(select(func.count()).select_from(Case)
                               .outerjoin(StaffUser, StaffUser.id == Case.owner_id)
                               .where(StaffUser.id.is_(None) | StaffUser.active.is_(False)
                                      | (StaffUser.role == FIELD_SUBCONTRACTOR)))
                assert bad == 0, "a case without an active owner who may own it"
                for case_id, known in list(self.owner.items()):
                    case = s.get(Case, case_id)
                    new = [h for h in s.scalars(select(Handover).where(Handover.case_id == case_id,
                                                                       Handover.status.in_(("accepted", "imposed"))))
                           if h.id not in self.seen_handovers]
                    current = known
                    while new:
                        step = [h for h in new if h.from_owner_id == current]
                        assert step, f"owner changed from {current} without a recorded hand-over"
                        new.remove(step[0])
                        self.seen_handovers.add(step[0].id)
                        current = step[0].to_owner_id
                    assert current == case.owner_id, "the owner is not who the hand-overs say"
                    self.owner[case_id] = current

        @invariant()
        def a_closed_case_has_nothing_open(self):
            with uow() as s:
                for case_id in self.closed:
                    case = s.get(Case, case_id)
                    assert case.status == "closed" and case.awaiting_reply_since is None
                    assert not s.scalar(select(Harm.id).where(Harm.case_id == case_id, Harm.resolved_at.is_(None)))
                    assert not s.scalar(select(Commitment.id).where(Commitment.case_id == case_id,
                                                                    Commitment.status == "open"))
                    assert not s.scalar(select(Task.id).where(Task.case_id == case_id, Task.status == "open"))
                    assert not s.scalar(select(CaseClock.id).where(CaseClock.case_id == case_id,
                                                                   CaseClock.stopped_at.is_(None)))
                for case_id in self.open:
                    assert s.get(Case, case_id).status != "closed"

        @invariant()
        def a_clock_escalates_at_most_once(self):
            with uow() as s:
                total = s.scalar(select(func.count()).select_from(Escalation))
                assert total == s.scalar(select(func.count(func.distinct(Escalation.clock_id))))
                assert not s.scalar(select(func.count()).select_from(Escalation).join(
                    CaseClock, CaseClock.id == Escalation.clock_id).where(CaseClock.fired_at.is_(None)))

    run_state_machine_as_test(Cases, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
