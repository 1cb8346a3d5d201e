"""Triage under any sequence of contacts (Hypothesis state machine, on SQLite and PostgreSQL).

Contacts from known customers, strangers and conflicting identifiers on every channel, one by one
or in batches, in live calls and chats or not, naming cases, answering our messages, about a
product; cases opened and contacts routed to them; "not this case" corrections; match-queue
links and dismissals; staff changing presence; time passing and the worker sweeping. After every
step, every inbound contact is on a case (which always has an owner) or covered by an open
triage item (its own, or its live session's) whose first-response clock runs; only a contact
dismissed from the match queue (spam) is neither. After a sweep, no open item is past due.
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
from sqlalchemy import and_, or_, select, update

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import assignment, clocks, triage, triage_sweep
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.interactions import batch_service, session_service
from onethread.interactions import service as interactions
from onethread.models import Case, Contact, ContactSession, MatchItem, StaffUser, TriageItem

CHANNELS = ("email", "letter", "portal", "social", "sms", "chat", "phone")
STEPS = st.sampled_from([timedelta(minutes=20), timedelta(hours=3), timedelta(days=1), timedelta(days=4)])


def uncovered(s) -> list[tuple]:
    """Inbound contacts on no case, with no open triage item of their own or of their session,
    and not dismissed from the match queue."""
    own = select(TriageItem.id).where(TriageItem.contact_id == Contact.id, TriageItem.done_at.is_(None))
    by_session = select(TriageItem.id).where(TriageItem.session_id == Contact.session_id,
                                             TriageItem.done_at.is_(None))
    dismissed = select(MatchItem.id).where(MatchItem.contact_id == Contact.id, MatchItem.resolution == "dismissed")
    return s.execute(select(Contact.id, Contact.channel, Contact.customer_id, Contact.session_id).where(
        Contact.direction == "inbound", Contact.case_id.is_(None), ~own.exists(),
        or_(Contact.session_id.is_(None), ~by_session.exists()), ~dismissed.exists())).all()


def test_every_inbound_contact_has_an_owner_or_a_running_clock(uow, clock):
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        lead = access.create_user(s, clock, username="cc.lead", display_name="Lee Lead", role="team_lead",
                                  password=None, team_id=team.id)
        access.set_team_lead(s, team.id, lead.id)
        agents = [access.create_user(s, clock, username=f"agent{i}", display_name=f"Agent {i}", role="agent",
                                     password=None, team_id=team.id).id for i in range(3)]
        lead_p = access.staff_principal(lead)
    counter = iter(range(10**9))
    start = clock.now()

    class Triage(RuleBasedStateMachine):
        @initialize()
        def customers_(self):
            clock.set(start)
            self.customers: list[str] = []
            self.handles: dict[str, str] = {}
            with uow() as s:  # staff are shared by the examples: each starts with everyone available
                s.execute(update(StaffUser).values(away=False, presence="available"))
                for _ in range(2):
                    n = next(counter)
                    party = customers.create_individual(s, clock, SYSTEM, given_name="P", family_name=str(n))
                    cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
                    address = f"p{n}@example.com"
                    identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="email", value=address)
                    identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="social", value=f"x:@p{n}")
                    self.customers.append(cid)
                    self.handles[cid] = str(n)
            self.sessions: dict[str, str] = {}  # live session id -> customer
            self.cases: list[str] = []
            # This example's contacts, in the order made: what a step draws from is taken in this
            # order (ids are random, and the database holds earlier examples' rows too).
            self.contacts: list[str] = []

        def mine(self, found) -> list[str]:
            found = set(found)
            return [c for c in self.contacts if c in found]

        def intake(self, data, channel: str) -> interactions.Intake:
            who = data.draw(st.sampled_from(["a", "b", "stranger", "conflict"]))
            n = next(counter)
            cid = self.customers[0] if who == "a" else self.customers[1]
            ids = {"email": f"p{self.handles[cid]}@example.com"}
            if channel == "social":
                ids = {"social": f"x:@p{self.handles[cid]}"}
            if who == "stranger":
                ids = {"email": f"nobody{n}@example.com"}
            elif who == "conflict":
                ids = {"email": f"p{self.handles[self.customers[0]]}@example.com",
                       "social": f"x:@p{self.handles[self.customers[1]]}"}
            subject = None
            if self.cases and data.draw(st.booleans()):
                subject = f"about {data.draw(st.sampled_from(self.cases))}"
            return interactions.Intake(channel=channel, direction="inbound", occurred_at=clock.now(),
                                       text=f"message {n}", subject=subject, identifiers=ids,
                                       channel_message_id=f"m-{n}" if channel != "letter" else None)

        @rule(data=st.data(), channel=st.sampled_from(("email", "letter", "portal", "social", "sms")))
        def contact(self, data, channel):
            with uow() as s:
                self.contacts.append(interactions.record(s, clock, SYSTEM, self.intake(data, channel)).contact.id)

        @rule(data=st.data(), n=st.integers(1, 4))
        def batch(self, data, n):
            with uow() as s:
                done = batch_service.record_many(s, clock, SYSTEM, [self.intake(data, "email") for _ in range(n)])
                self.contacts += [r.contact.id for r in done]

        @rule(data=st.data(), channel=st.sampled_from(("phone", "chat")), known=st.booleans())
        def live_contact(self, data, channel, known):
            live = [sid for sid in self.sessions if data.draw(st.booleans())]
            with uow() as s:
                if live:
                    sid = live[0]
                else:
                    sid = session_service.start(s, clock, SYSTEM, channel=channel,
                                                customer_id=self.customers[0] if known else None,
                                                staff_id=data.draw(st.sampled_from(agents))).id
                    self.sessions[sid] = channel
                self.contacts.append(interactions.record_in_session(s, clock, SYSTEM, interactions.Intake(
                    channel=s.get(ContactSession, sid).channel, direction="inbound",
                    occurred_at=clock.now(), text="hello", session_id=sid)).contact.id)

        @precondition(lambda self: self.sessions)
        @rule(data=st.data())
        def end_session(self, data):
            sid = data.draw(st.sampled_from(sorted(self.sessions)))
            with uow() as s:
                session_service.end(s, clock, SYSTEM, sid)
            del self.sessions[sid]

        @rule(data=st.data())
        def route_a_waiting_contact(self, data):
            with uow() as s:
                waiting = self.mine(s.scalars(select(TriageItem.contact_id).where(
                    TriageItem.done_at.is_(None), TriageItem.customer_id.is_not(None),
                    TriageItem.contact_id.in_(self.contacts))))[:5]
                if not waiting:
                    return
                contact_id = data.draw(st.sampled_from(waiting))
                if s.get(Contact, contact_id).customer_id is None:
                    return
                here = [a for a in agents if not s.get(StaffUser, a).away] or [lead_p.id]  # may own a case
                case, _ = cases.route_contact(s, clock, lead_p, contact_id, kind="fault",
                                              title="From the queue", owner_id=data.draw(st.sampled_from(here)),
                                              category=f"c{next(counter) % 3}")
                self.cases.append(case.id)

        @rule(data=st.data())
        def not_this_case(self, data):
            with uow() as s:
                on_case = self.mine(s.scalars(select(Contact.id).where(
                    Contact.direction == "inbound", Contact.case_id.is_not(None), Contact.id.in_(self.contacts))))[:10]
                if on_case:
                    triage.not_this_case(s, clock, lead_p, data.draw(st.sampled_from(on_case)), reason="wrong case")

        @rule(data=st.data(), link=st.booleans())
        def match_queue(self, data, link):
            with uow() as s:
                by_contact = dict(s.execute(select(MatchItem.contact_id, MatchItem.id).where(
                    MatchItem.resolved_at.is_(None), MatchItem.contact_id.in_(self.contacts))).all())
                open_items = [by_contact[c] for c in self.mine(by_contact)][:5]
                if not open_items:
                    return
                item = data.draw(st.sampled_from(open_items))
                if link:
                    interactions.link_match(s, clock, lead_p, item, customer_id=data.draw(st.sampled_from(
                        self.customers)))
                else:
                    interactions.dismiss_match(s, clock, lead_p, item, reason="spam")

        @rule(who=st.sampled_from(range(3)), presence=st.sampled_from(assignment.PRESENCES))
        def presence(self, who, presence):
            with uow() as s:
                assignment.set_presence(s, clock, lead_p, agents[who], presence=presence)

        @rule(step=STEPS)
        def time_passes(self, step):
            clock.advance(step)
            with uow() as s:
                triage_sweep.sweep(s, clock)
                clocks.sweep(s, clock)
                late = s.scalar(select(TriageItem.id).where(TriageItem.done_at.is_(None),
                                                            TriageItem.due_at <= clock.now()))
            assert late is None, "an open triage item is past due after a sweep"

        @invariant()
        def every_inbound_contact_is_owned_or_queued(self):
            with uow() as s:
                assert uncovered(s) == []
                orphans = s.execute(select(Contact.id).join(Case, Case.id == Contact.case_id).where(
                    and_(Contact.direction == "inbound", Case.owner_id.is_(None)))).all()
                assert orphans == []

    run_state_machine_as_test(Triage, settings=settings(
        max_examples=15, stateful_step_count=15, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    # Derandomised so CI is repeatable. To hunt, run it with derandomize=False and more examples:
    # a random run found the rest of a call left uncovered when its first line was dismissed or
    # went to a case (now tests/api/test_triage_api.py, "the rest of a call").
    with uow() as s:
        assert s.scalar(select(TriageItem.id).limit(1)) is not None  # the machine did exercise triage
