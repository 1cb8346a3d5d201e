"""Identifier resolution: latency of ``GET /api/v1/identifiers/resolve?kind=msisdn&value=...&at=...``
(who held this number at that instant, with the audit row of the read) against a real server; the
floor is the same SELECT and the same audit INSERT as raw SQL."""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from bench.harness import Result, load, timed
from bench.ingest import _RESOLVE
from onethread.kernel.ids import new_id

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def numbers(customers: int, count: int, seed: int = 13) -> list[tuple[int, str, datetime]]:
    """(customer index, number, instant): the number the seed gave that customer, asked at an instant."""
    from bench.seed import msisdn

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        i = rng.randrange(customers)
        out.append((i, msisdn(i), AT - timedelta(minutes=rng.randrange(60 * 24 * 90))))
    return out


def requests(customers: int, count: int, seed: int = 13, pick=None) -> list:
    """``pick``: optional list of (number, instant) to ask about (a generated database's numbers)."""
    items = pick or [(n, at) for _, n, at in numbers(customers, count, seed)]
    return [("GET", "/api/v1/identifiers/resolve?" + urlencode({"kind": "msisdn", "value": n, "at": at.isoformat()}),
             None) for n, at in items[:count]]


def http(base: str, headers: dict, items: list[tuple[str, datetime]], concurrency: int) -> Result:
    return load("identifier resolution (HTTP)", base, headers, requests(0, len(items), pick=items), concurrency)


_AUDIT = ("INSERT INTO audit_entry (id, at, actor_type, actor_id, actor_name, action, resource_type, resource_id, "
          "customer_id, channel, purpose, detail) VALUES ({})")


def floor(url: str, items: list[tuple[str, datetime]], concurrency: int) -> Result:
    """The same read and the audit row of it, one transaction each, at the same concurrency."""
    local = threading.local()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]

        def one(item) -> None:
            if not hasattr(local, "conn"):
                local.conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            number, at = item
            naive = at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
            conn = local.conn
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(_RESOLVE.format(p="?").replace("h.customer_id", "h.id, h.customer_id"),
                                (number, naive, naive)).fetchall()
            for _hid, cid in rows:
                conn.execute(_AUDIT.format(", ".join("?" * 12)), (new_id(), naive, "token", "bench", "bench", "read",
                                                                  "identifier", _hid, cid, "api", "resolve", "{}"))
            conn.execute("COMMIT")
    else:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")

        def one(item) -> None:
            if not hasattr(local, "conn"):
                local.conn = psycopg.connect(dsn)
            number, at = item
            with local.conn.transaction():
                cur = local.conn.cursor()
                cur.execute(_RESOLVE.format(p="%s").replace("h.customer_id", "h.id, h.customer_id"),
                            (number, at, at))
                for hid, cid in cur.fetchall():
                    cur.execute(_AUDIT.format(", ".join(["%s"] * 12)), (new_id(), at, "token", "bench", "bench",
                                                                        "read", "identifier", hid, cid, "api",
                                                                        "resolve", "{}"))

    return timed("identifier resolution floor (raw SQL)", items, one, concurrency)
