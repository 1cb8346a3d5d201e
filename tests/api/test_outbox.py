"""The transactional outbox and the worker pass, on SQLite and PostgreSQL.

Events commit with the change that caused them; delivery is at least once; a consumer's effect
and its receipt commit together so a redelivery is recognised; failures back off, then go dead;
two workers never both handle one event.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.db import outbox
from onethread.db.outbox import ConsumerReceipt, OutboxEvent, Subscription, deliver, record_event
from onethread.jobs import runner
from onethread.kernel.events import DomainEvent
from onethread.models import AuditEntry, Party, Team


def emit(uow, clock, n: int = 1, type_: str = "test.happened") -> list[str]:
    ids = []
    with uow() as s:
        for i in range(n):
            ids.append(record_event(s, DomainEvent(type=type_, occurred_at=clock.now(), aggregate_type="test",
                                                   aggregate_id=f"A{i}", payload={"n": i})).id)
    return ids


def audit_effect(session, event: DomainEvent) -> None:
    """A consumer whose effect is a row in the consumer's own transaction."""
    access.audit(session, _FixedClock(event), SYSTEM, action="update", resource_type="test",
                 resource_id=event.id, customer_id=None, detail={"event": event.id})


class _FixedClock:
    def __init__(self, event: DomainEvent):
        self._at = event.occurred_at

    def now(self):
        return self._at


def effects(container) -> Counter:
    with container.sessions() as s:
        return Counter(s.scalars(select(AuditEntry.resource_id).where(AuditEntry.resource_type == "test")))


def pending(container) -> int:
    with container.sessions() as s:
        return outbox.pending_count(s)


def row(container, event_id: str) -> OutboxEvent:
    with container.sessions() as s:
        return s.get(OutboxEvent, event_id)


# --- recording -----------------------------------------------------------------------------

def test_events_of_a_service_commit_with_its_change(container, uow, clock):
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Ada", family_name="Lovelace")
        customer = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        in_tx = s.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_id.in_([party.id, customer.id])))
        assert "customer.created" in set(in_tx)
    with container.sessions() as s:
        stored = s.scalars(select(OutboxEvent).where(OutboxEvent.customer_id == customer.id)).all()
    assert [e.type for e in stored] == ["customer.created"]
    assert stored[0].occurred_at == clock.now() and stored[0].delivered_at is None
    assert pending(container) >= 1


def test_events_vanish_with_a_rolled_back_change(container, uow, clock):
    with pytest.raises(RuntimeError), uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Grace", family_name="Hopper")
        customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) >= 1
        raise RuntimeError("the request failed after the service ran")
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0
        assert s.scalar(select(func.count()).select_from(Party)) == 0


def test_an_in_process_handler_runs_in_the_transaction_and_its_failure_undoes_the_change(container, uow, clock):
    seen = []
    container.bus.subscribe("customer.created", lambda session, event: seen.append(event.id))
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Ada", family_name="L")
        customers.create_customer(s, clock, SYSTEM, party_id=party.id)
    assert len(seen) == 1 and seen[0]

    def boom(session, event):
        raise ValueError("handler refused")

    container.bus.subscribe("customer.created", boom)
    with pytest.raises(ValueError), uow() as s:
        customers.create_customer(s, clock, SYSTEM, party_id=party.id)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.type == "customer.created")) == 1


def test_a_session_without_the_event_bus_is_refused_rather_than_skipping_the_handlers(container, clock):
    # Such a session would store the event but not run its in-process handlers (the timeline).
    event = DomainEvent(type="test.happened", occurred_at=clock.now(), aggregate_type="test", aggregate_id="A")
    with Session(container.engine) as s:
        with pytest.raises(outbox.NoEventBus, match="no event bus"):
            record_event(s, event)
        with pytest.raises(outbox.NoEventBus, match="no event bus"):
            outbox.record_events(s, [event])
        s.commit()
    assert pending(container) == 0


# --- delivery ------------------------------------------------------------------------------

def test_deliver_hands_each_event_to_the_consumers_that_want_it(container, uow, clock):
    wanted = emit(uow, clock, 3)
    emit(uow, clock, 1, type_="other.thing")
    got: list[tuple[str, str]] = []
    subs = [Subscription("audit", frozenset({"test.happened"}), audit_effect),
            Subscription("spy", frozenset({"*"}), lambda s, e: got.append((e.type, e.id)))]
    report = deliver(container.sessions, subs, clock, worker_id="w1")
    assert (report.claimed, report.delivered, report.failed) == (4, 4, 0)
    assert effects(container) == Counter(wanted)
    assert len(got) == 4 and {t for t, _ in got} == {"test.happened", "other.thing"}
    assert all(row(container, i).delivered_at == clock.now() for i in wanted)
    assert deliver(container.sessions, subs, clock, worker_id="w1").claimed == 0  # nothing twice
    assert pending(container) == 0


def test_a_redelivery_after_a_crash_does_not_apply_twice(container, uow, clock):
    (event_id,) = emit(uow, clock)
    subs = [Subscription("audit", frozenset({"*"}), audit_effect)]
    deliver(container.sessions, subs, clock, worker_id="w1")
    # The crash: the consumer committed its effect and receipt, the event was never marked delivered.
    with uow() as s:
        s.execute(update(OutboxEvent).values(delivered_at=None, claimed_at=None, claimed_by=None))
    report = deliver(container.sessions, subs, clock, worker_id="w2")
    assert (report.claimed, report.delivered, report.skipped_duplicates) == (1, 1, 1)
    assert effects(container) == Counter({event_id: 1})
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ConsumerReceipt)) == 1


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_timeout(container, uow, clock):
    (event_id,) = emit(uow, clock)
    with uow() as s:
        assert outbox.claim_batch(s, clock, "dead-worker", 10) == [event_id]
    subs = [Subscription("audit", frozenset({"*"}), audit_effect)]
    assert deliver(container.sessions, subs, clock, worker_id="w2").claimed == 0
    clock.advance(outbox.CLAIM_TIMEOUT + timedelta(seconds=1))
    assert deliver(container.sessions, subs, clock, worker_id="w2").delivered == 1
    assert effects(container) == Counter({event_id: 1})


