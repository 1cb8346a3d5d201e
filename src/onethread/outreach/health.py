"""Channel health: every inbound and outbound channel's last success, last error, lag and backlog.

The worker reports each poll and each send here (``report``). A channel turns red when its last
attempt failed or when it has been silent longer than expected; it turns green by itself on the
next success. Each turn is an event (``channel.red`` / ``channel.green``) that the admins'
alerting subscribes to, and a warning in the worker's log; the supervisor view shows the board.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onethread.access.rules import INTEGRATION, Principal
from onethread.db.outbox import record_event
from onethread.db.session import settings_of
from onethread.interactions.rules import Direction
from onethread.kernel.clock import Clock
from onethread.models import ChannelHealth, OutboundMessage
from onethread.outreach import rules
from onethread.outreach.events import ChannelGreen, ChannelRed

log = logging.getLogger("onethread.channels")
HEARD_EVERY = timedelta(minutes=1)
KEEP = object()  # report(): leave the expected interval as it is

# The channels onethread has, whether or not they are configured (a missing one is shown as off).
KNOWN = {"smtp": ("smtp", "outbound"), "sms": ("sms", "outbound"), "social": ("social", "inbound"),
         "telephony": ("telephony", "inbound")}


def _row(session: Session, name: str, kind: str, direction: str, now: datetime) -> ChannelHealth:
    row = session.get(ChannelHealth, name, with_for_update=True, populate_existing=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(ChannelHealth(name=name, kind=kind, direction=direction, waiting=0, state="green",
                                          updated_at=now))
                session.flush()
        except IntegrityError:
            pass  # another worker created it first
        row = session.get(ChannelHealth, name, with_for_update=True, populate_existing=True)
    return row


def report(session: Session, clock: Clock, *, name: str, kind: str, direction: str, error: str | None = None,
           activity: bool = False, waiting: int | None = None,
           expected_every: int | object | None = KEEP) -> ChannelHealth:
    """One attempt on a channel: a success (``error`` None) or a failure saying what went wrong."""
    now = clock.now()
    row = _row(session, name, kind, direction, now)
    if error is None:
        row.last_success_at = now
    else:
        row.last_error_at, row.last_error = now, error[:2000]
    if activity:
        row.last_activity_at = now
    if waiting is not None:
        row.waiting = waiting
    if expected_every is not KEEP:  # None: silence is not judged
        row.expected_every_seconds = expected_every
    row.updated_at = now
    _turn(session, row, now)
    return row


def heard_from(session: Session, clock: Clock, *, name: str, kind: str, expected_every: int | None) -> None:
    """An inbound channel that pushes to us (the social webhook, telephony events) delivered
    something: a success on the board. Written at most once a minute while the channel is green, so
    a burst of deliveries does not queue on the board's row; silence past ``expected_every`` (when
    set) turns it red, like a mailbox."""
    now = clock.now()
    row = session.get(ChannelHealth, name)
    if row is not None and row.state == "green" and row.last_success_at is not None \
            and now - row.last_success_at < HEARD_EVERY and row.expected_every_seconds == expected_every:
        return
    report(session, clock, name=name, kind=kind, direction=Direction.INBOUND, activity=True,
           expected_every=expected_every)


def call_started(session: Session, clock: Clock, actor: Principal, *, channel: str, external_id: str | None,
                 expected_every: int | None) -> None:
    """A call session started by the telephony platform itself (an integration token naming its
    call id) is telephony speaking; an agent typing a call in by hand is not."""
    if actor.role == INTEGRATION and channel == "phone" and external_id:
        heard_from(session, clock, name="telephony", kind="telephony", expected_every=expected_every)


def _turn(session: Session, row: ChannelHealth, now: datetime) -> None:
    judged = judge(row, now)
    if judged.state == row.state:
        return
    row.state, row.changed_at = judged.state, now
    if judged.state == "red":
        log.error("channel %s is red: %s", row.name, judged.why)
    else:
        log.warning("channel %s is green again: %s", row.name, judged.why)
    turned = ChannelRed if judged.state == "red" else ChannelGreen
    record_event(session, turned(occurred_at=now, aggregate_id=row.name[:26], channel=row.name, kind=row.kind,
                                 state=judged.state, why=judged.why))


def judge(row: ChannelHealth, now: datetime) -> rules.Health:
    return rules.judge(now=now, last_success=row.last_success_at, last_error=row.last_error_at, error=row.last_error,
                       expected_every=row.expected_every_seconds, last_activity=row.last_activity_at)


@dataclass(frozen=True)
class ChannelView:
    name: str
    kind: str
    direction: str
    state: str  # green | red | off
    why: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    lag_seconds: int | None
    waiting: int

    def as_dict(self) -> dict:
        def iso(d):
            return (d.isoformat() if d else None)
        return {"name": self.name, "kind": self.kind, "direction": self.direction, "state": self.state,
                "why": self.why, "lastSuccessAt": iso(self.last_success_at), "lastErrorAt": iso(self.last_error_at),
                "lastError": self.last_error, "lagSeconds": self.lag_seconds, "waiting": self.waiting}


def board(session: Session, clock: Clock) -> list[ChannelView]:
    """Every channel as it is now (silence is judged at read time too), the configured ones first."""
    now = clock.now()
    rows = {r.name: r for r in session.scalars(select(ChannelHealth))}
    waiting = dict(session.execute(select(OutboundMessage.channel, func.count()).where(
        OutboundMessage.status.in_(("queued", "sending"))).group_by(OutboundMessage.channel)).all())
    views = []
    for row in sorted(rows.values(), key=lambda r: (r.direction, r.name)):
        judged = judge(row, now)
        pending = waiting.get("email", 0) if row.kind == "smtp" else waiting.get("sms", 0) if row.kind == "sms" \
            else row.waiting
        views.append(ChannelView(row.name, row.kind, row.direction, judged.state, judged.why, row.last_success_at,
                                 row.last_error_at, row.last_error, judged.lag_seconds, pending))
    seen = {r.kind for r in rows.values()}
    settings = settings_of(session)
    for kind, (k, direction) in KNOWN.items():
        if k in seen:
            continue
        configured = {"smtp": settings.smtp_host, "sms": settings.sms_provider != "none",
                      "social": settings.social_webhook_secret, "telephony": None}[kind]
        why = "configured, not used yet" if configured else "not configured"
        views.append(ChannelView(kind, k, direction, "off" if not configured else "green", why, None, None, None,
                                 None, waiting.get("email" if kind == "smtp" else kind, 0)))
    if "imap" not in seen and settings.imap_host is None:
        views.append(ChannelView("imap", "imap", "inbound", "off", "not configured", None, None, None, None, 0))
    return views


def channels_ready(session: Session, clock: Clock) -> tuple[bool, list[dict]]:
    """The channels part of readiness (``/readyz``): ready unless a configured channel is red."""
    views = board(session, clock)
    return all(v.state != "red" for v in views), [v.as_dict() for v in views]
