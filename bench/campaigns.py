"""Campaign evaluation at scale (issue 16: 1,000,000 recipients weighed by the guard in under 60 s on
PostgreSQL on a two-core machine), beside its raw-SQL floor in the same run.

    .venv/bin/python -m bench.campaigns --pg-url postgresql://postgres@127.0.0.1/postgres --recipients 1000000
    .venv/bin/python -m bench.campaigns --db sqlite --recipients 100000

A fresh database is migrated and filled set-based (``generate_series`` on PostgreSQL, a recursive
CTE on SQLite): customers with their parties, and what the guard reads, in proportions like an
operator's: contact preferences for 70% (92% of them consenting to marketing, 14% opted out of
retention letters), open complaints for 4%, open billing cases for 3%, vulnerability for 4%,
promotional messages in the last week for 9% (two for half of them, which reaches the cap).
Then, twice each, alternating:

- **onethread**: ``campaigns.create`` with a filter (every consumer customer: one INSERT ... SELECT
  of the recipients) and ``campaigns.evaluate`` (the guard's UPDATE ... FROM and the counts), in a
  session, committed; timed from the create to the commit;
- **floor**: the same two statements and the GROUP BY as hand-written SQL on a raw DB-API
  connection (psycopg or sqlite3), committed.

Prints a table and writes ``bench/results/campaigns-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import fresh_database
from bench.run import machine

RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _pg_fill(conn, n: int) -> None:
    now, week_ago = NOW.isoformat(), (NOW - timedelta(days=3)).isoformat()
    statements = [
        "INSERT INTO staff_user (id, username, display_name, role, active, away, created_at) VALUES "
        f"('S0000000000000000000000001', 'bench.owner', 'Bench Owner', 'agent', true, false, '{now}')",
        "INSERT INTO party (id, kind, given_name, family_name, status, created_at, updated_at, version) "
        f"SELECT 'P' || lpad(i::text, 25, '0'), 'individual', 'C' || i, 'Bench', 'validated', '{now}', '{now}', 1 "
        f"FROM generate_series(1, {n}) i",
        "INSERT INTO customer (id, party_id, name, status, customer_since, segment, created_at, updated_at, version) "
        "SELECT 'C' || lpad(i::text, 25, '0'), 'P' || lpad(i::text, 25, '0'), 'C' || i || ' Bench', 'approved', "
        f"DATE '2015-01-01' + (i % 3000), CASE WHEN i % 10 = 0 THEN 'business' ELSE 'consumer' END, '{now}', "
        f"'{now}', 1 FROM generate_series(1, {n}) i",
        "INSERT INTO contact_preference (customer_id, channels, marketing_consent, opted_out, copy_representative, "
        "updated_at, updated_by) SELECT 'C' || lpad(i::text, 25, '0'), '[]', i % 13 <> 0, "
        "CASE WHEN i % 7 = 3 THEN '[\"retention\"]'::jsonb ELSE '[]'::jsonb END, false, "
        f"'{now}', 'bench' FROM generate_series(1, {n}) i WHERE i % 10 < 7",
        "INSERT INTO case_file (id, customer_id, kind, title, status, severity, owner_id, opened_via, opened_at, "
        "opened_by, market, last_activity_at, escalation_level, version) SELECT 'K' || lpad(i::text, 25, '0'), "
        "'C' || lpad(i::text, 25, '0'), CASE WHEN i % 97 < 4 THEN 'complaint' ELSE 'billing_dispute' END, "
        f"'bench', 'open', 'medium', 'S0000000000000000000000001', 'phone', '{now}', 'bench', 'GB', '{now}', 0, 1 "
        f"FROM generate_series(1, {n}) i WHERE i % 97 < 4 OR i % 89 < 3",
        "INSERT INTO vulnerability (id, customer_id, kind, needs, consent_given, recorded_by, recorded_at, "
        "review_on) SELECT 'V' || lpad(i::text, 25, '0'), 'C' || lpad(i::text, 25, '0'), 'health', '[]', true, "
        f"'bench', '{now}', DATE '2026-09-01' FROM generate_series(1, {n}) i WHERE i % 23 = 1",
        # promotional messages in the last week: one for 10% of customers, two for half of those
        "INSERT INTO outbound_message (id, customer_id, channel, asked_channel, purpose, market, language, "
        "trigger, body, cc, send_key, status, verdict, reasons, attachments, attempts, max_attempts, created_at, "
        "created_by, created_by_name, updated_at) SELECT 'M' || lpad((i * 2 + k)::text, 25, '0'), "
        "'C' || lpad(i::text, 25, '0'), 'email', 'email', 'marketing', 'GB', 'en', '{}', 'offer', '[]', "
        f"'bench:' || i || ':' || k, 'sent', 'send', '[]', '[]', 1, 6, '{week_ago}', 'bench', 'bench', '{week_ago}' "
        f"FROM generate_series(1, {n}) i, generate_series(1, 2) k WHERE i % 11 = 5 AND (k = 1 OR i % 22 = 5)",
    ]
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
        cur.execute("ANALYZE")
    conn.commit()


def _sqlite_fill(path: str, n: int) -> None:
    now, week_ago = NOW.isoformat(sep=" "), (NOW - timedelta(days=3)).isoformat(sep=" ")
    conn = sqlite3.connect(path)
    seq = f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
    pad = "printf('%025d', i)"
    conn.executescript(f"""
