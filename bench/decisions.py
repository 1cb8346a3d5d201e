"""Decision latency: ``POST /api/v1/decisions`` for random customers against a real
``onethread serve`` (issue 5: p99 under 20 ms on PostgreSQL with 100,000 customers), and its floor.

    .venv/bin/python -m bench.decisions --db postgresql --pg-url postgresql://postgres@127.0.0.1/postgres \\
        --customers 100000
    .venv/bin/python -m bench.decisions --db sqlite --customers 100000
    .venv/bin/python -m bench.decisions --db sqlite --customers 2000 --profile   # one decision, in process

The customers are seeded as Core bulk inserts (``bench.seed``); a load client in another process
asks the device_fault, billing_error_goodwill and store_remedy policies in turn, with random valid
facts from the store and the contact centre, at concurrency 1 and 4, each bounded by ``--requests``
and ``--seconds``. The floor is the same reads and writes as raw SQL in one transaction each (the
bearer token, the customer, the newest policy version; the decision row, its outbox event and its
timeline entry), at the same concurrency, in the same run. Prints a table and writes
``bench/results/decisions-<db>.json``. ``--profile`` instead counts the SQL statements of one
decision and profiles ``--requests`` of them in process (pyinstrument, or cProfile without it).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import random
import sqlite3
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.harness import Result, fresh_database, load, run_cli, server, timed
from bench.run import machine, row
from bench.seed import seed

RESULTS = Path(__file__).resolve().parent / "results"
POLICIES = ("device_fault", "billing_error_goodwill", "store_remedy")
REMEDIES = ("goodwill_credit", "loan_phone", "same_day_swap", "repair", "refund", "contract_change", "compensation")
V1 = "/api/v1"


# --- what is asked ---------------------------------------------------------------------------

def facts_for(policy: str, rng: random.Random) -> dict:
    """Random valid facts for one of the three policies."""
    if policy == "device_fault":
        return {"device_model": rng.choice(["Nova X2", "Pixel 9", "Galaxy A5"]),
                "symptom": rng.choice(["headphone jack", "screen flicker", "battery drains"]),
                "days_since_purchase": rng.randrange(400), "physical_damage_evidence": rng.random() < 0.2,
                "in_stock": rng.random() < 0.5, "known_defect": rng.random() < 0.3,
                "is_existing_customer": rng.random() < 0.8}
    if policy == "billing_error_goodwill":
        return {"months_overcharged": rng.randrange(7), "monthly_charge_minor": rng.randrange(500, 6000),
                "contacts_made": rng.randrange(9), "told_wrong_information": rng.random() < 0.3,
                "usage_recorded_after_removal": rng.random() < 0.2, "currency": "GBP"}
    return {"remedy": rng.choice(REMEDIES), "goodwill_minor": rng.randrange(0, 6000),
            "recognised_defect": rng.random() < 0.5, "days_since_purchase": rng.randrange(60),
            "in_stock": rng.random() < 0.5, "loan_phone_available": rng.random() < 0.5, "currency": "GBP"}


def asks(ids: list[str], count: int, seed_value: int) -> list[dict]:
    rng = random.Random(seed_value)
    return [{"policy": POLICIES[k % len(POLICIES)], "customerId": rng.choice(ids),
             "channel": rng.choice(["store", "phone"]), "facts": facts_for(POLICIES[k % len(POLICIES)], rng)}
            for k in range(count)]


def http(base: str, headers: dict, ids: list[str], count: int, concurrency: int, seconds: float,
         seed_value: int) -> Result:
    reqs = [("POST", f"{V1}/decisions", body) for body in asks(ids, count, seed_value)]
    bound = {"max_seconds": seconds} if "max_seconds" in inspect.signature(load).parameters else {}
    return load(f"decisions c{concurrency} (HTTP)", base, headers, reqs, concurrency, **bound)


# --- the floor: the same reads and writes as raw SQL -----------------------------------------

def _floor_statements(p: str) -> list[str]:
    return [
        f"SELECT id, role, expires_at, revoked_at, staff_user_id FROM api_token WHERE token_hash = {p}",
        f"SELECT c.id, c.status, c.name FROM customer c WHERE c.id = {p}",
        f"SELECT id, version, checksum FROM policy_version WHERE name = {p} ORDER BY version DESC LIMIT 1",
        "INSERT INTO decision (id, customer_id, policy_version_id, policy_name, policy_version, channel, facts, "
        "rule_id, outcome, staff_reason, customer_reason, decided_at, decided_by, decided_by_name) "
        f"VALUES ({', '.join([p] * 14)})",
        "INSERT INTO outbox_event (id, type, aggregate_type, aggregate_id, customer_id, payload, occurred_at, "
        f"available_at, attempts) VALUES ({', '.join([p] * 9)})",
        "INSERT INTO timeline_entry (id, customer_id, occurred_at, kind, channel, title, detail, ref_type, ref_id) "
        f"VALUES ({', '.join([p] * 9)})",
        # device_fault also asks the known-defect registry and keeps the report (issue 5 item 4)
        f"SELECT id, status FROM known_defect WHERE device_model = {p} AND symptom = {p}",
        "INSERT INTO defect_report (id, customer_id, device_model, symptom, wording, reported_at, channel, "
        f"decision_id) VALUES ({', '.join([p] * 8)})",
    ]


def floor(url: str, token: str, ids: list[str], count: int, concurrency: int, seed_value: int) -> Result:
    """The same ``count`` asks as the HTTP run (which was bounded in count and time)."""
    from onethread.kernel.ids import new_id

    items = asks(ids, count, seed_value)
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    local = threading.local()
    opened: list = []
    sqlite = url.startswith("sqlite")
    sql = _floor_statements("?" if sqlite else "%s")

    def one(ask: dict) -> None:
        if not hasattr(local, "conn"):
            if sqlite:
                local.conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, check_same_thread=False,
                                             timeout=30)
            else:
                import psycopg

                local.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
            opened.append(local.conn)
        conn = local.conn
        now = datetime.now(UTC)  # bench only: the product's own code takes the injected clock
        stamp = now.isoformat(" ") if sqlite else now
        cur = conn.cursor()
        if sqlite:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(sql[0], (token_hash,))
        cur.fetchall()
        cur.execute(sql[1], (ask["customerId"],))
        cur.fetchall()
        cur.execute(sql[2], (ask["policy"],))
        policy_id, version, _ = cur.fetchone()
        decision_id, event_id = new_id(), new_id()
        registry = ask["policy"] == "device_fault"
        if registry:
            model, symptom = ask["facts"]["device_model"].lower(), ask["facts"]["symptom"].replace(" ", "_")
            cur.execute(sql[6], (model, symptom))
            cur.fetchall()
        facts = json.dumps(ask["facts"])
        reason = "A reason for staff and one for the customer, of about this length, as the policies write them."
        cur.execute(sql[3], (decision_id, ask["customerId"], policy_id, ask["policy"], version, ask["channel"],
                             facts, "a_rule", "an_outcome", reason, reason, stamp, None, "bench"))
        payload = json.dumps({"decisionId": decision_id, "policy": ask["policy"], "policyVersion": version,
                              "outcome": "an_outcome", "rule": "a_rule", "channel": ask["channel"]})
        cur.execute(sql[4], (event_id, "decision.made", "decision", decision_id, ask["customerId"], payload, stamp,
                             stamp, 0))
        cur.execute(sql[5], (new_id(), ask["customerId"], stamp, "decision", ask["channel"],
                             f"Decision ({ask['policy']} v{version}): an outcome", reason, "decision", decision_id))
        if registry:
            report_id = new_id()
            cur.execute(sql[7], (report_id, ask["customerId"], model, symptom, ask["facts"]["symptom"], stamp,
                                 ask["channel"], decision_id))
            cur.execute(sql[4], (new_id(), "defect.reported", "defect_report", report_id, ask["customerId"],
                                 json.dumps({"reportId": report_id, "deviceModel": model}), stamp, stamp, 0))
        conn.commit() if not sqlite else cur.execute("COMMIT")

    result = timed(f"decisions c{concurrency} floor (raw SQL)", items, one, concurrency)
    for conn in opened:
        conn.close()
    return result


# --- profile: one decision in process --------------------------------------------------------

def _run_endpoints_inline() -> None:
    """Synchronous endpoints normally run in a worker thread, which a sampling profiler of the
    main thread does not see; run them on the event loop's thread instead (profiling only)."""
    import anyio.to_thread

    async def run_sync(func, *args, abandon_on_cancel=False, cancellable=None, limiter=None):
        return func(*args)

    anyio.to_thread.run_sync = run_sync


