"""Flags on a customer that change how they are served (fraud). A fraud flag is set only by an
approved four-eyes request (``decisions.approvals``), which passes its id; clearing one is recorded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.models import CustomerFlag

KINDS = ("fraud",)
LABELS = {"fraud": "Flagged for fraud"}


def _event(session: Session, clock: Clock, actor: Principal, type_: str, flag: CustomerFlag, title: str,
           detail: str | None, **payload) -> None:
    record_event(session, DomainEvent(
        type=type_, occurred_at=clock.now(), aggregate_type="customer_flag", aggregate_id=flag.id,
        customer_id=flag.customer_id,
        payload={"actor": actor.id, "actorName": actor.name, "kind": flag.kind, "timelineTitle": title,
                 "timelineDetail": detail, **payload}))


def active_flags(session: Session, customer_id: str) -> list[CustomerFlag]:
    return list(session.scalars(select(CustomerFlag).where(CustomerFlag.customer_id == customer_id,
                                                           CustomerFlag.cleared_at.is_(None))
                                .order_by(CustomerFlag.set_at)))


def set_flag(session: Session, clock: Clock, actor: Principal, *, customer_id: str, kind: str, reason: str,
             approval_id: str | None) -> CustomerFlag:
    get_customer(session, customer_id)
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if not (reason or "").strip():
        raise ValidationFailed("say why the customer is flagged", field="reason")
    if any(f.kind == kind for f in active_flags(session, customer_id)):
        raise Conflict(f"the customer is already {LABELS[kind].lower()}")
    flag = CustomerFlag(customer_id=customer_id, kind=kind, reason=reason.strip(), set_at=clock.now(),
                        set_by=actor.id, approval_id=approval_id)
    session.add(flag)
    session.flush()
    _event(session, clock, actor, "customer.flagged", flag, LABELS[kind], flag.reason, approvalId=approval_id)
    return flag


def clear_flag(session: Session, clock: Clock, actor: Principal, flag_id: str, *, reason: str) -> CustomerFlag:
    flag = session.get(CustomerFlag, flag_id)
    if flag is None:
        raise NotFound(f"no customer flag {flag_id}")
    if flag.cleared_at is not None:
        raise Conflict("the flag is already cleared")
    if not (reason or "").strip():
        raise ValidationFailed("say why the flag is cleared", field="reason")
    flag.cleared_at, flag.cleared_by = clock.now(), actor.id
    session.flush()
    _event(session, clock, actor, "customer.flag_cleared", flag, f"{LABELS[flag.kind]}: flag cleared",
           reason.strip())
    return flag
