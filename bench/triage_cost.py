"""``python -m bench.triage_cost``: what triage and routing cost on the ingest path (issue 15).

The same measurement as the suite's ingest rows (one contact a request, and batches of
``--batch-size``), against a real ``onethread serve`` on a freshly seeded database with a
contact-centre team of available agents (so that routing hands items out, then queues them once
everyone is at capacity), with the raw-SQL floor measured in the same run.

Run it once with this code and once with the code before triage to compare, e.g. the ``main``
branch exported to a directory and put first on ``PYTHONPATH`` (the bench and its floor are the
same; only the server's code differs)::

    git archive main src | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before/src .venv/bin/python -m bench.triage_cost --db sqlite --label before
    .venv/bin/python -m bench.triage_cost --db sqlite --label triage

Each run prints a table row per measurement and appends it to ``bench/results/triage-cost.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import httpx

from bench import ingest
from bench.harness import fresh_database, load, run_cli, server
from bench.run import RESULTS
from bench.seed import seed


def _staff(base: str, headers: dict, agents: int) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        team = c.post("/api/v1/teams", json={"name": "Contact centre", "kind": "contact_centre"})
        team.raise_for_status()
        for n in range(agents):
            c.post("/api/v1/staff", json={"username": f"agent{n}", "displayName": f"Agent {n}", "role": "agent",
                                          "teamId": team.json()["id"]}).raise_for_status()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--contacts", type=int, default=2_000)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--label", default="", help="what code this run measures (before / triage)")
    args = ap.parse_args(argv)

    url, drop = fresh_database(args.db, args.pg_url)
    rows = []
    try:
        run_cli(url, "db", "upgrade")
        seeded = seed(url, args.customers, 10)
        token = run_cli(url, "token", "create", "--name", "bench", "--role", "admin").splitlines()[0]
        headers = {"Authorization": f"Bearer {token}"}
        ids = seeded["customer_ids"]
        pick = [(n, ids[i]) for n, i in ingest.numbers(len(ids), args.contacts)]
        tag = str(int(time.time()))
        with server(url) as (base, rss):
            _staff(base, headers, args.agents)
            cpu = rss.cpu_seconds()
            single = load("ingest (HTTP)", base, headers, ingest.requests(0, len(pick), pick=pick, tag=tag),
                          args.concurrency)
            cpu_single, cpu = (rss.cpu_seconds() - cpu) * 1000 / max(1, single.count), rss.cpu_seconds()
            size = args.batch_size
            batches = load(f"ingest in batches of {size} (HTTP)", base, headers,
                           ingest.batch_requests(pick[:len(pick) - len(pick) % size], size, tag=f"b{tag}"),
                           args.concurrency)
            batches.items_per_request = size
            cpu_batch = (rss.cpu_seconds() - cpu) * 1000 / max(1, batches.count * size)
        floor = ingest.floor(url, 0, single.count, args.concurrency, pick=pick, tag=f"floor{tag}")
        for result, server_cpu in ((single, cpu_single), (batches, cpu_batch)):
            s = result.summary()
            rows.append({"label": args.label, "db": args.db, "measurement": s["name"], "contacts": s["count"],
                         "per_s": s["throughput_per_s"], "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
                         "errors": s["errors"], "server_cpu_ms_per_contact": round(server_cpu, 2),
                         "floor_per_s": floor.summary()["throughput_per_s"],
                         "ratio_to_floor": round(s["throughput_per_s"] / floor.summary()["throughput_per_s"], 3)})
    finally:
        drop()
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "triage-cost.jsonl").open("a") as out:
        for r in rows:
            out.write(json.dumps(r) + "\n")
    for r in rows:
        print(f"{r['label']:8} {r['db']:10} {r['measurement']:34} {r['per_s']:>8}/s p50 {r['p50_ms']:>7} ms "
              f"p99 {r['p99_ms']:>7} ms cpu {r['server_cpu_ms_per_contact']:>5} ms/contact "
              f"floor {r['floor_per_s']:>8}/s ratio {r['ratio_to_floor']} err {r['errors']}")
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
