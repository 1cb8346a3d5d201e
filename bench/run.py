"""``python -m bench.run``: the benchmark suite against a real ``onethread serve``.

Each measurement prints throughput, p50/p95/p99, peak server RSS, and its raw-SQL floor
measured in the same run, and the ratio between them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from bench import customer360, ingest
from bench.harness import fresh_database, run_cli, server
from bench.seed import seed

RESULTS = Path(__file__).with_name("results")


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def row(result, floor=None, higher_is_better=True) -> dict:
    out = result.summary()
    if floor is not None:
        f = floor.summary()
        out["floor_throughput_per_s"] = f["throughput_per_s"]
        out["floor_p99_ms"] = f["p99_ms"]
        out["ratio_to_floor"] = round(result.throughput / floor.throughput, 3) if floor.throughput else None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=None, help="a PostgreSQL server URL to create the bench database on")
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--long-tail", type=int, default=5_000, help="contacts of the long-tail customer")
    ap.add_argument("--contacts", type=int, default=4_000, help="contacts to ingest over HTTP")
    ap.add_argument("--reads", type=int, default=2_000, help="360 requests")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--keep", action="store_true", help="keep the database")
    args = ap.parse_args(argv)

    url, drop = fresh_database(args.db, args.pg_url)
    results = {"db": args.db, "machine": machine(), "args": vars(args), "measurements": []}
    try:
        t0 = time.perf_counter()
        run_cli(url, "db", "upgrade")
        seeded = seed(url, args.customers, args.long_tail)
        print(f"seeded {args.customers} customers (+{args.long_tail} long-tail contacts) "
              f"in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        token = run_cli(url, "token", "create", "--name", "bench", "--role", "admin").splitlines()[0]
        headers = {"Authorization": f"Bearer {token}"}
        with server(url, workers=args.workers) as (base, rss):
            http_ingest = ingest.http(base, headers, args.customers, args.contacts, args.concurrency)
            http_ingest.rss_peak_mb = rss.peak_mb()
            http_360 = customer360.http(base, headers, seeded["customer_ids"], seeded["long_tail"], args.reads,
                                        args.concurrency)
            http_360.rss_peak_mb = rss.peak_mb()
        floor_ingest = ingest.floor(url, args.customers, args.contacts, args.concurrency)
        floor_360 = customer360.floor(url, seeded["customer_ids"], seeded["long_tail"], args.reads,
                                      args.concurrency)
        results["measurements"] = [row(http_ingest, floor_ingest), floor_ingest.summary(),
                                   row(http_360, floor_360), floor_360.summary()]
    finally:
        if not args.keep:
            drop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"latest-{args.db}.json").write_text(json.dumps(results, indent=2))
    print(f"\n{args.db}: {results['machine']}")
    print(f"{'measurement':34} {'n':>6} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'err':>4} "
          f"{'RSS MB':>7} {'floor/s':>8} {'ratio':>6}")
    for m in results["measurements"]:
        print(f"{m['name']:34} {m['count']:>6} {m['throughput_per_s']:>8} {m['p50_ms']:>8} {m['p95_ms']:>8} "
              f"{m['p99_ms']:>8} {m['errors']:>4} {m.get('rss_peak_mb') or '':>7} "
              f"{m.get('floor_throughput_per_s', ''):>8} {m.get('ratio_to_floor', ''):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
