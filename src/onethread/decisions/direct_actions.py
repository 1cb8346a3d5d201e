"""Drastic actions asked for directly, from any channel (a page, onethread's API, a TMF route): four
eyes is checked here, once, so no entry point can go around it by forgetting to ask.

Closing a complaint without the customer's confirmation, and terminating a line the customer did
not ask to end, need a second person's approval (``approvals``); an approved request carries the
action out itself, through ``cases.close`` / ``inventory.change_status``, not through here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases import service as cases
from onethread.decisions import approvals
from onethread.inventory import service as inventory
from onethread.kernel.clock import Clock
from onethread.models import Case, Product


def close_case(session: Session, clock: Clock, actor: Principal, case_id: str, *, outcome: str,
               customer_confirmed: bool) -> Case:
    """Close a case with its outcome; a complaint the customer has not confirmed is refused (409)
    naming the approval route."""
    approvals.refuse_direct_close(session, case_id, customer_confirmed=customer_confirmed)
    return cases.close(session, clock, actor, case_id, outcome=outcome, customer_confirmed=customer_confirmed)


def change_product_status(session: Session, clock: Clock, actor: Principal, product: Product, to_status: str, *,
                          at: datetime | None = None, channel: str | None = None,
                          reason: str | None = None) -> Product:
    """Change a product's status; a termination that is not the customer's own request (channel and
    reason) is refused (409) naming the approval route."""
    approvals.refuse_direct_termination(product, to_status, channel=channel, reason=reason)
    return inventory.change_status(session, clock, actor, product, to_status, at=at, channel=channel, reason=reason)