def profile(url: str, ids: list[str], count: int) -> None:
    """The SQL of one decision of each policy, then ``count`` decisions profiled, all in this process
    and on this thread (the app through an ASGI transport, its start-up included)."""
    import asyncio
    from collections import Counter

    from sqlalchemy import event

    from onethread.app import create_app
    from onethread.config import Settings

    token = run_cli(url, "token", "create", "--name", "profile", "--role", "agent").splitlines()[0]
    headers = {"Authorization": f"Bearer {token}"}
    _run_endpoints_inline()
    app = create_app(Settings(database_url=url, env="test"))
    statements: list[str] = []
    event.listen(app.state.container.engine, "before_cursor_execute",
                 lambda conn, cursor, stmt, *a: statements.append(" ".join(stmt.split())))
    bodies = asks(ids, count + len(POLICIES), 3)

    async def go() -> None:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", headers=headers) as client:
            for body in bodies[:len(POLICIES)]:  # the first use of each policy parses it, once per process
                (await client.post(f"{V1}/decisions", json=body)).raise_for_status()
            for body in bodies[len(POLICIES):2 * len(POLICIES)]:
                statements.clear()
                (await client.post(f"{V1}/decisions", json=body)).raise_for_status()
                kinds = Counter(stmt.split(None, 1)[0].upper() for stmt in statements)
                print(f"{body['policy']}: {len(statements)} SQL statements for one decision {dict(kinds)}")
                for stmt in statements:
                    print(f"    {stmt[:150]}")
            try:
                from pyinstrument import Profiler
            except ImportError:  # pragma: no cover - pyinstrument is a dev dependency
                Profiler = None
            rest = bodies[len(POLICIES):]
            profiler = Profiler(interval=0.0005, async_mode="disabled") if Profiler else None
            if profiler:
                profiler.start()
            t0 = time.perf_counter()
            for body in rest:
                (await client.post(f"{V1}/decisions", json=body)).raise_for_status()
            seconds = time.perf_counter() - t0
            if profiler:
                profiler.stop()
                print(profiler.output_text(unicode=False, color=False, show_all=False))
            print(f"{len(rest)} decisions in process: {seconds * 1000 / len(rest):.2f} ms each"
                  f"{' (profiled)' if profiler else ''}")

    asyncio.run(go())
    app.state.container.dispose()


