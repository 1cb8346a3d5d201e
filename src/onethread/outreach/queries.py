"""Reads of outbound messages and letters. What we wrote to a customer is personal data: every
read is audited (``access.audit``)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.errors import NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.kernel.ids import new_id
from onethread.models import Case, Customer, LetterDocument, OutboundMessage
from onethread.outreach import rules


def read_message(session: Session, clock: Clock, actor: Principal, message_id: str, *,
                 channel: str | None = None) -> OutboundMessage:
    message = session.get(OutboundMessage, message_id)
    if message is None:
        raise NotFound(f"no communication message {message_id}")
    access.audit(session, clock, actor, action="read", resource_type="outbound_message", resource_id=message.id,
                 customer_id=message.customer_id, channel=channel)
    return message


def list_messages(session: Session, clock: Clock, actor: Principal, *, offset: int, limit: int,
                  customer_id: str | None = None, case_id: str | None = None, status: str | None = None,
                  channel: str | None = None) -> tuple[list[OutboundMessage], int]:
    """Newest first; one audit row per customer whose messages are shown."""
    if status is not None and status not in rules.STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    query = select(OutboundMessage)
    if customer_id is not None:
        query = query.where(OutboundMessage.customer_id == customer_id)
    if case_id is not None:
        if session.get(Case, case_id) is None:
            raise NotFound(f"no case {case_id}")
        query = query.where(OutboundMessage.case_id == case_id)
    if status is not None:
        query = query.where(OutboundMessage.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
                                .offset(offset).limit(limit)))
    for cid in sorted({m.customer_id for m in rows}):
        ids = [m.id for m in rows if m.customer_id == cid]
        access.audit(session, clock, actor, action="read", resource_type="outbound_message",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=cid, channel=channel,
                     purpose="list", detail={"messageIds": ids})
    return rows, total


def names(session: Session, customer_ids: set[str]) -> dict[str, str]:
    if not customer_ids:
        return {}
    return dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))).all())


def read_letter(session: Session, clock: Clock, actor: Principal, document_id: str, *, channel: str | None = None,
                may_see=None) -> LetterDocument:
    """A letter's PDF; ``may_see(customer_id)`` limits it to the letters a portal user may see."""
    doc = session.get(LetterDocument, document_id)
    if doc is None or (may_see is not None and not may_see(doc.customer_id)):
        raise NotFound(f"no letter {document_id}")
    access.audit(session, clock, actor, action="read", resource_type="letter", resource_id=doc.id,
                 customer_id=doc.customer_id, channel=channel)
    return doc


def letters_of(session: Session, customer_id: str) -> list[LetterDocument]:
    return list(session.scalars(select(LetterDocument).where(LetterDocument.customer_id == customer_id)
                                .order_by(LetterDocument.created_at.desc())))


@dataclass(frozen=True)
class PrintBatch:
    id: str
    count: int
    archive: bytes


def print_batch(session: Session, clock: Clock, actor: Principal) -> PrintBatch:
    """Every postal letter not printed yet, as one ZIP (the PDFs and a manifest), marked as in this
    batch (a set-based UPDATE, so two people exporting at once never print a letter twice)."""
    batch_id = new_id()
    session.execute(update(LetterDocument).where(
        LetterDocument.postal.is_(True), LetterDocument.print_batch_id.is_(None),
        LetterDocument.message_id.in_(select(OutboundMessage.id).where(
            OutboundMessage.status.in_(("sent", "delivered"))))).values(print_batch_id=batch_id)
        .execution_options(synchronize_session=False))
    return batch_archive(session, clock, actor, batch_id, created=True)


def batch_archive(session: Session, clock: Clock, actor: Principal, batch_id: str, *,
                  created: bool = False) -> PrintBatch:
    docs = list(session.scalars(select(LetterDocument).where(LetterDocument.print_batch_id == batch_id)
                                .order_by(LetterDocument.created_at, LetterDocument.id)))
    if not docs and not created:
        raise NotFound(f"no print batch {batch_id}")
    people = names(session, {d.customer_id for d in docs})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        lines = ["document;customer;template;language;file"]
        for d in docs:
            archive.writestr(d.filename, d.content)
            lines.append(f"{d.id};{people.get(d.customer_id, '').replace(';', ',')};{d.template};{d.language};"
                         f"{d.filename}")
        archive.writestr("manifest.csv", "\n".join(lines) + "\n")
    for cid in sorted({d.customer_id for d in docs}):
        access.audit(session, clock, actor, action="read", resource_type="letter", resource_id=None, customer_id=cid,
                     purpose="print batch", detail={"batchId": batch_id})
    return PrintBatch(batch_id, len(docs), buffer.getvalue())
