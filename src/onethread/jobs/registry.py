"""The periodic sweeps and channel pollers, listed explicitly.

A sweep is ``sweep(session, clock) -> rows handled``: the case clocks (SLA, regulator,
tasks, commitments) and the replacement of owners who are away.

A poller reads a channel that cannot push to us (an IMAP mailbox) and manages its own
transactions; ``pollers(container)`` builds the ones whose settings are present.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from onethread.bootstrap import Container
from onethread.cases import clocks, handover_service, proactive, triage_sweep
from onethread.interactions.channels import imap
from onethread.kernel.clock import Clock

Sweep = Callable[[Session, Clock], int]

SWEEPS: list[tuple[str, Sweep]] = [
    ("case clocks", lambda session, clock: clocks.sweep(session, clock).fired),
    ("away owners", handover_service.replace_away_owners),
    ("triage clocks", triage_sweep.sweep),
    ("proactive contact", proactive.sweep),
]

# For each timer table: the earliest row due at or before a given instant. The manual clock
# steps through these so that moving it by weeks fires everything at its own due time.
NextDue = Callable[[Session, datetime], datetime | None]
NEXT_DUE: list[tuple[str, NextDue]] = [
    ("case clocks", clocks.next_due),
    ("triage clocks", triage_sweep.next_due),
]


class PollResult(Protocol):
    @property
    def changed(self) -> bool:
        """Whether the poll stored, skipped or reset anything (worth a log line)."""
        ...

    def summary(self) -> str: ...


Poller = Callable[[], PollResult]


def _mailbox(c: Container) -> imap.MailboxConfig:
    s = c.settings
    return imap.MailboxConfig(host=s.imap_host or "", port=s.imap_port, ssl=s.imap_ssl, user=s.imap_user or "",
                              password=s.imap_password or "", mailbox=s.imap_mailbox, batch_size=s.imap_batch_size)


def channel_name(c: Container, poller: str) -> str:
    """The channel a poller reads, as the channel board names it (the mailbox, for IMAP)."""
    return _mailbox(c).key if poller == "imap" else poller


def pollers(c: Container) -> list[tuple[str, Poller]]:
    """The channel pollers to run each worker pass: one per configured channel (none by default)."""
    found: list[tuple[str, Poller]] = []
    if c.settings.imap_host:
        config = _mailbox(c)
        found.append(("imap", lambda: imap.poll(c.sessions, c.clock, config)))
    return found
