"""Retention: each kind of record is kept for its period (``privacy.yaml``), then anonymised or
deleted by the sweep (``onethread gdpr sweep``, and the worker once every
``ONETHREAD_RETENTION_SWEEP_EVERY_SECONDS``). Time is the injected clock's; a record's age counts
from its own time (a contact's ``occurred_at``, an audit entry's ``at``, ...). Set-based: one
statement per kind, whatever the number of rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from onethread.attachments.service import store_of
from onethread.kernel.clock import Clock
from onethread.models import Attachment, AuditEntry, Contact, LetterDocument, OutboundMessage, Verification
from onethread.privacy import rules
from onethread.privacy.service import policy_of

log = logging.getLogger("onethread.retention")

# Outbound messages still on their way are never touched, however old.
_SETTLED = ("sent", "delivered", "failed", "suppressed")


@dataclass
class SweepReport:
    at: datetime
    counts: dict[str, int] = field(default_factory=dict)  # record kind -> rows anonymised or deleted
    actions: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{k}: {v} {self.actions[k]}d" for k, v in self.counts.items()) or "nothing past its period"


def _attachments(session: Session, cutoff: datetime) -> int:
    rows = list(session.execute(select(Attachment.id, Attachment.storage_key).where(Attachment.created_at < cutoff)))
    if not rows:
        return 0
    session.execute(delete(Attachment).where(Attachment.id.in_([i for i, _ in rows])))
    keys = {key for _, key in rows}
    still = set(session.scalars(select(Attachment.storage_key).where(Attachment.storage_key.in_(keys))))
    store = store_of(session)
    for key in keys - still:
        store.delete(key)
    return len(rows)


def _sweep_kind(session: Session, kind: str, cutoff: datetime) -> int:
    if kind == "audit_entry":
        return session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff)).rowcount
    if kind == "verification":
        return session.execute(delete(Verification).where(Verification.verified_at < cutoff)).rowcount
    if kind == "letter_document":
        return session.execute(delete(LetterDocument).where(LetterDocument.created_at < cutoff)).rowcount
    if kind == "attachment":
        return _attachments(session, cutoff)
    if kind == "contact":  # anonymise: the contact stays on the timeline and its case, without its content
        return session.execute(update(Contact).where(
            Contact.occurred_at < cutoff, or_(Contact.text.is_(None), Contact.text != rules.ERASED))
            .values(subject=None, text=rules.ERASED, identifiers={}, extra={}, attachments=[])
            .execution_options(synchronize_session=False)).rowcount
    if kind == "outbound_message":
        return session.execute(update(OutboundMessage).where(
            OutboundMessage.created_at < cutoff, OutboundMessage.status.in_(_SETTLED),
            OutboundMessage.body != rules.ERASED)
            .values(to_address=None, cc=[], subject=None, body=rules.ERASED, attachments=[])
            .execution_options(synchronize_session=False)).rowcount
    raise ValueError(f"no sweep for {kind}")


def sweep(session: Session, clock: Clock) -> SweepReport:
    """Anonymise or delete what is past its period; returns the counts per record kind."""
    now = clock.now()
    report = SweepReport(at=now)
    for kind, rule in policy_of(session).retention.items():
        report.counts[kind] = _sweep_kind(session, kind, rule.cutoff(now))
        report.actions[kind] = rule.action
    return report


_last_run: WeakKeyDictionary = WeakKeyDictionary()  # sessionmaker -> when the worker last swept


def worker_sweep(sessions, clock: Clock, every_seconds: int) -> SweepReport | None:
    """The worker's turn: the sweep, if ``every_seconds`` have passed (on the injected clock) since
    this process last ran it; None when it is not due (or switched off with 0). A broken policy
    file is logged, not raised: the rest of the worker's pass goes on."""
    if every_seconds <= 0:
        return None
    now = clock.now()
    last = _last_run.get(sessions)
    if last is not None and (now - last).total_seconds() < every_seconds:
        return None
    try:
        with sessions() as session, session.begin():
            report = sweep(session, clock)
    except rules.PolicyError:
        log.exception("retention sweep skipped: the privacy policy is wrong")
        return None
    _last_run[sessions] = now
    return report
