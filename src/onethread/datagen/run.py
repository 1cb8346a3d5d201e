"""``generate``: migrate, write the staff, then stream batches of customers into the database
(on PostgreSQL into bare tables, their indexes and constraints re-created after the load).

Customers come in slices (``shape.SLICE``), each from its own seeded random stream. Workers
(threads, one database connection each) take slices in turn and write them batch by batch, so
PostgreSQL works on several ``COPY``s at once while Python generates; each worker holds one
batch in memory at a time.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from onethread.datagen.shape import BATCH_TABLES, SLICE, TABLES, Generator, Options, Staff
from onethread.datagen.sink import (
    PostgresSink,
    SqliteSink,
    drop_definitions,
    read_definitions,
    rebuild_definitions,
)
from onethread.db import migrate
from onethread.db.engine import make_engine
from onethread.errors import Conflict
from onethread.models import Customer
from onethread.search import index as search_index


@dataclass
class Report:
    customers: int
    rows: dict[str, int]
    seconds: float
    peak_rss_mb: float
    database: str
    phases: dict[str, float] = field(default_factory=dict)
    rebuild: dict[str, float] = field(default_factory=dict)  # PostgreSQL: re-creating, seconds by kind
    deferred: int = 0  # indexes and constraints dropped before the load and re-created after it
    write_seconds: dict[str, float] = field(default_factory=dict)  # PostgreSQL: time in each table's COPY
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # generator, and database (when measurable)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def table(self) -> str:
        lines = [f"{'table':<24}{'rows':>14}{'rows/s':>12}" + (f"{'COPY s':>10}" if self.write_seconds else "")]
        for name, n in self.rows.items():
            copy = f"{self.write_seconds[name]:>10.1f}" if name in self.write_seconds else ""
            lines.append(f"{name:<24}{n:>14,}{n / max(self.seconds, 1e-9):>12,.0f}{copy}")
        lines.append(f"{'total':<24}{self.total_rows:>14,}{self.total_rows / max(self.seconds, 1e-9):>12,.0f}")
        lines.append(f"{self.customers:,} customers in {self.seconds:,.1f} s; peak RSS {self.peak_rss_mb:.0f} MB; "
                     + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items()))
        if self.deferred:
            lines.append(f"rebuild: {self.deferred} indexes and constraints re-created (and the tables analyzed) "
                         f"in {self.phases.get('rebuild', 0.0):,.1f} s; connection-seconds: "
                         + ", ".join(f"{k} {v:,.1f}" for k, v in self.rebuild.items()))
        if self.cpu_seconds:
            lines.append("CPU: " + ", ".join(f"{k} {v:,.1f} s" for k, v in self.cpu_seconds.items()))
        return "\n".join(lines)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class _Progress:
    def __init__(self, total: int, out: TextIO | None, every: float) -> None:
        self.total, self.out, self.every = total, out, every
        self.started = self.last = time.monotonic()

    def tick(self, done: int, rows: dict[str, int], force: bool = False) -> None:
        now = time.monotonic()
        if self.out is None or (not force and now - self.last < self.every):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        total = sum(rows.values())
        eta = (self.total - done) * elapsed / done if done else 0.0
        busiest = sorted(rows.items(), key=lambda kv: -kv[1])[:8]
        per_table = " ".join(f"{name} {n / elapsed:,.0f}/s" for name, n in busiest)
        self.out.write(f"[generate] {done:,}/{self.total:,} customers ({100 * done / self.total:.1f}%) "
                       f"{total:,} rows {total / elapsed:,.0f} rows/s elapsed {_duration(elapsed)} "
                       f"ETA {_duration(eta)} rss {peak_rss_mb():.0f} MB | {per_table}\n")
        self.out.flush()


class _Workers:
    """Workers take slices of customers in turn; each generates and writes its slice batch by
    batch on its own connection (one transaction per batch). Only committed rows are counted."""

    def __init__(self, options: Options, staff: Staff, sinks: list, batch_size: int) -> None:
        self.options, self.staff, self.batch_size, self.sinks = options, staff, batch_size, sinks
        self.lock = threading.Lock()
        self.slices = iter(range(-(-options.customers // SLICE)))
        self.rows = dict.fromkeys(BATCH_TABLES, 0)
        self.customers = 0
        self.error: BaseException | None = None
        self.threads = [threading.Thread(target=self._work, args=(sink,), name=f"datagen-{k}", daemon=True)
                        for k, sink in enumerate(sinks)]

    def _next_slice(self) -> int | None:
        with self.lock:
            if self.error is not None:
                return None
            return next(self.slices, None)

    def _work(self, sink) -> None:
        try:
            while (index := self._next_slice()) is not None:
                gen = Generator(self.options, self.staff, index)
                end = min(self.options.customers, (index + 1) * SLICE)
                for first in range(index * SLICE, end, self.batch_size):
                    last = min(end, first + self.batch_size)
                    rows = gen.batch(first, last)
                    sink.write(rows, BATCH_TABLES)
                    with self.lock:
                        self.customers += last - first
                        for table, data in rows.items():
                            self.rows[table] += len(data)
                    if self.error is not None:
                        return
        except BaseException as exc:
            with self.lock:
                self.error = self.error or exc

    def run(self, meter: _Progress) -> None:
        for t in self.threads:
            t.start()
        try:
            while any(t.is_alive() for t in self.threads):
                for t in self.threads:
                    t.join(timeout=0.5)
                meter.tick(*self.snapshot())
        except BaseException as exc:
            # Interrupted (Ctrl-C): the workers stop after their batch, the COPYs in flight are
            # cancelled (rolled back), and nothing writes any more when this returns.
            with self.lock:
                self.error = self.error or exc
            for sink in self.sinks:
                if hasattr(sink, "cancel"):
                    sink.cancel()
            for t in self.threads:
                t.join()
            raise
        if self.error is not None:
            raise self.error

    def snapshot(self) -> tuple[int, dict[str, int]]:
        with self.lock:
            return self.customers, dict(self.rows)


def generate(database_url: str, options: Options, *, batch_size: int = 500, workers: int = 2,
             progress: TextIO | None = sys.stderr, every: float = 5.0, analyze: bool = True,
             keep_indexes: bool = False) -> Report:
    """Migrate the database to head and fill it with ``options.customers`` customers' data.

    Refuses a database that already has customers (ids and numbers would collide). SQLite has
    one writer at a time, so it gets one worker whatever is asked.

    On PostgreSQL, unless ``keep_indexes``, the indexes and constraints of the generated tables
    (and foreign keys pointing at them) are dropped before the load and re-created from their
    catalog definitions after it, whether the load finished or not; a definition that cannot be
    re-created raises ``sink.DeferredBuildFailed`` naming it.
    """
    started = time.monotonic()
    phases: dict[str, float] = {}
    engine = make_engine(database_url)
    sinks: list = []
    rebuild: dict[str, float] = {}
    deferred: list = []
    rebuild_cpu: float | None = None
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            if conn.scalar(select(func.count()).select_from(Customer)):
                raise Conflict("the database already has customers; generate into an empty database")
        phases["migrate"] = time.monotonic() - started
        postgres = engine.dialect.name == "postgresql"
        sinks = ([PostgresSink(database_url) for _ in range(max(1, workers))] if postgres
                 else [SqliteSink(engine)])
        staff = Staff(options)
        # Team leads are staff members: teams first without them, then the staff, then the leads.
        sinks[0].write({"team": [(t[0], t[1], t[2], None, t[4]) for t in staff.teams],
                        "staff_user": staff.users}, ("team", "staff_user"))
        for tid, _name, _kind, lead, _at in staff.teams:
            sinks[0].execute(f"UPDATE team SET lead_id = '{lead}' WHERE id = '{tid}'")
        rows = {"team": len(staff.teams), "staff_user": len(staff.users)}
        if postgres and not keep_indexes:
            deferred = read_definitions(sinks[0].conn, BATCH_TABLES)
            drop_definitions(sinks[0].conn, deferred)
        t0 = time.monotonic()
        try:
            pool = _Workers(options, staff, sinks, batch_size)
            meter = _Progress(options.customers, progress, every)
            pool.run(meter)
            done, counted = pool.snapshot()
            meter.tick(done, counted, force=True)
        finally:
            phases["load"] = time.monotonic() - t0
            if deferred:
                # Whatever happened to the load (done, failed, interrupted), put the schema back.
                t1 = time.monotonic()
                if progress is not None:
                    try:
                        progress.write(f"[rebuild] re-creating {len(deferred)} indexes and constraints "
                                       f"on {len(sinks)} connection(s)\n")
                    except (OSError, ValueError):  # stderr gone: rebuild all the same, silently
                        progress = None
                rebuild, rebuild_cpu = rebuild_definitions(database_url, deferred, connections=len(sinks),
                                                           progress=progress, analyze=BATCH_TABLES if analyze else ())
                phases["rebuild"] = time.monotonic() - t1
        rows.update(counted)
        t1 = time.monotonic()
        with Session(engine) as session, session.begin():  # the rows were written directly: index them all
            search_index.rebuild(session)
            if postgres and analyze:
                session.execute(text("ANALYZE search_doc"))
        phases["search index"] = time.monotonic() - t1
        if analyze:  # (the rebuild analyzed the tables it rebuilt, as soon as their indexes were back)
            t1 = time.monotonic()
            sinks[0].analyze([t for t in TABLES if not deferred or t not in BATCH_TABLES])
            phases["analyze"] = time.monotonic() - t1
        cpu = {"generator": _own_cpu()}
        backends = [s.backend_cpu_seconds() for s in sinks if hasattr(s, "backend_cpu_seconds")]
        if backends and None not in backends and (rebuild_cpu is not None or not deferred):
            cpu["database"] = sum(backends) + (rebuild_cpu or 0.0)
    finally:
        for sink in sinks:
            sink.close()
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    return Report(customers=options.customers, rows=rows, seconds=time.monotonic() - started,
                  peak_rss_mb=peak_rss_mb(), database=where, phases=phases,
                  write_seconds=_merge(getattr(s, "seconds", {}) for s in sinks), cpu_seconds=cpu,
                  rebuild=rebuild, deferred=len(deferred))


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _merge(parts) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        for k, v in part.items():
            out[k] = out.get(k, 0.0) + v
    return out
