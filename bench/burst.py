"""A burst of writers against the embedded default: ``onethread serve`` on SQLite (its worker loop
in-process, as ``make run`` starts it), N clients each sending one contact after another
(``POST /tmf-api/partyInteraction/v5/partyInteraction``, a unique message id each) for S seconds.

Reported per client count: p50 and p99 latency of every answer, the count of 2xx, 503 (the
server said "busy, come back": ``Retry-After``), 500 and other answers, and client time-outs
(no answer within ``--timeout``). The target (issue 19): at 64 clients for 60 s, p99 within 5 s
and not one 500.

The floor, in the same run: as many inserts as the server answered 2xx, made straight through
``sqlite3`` by the same number of threads, each its own connection, one row per transaction
(``BEGIN IMMEDIATE``, the server's pragmas), into a scratch table of the same database file.

    .venv/bin/python -m bench.burst                          # 64 and 32 clients, 60 s each
    .venv/bin/python -m bench.burst --clients 64 --seconds 15
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from queue import Empty

import httpx

from bench.harness import ONETHREAD, ROOT, free_port, fresh_database, percentile, run_cli

PATH = "/tmf-api/partyInteraction/v5/partyInteraction"


def contact(tag: str, n: int) -> dict:
    return {
        "@type": "PartyInteraction", "direction": "inbound", "reason": "Billing question",
        "description": f"Burst contact {n}: why is my bill higher this month?",
        "relatedChannel": [{"@type": "RelatedChannel", "role": "interaction creation",
                            "channel": {"@type": "ChannelRef", "id": "phone"}}],
        "externalIdentifier": [{"@type": "ExternalIdentifier", "id": f"burst-{tag}-{n}",
                                "externalIdentifierType": "messageId", "owner": "bench"}],
    }


def _clients(base: str, token: str, clients: int, seconds: float, timeout: float, queue) -> None:
    host, port = base.split("//", 1)[1].split(":")
    tag = uuid.uuid4().hex[:8]
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"2xx": 0, "503": 0, "500": 0, "other": 0, "timeouts": 0, "transport": 0}
    retry_after: set[str] = set()
    samples: list[str] = []
    serial = [0]
    stop = time.perf_counter() + seconds

    def one_client() -> None:
        conn = None
        while time.perf_counter() < stop:
            with lock:
                serial[0] += 1
                n = serial[0]
            body = json.dumps(contact(tag, n)).encode()
            t0 = time.perf_counter()
            kind = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
                conn.request("POST", PATH, body=body, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                r = conn.getresponse()
                payload = r.read()
                status = r.status
            except TimeoutError:
                kind = "timeouts"
            except OSError as exc:
                kind, payload = "transport", repr(exc).encode()
            if kind is not None:
                if conn is not None:
                    conn.close()
                conn = None
            else:
                kind = ("2xx" if 200 <= status < 300 else "503" if status == 503
                        else "500" if status >= 500 else "other")
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                counts[kind] += 1
                if kind == "503":
                    retry_after.add(r.getheader("retry-after") or "missing")
                if kind in ("500", "other", "transport") and len(samples) < 5:
                    samples.append(payload[:300].decode(errors="replace"))
            if kind == "503":
                time.sleep(0.05)  # a real client would wait Retry-After; this one comes back soon
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put({"seconds": time.perf_counter() - started, "latencies": latencies, "counts": counts,
               "retry_after": sorted(retry_after), "samples": samples})


def burst(base: str, token: str, clients: int, seconds: float, timeout: float) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_clients, args=(base, token, clients, seconds, timeout, queue))
    proc.start()
    deadline = time.monotonic() + seconds + timeout + 120
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Empty:
            if not proc.is_alive() or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the load client died without a result") from None
    proc.join()
    return result


def floor(db_path: str, clients: int, inserts: int) -> dict:
    """``inserts`` single-row write transactions through sqlite3 by ``clients`` threads."""
    setup = sqlite3.connect(db_path, isolation_level=None)
    setup.execute("CREATE TABLE IF NOT EXISTS bench_burst_floor (id TEXT PRIMARY KEY, body TEXT, at REAL)")
    setup.close()
    left = [inserts]
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    body = json.dumps(contact("floor", 0))

    def writer() -> None:
        conn = sqlite3.connect(db_path, isolation_level=None, timeout=30, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        while True:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            t0 = time.perf_counter()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO bench_burst_floor VALUES (?, ?, ?)", (uuid.uuid4().hex, body, time.time()))
                conn.execute("COMMIT")
            except sqlite3.OperationalError:
                with lock:
                    errors[0] += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)
        conn.close()

    threads = [threading.Thread(target=writer) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    return {"inserts": len(latencies), "seconds": round(took, 2),
            "per_s": round(len(latencies) / took, 1) if took else None,
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "errors": errors[0]}


def start_server(url: str, log: Path):
    port = free_port()
    env = {**os.environ, "ONETHREAD_DATABASE_URL": url, "ONETHREAD_ENV": "test"}
    out = log.open("w")
    proc = subprocess.Popen([ONETHREAD, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready in 120 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[64, 32], help="client counts, one burst each")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each burst")
    ap.add_argument("--timeout", type=float, default=30.0, help="a client gives up on an answer after this")
    args = ap.parse_args()
    results = []
    for clients in args.clients:
        url, drop = fresh_database("sqlite", None)
        try:
            run_cli(url, "db", "upgrade")
            token = run_cli(url, "token", "create", "--name", "burst", "--role", "admin").splitlines()[0]
            log = Path(url.split("///", 1)[1]).with_name("serve.log")
            proc, base = start_server(url, log)
            try:
                got = burst(base, token, clients, args.seconds, args.timeout)
            finally:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            lat = got["latencies"]
            row = {"clients": clients, "seconds": round(got["seconds"], 1), "answers": len(lat),
                   **got["counts"], "p50_s": round(percentile(lat, 50), 3), "p99_s": round(percentile(lat, 99), 3),
                   "max_s": round(max(lat), 3) if lat else None,
                   "per_s_2xx": round(got["counts"]["2xx"] / got["seconds"], 1),
                   "retry_after": got["retry_after"], "samples": got["samples"],
                   "floor": floor(url.split("///", 1)[1], clients, got["counts"]["2xx"])}
            row["target_met"] = row["p99_s"] <= 5 and row["500"] == 0 and row["timeouts"] == 0
            results.append(row)
            print(json.dumps(row), flush=True)
        finally:
            drop()
    print()
    print("| clients | s | answers | 2xx | 503 | 500 | other | client time-outs | p50 s | p99 s | max s | 2xx/s "
          "| floor inserts/s | floor p99 ms | target (p99 ≤ 5 s, no 500) |")
    print("| --- " * 15 + "|")
    for r in results:
        f = r["floor"]
        print(f"| {r['clients']} | {r['seconds']} | {r['answers']} | {r['2xx']} | {r['503']} | {r['500']} "
              f"| {r['other']} | {r['timeouts']} | {r['p50_s']} | {r['p99_s']} | {r['max_s']} | {r['per_s_2xx']} "
              f"| {f['per_s']} | {f['p99_ms']} | {'met' if r['target_met'] else 'missed'} |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "burst-sqlite.json").write_text(json.dumps(results, indent=2))
    sys.exit(0 if all(r["500"] == 0 for r in results) else 1)


if __name__ == "__main__":
    main()
