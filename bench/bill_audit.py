"""The bill audit at scale (issue 17: 10,000,000 charges audited in under 120 s on PostgreSQL on a
two-core machine), beside its raw-SQL floor in the same run.

    .venv/bin/python -m bench.bill_audit --pg-url postgresql://postgres@127.0.0.1/postgres --charges 1000000

A fresh database is migrated and filled set-based (``generate_series``): business and consumer
customers with a billing account and four products each, ten monthly bills each (May 2025 to
February 2026), one recurring charge per product and month, and usage on one product in ten each
month. The errors, in shares like a real billing feed's: 2% of products were terminated on
10 January 2026 and go on being charged (and used) after it (``BA01`` pro rata in January and whole
after, ``BA02``); one product-month in 1,000 is charged twice (``BA03``); one charge in 200 is
not the product's price (``BA04``). Then, for each round, the findings are emptied and:

- **onethread**: ``billing.audit.run`` over every charge, in a session, committed;
- **floor**: the same statement on a raw psycopg connection, committed (the audit's own
  overhead is the difference), and a **scan**: one aggregate over the same join of charge, bill
  and product (what reading every charge once costs, the floor of any set-based audit).

Prints a table and writes ``bench/results/bill-audit-postgresql.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import fresh_database
from bench.run import machine

RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MONTHS = 10  # May 2025 to February 2026
PRODUCTS = 4  # per customer


def _fill(conn, customers: int) -> int:
    now = NOW.isoformat()
    pid = "'R' || lpad((c * 4 + k)::text, 25, '0')"
    cust = "'C' || lpad(c::text, 25, '0')"
    month = "(DATE '2025-05-01' + make_interval(months => m))::date"
    month_end = f"(({month}) + interval '1 month' - interval '1 day')::date"
    terminated = "(c * 4 + k) % 50 = 7"
    statements = [
        "INSERT INTO party (id, kind, given_name, family_name, status, created_at, updated_at, version) "
        f"SELECT 'P' || lpad(c::text, 25, '0'), 'individual', 'C' || c, 'Bench', 'validated', '{now}', '{now}', 1 "
        f"FROM generate_series(1, {customers}) c",
        "INSERT INTO customer (id, party_id, name, status, customer_since, segment, created_at, updated_at, version) "
        f"SELECT {cust}, 'P' || lpad(c::text, 25, '0'), 'C' || c || ' Bench', 'approved', DATE '2015-01-01', "
        f"CASE WHEN c % 10 = 0 THEN 'business' ELSE 'consumer' END, '{now}', '{now}', 1 "
        f"FROM generate_series(1, {customers}) c",
        "INSERT INTO billing_account (id, customer_id, account_number, name, currency, status, opened_on, created_at) "
        f"SELECT 'A' || lpad(c::text, 25, '0'), {cust}, 'ACC-' || c, 'Bench', 'GBP', 'active', DATE '2015-01-01', "
        f"'{now}' FROM generate_series(1, {customers}) c",
        "INSERT INTO product (id, customer_id, billing_account_id, kind, name, status, price_minor, currency, "
        "activated_at, terminated_at, created_at, updated_at, version) "
        f"SELECT {pid}, {cust}, 'A' || lpad(c::text, 25, '0'), 'mobile_line', 'Line ' || k, "
        f"CASE WHEN {terminated} THEN 'terminated' ELSE 'active' END, 1000 + k * 500, 'GBP', "
        f"TIMESTAMPTZ '2024-01-01 09:00+00', CASE WHEN {terminated} THEN TIMESTAMPTZ '2026-01-10 11:00+00' END, "
        f"'{now}', '{now}', 1 FROM generate_series(1, {customers}) c, generate_series(0, {PRODUCTS - 1}) k",
        "INSERT INTO bill (id, customer_id, billing_account_id, bill_number, period_start, period_end, issued_on, "
        "due_on, amount_minor, currency, status, paid_minor, written_off_minor, created_at) "
        f"SELECT 'B' || lpad((c * {MONTHS} + m)::text, 25, '0'), {cust}, 'A' || lpad(c::text, 25, '0'), "
        f"'B-' || c || '-' || m, {month}, {month_end}, {month_end} + 1, {month_end} + 15, 0, 'GBP', 'issued', 0, 0, "
        f"'{now}' FROM generate_series(1, {customers}) c, generate_series(0, {MONTHS - 1}) m",
        # recurring: one per product and month; one in 200 not the price; one product-month in 1,000 twice
        "INSERT INTO charge (id, customer_id, bill_id, product_id, kind, description, amount_minor, currency, "
        "period_start, period_end, outside_holding, created_at) "
        f"SELECT 'H' || lpad(((c * 4 + k) * {MONTHS} * 2 + m * 2 + d)::text, 25, '0'), {cust}, "
        f"'B' || lpad((c * {MONTHS} + m)::text, 25, '0'), {pid}, 'recurring', 'Line rental', "
        f"1000 + k * 500 + CASE WHEN (c * 4 + k + m) % 200 = 3 THEN 250 ELSE 0 END, 'GBP', {month}, {month_end}, "
        f"false, TIMESTAMPTZ '{now}' + make_interval(secs => d) "
        f"FROM generate_series(1, {customers}) c, generate_series(0, {PRODUCTS - 1}) k, "
        f"generate_series(0, {MONTHS - 1}) m, generate_series(0, 1) d "
        "WHERE d = 0 OR (c * 4 + k + m) % 1000 = 11",
        # usage on one product in ten each month (the terminated ones too: a data error after the removal)
        "INSERT INTO charge (id, customer_id, bill_id, product_id, kind, description, amount_minor, currency, "
        "period_start, period_end, outside_holding, created_at) "
        f"SELECT 'U' || lpad(((c * 4 + k) * {MONTHS} + m)::text, 25, '0'), {cust}, "
        f"'B' || lpad((c * {MONTHS} + m)::text, 25, '0'), {pid}, 'usage', 'Roaming', 100 + (c + m) % 900, 'GBP', "
        f"{month}, {month_end}, false, '{now}' "
        f"FROM generate_series(1, {customers}) c, generate_series(0, {PRODUCTS - 1}) k, "
        f"generate_series(0, {MONTHS - 1}) m WHERE (c * 4 + k) % 10 = 7",
    ]
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
        cur.execute("ANALYZE")
        total = cur.execute("SELECT count(*) FROM charge").fetchone()[0]
    conn.commit()
    return total


def _onethread(url: str) -> tuple[float, dict]:
    from onethread.billing import audit
    from onethread.bootstrap import build
    from onethread.config import Settings
    from onethread.db.session import session_scope
    from onethread.kernel.clock import SettableClock

    c = build(Settings(database_url=url, env="test"), clock=SettableClock(NOW))
    try:
        start = time.perf_counter()
        with session_scope(c.sessions) as session:
            found = audit.run(session, c.clock).found
        return time.perf_counter() - start, found
    finally:
        c.dispose()


def _floor(url: str) -> tuple[float, dict, float]:
    """The audit's statements by hand on a raw connection; then one scan of the same join."""
    import psycopg

    from onethread.billing import audit, rules

    raw = url.replace("postgresql+psycopg://", "postgresql://")
    start = time.perf_counter()
    with psycopg.connect(raw) as conn:
        found = dict.fromkeys(rules.AUDIT_RULES, 0)
        sql = audit._sql("postgresql", "").replace(":now", "%(now)s")
        conn.execute("SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)")
        for (code,) in conn.execute(sql, {"now": NOW}).fetchall():
            found[code] += 1
        conn.commit()
    floor = time.perf_counter() - start
    start = time.perf_counter()
    with psycopg.connect(raw) as conn:
        conn.execute("SELECT count(*), sum(c.amount_minor), sum(p.price_minor) FROM charge c "
                     "JOIN bill b ON b.id = c.bill_id LEFT JOIN product p ON p.id = c.product_id").fetchone()
    return floor, found, time.perf_counter() - start


