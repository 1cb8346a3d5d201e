"""Customer 360 and the timeline page: latency of ``GET /api/v1/customers/{id}/360`` and of
``GET /api/v1/customers/{id}/timeline`` for random customers and long-tail ones (thousands of
contacts), against a real server; the floor is the same reads, and the audit row each read
writes, as raw SQL."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import UTC, datetime

from bench.harness import Result, load, timed
from onethread.kernel.ids import new_id

READS = [
    "SELECT c.id, c.name, c.status, c.customer_since, p.given_name, p.family_name FROM customer c "
    "JOIN party p ON p.id = c.party_id WHERE c.id = {p}",
    "SELECT i.kind, i.value, h.valid_from FROM identifier_holding h JOIN identifier i ON i.id = h.identifier_id "
    "WHERE h.customer_id = {p} AND h.valid_to IS NULL",
    "SELECT id, account_number, currency FROM billing_account WHERE customer_id = {p}",
    "SELECT id, kind, name, status, price_minor, currency FROM product WHERE customer_id = {p}",
    "SELECT id, title, owner_id, status FROM case_file WHERE customer_id = {p} AND status <> 'closed'",
    "SELECT id, occurred_at, kind, channel, title, detail FROM timeline_entry WHERE customer_id = {p} "
    "ORDER BY occurred_at DESC, id DESC LIMIT 20",
]
TIMELINE_READS = [
    "SELECT id, status FROM customer WHERE id = {p}",
    "SELECT id, occurred_at, kind, channel, title, detail, actor_name, ref_type, ref_id FROM timeline_entry "
    "WHERE customer_id = {p} ORDER BY occurred_at DESC, id DESC LIMIT 51",
]
AUDIT = ("INSERT INTO audit_entry (id, at, actor_type, actor_id, actor_name, action, resource_type, resource_id, "
         "customer_id, channel, purpose, detail) VALUES ({})")
PATHS = {"360": "/api/v1/customers/{}/360", "timeline": "/api/v1/customers/{}/timeline?limit=50"}


def targets(ids: list[str], long_tail: str | list[str], count: int, seed: int = 5) -> list[str]:
    """One request in ten is for a long-tail customer, the rest for random customers."""
    rng = random.Random(seed)
    tails = [long_tail] if isinstance(long_tail, str) else list(long_tail)
    return [tails[(k // 10) % len(tails)] if k % 10 == 0 and tails else rng.choice(ids) for k in range(count)]


def http(base: str, headers: dict, ids: list[str], long_tail, count: int, concurrency: int,
         what: str = "360", max_seconds: float | None = None) -> Result:
    reqs = [("GET", PATHS[what].format(cid), None, ("customerId", cid)) for cid in targets(ids, long_tail, count)]
    return load(f"{'customer 360' if what == '360' else 'timeline page'} (HTTP)", base, headers, reqs, concurrency,
                max_seconds)


def floor(url: str, ids: list[str], long_tail, count: int, concurrency: int, what: str = "360",
          max_seconds: float | None = None) -> Result:
    items = targets(ids, long_tail, count)
    reads = READS if what == "360" else TIMELINE_READS
    local = threading.local()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]

        def one(cid: str) -> None:
            if not hasattr(local, "conn"):
                local.conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            conn = local.conn
            conn.execute("BEGIN IMMEDIATE")  # the read writes its audit row, as onethread's does
            for sql in reads:
                conn.execute(sql.format(p="?"), (cid,)).fetchall()
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
            conn.execute(AUDIT.format(", ".join("?" * 12)), (new_id(), now, "token", "bench", "bench", "read",
                                                              "customer", cid, cid, "api", what, "{}"))
            conn.execute("COMMIT")
    else:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")

        def one(cid: str) -> None:
            if not hasattr(local, "conn"):
                local.conn = psycopg.connect(dsn)
            with local.conn.transaction():
                cur = local.conn.cursor()
                for sql in reads:
                    cur.execute(sql.format(p="%s"), (cid,))
                    cur.fetchall()
                cur.execute(AUDIT.format(", ".join(["%s"] * 12)), (new_id(), datetime.now(UTC), "token", "bench",
                                                                    "bench", "read", "customer", cid, cid, "api", what,
                                                                    "{}"))

    name = "customer 360" if what == "360" else "timeline page"
    return timed(f"{name} floor (raw SQL)", items, one, concurrency, max_seconds)
