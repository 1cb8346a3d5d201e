"""Bench plumbing: fresh databases, a real server process, a load client in another process,
percentiles, peak RSS."""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
ONETHREAD = str(Path(sys.executable).parent / "onethread")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies_ms: list[float] = field(repr=False, default_factory=list)
    errors: int = 0
    rss_peak_mb: float | None = None
    extra: dict = field(default_factory=dict)
    items_per_request: int = 1  # a batch: throughput counts the items (contacts), latency the requests

    @property
    def throughput(self) -> float:
        return self.count * self.items_per_request / self.seconds if self.seconds else float("nan")

    def summary(self) -> dict:
        batch = {} if self.items_per_request == 1 else {
            "items_per_request": self.items_per_request,
            "requests_per_s": round(self.count / self.seconds, 1) if self.seconds else None}
        return {
            "name": self.name, "count": self.count * self.items_per_request, "seconds": round(self.seconds, 3),
            "throughput_per_s": round(self.throughput, 1), **batch,
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 95), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
            "errors": self.errors, "rss_peak_mb": self.rss_peak_mb, **self.extra,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(kind: str, pg_url: str | None) -> tuple[str, callable]:
    """A new empty database URL and a function that drops it."""
    if kind == "sqlite":
        d = tempfile.mkdtemp(prefix="onethread-bench-")
        return f"sqlite:///{d}/bench.db", lambda: shutil.rmtree(d, ignore_errors=True)
    import psycopg

    base = pg_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    # ONETHREAD_BENCH_DB_PREFIX: where several people share one server, each their own names.
    name = f"{os.environ.get('ONETHREAD_BENCH_DB_PREFIX', 'onethread_bench')}_{int(time.time())}_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.rsplit("/", 1)[0] + f"/{name}", drop


def run_cli(url: str, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "ONETHREAD_DATABASE_URL": url}
    out = subprocess.run([ONETHREAD, *args], env=env, input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"onethread {' '.join(args)} failed: {out.stderr.strip()[-2000:]}")
    return out.stdout.strip()


class RssSampler:
    """Peak resident set size of a process, and of each of its children (``--workers``): the
    kernel's VmHWM gives the true peak; the largest process is reported."""

    def __init__(self, pid: int):
        self.pid = pid

    @staticmethod
    def _hwm(pid: int) -> float | None:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def _pids(self) -> list[int]:
        pids = [self.pid]
        with suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the process and its live children: the cost of
        the requests served, which a busy machine does not inflate the way it inflates latency."""
        total = 0
        for pid in self._pids():
            with suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / os.sysconf("SC_CLK_TCK")

    def peak_mb(self) -> float | None:
        pids = [self.pid]
        with suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        values = [v for v in (self._hwm(p) for p in pids) if v is not None]
        return max(values) if values else None


# A server starts in a few seconds; on a machine shared by many (a load of ten per core) it has
# been seen to take over 40.
START_SECONDS = 120


@contextmanager
def server(url: str, extra_env: dict | None = None, workers: int = 1):
    port = free_port()
    env = {**os.environ, "ONETHREAD_DATABASE_URL": url, "ONETHREAD_ENV": "test", **(extra_env or {})}
    proc = subprocess.Popen([ONETHREAD, "serve", "--port", str(port), "--no-worker", "--workers", str(workers)],
                            env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
    else:
        proc.kill()
        raise RuntimeError(f"server did not start in {START_SECONDS} s")
    try:
        yield base, RssSampler(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _dig(body, path: str):
    """``a.0.b`` in a decoded JSON body; None when it is not there. ``a.*.b``: the list of ``b``
    of every element of ``a``."""
    parts = path.split(".")
    for n, part in enumerate(parts):
        if part == "*":
            rest = ".".join(parts[n + 1:])
            return [(_dig(x, rest) if rest else x) for x in body] if isinstance(body, list) else None
        if isinstance(body, list):
            body = body[int(part)] if part.isdigit() and int(part) < len(body) else None
        elif isinstance(body, dict):
            body = body.get(part)
        else:
            return None
    return body


@contextmanager
def worker_process(url: str, extra_env: dict | None = None):
    """A real ``onethread worker`` (delivers the outbox, runs the sweeps) beside the server."""
    env = {**os.environ, "ONETHREAD_DATABASE_URL": url, "ONETHREAD_ENV": "test", **(extra_env or {})}
    proc = subprocess.Popen([ONETHREAD, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield RssSampler(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class _Http:
    """A keep-alive HTTP/1.1 client on the standard library, one per load thread.

    The load client shares the machine's cores with the server and the database, so it should
    cost as little as it can: ``http.client`` spends about a third of httpx's CPU per request."""

    def __init__(self, base: str, headers: dict, timeout: float):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.headers = {"Accept": "application/json", **headers}
        self.conn = None

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if r.getheader("connection", "").lower() == "close":
                self.close()
            return r.status, payload
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _client_process(base: str, headers: dict, requests: list, concurrency: int, max_seconds: float | None,
                    queue, rate: float | None = None) -> None:
    latencies: list[float] = []
    counts = {"errors": 0, "server_errors": 0, "wrong": 0, "timeouts": 0}
    samples: list[str] = []
    lock = threading.Lock()
    index = [0]
    deadline = time.perf_counter() + max_seconds if max_seconds else None
    start = time.perf_counter() + 0.5

    def worker() -> None:
        client = _Http(base, headers, timeout=120)
        try:
            while True:
                with lock:
                    i = index[0]
                    index[0] += 1
                if i >= len(requests) or (deadline is not None and time.perf_counter() > deadline):
                    return
                method, path, body, *expect = requests[i]
                problem = None
                if rate:
                    # Paced: request i is due at start + i / rate, and its latency counts from then,
                    # so a server that falls behind is charged for the wait (no coordinated omission).
                    t0 = start + i / rate
                    if t0 > time.perf_counter():
                        time.sleep(t0 - time.perf_counter())
                else:
                    t0 = time.perf_counter()
                try:
                    status, payload = client.request(method, path, body)
                except TimeoutError:
                    problem, why = "timeouts", ""
                    client.close()
                except OSError as exc:
                    problem, why = "errors", f"{method} {path}: {exc!r}"
                    client.close()
                dt = (time.perf_counter() - t0) * 1000
                if problem is None:
                    if status >= 500:
                        problem, why = "server_errors", f"{method} {path}: {status} {payload[:300]!r}"
                    elif status >= 400:
                        problem, why = "errors", f"{method} {path}: {status} {payload[:300]!r}"
                    elif expect and expect[0]:
                        got = _dig(json.loads(payload), expect[0][0])
                        if got != expect[0][1]:
                            problem, why = "wrong", f"{method} {path}: {expect[0][0]} is {got!r}, not {expect[0][1]!r}"
                with lock:
                    latencies.append(dt)
                    if problem:
                        counts[problem] += 1
                        if problem != "timeouts" and len(samples) < 5:
                            samples.append(why)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # paced: the clock runs from when the first request was due, not from the threads' start
    began = start if rate else t0
    queue.put((time.perf_counter() - began, latencies, counts, samples, time.process_time() - cpu0))