def _empty(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("TRUNCATE bill_finding")
        conn.commit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    ap.add_argument("--charges", type=int, default=1_000_000, help="about how many charges (recurring and usage)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    customers = max(1, round(args.charges / (PRODUCTS * MONTHS * 1.1)))
    url, drop = fresh_database("postgresql", args.pg_url)
    try:
        from onethread.db import migrate
        from onethread.db.engine import make_engine

        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        import psycopg

        started = time.perf_counter()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            charges = _fill(conn, customers)
        filled = time.perf_counter() - started
        runs = []
        for _ in range(args.rounds):
            _empty(url)
            seconds, found = _onethread(url)
            _empty(url)
            floor, floor_found, scan = _floor(url)
            assert floor_found == found, (floor_found, found)
            runs.append({"onethread_s": round(seconds, 2), "floor_s": round(floor, 2), "scan_s": round(scan, 2),
                         "findings": found})
        best = min(runs, key=lambda r: r["onethread_s"])
        report = {"charges": charges, "customers": customers, "fill_s": round(filled, 1), "runs": runs,
                  "best_onethread_s": best["onethread_s"], "best_floor_s": min(r["floor_s"] for r in runs),
                  "machine": machine()}
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "bill-audit-postgresql.json").write_text(json.dumps(report, indent=2))
        print(f"{charges:,} charges ({customers:,} customers), filled in {filled:.1f} s")
        print("| round | onethread s | floor s (same SQL, raw) | scan s | findings |")
        print("| --- | --- | --- | --- | --- |")
        for n, r in enumerate(runs, start=1):
            print(f"| {n} | {r['onethread_s']} | {r['floor_s']} | {r['scan_s']} | {r['findings']} |")
    finally:
        drop()


if __name__ == "__main__":
    main()
