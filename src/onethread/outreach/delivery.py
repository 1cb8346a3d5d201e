"""The worker sends what is queued, exactly once.

Each message goes through three transactions:

1. **claim**: a conditional ``UPDATE`` moves it from queued to sending (two workers never both
   win it), counts the attempt and asks the guard again (the record may have changed since it
   was queued: a complaint opened, a preference recorded). Committed before anything leaves.
2. **send**: outside any transaction, one attempt on its channel.
3. **record**: sent, back to queued with backoff, failed (after ``max_attempts`` or a permanent
   refusal), or held when the outcome is in doubt; only if the claim is still ours.

A message found still sending after ``rules.CLAIM_LEASE`` belongs to a worker that died between
2 and 3: it may have gone out, so it is held for a person, never sent again automatically. The
same holds when the SMTP server dropped the connection after the message was handed over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from onethread.config import Settings
from onethread.interactions.rules import Direction
from onethread.kernel.clock import Clock
from onethread.models import ChannelHealth, LetterDocument, OutboundMessage
from onethread.outreach import health, rules, service, sms, smtp

log = logging.getLogger("onethread.outreach")
ACTOR = "onethread outbox"
PROBE_EVERY = timedelta(minutes=1)  # an idle SMTP channel known to be green is checked this often


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    suppressed: int = 0
    in_doubt: int = 0
    waiting: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.sent or self.retried or self.failed or self.held or self.suppressed or self.in_doubt)

    def summary(self) -> str:
        return (f"{self.sent} sent, {self.retried} to retry, {self.failed} failed, {self.held} held, "
                f"{self.suppressed} suppressed, {self.in_doubt} in doubt")


def smtp_config(settings: Settings) -> smtp.SmtpConfig | None:
    if not settings.smtp_host:
        return None
    return smtp.SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
                           user=settings.smtp_user, password=settings.smtp_password,
                           timeout=settings.smtp_timeout_seconds)


def _ready_channels(settings: Settings) -> list[str]:
    ready = ["letter"]
    if settings.smtp_host:
        ready.append("email")
    if settings.sms_provider != "none":
        ready.append("sms")
    return ready


def _due(session: Session, now: datetime, channels: list[str], limit: int) -> list[str]:
    return list(session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.status == "queued", OutboundMessage.next_attempt_at <= now,
                                         OutboundMessage.channel.in_(channels))
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id).limit(limit)))


def _release_stale(sessions: sessionmaker[Session], clock: Clock, report: SendReport) -> None:
    """Claims whose worker died between sending and recording: the outcome is in doubt."""
    now = clock.now()
    with sessions() as session, session.begin():
        stale = session.scalars(select(OutboundMessage).where(
            OutboundMessage.status == "sending", OutboundMessage.claimed_at < now - rules.CLAIM_LEASE)
            .with_for_update(skip_locked=True)).all()
        for message in stale:
            why = (f"the worker {message.claimed_by} stopped while sending it (claimed "
                   f"{message.claimed_at:%Y-%m-%d %H:%M} UTC): it may have gone out; a person checks before it "
                   "is sent again")
            message.verdict, message.claimed_by = rules.HOLD, None
            service.set_status(session, message, "held", now, actor_name=ACTOR,
                               reason=rules.Reason("OUTCOME_UNKNOWN", why))
            report.in_doubt += 1


def _claim(session: Session, clock: Clock, message_id: str, worker: str) -> OutboundMessage | None:
    now = clock.now()
    won = session.execute(
        update(OutboundMessage).where(OutboundMessage.id == message_id, OutboundMessage.status == "queued",
                                      OutboundMessage.next_attempt_at <= now)
        .values(status="sending", claimed_by=worker, claimed_at=now, attempts=OutboundMessage.attempts + 1,
                updated_at=now).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        return None
    return session.get(OutboundMessage, message_id, populate_existing=True)


def _guard_again(session: Session, clock: Clock, message: OutboundMessage, report: SendReport) -> bool:
    """False when the record now says it must not go (it is suppressed or held instead)."""
    if message.purpose not in rules.PROMOTIONAL or service.released(message):
        return True
    verdict = service.evaluate_now(session, clock, message)
    if verdict.verdict == rules.SEND:
        return True
    message.verdict, message.claimed_by = verdict.verdict, None
    first = verdict.reasons[0]
    service.set_status(session, message, verdict.status, clock.now(), actor_name=ACTOR,
                       reason=rules.Reason(first.code, f"at sending: {first.reason}"))
    if verdict.verdict == rules.SUPPRESS:
        report.suppressed += 1
    else:
        report.held += 1
    return False


@dataclass(frozen=True)
class _Prepared:
    id: str
    channel: str
    email: object | None = None  # EmailMessage
    sms_to: str | None = None
    sms_text: str | None = None


def _prepare(session: Session, settings: Settings, clock: Clock, message: OutboundMessage) -> _Prepared:
    if message.channel == "email":
        docs = {d.id: d for d in session.scalars(select(LetterDocument).where(
            LetterDocument.message_id == message.id))}
        attachments = [smtp.Attachment(a["filename"], a["contentType"], docs[a["documentId"]].content)
                       for a in message.attachments or [] if a.get("documentId") in docs]
        email = smtp.build(sender=settings.mail_from, to=message.to_address or "",
                           cc=[c["address"] for c in message.cc or [] if c.get("address")],
                           subject=message.subject or "", body=message.body, message_id=message.message_id,
                           date=clock.now(), in_reply_to=message.in_reply_to, references=message.references,
                           attachments=attachments)
        return _Prepared(message.id, "email", email=email)
    if message.channel == "sms":
        return _Prepared(message.id, "sms", sms_to=message.to_address, sms_text=message.body)
    return _Prepared(message.id, "letter")


def _attempt(settings: Settings, prepared: _Prepared) -> rules.Outcome:
    if prepared.channel == "email":
        config = smtp_config(settings)
        return smtp.send(config, prepared.email)
    if prepared.channel == "sms":
        return sms.provider(settings).send(prepared.id, prepared.sms_to or "", prepared.sms_text or "")
    return rules.Outcome("sent", "in the print queue: it goes out with the next print batch")


def _record(session: Session, clock: Clock, message_id: str, worker: str, outcome: rules.Outcome,
            report: SendReport) -> bool:
    """The attempt's outcome, if the claim is still this worker's; False when it was not."""
    message = session.scalar(select(OutboundMessage).where(
        OutboundMessage.id == message_id, OutboundMessage.status == "sending",
        OutboundMessage.claimed_by == worker).with_for_update())
    if message is None:
        return False
    now = clock.now()
    status = rules.after_attempt(outcome, message.attempts, message.max_attempts)
    message.claimed_by = None
    if outcome.provider_ref:
        message.provider_ref = outcome.provider_ref
    if status == "queued":
        message.next_attempt_at = now + rules.backoff(message.attempts)
        message.status, message.last_error, message.updated_at = "queued", outcome.detail[:2000], now
        report.retried += 1
        return True
    reason = {"sent": rules.Reason("SENT", outcome.detail),
              "failed": rules.Reason("FAILED", f"after {message.attempts} attempt(s): {outcome.detail}"),
              "held": rules.Reason("OUTCOME_UNKNOWN", outcome.detail + "; a person checks before it is sent again")
              }[status]
    if status == "held":
        message.verdict = rules.HOLD
        report.in_doubt += 1
    elif status == "failed":
        report.failed += 1
    else:
        report.sent += 1
    service.set_status(session, message, status, now, actor_name=ACTOR, reason=reason,
                       error=outcome.detail if status != "sent" else None)
    return True


def _report_health(sessions: sessionmaker[Session], clock: Clock, settings: Settings, channel: str,
                   outcome: rules.Outcome) -> None:
    if channel == "letter":
        return
    name = smtp_config(settings).name if channel == "email" else f"sms:{settings.sms_provider}"
    ok = outcome.kind in ("sent", "unknown") or (outcome.kind == "failed" and channel == "email")
    with sessions() as session, session.begin():
        health.report(session, clock, name=name, kind="smtp" if channel == "email" else "sms",
                      direction=Direction.OUTBOUND, error=None if ok else outcome.detail,
                      activity=outcome.kind == "sent")


def send_due(sessions: sessionmaker[Session], clock: Clock, settings: Settings, *, worker: str,
             limit: int | None = None) -> SendReport:
    """One pass: release stale claims, then claim, send and record up to ``limit`` due messages."""
    report = SendReport()
    _release_stale(sessions, clock, report)
    channels = _ready_channels(settings)
    with sessions() as session:
        due = _due(session, clock.now(), channels, limit or settings.outreach_batch_size)
    for message_id in due:
        with sessions() as session, session.begin():
            message = _claim(session, clock, message_id, worker)
            if message is None or not _guard_again(session, clock, message, report):
                continue
            prepared = _prepare(session, settings, clock, message)
        outcome = _attempt(settings, prepared)
        if outcome.kind != "sent":
            log.warning("message %s (%s): %s: %s", message_id, prepared.channel, outcome.kind, outcome.detail)
        with sessions() as session, session.begin():
            _record(session, clock, message_id, worker, outcome, report)
        _report_health(sessions, clock, settings, prepared.channel, outcome)
    if settings.smtp_host and not any(True for _ in due):
        _probe_idle(sessions, clock, settings)
    return report


def _probe_idle(sessions: sessionmaker[Session], clock: Clock, settings: Settings) -> None:
    """Nothing to send: still find out whether the SMTP server is there (a stopped server turns
    the channel red before a customer's message waits on it; a restarted one turns it green)."""
    config = smtp_config(settings)
    with sessions() as session:
        row = session.get(ChannelHealth, config.name)
        if row is not None and row.state == "green" and row.last_success_at is not None \
                and clock.now() - row.last_success_at < PROBE_EVERY:
            return  # known good a moment ago: no connection to the relay on every pass
    problem = smtp.probe(config)
    with sessions() as session, session.begin():
        health.report(session, clock, name=config.name, kind="smtp", direction=Direction.OUTBOUND, error=problem)

