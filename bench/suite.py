"""``python -m bench.suite`` (``make bench``): every measurement of the operator-scale issue
against a real ``onethread serve`` and ``onethread worker``, each beside its raw-SQL floor.

    .venv/bin/python -m bench.suite --db sqlite --customers 10000 --quick       # CI: 2-3 minutes
    .venv/bin/python -m bench.suite --db postgresql --pg-url postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python -m bench.suite --database-url postgresql://postgres@127.0.0.1/ot_gen1m   # generated data

Without ``--database-url`` it creates a database, seeds ``--customers`` (``bench/seed.py``) and
drops it afterwards. With it, it samples customers, long-tail customers and numbers from that
database and adds only what it measures (contacts with unique message ids, audit rows; the sweep
is rolled back).

The load client is a separate process; each measurement is bounded in count and in time
(``--max-seconds``). Results: a table on stdout, ``bench/results/suite-<db>.json`` and ``.md``.
Exit status: 0 unless a request failed with a 5xx (or any 4xx), an answer was wrong (the
customer a number resolved to, the customer a 360 was for), or the sweep fired the wrong clocks.
Slowness never fails it: times are reported, not judged.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import nullcontext, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import customer360, ingest, lists, resolve, spy
from bench.harness import ROOT, Result, fresh_database, load, run_cli, server, worker_process
from bench.seed import msisdn, seed
from onethread.interactions.batch_service import MAX_BATCH

RESULTS = Path(__file__).with_name("results")
RESOLVE_WINDOW = timedelta(days=7)  # resolutions ask about instants up to a week before the contacts
TARGETS = {  # issue #7, PostgreSQL, 1M customers, this machine
    "ingest": "≥ 800/s at concurrency 16, p99 ≤ 60 ms, ≥ 0.3 of floor",
    "ingest in batches": "(as ingest: contacts per s; latency per request)",
    "customer 360": "p99 ≤ 25 ms",
    "timeline page": "p99 ≤ 25 ms (as the 360)",
    "identifier resolution": "p99 ≤ 5 ms",
    "sweep": "1,000,000 open cases ≤ 30 s",
    "decisions": "p99 ≤ 20 ms",
    **{f"list: {name}": "p99 ≤ 100 ms at 1M cases (issue #21)" for name in lists.LISTS},
}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    loadavg = None
    with suppress(OSError):
        loadavg = Path("/proc/loadavg").read_text().split()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "load_at_start": loadavg}


# --- what to ask for -------------------------------------------------------------------------

class Sample:
    """Customers to read, long-tail customers, and (number, customer) pairs in force now."""

    def __init__(self, customer_ids: list[str], long_tail: list[str], numbers: list[tuple[str, str]],
                 ingest_at: datetime):
        self.customer_ids, self.long_tail, self.numbers, self.ingest_at = customer_ids, long_tail, numbers, ingest_at


def seeded_sample(info: dict, count: int) -> Sample:
    ids = info["customer_ids"]
    pairs = [(msisdn(i), ids[i]) for _, i in ingest.numbers(len(ids), count)]
    return Sample(ids, [info["long_tail"]], pairs, ingest.T0)


def existing_sample(url: str, count: int, tails: int = 5) -> Sample:
    """Sample a database made by ``onethread bench generate`` (or any onethread database)."""
    from sqlalchemy import create_engine, text

    from onethread.config import Settings

    now = datetime.now(UTC)  # bench input: which holdings are in force while it runs
    since = now - RESOLVE_WINDOW - timedelta(days=1)  # held since before every instant the bench asks about
    engine = create_engine(Settings(database_url=url).database_url)
    pg = engine.dialect.name == "postgresql"
    rnd = "random()"
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text(f"SELECT id FROM customer ORDER BY {rnd} LIMIT :n"), {"n": count})]
        long_tail = [r[0] for r in conn.execute(text(
            "SELECT customer_id FROM timeline_entry WHERE customer_id IS NOT NULL GROUP BY customer_id "
            "ORDER BY count(*) DESC LIMIT :n"), {"n": tails})]
        pairs = [(r[0], r[1]) for r in conn.execute(text(
            "SELECT i.value, h.customer_id FROM identifier_holding h JOIN identifier i ON i.id = h.identifier_id "
            "WHERE i.kind = 'msisdn' AND h.valid_to IS NULL AND h.valid_from <= :since "
            f"ORDER BY {rnd} LIMIT :n"), {"n": count, "since": since if pg else since.replace(tzinfo=None)})]
    engine.dispose()
    if not ids or not pairs:
        raise SystemExit(f"{url} has no customers or no msisdn in force: nothing to measure")
    # Contacts are dated just before now, so that the numbers are in force at their time.
    return Sample(ids, long_tail or ids[:1], pairs, now - timedelta(hours=2))


# --- one run ---------------------------------------------------------------------------------

def row(kind: str, result: Result, floor: Result | None, db: str) -> dict:
    out = {"measurement": kind, "db": db, "target": TARGETS.get(kind), **result.summary()}
    if floor is not None:
        f = floor.summary()
        out["floor_throughput_per_s"] = f["throughput_per_s"]
        out["floor_p50_ms"], out["floor_p99_ms"] = f["p50_ms"], f["p99_ms"]
        out["ratio_to_floor"] = round(result.throughput / floor.throughput, 3) if floor.throughput else None
    return out


def sweep_row(url: str | None, args, db: str) -> dict:
    """The sweep in its own process (as the worker runs it), so its peak RSS is its own."""
    out_file = RESULTS / f"suite-sweep-{os.getpid()}.json"
    cmd = [sys.executable, "-m", "bench.sweep", "--out", str(out_file)]
    if url:
        cmd += ["--database-url", url] + (["--now", args.sweep_now] if args.sweep_now else [])
    else:
        cmd += ["--db", db, "--cases", str(args.sweep_cases),
                "--pg-db", f"onethread_bench_sweep_{os.getpid()}"]
        if args.pg_url:
            cmd += ["--pg-url", args.pg_url]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if not out_file.exists():
        raise RuntimeError(f"bench.sweep failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    r = json.loads(out_file.read_text())
    out_file.unlink()
    secs = r["onethread_seconds"]
    return {"measurement": "sweep", "db": db, "target": TARGETS["sweep"], "count": r["due_clocks"],
            "open_cases": r["cases"], "seconds": secs, "throughput_per_s": r["clocks_per_second"],
            "floor_seconds": r["floor_seconds"], "floor_throughput_per_s": r["floor_clocks_per_second"],
            "ratio_to_floor": round(r["floor_seconds"] / secs, 3) if secs else None,
            "sql_statements": r["sql_statements"], "worker_rss_peak_mb": r["rss_peak_mb"],
            "errors": len(r["errors"]), "wrong": len(r["errors"]), "error_samples": r["errors"]}


def decisions_module():
    """``bench/decisions.py`` (decisions inside a live call), when it is there."""
    if importlib.util.find_spec("bench.decisions") is None:
        return None
    from bench import decisions

    return decisions if hasattr(decisions, "http") and hasattr(decisions, "floor") else None


# As bench.decisions measures it: a few agents asking at once; with --concurrency 1, one at a
# time (the latency of one decision inside a live call).
DECISIONS_CONCURRENCY = 4


def run(args) -> dict:
    own = args.database_url is None
    if own:
        url, drop = fresh_database(args.db, args.pg_url)
    else:
        url, drop = args.database_url, (lambda: None)
    db = "sqlite" if url.startswith("sqlite") else "postgresql"
    tag = f"-{int(time.time())}-{os.getpid()}"
    results: dict = {"db": db, "machine": machine(), "started": datetime.now(UTC).isoformat(timespec="seconds"),
                     "args": {k: v for k, v in vars(args).items() if k != "pg_url"}, "measurements": []}
    rows = results["measurements"]
    profiles: list[Path] = []  # with --profile: the stacks recorded in this run
    try:
        t0 = time.perf_counter()
        if own:
            run_cli(url, "db", "upgrade")
            sample = seeded_sample(seed(url, args.customers, args.long_tail), max(args.contacts, args.resolves))
            results["seeded_seconds"] = round(time.perf_counter() - t0, 1)
        else:
            sample = existing_sample(url, max(args.contacts, args.resolves, args.reads, 10_000))
            results["sampled_seconds"] = round(time.perf_counter() - t0, 1)
        say(f"{db}: {len(sample.customer_ids):,} customers to read, long tail {len(sample.long_tail)}, "
            f"ready in {time.perf_counter() - t0:.1f}s")
        token = run_cli(url, "token", "create", "--name", f"bench{tag}", "--role", "admin").splitlines()[0]
        headers = {"Authorization": f"Bearer {token}"}
        pick = sample.numbers[:args.contacts]
        limit = args.max_seconds
        # On the bench's own database a real worker runs beside the server (it delivers the outbox
        # the ingest fills). Not on someone else's database: its sweeps would fire their clocks.
        beside = worker_process(url) if own else nullcontext(None)
        with server(url, workers=args.workers) as (base, rss), beside as worker_rss:
            # Warm-up (imports, pools, caches): not counted.
            customer360.http(base, headers, sample.customer_ids, sample.long_tail, 20, 2)
            cpu = rss.cpu_seconds()

            def cpu_per_request(result: Result) -> None:
                nonlocal cpu
                now = rss.cpu_seconds()
                # per contact for a batch, as its throughput
                items = max(1, result.count * result.items_per_request)
                result.extra["server_cpu_ms_per_request"] = round((now - cpu) * 1000 / items, 2)
                cpu = now

            def profiled(name: str):
                """With --profile: py-spy records the server while ``name`` is measured."""
                if not args.profile:
                    return nullcontext()
                profiles.append(Path(args.profile) / f"{name.replace(' ', '-')}.txt")
                return spy.record(rss.pid, profiles[-1])

            rate = args.ingest_rate  # contacts a second offered, or None: as fast as the clients go
            with profiled("ingest"):
                http_ingest = load("ingest (HTTP)", base, headers,
                                   ingest.requests(0, len(pick), pick=pick, tag=tag, at=sample.ingest_at),
                                   args.concurrency, limit, rate=rate)
            cpu_per_request(http_ingest)
            say(f"ingest {http_ingest.summary()['throughput_per_s']}/s")
            http_batches, size = None, args.batch_size
            if size > 1 and len(pick) < size:
                say(f"ingest in batches of {size}: not measured, --contacts is {len(pick)}")
            if size > 1 and len(pick) >= size:
                batch_pick = pick[:len(pick) - len(pick) % size]
                with profiled("ingest in batches"):
                    http_batches = load(f"ingest in batches of {size} (HTTP)", base, headers,
                                        ingest.batch_requests(batch_pick, size, tag=f"b{tag}", at=sample.ingest_at),
                                        args.concurrency, limit, rate=rate / size if rate else None)
                http_batches.items_per_request = size
                cpu_per_request(http_batches)
                say(f"ingest in batches of {size}: {http_batches.summary()['throughput_per_s']} contacts/s")
            with profiled("customer 360"):
                http_360 = customer360.http(base, headers, sample.customer_ids, sample.long_tail, args.reads,
                                            args.concurrency, "360", limit)
            cpu_per_request(http_360)
            say(f"360 p99 {http_360.summary()['p99_ms']} ms")
            with profiled("timeline page"):
                http_tl = customer360.http(base, headers, sample.customer_ids, sample.long_tail, args.reads // 2,
                                           args.concurrency, "timeline", limit)
            cpu_per_request(http_tl)
            window = int(RESOLVE_WINDOW.total_seconds() // 60)
            pairs = [(n, sample.ingest_at - timedelta(minutes=(7 * k) % window)) for k, (n, _) in
                     enumerate(sample.numbers[:args.resolves])]
            expect = [cid for _, cid in sample.numbers[:args.resolves]]
            reqs = [(*r, ("customerId", cid)) for r, cid in zip(resolve.requests(0, len(pairs), pick=pairs), expect,
                                                                strict=True)]
            with profiled("identifier resolution"):
                http_resolve = load("identifier resolution (HTTP)", base, headers, reqs, args.concurrency, limit)
            cpu_per_request(http_resolve)
            say(f"resolve p99 {http_resolve.summary()['p99_ms']} ms")
            http_lists, pages = [], []
            if args.list_repeat:  # the list pages (bench/lists.py): first, middle and last keyset pages
                lists.seed(url, args.queue_rows)
                pages = lists.plan(url, 3)
                http_lists = lists.measure(url, base, lists.supervisor_headers(url), pages, args.list_repeat, limit)
                say("list pages p99 " + ", ".join(f"{r.name} {r.summary()['p99_ms']} ms" for r in http_lists))
            decisions = decisions_module() if args.decisions else None
            if decisions is not None:
                with httpx.Client(base_url=base, headers=headers, timeout=60) as warm:
                    for body in decisions.asks(sample.customer_ids, 6, 99):  # first use of each policy
                        warm.post("/api/v1/decisions", json=body)
                with profiled("decisions"):
                    http_decisions = decisions.http(base, headers, sample.customer_ids, args.decisions,
                                                    min(DECISIONS_CONCURRENCY, args.concurrency), limit,
                                                    seed_value=1)
                cpu_per_request(http_decisions)
                say(f"decisions p99 {http_decisions.summary()['p99_ms']} ms")
            server_rss, worker_peak = rss.peak_mb(), (worker_rss.peak_mb() if worker_rss else None)
        measured = [http_ingest, http_360, http_tl, http_resolve] + ([http_decisions] if decisions else []) + \
            ([http_batches] if http_batches else [])
        for r in measured:
            r.rss_peak_mb = server_rss
        # The floors, on the same database, after the server has stopped (same number of items).
        floor_ingest = ingest.floor(url, 0, http_ingest.count, args.concurrency, pick=pick, tag=f"floor{tag}",
                                    at=sample.ingest_at, max_seconds=limit)
        floor_360 = customer360.floor(url, sample.customer_ids, sample.long_tail, http_360.count, args.concurrency,
                                      "360", limit)
        floor_tl = customer360.floor(url, sample.customer_ids, sample.long_tail, http_tl.count, args.concurrency,
                                     "timeline", limit)
        floor_resolve = resolve.floor(url, pairs[:http_resolve.count], args.concurrency)
        rows[:0] = [row("ingest", http_ingest, floor_ingest, db), row("customer 360", http_360, floor_360, db),
                    row("timeline page", http_tl, floor_tl, db),
                    row("identifier resolution", http_resolve, floor_resolve, db)]
        if http_batches is not None:
            floor_batches = ingest.batch_floor(url, batch_pick[:http_batches.count * size], size, args.concurrency,
                                               tag=f"floorb{tag}", at=sample.ingest_at, max_seconds=limit) \
                if db == "postgresql" else None
            rows.insert(1, row("ingest in batches", http_batches, floor_batches, db))
            rows[1]["measurement"] = f"ingest in batches of {size}"
        if args.ingest_rate:
            for r in rows[:2 if http_batches is not None else 1]:
                r["measurement"] += f", {args.ingest_rate:g} contacts/s offered"
                r["offered_per_s"] = args.ingest_rate
                r["ratio_to_floor"] = None  # paced: its throughput is the rate offered, not what it can do
        for r in http_lists:
            name = r.name.removesuffix(" (HTTP)")
            rows.append(row(f"list: {name}", r, lists.floor(url, pages, name, args.list_repeat, limit), db))
        if decisions is not None:
            floor_decisions = decisions.floor(url, token, sample.customer_ids, http_decisions.count,
                                              min(DECISIONS_CONCURRENCY, args.concurrency), seed_value=1)
            rows.append(row("decisions", http_decisions, floor_decisions, db))
        for r in rows:
            r["worker_rss_peak_mb"] = worker_peak
        if not args.no_sweep:
            rows.append(sweep_row(None if own else url, args, db))
    finally:
        if own and not args.keep:
            drop()
    if args.profile:
        results["profile"] = {f.stem.replace("-", " "): spy.breakdown(f) for f in profiles}
    results["seconds"] = round(time.perf_counter() - t0, 1)
    if not any(r["measurement"] == "decisions" for r in rows):
        results["not_measured"] = ["decisions: bench/decisions.py is not there (or --decisions 0)"]
    return results


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"## {results['db']} — {results['started']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, load {m['load_at_start']} at start. "
             f"Command: `python -m bench.suite {' '.join(results['argv'])}`", "",
             "| measurement | target | count | per s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req | "
             "client CPU ms/req | server RSS MB | worker RSS MB | floor per s | floor p99 ms | ratio |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results["measurements"]:
        def g(k, r=r):
            v = r.get(k)
            return "" if v is None else f"{v:,}" if isinstance(v, int) else str(v)
        errors = (r.get("errors") or 0) + (r.get("wrong") or 0)
        lines.append(f"| {r['measurement']} | {r.get('target') or ''} | {g('count')} | {g('throughput_per_s')} | "
                     f"{g('p50_ms')} | {g('p95_ms')} | {g('p99_ms')} | {errors} | {g('server_cpu_ms_per_request')} | "
                     f"{g('client_cpu_ms_per_req')} | {g('rss_peak_mb')} | "
                     f"{g('worker_rss_peak_mb')} | {g('floor_throughput_per_s')} | {g('floor_p99_ms')} | "
                     f"{g('ratio_to_floor')} |")
    sweep = next((r for r in results["measurements"] if r["measurement"] == "sweep"), None)
    if sweep:
        lines += ["", f"Sweep: {sweep['open_cases']:,} open cases, {sweep['count']:,} clocks due: "
                      f"{sweep['seconds']} s (floor {sweep['floor_seconds']} s, {sweep['sql_statements']} statements)."]
    for note in results.get("not_measured", []):
        lines += ["", f"Not measured: {note}."]
    if results.get("profile"):
        lines += ["", "Where the server's Python time went (py-spy --gil: share of the samples of a thread "
                      f"holding the GIL; stacks in {results['args']['profile']}):", "",
                  spy.markdown(results["profile"]).rstrip()]
    return "\n".join(lines) + "\n"


def failures(results: dict) -> list[str]:
    out = []
    for r in results["measurements"]:
        bad = (r.get("errors") or 0) + (r.get("wrong") or 0) + (r.get("server_errors") or 0)
        if bad:
            out.append(f"{r['measurement']}: {r.get('errors') or 0} failed requests, {r.get('wrong') or 0} wrong "
                       f"answers: {r.get('error_samples') or ''}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("ONETHREAD_BENCH_PG_URL"),
                    help="a PostgreSQL server URL to create the bench's own databases on")
    ap.add_argument("--database-url", default=None, help="measure this existing database instead of seeding one")
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--long-tail", type=int, default=5_000, help="contacts of the seeded long-tail customer")
    ap.add_argument("--contacts", type=int, default=4_000, help="contacts to ingest over HTTP")
    ap.add_argument("--ingest-rate", type=float, default=None, metavar="N",
                    help="offer the ingest N contacts a second (paced, latency counted from when each request "
                         "was due) instead of as fast as --concurrency clients can send")
    ap.add_argument("--batch-size", type=int, default=10,
                    help="also ingest the same number of contacts in batches of this many (POST "
                         "/api/v1/contact-batches); 0 or 1: not measured")
    ap.add_argument("--reads", type=int, default=2_000, help="360 requests (and half as many timeline pages)")
    ap.add_argument("--resolves", type=int, default=2_000, help="identifier resolutions")
    ap.add_argument("--decisions", type=int, default=1_000, help="decisions (bench/decisions.py)")
    ap.add_argument("--sweep-cases", type=int, default=100_000, help="open cases the sweep bench seeds")
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--list-repeat", type=int, default=10, help="times each list page is asked for (0: none)")
    ap.add_argument("--queue-rows", type=int, default=10_000,
                    help="match-queue items, known defects and four-eyes requests the list bench adds, at most")
    ap.add_argument("--sweep-now", default=None,
                    help="with --database-url: the instant the (rolled back) sweep runs at; default now")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--max-seconds", type=float, default=120, help="time bound of each measurement")
    ap.add_argument("--quick", action="store_true",
                    help="CI size: a few hundred requests each, 5,000 cases for the sweep, 20 s per measurement")
    ap.add_argument("--keep", action="store_true", help="keep the seeded database")
    ap.add_argument("--profile", metavar="DIR", default=None,
                    help="record the server with py-spy during each HTTP measurement into DIR/<measurement>.txt "
                         "and report where its time went, by layer (bench/spy.py)")
    args = ap.parse_args(argv)
    if args.profile and not spy.available():
        ap.error("--profile needs py-spy: .venv/bin/pip install py-spy")
    if not (args.batch_size in (0, 1) or 2 <= args.batch_size <= MAX_BATCH):
        ap.error(f"--batch-size is 2 to {MAX_BATCH} (the endpoint's limit), or 0 for no batches")
    if args.ingest_rate is not None and args.ingest_rate <= 0:
        ap.error("--ingest-rate is a number of contacts a second, above 0")
    if args.quick:
        args.long_tail = min(args.long_tail, 2_000)
        args.contacts, args.reads, args.resolves = min(args.contacts, 500), min(args.reads, 400), \
            min(args.resolves, 500)
        args.decisions, args.sweep_cases = min(args.decisions, 300), min(args.sweep_cases, 5_000)
        args.list_repeat, args.queue_rows = min(args.list_repeat, 2), min(args.queue_rows, 1_000)
        args.concurrency, args.max_seconds = min(args.concurrency, 8), min(args.max_seconds, 20)

    results = run(args)
    results["argv"] = list(argv if argv is not None else sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")
    for name in (f"suite-{results['db']}", f"suite-{results['db']}-{stamp}"):
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(markdown(results))
    print(markdown(results))
    print(f"written to bench/results/suite-{results['db']}.json and .md ({results['seconds']} s)")
    bad = failures(results)
    for b in bad:
        print(f"ERROR: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
