"""Issue 7, scale-out: several workers against one database share the work without doing any of
it twice. Two real ``onethread worker`` processes sweep many due case clocks: every clock fires
exactly once (one escalation each) and the outbox ends up delivered. Then two workers, each with
its own engine, deliver the outbox to two consumers at the same moment: each consumer handles
each event exactly once.

Both run on SQLite too: it has one writer at a time (every transaction starts with ``BEGIN
IMMEDIATE``), so there the second worker waits instead of skipping locked rows, but the
conditional claims are the same and must give the same answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from onethread.access import service as access
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db import outbox
from onethread.db.outbox import ConsumerReceipt, OutboxEvent, Subscription
from onethread.db.session import session_scope
from onethread.kernel.clock import SettableClock
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import Case, CaseClock, Customer, Escalation, Party

ONETHREAD = str(Path(sys.executable).parent / "onethread")
OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the clocks fell due in January: due for any real clock now
CASES = 600


def _seed_due_clocks(container, cases: int) -> int:
    """``cases`` open cases, each with its first-response and resolution clocks past due."""
    with session_scope(container.sessions) as s:
        team = access.create_team(s, container.clock, name="Contact centre")
        owners = [access.create_user(s, container.clock, username=f"agent{i}", display_name=f"Agent {i}",
                                     role="agent", password=None, team_id=team.id).id for i in range(5)]
    parties, customers, rows, timers = [], [], [], []
    for i in range(cases):
        pid, cid, case_id = new_id(), new_id(), new_id()
        opened = OPENED + timedelta(minutes=i)
        parties.append(dict(id=pid, kind="individual", given_name=f"G{i}", family_name=f"F{i}", status="validated",
                            created_at=opened, updated_at=opened, version=1))
        customers.append(dict(id=cid, party_id=pid, name=f"G{i} F{i}", status="approved",
                              customer_since=opened.date(), segment="consumer", created_at=opened,
                              updated_at=opened, version=1))
        rows.append(dict(id=case_id, customer_id=cid, kind="request", title=f"Request {i}", status="open",
                         severity="medium", owner_id=owners[i % 5], opened_via="phone", opened_at=opened,
                         opened_by=owners[i % 5], market="GB", last_activity_at=opened, escalation_level=0, version=1))
        for kind, hours in (("first_response", 4), ("resolution_target", 72)):
            timers.append(dict(id=new_id(), case_id=case_id, customer_id=cid, kind=kind, started_at=opened,
                               due_at=opened + timedelta(hours=hours)))
    with container.engine.begin() as conn:
        for model, data in ((Party, parties), (Customer, customers), (Case, rows), (CaseClock, timers)):
            conn.execute(insert(model), data)
    return len(timers)


def _fired(container) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(CaseClock).where(CaseClock.fired_at.is_not(None)))


def test_two_worker_processes_fire_every_due_clock_exactly_once(database_url, clock):
    container = build(Settings(database_url=database_url, env="test"), clock=clock)
    due = _seed_due_clocks(container, CASES)
    env = {**os.environ, "ONETHREAD_DATABASE_URL": database_url, "ONETHREAD_ENV": "test",
           "ONETHREAD_WORKER_INTERVAL_SECONDS": "0.2"}
    env.pop("ONETHREAD_TEST_DATABASE_URL", None)
    workers = [subprocess.Popen([ONETHREAD, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(2)]
    try:
        deadline = time.monotonic() + 180
        while _fired(container) < due and time.monotonic() < deadline:
            for w in workers:
                assert w.poll() is None, w.stderr.read().decode()[-3000:]
            time.sleep(0.5)
        time.sleep(1.5)  # a few more passes of both workers: nothing may fire twice
        with container.sessions() as s:
            pending = outbox.pending_count(s)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:  # the workers deliver what the sweeps wrote
            time.sleep(0.5)
            with container.sessions() as s:
                pending = outbox.pending_count(s)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(20)
    with container.sessions() as s:
        fired = s.execute(select(CaseClock.id, CaseClock.fired_by).where(CaseClock.fired_at.is_not(None))).all()
        per_clock = Counter(s.scalars(select(Escalation.clock_id)).all())
        escalated_events = s.scalar(select(func.count()).select_from(OutboxEvent)
                                    .where(OutboxEvent.type == "case.escalated"))
        undelivered = outbox.pending_count(s)
    container.dispose()
    assert len(fired) == due  # every due clock fired...
    assert set(per_clock) == {clock_id for clock_id, _ in fired}
    assert set(per_clock.values()) == {1}, "a clock was escalated twice"  # ...and exactly once
    assert escalated_events == due
    assert undelivered == 0


def test_two_workers_deliver_each_event_once_per_consumer(database_url):
    clock = SettableClock(OPENED + timedelta(days=30))
    settings = Settings(database_url=database_url, env="test")
    first, second = build(settings, clock=clock), build(settings, clock=clock)  # two engines, two pools
    events = 300
    with session_scope(first.sessions) as s:
        for i in range(events):
            outbox.record_event(s, DomainEvent(type="bench.tick", occurred_at=OPENED + timedelta(seconds=i),
                                               aggregate_type="tick", aggregate_id=f"T{i}", customer_id=None,
                                               payload={"i": i}))
    handled: Counter = Counter()
    lock = threading.Lock()

    def consumer(name: str):
        def handle(_session, event: DomainEvent) -> None:
            with lock:
                handled[(name, event.id)] += 1
        return Subscription(name, frozenset({"*"}), handle)

    subscriptions = [consumer("crm-sync"), consumer("webhooks")]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def work(container, name: str) -> None:
        try:
            start.wait()
            while True:
                report = outbox.deliver(container.sessions, subscriptions, clock, worker_id=name, limit=25)
                if not report.claimed:
                    return
        except BaseException as exc:  # reported below, with the thread's name
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(c, n)) for c, n in ((first, "w1"), (second, "w2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with first.sessions() as s:
        receipts = Counter(s.scalars(select(ConsumerReceipt.consumer)).all())
        delivered = s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_not(None)))
        claimers = set(s.scalars(select(OutboxEvent.claimed_by)).all())
    first.dispose()
    second.dispose()
    assert not failures, failures
    assert len(handled) == 2 * events and set(handled.values()) == {1}  # every event, each consumer, once
    assert receipts == {"crm-sync": events, "webhooks": events}
    assert delivered == events
    assert claimers <= {"w1", "w2"}
