"""One worker pass = poll the configured channels, run every registered sweep, deliver the outbox.

Plain functions of (container)."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from onethread.bootstrap import Container
from onethread.db import outbox
from onethread.integrations import delivery as callbacks
from onethread.interactions.rules import Direction
from onethread.jobs.registry import SWEEPS, channel_name, pollers
from onethread.outreach import campaign_send, delivery, health
from onethread.privacy import retention

log = logging.getLogger("onethread.worker")


@dataclass
class PassReport:
    delivered: int = 0
    failed: int = 0
    duplicates: int = 0
    sent: int = 0  # deliveries to hubs and webhooks answered 2xx
    send_failures: int = 0  # ... not answered 2xx (tried again later, or dead)
    sweeps: dict[str, int] = field(default_factory=dict)
    polls: dict[str, str] = field(default_factory=dict)  # poller name -> its summary, or why it failed
    polled_changes: bool = False  # some poller stored or skipped something
    poll_failures: int = 0
    outreach: str = ""  # what the sender did (outbound e-mail, letters, SMS)
    outreach_changed: bool = False
    red_channels: list[str] = field(default_factory=list)  # channels that failed in this pass

    def summary(self) -> str:
        sweeps = ", ".join(f"{k}: {v}" for k, v in self.sweeps.items()) or "no sweeps registered"
        polls = "".join(f"; {k}: {v}" for k, v in self.polls.items())
        sent = f"; outbound messages: {self.outreach}" if self.outreach_changed else ""
        red = f"; channels failing: {', '.join(self.red_channels)}" if self.red_channels else ""
        called = (f"; callbacks: {self.sent} sent, {self.send_failures} failed"
                  if self.sent or self.send_failures else "")
        return (f"outbox: {self.delivered} delivered, {self.failed} failed, {self.duplicates} already handled; "
                f"{sweeps}{polls}{sent}{called}{red}")


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"


def run_once(c: Container, worker_id: str | None = None) -> PassReport:
    worker_id = worker_id or worker_name()
    report = PassReport()
    for name, poll in pollers(c):
        try:
            result = poll()
        except Exception as exc:  # one unreachable channel must not stop sweeps and the outbox
            log.exception("%s poll failed", name)
            report.polls[name] = f"failed: {exc}"
            report.poll_failures += 1
            report.red_channels.append(channel_name(c, name))
            _health(c, name, error=f"{type(exc).__name__}: {exc}")
        else:
            report.polls[name] = result.summary()
            report.polled_changes = report.polled_changes or result.changed
            _health(c, name, activity=result.changed, waiting=getattr(result, "pending", None))
    for name, sweep in SWEEPS:
        with c.sessions() as session, session.begin():
            report.sweeps[name] = sweep(session, c.clock)
    kept = retention.worker_sweep(c.sessions, c.clock, c.settings.retention_sweep_every_seconds)
    if kept is not None and kept.total:  # runs once a day by default (docs/privacy.md)
        report.sweeps["retention"] = kept.total
    while True:
        r = outbox.deliver(c.sessions, c.subscriptions, c.clock, worker_id=worker_id,
                           limit=c.settings.outbox_batch_size, max_attempts=c.settings.outbox_max_attempts,
                           lease=timedelta(seconds=c.settings.outbox_lease_seconds))
        report.delivered += r.delivered
        report.failed += r.failed
        report.duplicates += r.skipped_duplicates
        if r.claimed < c.settings.outbox_batch_size:
            break
    queued = campaign_send.queue_due(c.sessions, c.clock)
    sent = delivery.send_due(c.sessions, c.clock, c.settings, worker=worker_id)
    report.outreach, report.outreach_changed = sent.summary(), sent.changed or queued.changed
    if queued.changed:
        report.outreach = f"{queued.summary()}; {report.outreach}"
    called = callbacks.send_due(c.sessions, c.clock, c.security_clock, c.settings, worker_id)
    report.sent, report.send_failures = called.delivered, called.failed
    with c.sessions() as session:
        report.red_channels += [v.name for v in health.board(session, c.clock)
                                if v.state == "red" and v.name not in report.red_channels]
    return report


def _health(c: Container, poller: str, *, error: str | None = None, activity: bool = False,
            waiting: int | None = None) -> None:
    """A poll's outcome on the channel board (a refused login turns the mailbox red)."""
    with c.sessions() as session, session.begin():
        health.report(session, c.clock, name=channel_name(c, poller), kind=poller, direction=Direction.INBOUND,
                      error=error, activity=activity, waiting=waiting,
                      expected_every=c.settings.channel_silence_seconds)


def run_forever(c: Container, stop: threading.Event) -> None:
    worker_id = worker_name()
    while not stop.is_set():
        try:
            report = run_once(c, worker_id)
            if (report.delivered or report.failed or any(report.sweeps.values()) or report.polled_changes
                    or report.outreach_changed or report.sent or report.send_failures):
                log.info(report.summary())
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("worker pass failed")
        stop.wait(c.settings.worker_interval_seconds)
