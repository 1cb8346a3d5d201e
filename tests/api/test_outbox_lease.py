"""The lease on a worker's claimed events is a setting (ONETHREAD_OUTBOX_LEASE_SECONDS): the events a
killed worker had claimed are delivered by another worker once the configured lease has run out,
not before (and no longer after a hard-coded 5 minutes)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db import outbox
from onethread.db.outbox import OutboxEvent, record_event
from onethread.db.session import session_scope
from onethread.jobs import runner
from onethread.kernel.events import DomainEvent


def test_a_killed_workers_events_are_delivered_after_the_configured_lease(database_url, clock, tmp_path):
    settings = Settings(database_url=database_url, env="test", outbox_lease_seconds=45,
                        attachments_dir=str(tmp_path / "attachments"))
    container = build(settings, clock=clock)
    try:
        with session_scope(container.sessions) as s:
            ids = [record_event(s, DomainEvent(type="test.happened", occurred_at=clock.now(), aggregate_type="test",
                                               aggregate_id=f"A{i}", payload={"n": i})).id for i in range(3)]
        # What a worker killed (SIGKILL) mid-pass leaves behind: its claim committed, nothing delivered.
        with session_scope(container.sessions) as s:
            assert outbox.claim_batch(s, clock, "worker-killed", 10) == sorted(ids)

        clock.advance(timedelta(seconds=44))
        assert runner.run_once(container, worker_id="worker-2").delivered == 0  # the lease still runs

        clock.advance(timedelta(seconds=2))  # 46 s after the claim: the lease of 45 s is over
        assert runner.run_once(container, worker_id="worker-2").delivered == 3
        with container.sessions() as s:
            rows = s.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids))).all()
        assert all(r.delivered_at is not None and r.claimed_by == "worker-2" for r in rows)
    finally:
        container.dispose()


def test_the_lease_defaults_to_five_minutes():
    assert Settings().outbox_lease_seconds == 300
