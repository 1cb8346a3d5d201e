"""The worker's sender: claim due deliveries, sign them, POST them, record the answer.

At least once: a delivery is claimed (committed) before it is sent and marked delivered after
the receiver answered 2xx. A worker that dies in between leaves the claim, which lapses after
``ONETHREAD_WEBHOOK_LEASE_SECONDS``; the next worker sends it again, with the same event id
(``X-Onethread-Event-Id``, and ``eventId`` in a TMF event) for the receiver to deduplicate.
A failure (no answer, a non-2xx answer, a callback that now resolves to a forbidden address) is
tried again after a growing wait (``rules.backoff``) and is dead after
``ONETHREAD_WEBHOOK_MAX_ATTEMPTS``: kept with its last error, listed for administrators.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from onethread import __version__
from onethread.config import Settings
from onethread.integrations import network, rules
from onethread.kernel.clock import Clock
from onethread.models import EventDelivery, EventSubscription

log = logging.getLogger("onethread.integrations")
MAX_PARALLEL = 4


@dataclass
class SendReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    delivery_id: str
    event_id: str
    event_type: str
    body: dict
    attempt: int
    kind: str
    callback: str
    secret: str


def claim(session: Session, clock: Clock, worker_id: str, limit: int, lease: timedelta) -> list[str]:
    """Claim up to ``limit`` due deliveries of live subscriptions (a conditional UPDATE: two workers
    never win the same one; a claim older than the lease is taken over)."""
    now = clock.now()
    stale = now - lease
    live = select(EventSubscription.id).where(EventSubscription.deleted_at.is_(None))
    candidates = session.scalars(
        select(EventDelivery.id)
        .where(EventDelivery.delivered_at.is_(None), EventDelivery.dead_at.is_(None),
               EventDelivery.available_at <= now, EventDelivery.subscription_id.in_(live),
               or_(EventDelivery.claimed_at.is_(None), EventDelivery.claimed_at < stale))
        .order_by(EventDelivery.available_at, EventDelivery.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        return []
    return sorted(session.scalars(
        update(EventDelivery)
        .where(EventDelivery.id.in_(candidates), EventDelivery.delivered_at.is_(None),
               EventDelivery.dead_at.is_(None),
               or_(EventDelivery.claimed_at.is_(None), EventDelivery.claimed_at < stale))
        .values(claimed_at=now, claimed_by=worker_id)
        .returning(EventDelivery.id).execution_options(synchronize_session=False)
    ).all())


def send_due(factory: sessionmaker[Session], clock: Clock, real_clock: Clock, settings: Settings,
             worker_id: str) -> SendReport:
    """One pass: claim, send (a few at a time), record. ``real_clock`` stamps the signature: the
    receiver checks it against its own clock, also when onethread's business time is simulated."""
    lease = timedelta(seconds=settings.webhook_lease_seconds)
    with factory() as session, session.begin():
        ids = claim(session, clock, worker_id, settings.webhook_batch_size, lease)
    report = SendReport()
    if not ids:
        return report
    with factory() as session:
        rows = session.execute(select(EventDelivery, EventSubscription)
                               .join(EventSubscription, EventSubscription.id == EventDelivery.subscription_id)
                               .where(EventDelivery.id.in_(ids)).order_by(EventDelivery.id)).all()
        jobs = [_Job(d.id, d.event_id, d.event_type, d.body, d.attempts + 1, s.kind, s.callback, s.secret)
                for d, s in rows]
    allow = rules.AllowList.parse(settings.callback_allowlist, only=settings.callback_allowlist_only)

    lock = threading.Lock()

    def one(job: _Job) -> None:
        answer = _send(job, allow, settings, real_clock)
        with factory() as session, session.begin():
            outcome = finish(session, clock, job.delivery_id, answer, settings.webhook_max_attempts)
        with lock:
            if outcome == "delivered":
                report.delivered += 1
            else:
                report.failed += 1
                report.dead += outcome == "dead"
                report.errors.append(f"{job.event_type} {job.event_id}: {answer.error}")

    if len(jobs) == 1:
        one(jobs[0])
    else:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(jobs)), thread_name_prefix="onethread-send") as pool:
            list(pool.map(one, jobs))
    return report


def _send(job: _Job, allow: rules.AllowList, settings: Settings, real_clock: Clock) -> network.Answer:
    url = job.callback.rstrip("/") + rules.listener_path(job.event_type) if job.kind == "hub" else job.callback
    try:
        callback = rules.parse_callback(url, production=settings.env == "production", allow=allow)
    except ValueError as exc:
        return network.Answer(None, f"callback refused: {exc}")
    addresses = network.resolve(callback.host, callback.port)
    if not addresses:
        return network.Answer(None, f"{callback.host} does not resolve to an address")
    for address in addresses:  # every address must be allowed: DNS may not smuggle in an internal one
        problem = rules.address_problem(callback.host, address, allow)
        if problem:
            return network.Answer(None, f"callback refused: {problem}")
    body = json.dumps(job.body, separators=(",", ":"), ensure_ascii=False).encode()
    stamp = str(int(real_clock.now().timestamp()))
    headers = {"Content-Type": "application/json", "User-Agent": f"onethread/{__version__}",
               "X-Onethread-Event-Id": job.event_id, "X-Onethread-Event-Type": job.event_type,
               "X-Onethread-Delivery": job.delivery_id, "X-Onethread-Attempt": str(job.attempt),
               "X-Onethread-Timestamp": stamp, "X-Onethread-Signature": rules.signature(job.secret, stamp, body)}
    return network.post(callback, addresses[0], body, headers, settings.webhook_timeout_seconds)


def finish(session: Session, clock: Clock, delivery_id: str, answer: network.Answer, max_attempts: int) -> str:
    """Record an attempt: ``delivered``, ``retry`` (due again after the backoff) or ``dead``."""
    row = session.get(EventDelivery, delivery_id, with_for_update=True)
    now = clock.now()
    if row is None or row.delivered_at is not None:
        return "delivered"  # another worker took over the lapsed claim and got there first
    row.attempts += 1
    row.last_status = answer.status
    row.claimed_at = row.claimed_by = None
    if answer.error is None:
        row.delivered_at = now
        return "delivered"
    row.last_error = answer.error
    if row.attempts >= max_attempts:
        row.dead_at = now
        log.warning("delivery %s of %s is dead after %d attempts: %s", row.id, row.event_type, row.attempts,
                    answer.error)
        return "dead"
    row.available_at = now + rules.backoff(row.attempts)
    return "retry"
