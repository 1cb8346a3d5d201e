"""Typed events on a real database (SQLite and PostgreSQL): the outbox row holds the same JSON as the
bare envelopes did, and reads back as its class."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.db.outbox import OutboxEvent
from onethread.inventory import service as inventory
from onethread.inventory.events import ProductTerminated
from onethread.kernel.events import DomainEvent, parse

ENDED = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


def test_a_termination_is_stored_as_before_and_reads_back_typed(uow, clock):
    clock.set(datetime(2026, 3, 12, 15, 0, tzinfo=UTC))
    with uow() as s:
        person = customers.create_individual(s, clock, SYSTEM, given_name="Ada", family_name="Byrne")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=person.id, customer_since=date(2020, 1, 1))
        sim = inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, kind="data_sim", name="Tablet SIM",
                                    currency="GBP", activated_at=datetime(2020, 1, 1, tzinfo=UTC), region="GB")
        inventory.change_status(s, clock, SYSTEM, sim, "terminated", at=ENDED, channel="store", reason="renewal")
    with uow() as s:
        row = s.scalars(select(OutboxEvent).where(OutboxEvent.type == "product.terminated")).one()
        assert (row.aggregate_type, row.aggregate_id, row.customer_id) == ("product", sim.id, cust.id)
        assert row.payload == {
            "actor": SYSTEM.id, "kind": "data_sim", "name": "Tablet SIM", "fromStatus": "active",
            "toStatus": "terminated", "at": ENDED.isoformat(), "channel": "store", "reason": "renewal",
            "effectiveAt": ENDED.isoformat()}
        stored = DomainEvent(type=row.type, occurred_at=row.occurred_at, aggregate_type=row.aggregate_type,
                             aggregate_id=row.aggregate_id, customer_id=row.customer_id, payload=row.payload)
        typed = parse(stored, ProductTerminated)
        assert (typed.from_status, typed.to_status, typed.channel, typed.reason) == (
            "active", "terminated", "store", "renewal")
        assert typed.envelope().payload == row.payload
