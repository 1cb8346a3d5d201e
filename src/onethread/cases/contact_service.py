"""A person records a contact straight onto a case (a call they took, a letter that came in, a
note of a store visit): one contact on the customer's timeline, attached to the case."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases.items_service import open_case
from onethread.cases.service import attach_contact
from onethread.errors import Forbidden, ValidationFailed
from onethread.interactions import rules as contact_rules
from onethread.interactions import service as interactions
from onethread.interactions.rules import Direction
from onethread.kernel.channels import RECORDED_CHANNELS
from onethread.kernel.clock import Clock
from onethread.models import Contact

RECORDABLE_CHANNELS = RECORDED_CHANNELS


def record_contact(session: Session, clock: Clock, actor: Principal, case_id: str, *, channel: str, direction: str,
                   text: str, subject: str | None = None) -> Contact:
    """Record what was said, in which channel and which way, on the case (and so on the timeline)."""
    case = open_case(session, case_id)
    if actor.kind != "staff":
        raise Forbidden("a contact is recorded on a case by a named person")
    if channel not in RECORDABLE_CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(RECORDABLE_CHANNELS)}", field="channel")
    if direction not in (Direction.INBOUND, Direction.OUTBOUND):
        raise ValidationFailed("say whether the customer contacted us (inbound) or we contacted them (outbound)",
                               field="direction")
    if not (text or "").strip():
        raise ValidationFailed("say what was said", field="text")
    contact = interactions.record(session, clock, actor, interactions.Intake(
        channel=channel, direction=direction, occurred_at=clock.now(), text=text.strip(),
        subject=(subject or "").strip() or None, kind=contact_rules.default_kind(channel),
        customer_id=case.customer_id, extra={"caseId": case.id, "recordedOnCase": True})).contact
    attach_contact(session, clock, actor, case.id, contact.id)
    return contact
