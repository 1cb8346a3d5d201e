"""Four-eyes requests as the agent desktop lists them on a case and a customer's 360: the
requests' own fields (action, status, who asked and decided, when), never their evidence, which
is read (and audited) on the request's own page. The page that shows these lists has already
audited its read of the customer."""

from __future__ import annotations

from sqlalchemy import case as when
from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.decisions.approval_rules import ApprovalStatus
from onethread.models import ApprovalRequest

LIMIT = 100


def for_case(session: Session, case_id: str) -> list[ApprovalRequest]:
    """The requests made on a case, oldest first."""
    return list(session.scalars(select(ApprovalRequest).where(ApprovalRequest.case_id == case_id)
                                .order_by(ApprovalRequest.requested_at, ApprovalRequest.id).limit(LIMIT)))


def for_customer(session: Session, customer_id: str) -> list[ApprovalRequest]:
    """A customer's requests: those still waiting first, then the newest decided."""
    waiting = when((ApprovalRequest.status == ApprovalStatus.PENDING, 0), else_=1)
    return list(session.scalars(select(ApprovalRequest).where(ApprovalRequest.customer_id == customer_id)
                                .order_by(waiting, ApprovalRequest.requested_at.desc(), ApprovalRequest.id.desc())
                                .limit(LIMIT)))


def waiting_for(session: Session, *, staff_id: str, role: str) -> list[ApprovalRequest]:
    """Pending requests this person may decide (their role is asked for; not their own), oldest first."""
    pending = session.scalars(select(ApprovalRequest).where(ApprovalRequest.status == ApprovalStatus.PENDING)
                              .order_by(ApprovalRequest.requested_at, ApprovalRequest.id).limit(LIMIT))
    return [r for r in pending if role in (r.required_roles or []) and r.requested_by != staff_id]