INSERT INTO staff_user (id, username, display_name, role, active, away, created_at)
  VALUES ('S0000000000000000000000001', 'bench.owner', 'Bench Owner', 'agent', 1, 0, '{now}');
{seq} INSERT INTO party (id, kind, given_name, family_name, status, created_at, updated_at, version)
  SELECT 'P' || {pad}, 'individual', 'C' || i, 'Bench', 'validated', '{now}', '{now}', 1 FROM s;
{seq} INSERT INTO customer (id, party_id, name, status, customer_since, segment, created_at, updated_at, version)
  SELECT 'C' || {pad}, 'P' || {pad}, 'C' || i || ' Bench', 'approved', date('2015-01-01', '+' || (i % 3000) || ' days'),
  CASE WHEN i % 10 = 0 THEN 'business' ELSE 'consumer' END, '{now}', '{now}', 1 FROM s;
{seq} INSERT INTO contact_preference (customer_id, channels, marketing_consent, opted_out, copy_representative,
  updated_at, updated_by) SELECT 'C' || {pad}, '[]', i % 13 <> 0,
  CASE WHEN i % 7 = 3 THEN '["retention"]' ELSE '[]' END, 0, '{now}', 'bench' FROM s WHERE i % 10 < 7;
{seq} INSERT INTO case_file (id, customer_id, kind, title, status, severity, owner_id, opened_via, opened_at,
  opened_by, market, last_activity_at, escalation_level, version) SELECT 'K' || {pad}, 'C' || {pad},
  CASE WHEN i % 97 < 4 THEN 'complaint' ELSE 'billing_dispute' END, 'bench', 'open', 'medium',
  'S0000000000000000000000001', 'phone', '{now}', 'bench', 'GB', '{now}', 0, 1 FROM s WHERE i % 97 < 4 OR i % 89 < 3;
{seq} INSERT INTO vulnerability (id, customer_id, kind, needs, consent_given, recorded_by, recorded_at, review_on)
  SELECT 'V' || {pad}, 'C' || {pad}, 'health', '[]', 1, 'bench', '{now}', '2026-09-01' FROM s WHERE i % 23 = 1;
{seq} INSERT INTO outbound_message (id, customer_id, channel, asked_channel, purpose, market, language, "trigger",
  body, cc, send_key, status, verdict, reasons, attachments, attempts, max_attempts, created_at, created_by,
  created_by_name, updated_at) SELECT 'M' || {pad}, 'C' || {pad}, 'email', 'email', 'marketing', 'GB', 'en', '{{}}',
  'offer', '[]', 'bench:' || i, 'sent', 'send', '[]', '[]', 1, 6, '{week_ago}', 'bench', 'bench', '{week_ago}'
  FROM s WHERE i % 11 = 5;
