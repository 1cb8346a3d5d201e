"""Ingest: contacts per second through POST /tmf-api/partyInteraction/v5/partyInteraction, with
identity resolution, the timeline entry and the outbox event, against a real server; and the
raw-SQL floor: the same resolution SELECT and the same three INSERTs per contact, in one
transaction each, at the same concurrency.

Also in batches, as a channel gateway delivers them (POST /api/v1/contact-batches), with its own
floor: one transaction a batch, one SELECT for the batch's numbers, and the three INSERTs as one
executemany each."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

from bench.harness import Result, load, timed
from bench.seed import msisdn
from onethread.kernel.ids import new_id

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def numbers(customers: int, count: int, seed: int = 11) -> list[tuple[str, int]]:
    """(number, customer index) of the seeded customers, at random."""
    rng = random.Random(seed)
    return [(msisdn(i), i) for i in (rng.randrange(customers) for _ in range(count))]


def requests(customers: int, count: int, seed: int = 11, pick: list | None = None, tag: str = "",
             at: datetime = T0) -> list:
    """``pick``: [(number, expected customer id)] to send instead of the seeded numbers (a
    generated database); ``tag`` makes the message ids of this run unique."""
    pick = pick or [(n, None) for n, _ in numbers(customers, count, seed)]
    out = []
    for k, (number, expected) in enumerate(pick[:count]):
        when = (at + timedelta(seconds=k)).isoformat()
        out.append(("POST", "/tmf-api/partyInteraction/v5/partyInteraction", {
            "@type": "OnethreadPartyInteraction",
            "direction": "inbound",
            "reason": "No signal",
            "description": f"bench contact {k}: still no signal at home",
            "interactionDate": {"startDateTime": when},
            "relatedChannel": [{"@type": "RelatedChannel", "role": "interactionChannel",
                                "channel": {"@type": "ChannelRef", "id": "phone"}}],
            "externalIdentifier": [{"@type": "ExternalIdentifier", "id": f"bench-{seed}{tag}-{k}",
                                    "externalIdentifierType": "messageId", "owner": "bench"}],
            "identifiers": {"msisdn": number},
        }, ("relatedParty.0.partyOrPartyRole.id", expected) if expected else None))
    return out


BATCH_PATH = "/api/v1/contact-batches"
_WHO = "results.*.partyInteraction.relatedParty.0.partyOrPartyRole.id"


def batch_requests(pick: list, size: int, tag: str, at: datetime = T0) -> list:
    """The same contacts as :func:`requests`, ``size`` to a request (the last one may be smaller)."""
    singles = requests(0, len(pick), pick=pick, tag=tag, at=at)
    out = []
    for k in range(0, len(singles), size):
        chunk = singles[k:k + size]
        expected = [r[3][1] if len(r) > 3 and r[3] else None for r in chunk]
        out.append(("POST", BATCH_PATH, {"partyInteraction": [r[2] for r in chunk]},
                    (_WHO, expected) if all(expected) else None))
    return out


def http(base: str, headers: dict, customers: int, count: int, concurrency: int) -> Result:
    return load("ingest (HTTP)", base, headers, requests(customers, count), concurrency)


_RESOLVE = ("SELECT h.customer_id FROM identifier_holding h JOIN identifier i ON i.id = h.identifier_id "
            "WHERE i.kind = 'msisdn' AND i.value = {p} AND h.valid_from <= {p} "
            "AND (h.valid_to IS NULL OR h.valid_to > {p})")


def _rows(k, customer_id: str, at: datetime) -> tuple[tuple, tuple, tuple]:
    cid, eid = new_id(), new_id()
    contact = (cid, customer_id, "phone", "inbound", at, at, f"floor-{k}", "message",
               f"bench contact {k}", "[]", json.dumps({"msisdn": "x"}), "matched", cid, "{}")
    outbox = (eid, "contact.recorded", "contact", cid, customer_id, json.dumps({"channel": "phone"}), at, at, 0)
    line = (new_id(), customer_id, at, "contact", "phone", "Phone message from the customer",
            f"bench contact {k}", "contact", cid, eid)
    return contact, outbox, line


def floor(url: str, customers: int, count: int, concurrency: int, seed: int = 11, pick: list | None = None,
          tag: str = "", at: datetime = T0, max_seconds: float | None = None) -> Result:
    pick = pick or [(n, None) for n, _ in numbers(customers, count, seed)]
    items = [(f"{tag}-{k}", number, at + timedelta(seconds=k)) for k, (number, _) in enumerate(pick[:count])]
    if url.startswith("sqlite"):
        return _floor_sqlite(url.split("///", 1)[1], items, concurrency, max_seconds)
    return _floor_pg(url, items, concurrency, max_seconds)


_CONTACT = ("INSERT INTO contact (id, customer_id, channel, direction, occurred_at, recorded_at, channel_message_id, "
            "kind, text, attachments, identifiers, match_status, thread_id, extra) VALUES ({})")
_OUTBOX = ("INSERT INTO outbox_event (id, type, aggregate_type, aggregate_id, customer_id, payload, occurred_at, "
           "available_at, attempts) VALUES ({})")
_LINE = ("INSERT INTO timeline_entry (id, customer_id, occurred_at, kind, channel, title, detail, ref_type, ref_id, "
         "event_id) VALUES ({})")


def _floor_pg(url: str, items: list, concurrency: int, max_seconds: float | None = None) -> Result:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    local = threading.local()

    def one(item) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(dsn)
        k, number, at = item
        with local.conn.transaction():
            cur = local.conn.cursor()
            cur.execute(_RESOLVE.format(p="%s"), (number, at, at))
            row = cur.fetchone()
            contact, outbox, line = _rows(k, row[0] if row else None, at)
            cur.execute(_CONTACT.format(", ".join(["%s"] * 14)), contact)
            cur.execute(_OUTBOX.format(", ".join(["%s"] * 9)), outbox)
            cur.execute(_LINE.format(", ".join(["%s"] * 10)), line)

    return timed("ingest floor (raw SQL)", items, one, concurrency, max_seconds)


def _floor_sqlite(path: str, items: list, concurrency: int, max_seconds: float | None = None) -> Result:
    local = threading.local()

    def one(item) -> None:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            local.conn.execute("PRAGMA journal_mode=WAL")
            local.conn.execute("PRAGMA synchronous=NORMAL")
        k, number, at = item
        naive = at.replace(tzinfo=None).isoformat(sep=" ")
        conn = local.conn
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(_RESOLVE.format(p="?"), (number, naive, naive)).fetchone()
        contact, outbox, line = _rows(k, row[0] if row else None, at)
        fix = lambda t: tuple(v.replace(tzinfo=None).isoformat(sep=" ") if isinstance(v, datetime) else v for v in t)  # noqa: E731
        conn.execute(_CONTACT.format(", ".join(["?"] * 14)), fix(contact))
        conn.execute(_OUTBOX.format(", ".join(["?"] * 9)), fix(outbox))
        conn.execute(_LINE.format(", ".join(["?"] * 10)), fix(line))
        conn.execute("COMMIT")

    return timed("ingest floor (raw SQL)", items, one, concurrency, max_seconds)


_RESOLVE_MANY = ("SELECT i.value, h.customer_id, h.valid_from, h.valid_to FROM identifier_holding h "
                 "JOIN identifier i ON i.id = h.identifier_id WHERE i.kind = 'msisdn' AND i.value = ANY(%s)")


def batch_floor(url: str, pick: list, size: int, concurrency: int, tag: str = "", at: datetime = T0,
                max_seconds: float | None = None) -> Result:
    """The batches' reads and writes as raw SQL: per batch one transaction, one SELECT of the
    holdings of its numbers (the holder at each contact's time picked from them), and the
    contacts, outbox events and timeline entries as one executemany each. PostgreSQL only
    (SQLite's floor is the per-contact one)."""
    import psycopg

    items = [(f"{tag}-{k}", number, at + timedelta(seconds=k)) for k, (number, _) in enumerate(pick)]
    batches = [items[k:k + size] for k in range(0, len(items), size)]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    local = threading.local()

    def one(batch) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(dsn)
        with local.conn.transaction():
            cur = local.conn.cursor()
            cur.execute(_RESOLVE_MANY, ([number for _, number, _ in batch],))
            held: dict[str, list] = {}
            for value, customer_id, start, end in cur.fetchall():
                held.setdefault(value, []).append((customer_id, start, end))
            rows = []
            for k, number, when in batch:
                who = [c for c, start, end in held.get(number, ()) if start <= when and (end is None or end > when)]
                rows.append(_rows(k, who[0] if len(who) == 1 else None, when))
            cur.executemany(_CONTACT.format(", ".join(["%s"] * 14)), [r[0] for r in rows])
            cur.executemany(_OUTBOX.format(", ".join(["%s"] * 9)), [r[1] for r in rows])
            cur.executemany(_LINE.format(", ".join(["%s"] * 10)), [r[2] for r in rows])

    result = timed("ingest in batches floor (raw SQL)", batches, one, concurrency, max_seconds)
    result.items_per_request = size
    return result