def load(name: str, base: str, headers: dict, requests: list, concurrency: int,
         max_seconds: float | None = None, rate: float | None = None) -> Result:
    """Send ``requests`` [(method, path, json[, (json path, expected value)])] from a separate
    process with ``concurrency`` threads, stopping early after ``max_seconds``. A request counts
    as an error on a 4xx/5xx or a transport failure, as wrong when the expected value is not in
    the answer, and as a timeout when the server did not answer within two minutes.

    ``rate`` (requests a second): send at that pace instead of as fast as the threads can (an
    offered load, as traffic arrives), each latency counted from when its request was due."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_client_process, args=(base, headers, requests, concurrency, max_seconds, queue, rate))
    proc.start()
    while True:  # never wait forever on a client that died (it would hang a CI run)
        try:
            seconds, latencies, counts, samples, client_cpu = queue.get(timeout=5)
            break
        except Empty:
            if not proc.is_alive():
                raise RuntimeError(f"the load client for {name!r} exited with {proc.exitcode} and no result") from None
    proc.join()
    result = Result(name, len(latencies), seconds, latencies, counts["errors"] + counts["server_errors"])
    result.extra.update(server_errors=counts["server_errors"], wrong=counts["wrong"], timeouts=counts["timeouts"],
                        client_cpu_ms_per_req=round(client_cpu / len(latencies) * 1000, 2) if latencies else None)
    if samples:
        result.extra["error_samples"] = samples
    return result


def timed(name: str, items: list, fn, concurrency: int = 1, max_seconds: float | None = None) -> Result:
    """Run ``fn(item)`` for each item on ``concurrency`` threads (the raw-SQL floor)."""
    latencies: list[float] = []
    lock = threading.Lock()
    it = iter(items)
    deadline = time.perf_counter() + max_seconds if max_seconds else None

    def worker() -> None:
        while True:
            with lock:
                item = next(it, None)
            if item is None or (deadline is not None and time.perf_counter() > deadline):
                return
            t0 = time.perf_counter()
            fn(item)
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(dt)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(name, len(latencies), time.perf_counter() - t0, latencies)