ANALYZE;
""")
    conn.commit()
    conn.close()


def _onethread(url: str) -> tuple[float, int, list]:
    from onethread.access.rules import SYSTEM
    from onethread.bootstrap import build
    from onethread.config import Settings
    from onethread.db.session import session_scope
    from onethread.kernel.clock import SettableClock
    from onethread.outreach import campaigns

    c = build(Settings(database_url=url, env="test"), clock=SettableClock(NOW))
    try:
        start = time.perf_counter()
        with session_scope(c.sessions) as session:
            made = campaigns.create(session, c.clock, SYSTEM, name="bench", purpose="marketing", channel="email",
                                    subject=None, body="Spring offer", segment={"customerSegment": "consumer"})
            done = campaigns.evaluate(session, c.clock, made.id)
            recipients, counts = done.recipients, done.counts
        return time.perf_counter() - start, recipients, counts
    finally:
        c.dispose()


def _floor(url: str, postgresql: bool) -> tuple[float, int]:
    """The same statements by hand on a raw DB-API connection."""
    from onethread.outreach import campaigns

    cid = f"F{int(time.time() * 1000):025d}"[:26]
    params = {"cid": cid, "purpose": "marketing", "now": NOW, "since": NOW - timedelta(days=7), "cap": 2,
              "segment": "consumer"}
    insert = ("INSERT INTO campaign_recipient (campaign_id, customer_id) SELECT {cid}, c.id FROM customer c "
              "WHERE c.segment = {segment}")
    if postgresql:
        import psycopg

        start = time.perf_counter()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute(insert.format(cid="%(cid)s::varchar", segment="%(segment)s"), params)
            conn.execute("ANALYZE campaign_recipient")
            conn.execute(_pg_params(campaigns.evaluation_sql(True)), params)
            rows = conn.execute(_pg_params(campaigns.COUNTS_SQL), params).fetchall()
            conn.commit()
        return time.perf_counter() - start, sum(r[2] for r in rows)
    path = url.removeprefix("sqlite:///")
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    sq = {**params, "now": NOW.isoformat(sep=" "), "since": (NOW - timedelta(days=7)).isoformat(sep=" ")}
    conn.execute(insert.format(cid=":cid", segment=":segment"), sq)
    conn.execute(campaigns.evaluation_sql(False), sq)
    rows = conn.execute(campaigns.COUNTS_SQL, sq).fetchall()
    conn.commit()
    conn.close()
    return time.perf_counter() - start, sum(r[2] for r in rows)


def _pg_params(sql: str) -> str:
    import re

    return re.sub(r"(?<!:):([a-z]+)", r"%(\1)s", sql)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1/postgres")
    ap.add_argument("--recipients", type=int, default=1_000_000, help="customers in the database (90%% consumers)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    customers = int(args.recipients / 0.9)  # the segment is every consumer: 90% of customers
    url, drop = fresh_database(args.db, args.pg_url)
    try:
        from onethread.db import migrate
        from onethread.db.engine import make_engine

        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        if args.db == "postgresql":
            import psycopg

            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
                _pg_fill(conn, customers)
        else:
            _sqlite_fill(url.removeprefix("sqlite:///"), customers)
        filled = time.perf_counter() - started
        runs = []
        for _ in range(args.rounds):
            seconds, recipients, counts = _onethread(url)
            floor, floor_recipients = _floor(url, args.db == "postgresql")
            assert floor_recipients == recipients, (floor_recipients, recipients)
            runs.append({"onethread_s": round(seconds, 2), "floor_s": round(floor, 2), "recipients": recipients})
            print(f"{recipients:>9} recipients: onethread {seconds:6.2f} s   raw SQL floor {floor:6.2f} s   "
                  f"(x{seconds / floor:.2f})", flush=True)
        result = {"at": datetime.now(UTC).isoformat(), "db": args.db, "customers": customers,
                  "fill_s": round(filled, 1), "runs": runs, "counts": counts, "machine": machine()}
        for c in counts:
            print(f"  {c['verdict']:<9} {c['reason']:<22} {c['count']:>9}")
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"campaigns-{args.db}.json").write_text(json.dumps(result, indent=2))
    finally:
        drop()


if __name__ == "__main__":
    main()