# --- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=None, help="a PostgreSQL server URL to create the bench database on")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=2_000, help="decisions per measurement (at most)")
    ap.add_argument("--seconds", type=float, default=60.0, help="time per measurement (at most)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--profile", action="store_true", help="profile one decision in process instead")
    ap.add_argument("--keep", action="store_true", help="keep the database")
    args = ap.parse_args(argv)

    url, drop = fresh_database(args.db, args.pg_url)
    results = {"db": args.db, "machine": machine(), "args": vars(args), "measurements": []}
    try:
        t0 = time.perf_counter()
        run_cli(url, "db", "upgrade")
        ids = seed(url, args.customers, 0)["customer_ids"]
        if args.db == "postgresql":
            import psycopg

            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        print(f"seeded {args.customers} customers in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        if args.profile:
            profile(url, ids, args.requests)
            return 0
        token = run_cli(url, "token", "create", "--name", "bench", "--role", "agent").splitlines()[0]
        headers = {"Authorization": f"Bearer {token}"}
        with server(url) as (base, rss):
            with httpx.Client(base_url=base, headers=headers, timeout=30) as warm:
                for body in asks(ids, 30, 99):  # not measured: first use of each policy, the pool's connections
                    warm.post(f"{V1}/decisions", json=body).raise_for_status()
            measured = []
            for c in args.concurrency:
                r = http(base, headers, ids, args.requests, c, args.seconds, seed_value=c)
                r.rss_peak_mb = rss.peak_mb()
                measured.append(r)
        for c, r in zip(args.concurrency, measured, strict=True):
            f = floor(url, token, ids, r.count, c, seed_value=c)
            results["measurements"] += [row(r, f), f.summary()]
    finally:
        if not args.keep:
            drop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"decisions-{args.db}.json").write_text(json.dumps(results, indent=2))
    print(f"\n{args.db}, {args.customers} customers: {results['machine']}")
    print(f"{'measurement':34} {'n':>6} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'err':>4} "
          f"{'RSS MB':>7} {'floor/s':>8} {'floor p99':>9} {'ratio':>6}")
    for m in results["measurements"]:
        print(f"{m['name']:34} {m['count']:>6} {m['throughput_per_s']:>8} {m['p50_ms']:>8} {m['p95_ms']:>8} "
              f"{m['p99_ms']:>8} {m['errors']:>4} {m.get('rss_peak_mb') or '':>7} "
              f"{m.get('floor_throughput_per_s', ''):>8} {m.get('floor_p99_ms', ''):>9} "
              f"{m.get('ratio_to_floor', ''):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
