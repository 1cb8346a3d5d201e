"""Where generated rows go: PostgreSQL through ``COPY ... FROM STDIN`` (binary), SQLite through
``executemany``. One transaction per batch of customers, so an interrupted run leaves whole
customers behind, never half of one."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from onethread.datagen.shape import TABLES
from onethread.db.base import Base


class PostgresSink:
    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(_psycopg_url(url))
        # The generator's own commits need not wait for the WAL flush: a crash loses the last
        # batches, which a rerun into a fresh database regenerates identically.
        self.conn.execute("SET synchronous_commit = off")
        self.backend_pid = self.conn.info.backend_pid
        self.conn.commit()
        self.types: dict[str, list[str]] = {}
        self.seconds: dict[str, float] = {}  # time spent writing each table (the database's share)
        with self.conn.cursor() as cur:
            for table, columns in TABLES.items():
                cur.execute("SELECT column_name, udt_name FROM information_schema.columns "
                            "WHERE table_schema = current_schema() AND table_name = %s", (table,))
                found = dict(cur.fetchall())
                missing = [c for c in columns if c not in found]
                if missing:
                    raise RuntimeError(f"table {table} lacks column(s) {', '.join(missing)}: schema not at head?")
                self.types[table] = [found[c] for c in columns]
        self.conn.commit()

    def write(self, rows: dict[str, list[tuple]], order: Iterable[str]) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            for table in order:
                data = rows.get(table)
                if not data:
                    continue
                columns = ", ".join(f'"{c}"' for c in TABLES[table])
                began = time.monotonic()
                with cur.copy(f'COPY "{table}" ({columns}) FROM STDIN (FORMAT BINARY)') as copy:
                    copy.set_types(self.types[table])
                    write = copy.write_row
                    for row in data:
                        write(row)
                self.seconds[table] = self.seconds.get(table, 0.0) + time.monotonic() - began

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)
        self.conn.commit()

    def cancel(self) -> None:
        """Cancel what this connection runs now (from another thread): a ``COPY`` in flight."""
        self.conn.cancel_safe()

    def analyze(self, tables: Iterable[str]) -> None:
        self.conn.autocommit = True
        for table in tables:
            self.conn.execute(f'ANALYZE "{table}"')
        self.conn.autocommit = False

    def backend_cpu_seconds(self) -> float | None:
        """CPU time of this connection's server process, when the server runs on this machine
        and its /proc entry is readable (else None): what the database spent on the load."""
        return backend_cpu_seconds(self.backend_pid)

    def close(self) -> None:
        self.conn.close()


def backend_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class SqliteSink:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tables = Base.metadata.tables

    def write(self, rows: dict[str, list[tuple]], order: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            for table in order:
                data = rows.get(table)
                if not data:
                    continue
                columns = TABLES[table]
                conn.execute(self.tables[table].insert(), [dict(zip(columns, row, strict=True)) for row in data])

    def execute(self, sql: str) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql)

    def analyze(self, tables: Iterable[str]) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")

    def close(self) -> None:
        pass



# --- Deferred indexes and constraints (PostgreSQL) -------------------------------------------
#
# What pg_restore does: read the definitions of the indexes and constraints on the tables about
# to be loaded, drop them, load, then re-create them from the same definitions. Building a
# B-tree from a sorted scan is far cheaper than maintaining it row by row, and a foreign key
# added to a full table is checked by one join instead of one lookup per row. Nothing goes
# unchecked: every re-created key, exclusion constraint and foreign key validates every row.

KEY, INDEX, EXCLUSION, FOREIGN_KEY = "key", "index", "exclusion", "foreign key"
# Re-created from one queue on several connections, as ``pg_restore --jobs`` does: the primary
# keys and unique constraints, the indexes and the exclusion constraint right away (the keys
# before the indexes of their table), each foreign key once both its tables have their keys and
# indexes back, each table's ANALYZE once its indexes are. The exclusion constraint goes first
# of all: its GiST build cannot be split over cores and takes longest (building the index and
# then checking each row against it: 0.8 s a MB of table here, 45 times a B-tree key),
# so the other connections do everything else meanwhile.
COST = {EXCLUSION: 50.0, KEY: 1.0, INDEX: 0.9, FOREIGN_KEY: 0.5, "analyze": 0.1}  # rough, per table byte
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Definition:
    """One index or constraint as the catalog describes it, and how to drop and re-create it."""

    table: str
    name: str
    kind: str  # KEY, INDEX, EXCLUSION or FOREIGN_KEY
    definition: str  # pg_get_indexdef (an index) or pg_get_constraintdef (a constraint)
    validated: bool = True  # a foreign key that the schema has as NOT VALID stays so
    references: str | None = None  # a foreign key's referenced table

    @property
    def drop(self) -> str:
        if self.kind == INDEX:
            return f"DROP INDEX {_quote(self.name)}"
        return f"ALTER TABLE ONLY {_quote(self.table)} DROP CONSTRAINT {_quote(self.name)}"

    @property
    def create(self) -> list[str]:
        if self.kind == INDEX:
            return [self.definition]
        add = f"ALTER TABLE ONLY {_quote(self.table)} ADD CONSTRAINT {_quote(self.name)} {self.definition}"
        if self.kind == FOREIGN_KEY and self.validated:
            # Added NOT VALID (a catalog change under a brief lock), then validated: the same full
            # check as a plain ADD, but VALIDATE locks only lightly, so foreign keys on different
            # tables are checked side by side instead of queueing on the tables they reference.
            return [f"{add} NOT VALID",
                    f"ALTER TABLE ONLY {_quote(self.table)} VALIDATE CONSTRAINT {_quote(self.name)}"]
        return [add]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} on {self.table}"


def read_definitions(conn: psycopg.Connection, tables: Iterable[str]) -> list[Definition]:
    """The primary keys, unique and exclusion constraints and indexes (partial ones included) of
    ``tables``, and every foreign key from or to them (from other tables too), in the current
    schema. CHECK and NOT NULL constraints stay where they are: they cost little per row."""
    names = list(tables)
    found: list[Definition] = []
    with conn.cursor() as cur:
        cur.execute(
            "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid), c.convalidated, r.relname "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_class r ON r.oid = c.confrelid "
            "WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'x', 'f') "
            "AND (t.relname = ANY(%s) OR (c.contype = 'f' AND r.relname = ANY(%s) "
            "AND r.relnamespace = n.oid)) ORDER BY 1, 2", (names, names))
        kinds = {"p": KEY, "u": KEY, "x": EXCLUSION, "f": FOREIGN_KEY}
        for table, name, contype, definition, validated, references in cur.fetchall():
            found.append(Definition(table, name, kinds[contype], definition, validated, references))
        cur.execute(
            "SELECT t.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND t.relname = ANY(%s) AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x')) "
            "ORDER BY 1, 2", (names,))
        found.extend(Definition(table, name, INDEX, definition) for table, name, definition in cur.fetchall())
    conn.commit()
    return found


def drop_definitions(conn: psycopg.Connection, definitions: list[Definition]) -> None:
    """Drop them all in one transaction (foreign keys first: they depend on the keys)."""
    order = {FOREIGN_KEY: 0, EXCLUSION: 1, INDEX: 2, KEY: 3}
    with conn.transaction(), conn.cursor() as cur:
        # Dropping needs each table to itself for a moment: wait a while for another session
        # to let go, then say so rather than hang.
        cur.execute("SET LOCAL lock_timeout = '30s'")
        for d in sorted(definitions, key=lambda d: order[d.kind]):
            cur.execute(d.drop)


class DeferredBuildFailed(RuntimeError):
    """Re-creating dropped indexes or constraints failed: the database lacks some of them."""

    def __init__(self, failures: list[tuple[Definition, str]], missing: list[Definition],
                 interrupted: bool = False) -> None:
        self.failures, self.missing = failures, missing
        why = "was interrupted" if interrupted else "failed"
        lines = [f"re-creating the indexes and constraints after the load {why}: the database is NOT "
                 f"usable (it lacks {len(missing)} of them); drop it and generate again"
                 + ("." if interrupted else " (a constraint the generated rows violate is a generator bug).")]
        for d, reason in failures:
            lines.append(f"  {d}: {reason}")
        not_tried = [d for d in missing if all(d is not f for f, _ in failures)]
        if not_tried:
            lines.append(f"  not re-created: {', '.join(d.name for d in not_tried)}")
        super().__init__("\n".join(lines))
        self.message = "\n".join(lines)


def rebuild_definitions(url: str, definitions: list[Definition], *, connections: int = 2,
                        progress: TextIO | None = None, analyze: Iterable[str] = (),
                        maintenance_work_mem: str = "256MB") -> tuple[dict[str, float], float | None]:
    """Re-create ``definitions`` on ``connections`` connections (the order: see ``COST``), and
    ANALYZE the tables in ``analyze`` as soon as their indexes are back. Keeps going past a
    failure (so every violated constraint is named), then raises ``DeferredBuildFailed``.
    Returns the connection-seconds spent on each kind of work, and the CPU seconds of the
    connections' server processes (None when not measurable; parallel workers not counted)."""
    conns = []
    try:
        for _ in range(max(1, connections)):
            conn = psycopg.connect(_psycopg_url(url), autocommit=True)
            conn.execute("SET synchronous_commit = off")
            conn.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
            conns.append(conn)
        sizes = dict(conns[0].execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'").fetchall())
        state = _BuildState(definitions, _jobs(definitions, sizes, analyze), progress)
        try:
            state.run(conns)
        except KeyboardInterrupt:
            raise DeferredBuildFailed(state.failures, state.missing, interrupted=True) from None
        if state.failures or state.missing:
            raise DeferredBuildFailed(state.failures, state.missing)
        cpu = [backend_cpu_seconds(c.info.backend_pid) for c in conns]
        return state.seconds, (None if None in cpu else sum(c for c in cpu if c is not None))
    finally:
        for conn in conns:
            conn.close()


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(eq=False)
class _Job:
    table: str
    kind: str  # a Definition's kind, or "analyze"
    statements: list[str]
    cost: float
    definition: Definition | None = None
    after: list[_Job] = field(default_factory=list)  # jobs that must be finished first
    # Whether it keeps the table from any other job: ADD CONSTRAINT locks the table outright,
    # VALIDATE and ANALYZE lock out each other and index builds. CREATE INDEX locks out writers
    # only, so several indexes of one table are built side by side.
    exclusive: bool = True
    finished: bool = False

    def __str__(self) -> str:
        return str(self.definition) if self.definition else f"analyze {self.table}"


def _jobs(definitions: list[Definition], sizes: dict[str, int], analyze: Iterable[str]) -> list[_Job]:
    jobs: list[_Job] = []
    structure: dict[str, list[_Job]] = {}  # each table's keys, indexes and exclusion constraints
    for d in definitions:
        if d.kind != FOREIGN_KEY:
            job = _Job(d.table, d.kind, d.create, COST[d.kind] * sizes.get(d.table, 0), d, exclusive=d.kind != INDEX)
            jobs.append(job)
            structure.setdefault(d.table, []).append(job)
    for d in definitions:
        if d.kind == FOREIGN_KEY:
            needs = structure.get(d.table, []) + structure.get(d.references or "", [])
            jobs.append(_Job(d.table, d.kind, d.create, COST[d.kind] * sizes.get(d.table, 0), d, needs))
    for table in analyze:
        jobs.append(_Job(table, "analyze", [f"ANALYZE {_quote(table)}"], COST["analyze"] * sizes.get(table, 0),
                         after=structure.get(table, [])))
    jobs.sort(key=lambda j: -j.cost)  # the longest first (within a table, keys before indexes)
    return jobs


class _BuildState:
    def __init__(self, definitions: list[Definition], jobs: list[_Job], progress: TextIO | None) -> None:
        self.progress = progress
        self.total = len(definitions)
        self.done = 0
        self.missing = list(definitions)  # not (yet) re-created
        self.failures: list[tuple[Definition, str]] = []
        self.seconds: dict[str, float] = {}  # connection-seconds by kind of work
        self.pending = jobs
        self.busy: dict[str, list[bool]] = {}  # table -> the jobs running on it (exclusive or not)
        self.ready = threading.Condition()
        # Adding a foreign key (NOT VALID) locks both its tables: one at a time, so two of them
        # can never wait for each other.
        self.adding = threading.Lock()
        self.stop = False

    def say(self, line: str) -> None:
        with self.ready:
            if self.progress is None:
                return
            try:
                self.progress.write(line + "\n")
                self.progress.flush()
            except (OSError, ValueError):  # stderr gone (a closed pipe): the rebuild goes on
                self.progress = None

    def _take(self) -> _Job | None:
        """The first pending job whose prerequisites are finished and whose table is free for
        it, waiting while there is none; None when all are taken (or the rebuild stops)."""
        with self.ready:
            while self.pending and not self.stop:
                for k, job in enumerate(self.pending):
                    busy = self.busy.get(job.table, [])
                    if any(busy) or (busy and job.exclusive) or not all(j.finished for j in job.after):
                        continue
                    busy.append(job.exclusive)
                    self.busy[job.table] = busy
                    return self.pending.pop(k)
                self.ready.wait(0.5)
            return None

    def _run_job(self, conn: psycopg.Connection, job: _Job) -> None:
        began = time.monotonic()
        try:
            for k, statement in enumerate(job.statements):
                if job.kind == FOREIGN_KEY and k == 0:
                    with self.adding:
                        conn.execute(statement)
                else:
                    conn.execute(statement)
        except Exception as exc:  # named in the report, never lost with the thread
            reason = " ".join(str(exc).split()) or type(exc).__name__
            if job.definition is None:  # ANALYZE: statistics only, the schema is whole
                self.say(f"[rebuild] {job} failed: {reason}")
            else:
                with self.ready:
                    self.failures.append((job.definition, reason))
                self.say(f"[rebuild] FAILED {job}: {reason}")
            return
        took = time.monotonic() - began
        with self.ready:
            self.seconds[job.kind] = self.seconds.get(job.kind, 0.0) + took
            if job.definition is None:
                return
            self.done += 1
            self.missing.remove(job.definition)
            done = self.done
        self.say(f"[rebuild] {done}/{self.total} {job}: {took:.1f} s")

    def _release(self, job: _Job) -> None:
        with self.ready:
            job.finished = True  # failed or not: what waits for it runs, and says why it fails
            self.busy[job.table].remove(job.exclusive)
            self.ready.notify_all()

    def run(self, conns: list[psycopg.Connection]) -> None:
        def work(conn: psycopg.Connection) -> None:
            while (job := self._take()) is not None:
                try:
                    self._run_job(conn, job)
                finally:
                    self._release(job)

        threads = [threading.Thread(target=work, args=(c,), name=f"rebuild-{k}", daemon=True)
                   for k, c in enumerate(conns)]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.5)
        except BaseException:
            # Interrupted (Ctrl-C): stop taking work, cancel what runs, and report what is missing.
            with self.ready:
                self.stop = True
            for c in conns:
                c.cancel_safe()
            for t in threads:
                t.join(timeout=30)
            raise
