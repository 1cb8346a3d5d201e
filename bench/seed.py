"""Bulk seed for benchmarks: customers with a phone number each, and a long-tail customer
with thousands of contacts on the timeline. Core bulk inserts, not the services: this is
setup, not what is measured."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, insert

from onethread.config import Settings
from onethread.kernel.ids import new_id
from onethread.models import (
    BillingAccount,
    Contact,
    Customer,
    Identifier,
    IdentifierHolding,
    Party,
    Product,
    TimelineEntry,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CHANNELS = ["store", "phone", "email", "chat", "social", "letter", "field", "portal"]


def msisdn(i: int) -> str:
    return f"+4477{i:08d}"


def seed(url: str, customers: int, long_tail: int, seed_value: int = 7, batch: int = 2000) -> dict:
    rng = random.Random(seed_value)
    engine = create_engine(Settings(database_url=url).database_url)
    ids: list[str] = []
    now = datetime.now(UTC)  # bench set-up only: the product's own code takes the injected clock
    with engine.begin() as conn:
        for start in range(0, customers, batch):
            rows = range(start, min(customers, start + batch))
            parties, custs, accounts, idents, holdings, products = [], [], [], [], [], []
            for i in rows:
                pid, cid, aid, iid, prid = new_id(), new_id(), new_id(), new_id(), new_id()
                since = date(2005, 1, 1) + timedelta(days=rng.randrange(7000))
                parties.append(dict(id=pid, kind="individual", given_name=f"Given{i}", family_name=f"Family{i}",
                                    status="validated", created_at=now, updated_at=now, version=1))
                custs.append(dict(id=cid, party_id=pid, name=f"Given{i} Family{i}", status="approved",
                                  customer_since=since, segment="consumer", created_at=now, updated_at=now,
                                  version=1))
                accounts.append(dict(id=aid, customer_id=cid, account_number=f"BENCH-{i:09d}", name="main",
                                     currency="GBP", status="active", opened_on=since, created_at=now))
                products.append(dict(id=prid, customer_id=cid, billing_account_id=aid, kind="mobile_line",
                                     name="Unlimited", status="active", price_minor=2500, currency="GBP",
                                     activated_at=T0, created_at=now, updated_at=now, version=1))
                idents.append(dict(id=iid, kind="msisdn", value=msisdn(i), created_at=now))
                holdings.append(dict(id=new_id(), identifier_id=iid, customer_id=cid, product_id=prid,
                                     valid_from=T0 - timedelta(days=rng.randrange(3000)), created_at=now))
                ids.append(cid)
            for model, data in ((Party, parties), (Customer, custs), (BillingAccount, accounts), (Product, products),
                                (Identifier, idents), (IdentifierHolding, holdings)):
                conn.execute(insert(model), data)
        tail = ids[0]
        for start in range(0, long_tail, batch):
            contacts, entries = [], []
            for k in range(start, min(long_tail, start + batch)):
                at = T0 + timedelta(minutes=37 * k)
                ch = CHANNELS[k % len(CHANNELS)]
                contact_id = new_id()
                contacts.append(dict(id=contact_id, customer_id=tail, channel=ch, direction="inbound", occurred_at=at,
                                     recorded_at=at, channel_message_id=f"tail-{k}", kind="message",
                                     text=f"long-tail message {k}", attachments=[], identifiers={},
                                     match_status="matched", thread_id=contact_id, extra={}))
                entries.append(dict(id=new_id(), customer_id=tail, occurred_at=at, kind="contact", channel=ch,
                                    title=f"{ch} message from the customer", detail=f"long-tail message {k}",
                                    ref_type="contact", ref_id=contact_id))
            conn.execute(insert(Contact), contacts)
            conn.execute(insert(TimelineEntry), entries)
    engine.dispose()
    return {"customer_ids": ids, "long_tail": ids[0]}
