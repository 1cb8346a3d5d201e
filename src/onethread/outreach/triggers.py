"""Messages that events cause: the standard retention letter when a line ends.

Event handlers (registered in ``bootstrap``), run in the transaction of the change. The guard
decides whether the letter may go (S4: not to a customer who just spent more, or still has
other products); the letter is queued, held or suppressed with its reasons either way.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onethread.access.rules import SYSTEM
from onethread.kernel.clock import SettableClock
from onethread.kernel.events import DomainEvent
from onethread.models import Product
from onethread.outreach import letters, service

LINES = frozenset({"mobile_line", "data_sim", "fibre", "broadband"})  # a handset ending is no disconnection


def retention_on_termination(session: Session, event: DomainEvent) -> None:
    product = session.get(Product, event.aggregate_id)
    if product is None or product.kind not in LINES or event.customer_id is None:
        return
    service.queue(session, SettableClock(event.occurred_at), SYSTEM, customer_id=event.customer_id, channel="letter",
                  purpose="retention", template="retention", send_key=f"retention:{product.id}",
                  trigger={"kind": "line_disconnected", "productId": product.id, "event": event.type},
                  context={"product_name": product.name, "ended_on": product.terminated_at or event.occurred_at,
                           "monthly_price": letters.Money(product.price_minor, product.currency)})
