"""Customer 360: latency of GET /api/v1/customers/{id}/360 for random customers and the long-tail
one (thousands of contacts), against a real server; the floor is the same reads as raw SQL."""

from __future__ import annotations

import random
import sqlite3
import threading

from bench.harness import Result, load, timed

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


def targets(ids: list[str], long_tail: str, count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    # one request in ten is the long-tail customer, the rest random
    return [long_tail if k % 10 == 0 else rng.choice(ids) for k in range(count)]


def http(base: str, headers: dict, ids: list[str], long_tail: str, count: int, concurrency: int) -> Result:
    reqs = [("GET", f"/api/v1/customers/{cid}/360", None) for cid in targets(ids, long_tail, count)]
    return load("customer 360 (HTTP)", base, headers, reqs, concurrency)


def floor(url: str, ids: list[str], long_tail: str, count: int, concurrency: int) -> Result:
    items = targets(ids, long_tail, count)
    local = threading.local()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]

        def one(cid: str) -> None:
            if not hasattr(local, "conn"):
                local.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for sql in READS:
                local.conn.execute(sql.format(p="?"), (cid,)).fetchall()
    else:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")

        def one(cid: str) -> None:
            if not hasattr(local, "conn"):
                local.conn = psycopg.connect(dsn, autocommit=True)
            cur = local.conn.cursor()
            for sql in READS:
                cur.execute(sql.format(p="%s"), (cid,))
                cur.fetchall()

    return timed("customer 360 floor (raw SQL)", items, one, concurrency)