def test_a_failing_consumer_is_retried_with_backoff_then_goes_dead(container, uow, clock):
    (event_id,) = emit(uow, clock)
    calls = []

    def flaky(session, event):
        calls.append(clock.now())
        audit_effect(session, event)  # its effect must roll back with the failure
        raise ConnectionError("webhook down")

    ok = []
    subs = [Subscription("flaky", frozenset({"*"}), flaky),
            Subscription("steady", frozenset({"*"}), lambda s, e: ok.append(e.id))]
    report = deliver(container.sessions, subs, clock, worker_id="w", max_attempts=3)
    assert (report.delivered, report.failed) == (0, 1)
    first = row(container, event_id)
    assert first.attempts == 1 and "webhook down" in first.last_error and first.claimed_at is None
    assert first.available_at == clock.now() + timedelta(seconds=2)
    # Not before the backoff has passed.
    assert deliver(container.sessions, subs, clock, worker_id="w", max_attempts=3).claimed == 0
    clock.advance(timedelta(seconds=2))
    assert deliver(container.sessions, subs, clock, worker_id="w", max_attempts=3).failed == 1
    second = row(container, event_id)
    assert second.attempts == 2 and second.available_at == clock.now() + timedelta(seconds=4)
    clock.advance(timedelta(seconds=4))
    deliver(container.sessions, subs, clock, worker_id="w", max_attempts=3)
    dead = row(container, event_id)
    assert dead.attempts == 3 and dead.dead_at == clock.now() and dead.delivered_at is None
    clock.advance(timedelta(days=1))
    assert deliver(container.sessions, subs, clock, worker_id="w", max_attempts=3).claimed == 0
    assert len(calls) == 3
    assert ok == [event_id]  # the healthy consumer ran once; its receipt skipped it on retries
    assert effects(container) == Counter()  # the failing consumer's effect never committed
    assert pending(container) == 0


def test_a_consumer_breaking_a_constraint_is_a_failure_not_a_duplicate(container, uow, clock):
    (event_id,) = emit(uow, clock)
    with uow() as s:
        s.add(Team(name="Same", kind="store", created_at=clock.now()))

    def clashing(session, event):
        session.add(Team(name="Same", kind="store", created_at=clock.now()))
        session.flush()

    report = deliver(container.sessions, [Subscription("clash", frozenset({"*"}), clashing)], clock)
    assert (report.delivered, report.failed, report.skipped_duplicates) == (0, 1, 0)
    failed = row(container, event_id)
    assert failed.delivered_at is None and failed.attempts == 1 and "IntegrityError" in failed.last_error


def test_two_workers_never_both_handle_one_event(container, uow, clock, backend):
    ids = emit(uow, clock, 60)
    handled: Counter = Counter()
    lock = threading.Lock()

    def consumer(session, event):
        with lock:
            handled[event.id] += 1
        audit_effect(session, event)

    subs = [Subscription("audit", frozenset({"*"}), consumer)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker_id: str) -> None:
        try:
            barrier.wait()
            while deliver(container.sessions, subs, clock, worker_id=worker_id, limit=7).claimed:
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert handled == Counter(ids), "an event was handled twice or not at all"
    assert effects(container) == Counter(ids)
    with container.sessions() as s:
        by = Counter(s.scalars(select(OutboxEvent.claimed_by)))
    assert sum(by.values()) == 60 and set(by) <= {"worker-1", "worker-2"}


# --- the worker pass -----------------------------------------------------------------------

def test_run_once_reports_deliveries_failures_and_sweeps(container, uow, clock, monkeypatch):
    good = emit(uow, clock, 3)
    (bad,) = emit(uow, clock, 1, type_="bad.event")

    def consumer(session, event):
        if event.type == "bad.event":
            raise RuntimeError("cannot handle")
        audit_effect(session, event)

    container.subscriptions = [Subscription("audit", frozenset({"*"}), consumer)]
    swept = []
    monkeypatch.setattr(runner, "SWEEPS", [("stale things", lambda session, clk: swept.append(clk.now()) or 2)])
    report = runner.run_once(container, worker_id="once")
    assert (report.delivered, report.failed, report.duplicates) == (3, 1, 0)
    assert report.sweeps == {"stale things": 2} and swept == [clock.now()]
    assert report.summary() == "outbox: 3 delivered, 1 failed, 0 already handled; stale things: 2"
    assert effects(container) == Counter(good)
    assert row(container, bad).attempts == 1
    again = runner.run_once(container, worker_id="once")
    assert (again.delivered, again.failed) == (0, 0)


def test_run_once_drains_more_than_one_batch(container, uow, clock, monkeypatch):
    ids = emit(uow, clock, 12)
    container.subscriptions = [Subscription("audit", frozenset({"*"}), audit_effect)]
    monkeypatch.setattr(runner, "SWEEPS", [])
    container.settings = container.settings.model_copy(update={"outbox_batch_size": 5})
    report = runner.run_once(container)
    assert report.delivered == 12
    assert report.summary().endswith("no sweeps registered")
    assert effects(container) == Counter(ids)
