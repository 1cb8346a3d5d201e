"""Bench: one clock sweep over N open cases, a fraction of whose clocks are due, against its
floor (the same claims, reads and writes as raw SQL on the same database in the same run).

    .venv/bin/python -m bench.sweep --db sqlite --cases 20000
    .venv/bin/python -m bench.sweep --db postgresql --pg-url postgresql://postgres@127.0.0.1/postgres \\
        --pg-db ot_bench_sweep --cases 1000000 --due 0.03

Each case has the three policy clocks (first response, no activity, resolution target); in
``--due`` of the cases the first two are past due, so the sweep fires two clocks per such
case, escalates each to the owner, writes the case log, the outbox and the timeline, and
restarts the no-activity clock. ``--due 0.03`` is a sweep's realistic share: 2% of the running
clocks due (the generated data has about 6% due at its ``now``; a worker sweeping every few
minutes finds far fewer); the default 0.2 (13% of the running clocks) is the heavy case.

Seeding is set-up, not measured: COPY on PostgreSQL (1,000,000 cases in a few minutes here),
Core bulk inserts on SQLite. The seeded database is copied (a file copy on SQLite, a template
database on PostgreSQL) so that onethread and the floor start from the same rows. Besides wall
time the table gives CPU seconds, the sweep process's and (PostgreSQL on this host) its
database backend's: on a shared machine they move much less than wall time.
Prints a table and writes ``bench/results/sweep-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, insert, select

from onethread.bootstrap import build
from onethread.cases import clocks
from onethread.config import Settings
from onethread.db import migrate
from onethread.db.engine import make_engine
from onethread.db.session import session_scope
from onethread.kernel.clock import SettableClock
from onethread.kernel.ids import new_id
from onethread.models import Case, CaseClock, Customer, Escalation, Party

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday; bench data is dated from here, not the wall clock
AGENTS = 50
RESULTS = Path(__file__).resolve().parent / "results"


# --- databases ------------------------------------------------------------------------------

def _pg_admin(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _pg_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


class Databases:
    """The seeded database and its copy for the floor; dropped (or deleted) at the end."""

    def __init__(self, kind: str, pg_url: str | None, pg_db: str):
        self.kind, self.admin, self.name = kind, pg_url, pg_db
        self.dir = tempfile.mkdtemp(prefix="onethread-bench-sweep-") if kind == "sqlite" else None

    def url(self, which: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.dir}/{which}.db"
        return _pg_url(self.admin, self.name if which == "onethread" else f"{self.name}_floor")

    def create(self) -> None:
        if self.kind == "postgresql":
            with _pg_admin(self.admin) as conn:
                for name in (self.name, f"{self.name}_floor"):
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.name}"')

    def copy_for_floor(self) -> None:
        if self.kind == "sqlite":
            shutil.copyfile(f"{self.dir}/onethread.db", f"{self.dir}/floor.db")
            return
        with _pg_admin(self.admin) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}_floor" TEMPLATE "{self.name}"')

    def drop(self) -> None:
        if self.kind == "sqlite":
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        with _pg_admin(self.admin) as conn:
            for name in (self.name, f"{self.name}_floor"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- seed -----------------------------------------------------------------------------------

def _is_due(i: int, fraction: float) -> bool:
    """Exactly ``round(cases * fraction)`` cases are due, spread evenly over the seed."""
    return int((i + 1) * fraction + 1e-9) > int(i * fraction + 1e-9)


def _rows(start: int, stop: int, agents: list[str], due_fraction: float, ids) -> tuple[dict[str, list], int]:
    """One batch of parties, customers, cases and clocks (as value tuples in ``COLUMNS`` order),
    and the number of clocks due in it."""
    out: dict[str, list] = {t: [] for t in COLUMNS}
    due = 0
    for i in range(start, stop):
        pid, cid, case_id = next(ids), next(ids), next(ids)
        opened = NOW - timedelta(days=2, minutes=i % 1440)
        agent = agents[i % len(agents)]
        out["party"].append((pid, "individual", f"Given{i}", f"Family{i}", "validated", opened, opened, 1))
        out["customer"].append((cid, pid, f"Given{i} Family{i}", "approved", opened.date(), "consumer", opened,
                                opened, 1))
        out["case_file"].append((case_id, cid, "request", f"Request {i}", "open", "medium", agent, "phone", opened,
                                 agent, "GB", opened, 0, 1))
        is_due = _is_due(i, due_fraction)
        due += 2 if is_due else 0
        for kind, minutes in (("first_response", 1), ("no_activity", 2), ("resolution_target", 3)):
            at = (NOW - timedelta(minutes=minutes + i % 600)) if is_due and kind != "resolution_target" \
                else NOW + timedelta(days=1 + i % 20, minutes=minutes)
            out["case_clock"].append((next(ids), case_id, cid, kind, opened, at))
    return out, due


COLUMNS = {
    "party": ("id", "kind", "given_name", "family_name", "status", "created_at", "updated_at", "version"),
    "customer": ("id", "party_id", "name", "status", "customer_since", "segment", "created_at", "updated_at",
                 "version"),
    "case_file": ("id", "customer_id", "kind", "title", "status", "severity", "owner_id", "opened_via", "opened_at",
                  "opened_by", "market", "last_activity_at", "escalation_level", "version"),
    "case_clock": ("id", "case_id", "customer_id", "kind", "started_at", "due_at"),
}


def _bench_ids():
    """ULID-shaped ids (one timestamp part, then a counter): unique and cheap for millions of rows."""
    prefix = new_id()[:10]
    n = 0
    while True:
        n += 1
        yield f"{prefix}{n:016d}"


def seed(url: str, cases: int, due_fraction: float, batch: int = 20000) -> dict:
    """Staff through the services; customers, cases and clocks in bulk (set-up, not what is
    measured): COPY on PostgreSQL, Core bulk inserts on SQLite."""
    engine = make_engine(Settings(database_url=url).database_url)
    migrate.upgrade(engine)
    container = build(Settings(database_url=url, env="test"), clock=SettableClock(NOW - timedelta(days=30)))
    from onethread.access import service as access

    with session_scope(container.sessions) as s:
        team = access.create_team(s, container.clock, name="Contact centre")
        relations = access.create_team(s, container.clock, name="Customer relations", kind="customer_relations")
        lead = access.create_user(s, container.clock, username="lead", display_name="Lee Lead", role="team_lead",
                                  password=None, team_id=team.id)
        head = access.create_user(s, container.clock, username="head", display_name="Hana Head", role="team_lead",
                                  password=None, team_id=relations.id)
        access.set_team_lead(s, team.id, lead.id)
        access.set_team_lead(s, relations.id, head.id)
        agents = [access.create_user(s, container.clock, username=f"agent{i}", display_name=f"Agent {i}",
                                     role="agent", password=None, team_id=team.id).id for i in range(AGENTS)]
    container.dispose()
    ids = _bench_ids()
    due = 0
    if engine.dialect.name == "postgresql":
        engine.dispose()
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # the rows are consistent: no per-row FK checks
            for start in range(0, cases, batch):
                rows, n = _rows(start, min(cases, start + batch), agents, due_fraction, ids)
                due += n
                for table, data in rows.items():
                    with cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                        copy.write("".join("\t".join(map(str, r)) + "\n" for r in data))
            conn.commit()
        with _pg_admin(url) as conn:
            conn.execute("VACUUM ANALYZE")
        return {"cases": cases, "due_clocks": due, "running_clocks": 3 * cases}
    tables = {t.name: t for t in (Party.__table__, Customer.__table__, Case.__table__, CaseClock.__table__)}
    with engine.begin() as conn:
        for start in range(0, cases, batch):
            rows, n = _rows(start, min(cases, start + batch), agents, due_fraction, ids)
            due += n
            for table, data in rows.items():
                conn.execute(insert(tables[table]), [dict(zip(COLUMNS[table], r, strict=True)) for r in data])
    engine.dispose()
    return {"cases": cases, "due_clocks": due, "running_clocks": 3 * cases}


# --- onethread ------------------------------------------------------------------------------

def _reset_peak_rss() -> None:
    """Start the kernel's peak-RSS count afresh (Linux), so the figure is the sweep's own."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def backend_cpu(pid: int | None) -> float | None:
    """CPU seconds a local PostgreSQL backend has used (Linux /proc; None when not readable).
    On a shared machine CPU time says more than wall time."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid(conn) -> int | None:
    return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() if conn.dialect.name == "postgresql" else None


def _cpu_delta(before: float | None, after: float | None) -> float | None:
    return round(after - before, 2) if before is not None and after is not None else None


def run_onethread(url: str, now: datetime = NOW, keep: bool = True) -> dict:
    """One sweep as the worker runs it. ``keep=False`` rolls it back (a database that is not the
    bench's own: measured, then left as it was)."""
    container = build(Settings(database_url=url, env="test"), clock=SettableClock(now))
    statements = [0]
    event.listen(container.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    _reset_peak_rss()
    t0, cpu0 = time.perf_counter(), time.process_time()
    if keep:
        with session_scope(container.sessions) as s:
            pid = _backend_pid(s.connection())
            db0 = backend_cpu(pid)
            report = clocks.sweep(s, container.clock, worker="bench")
            s.flush()
            db_cpu = _cpu_delta(db0, backend_cpu(pid))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        with container.sessions() as s:
            escalations = s.scalar(select(func.count()).select_from(Escalation))
    else:
        with container.sessions() as s:
            pid = _backend_pid(s.connection())
            before = s.scalar(select(func.count()).select_from(Escalation))
            db0 = backend_cpu(pid)
            t0, cpu0 = time.perf_counter(), time.process_time()
            report = clocks.sweep(s, container.clock, worker="bench")
            s.flush()
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            db_cpu = _cpu_delta(db0, backend_cpu(pid))
            escalations = s.scalar(select(func.count()).select_from(Escalation)) - before
            s.rollback()
    rss = peak_rss_mb()
    container.dispose()
    return {"seconds": seconds, "fired": report.fired, "escalations": escalations, "statements": statements[0],
            "rss_peak_mb": rss, "cpu_seconds": round(cpu, 2), "db_cpu_seconds": db_cpu}


# --- the floor: the same work as raw SQL ------------------------------------------------------

CLAIM = ("UPDATE case_clock SET fired_at = due_at, fired_by = {p} WHERE id {match}(SELECT id FROM case_clock "
         "WHERE fired_at IS NULL AND stopped_at IS NULL AND due_at <= {p} AND due_at >= {p} "
         "ORDER BY due_at, id LIMIT {limit}{lock}) "
         "{close}AND fired_at IS NULL AND stopped_at IS NULL RETURNING id, case_id, customer_id, kind, due_at")
INSERTS = {
    "escalation": "INSERT INTO escalation (id, case_id, customer_id, clock_id, clock_kind, level, to_staff_id, at, "
                  "reason) VALUES ({})",
    "case_event": "INSERT INTO case_event (id, case_id, customer_id, at, kind, actor_name, text, audience, data) "
                  "VALUES ({})",
    "outbox_event": "INSERT INTO outbox_event (id, type, aggregate_type, aggregate_id, customer_id, payload, "
                    "occurred_at, available_at, attempts) VALUES ({})",
    "timeline_entry": "INSERT INTO timeline_entry (id, customer_id, occurred_at, kind, title, actor_name, ref_type, "
                      "ref_id, event_id) VALUES ({})",
    "case_clock": "INSERT INTO case_clock (id, case_id, customer_id, kind, started_at, due_at) VALUES ({})",
}
LEVEL = "UPDATE case_file SET escalation_level = {p}, version = version + 1 WHERE id = {p}"
# PostgreSQL: each table's rows of a batch in one statement, as one JSON array (as onethread does).
JSON_INSERT = "INSERT INTO {t} ({c}) SELECT {c} FROM json_populate_recordset(NULL::{t}, %s::json)"
JSON_LEVEL = ("UPDATE case_file SET escalation_level = v.level, version = version + 1 FROM json_to_recordset(%s::json) "
              "AS v(level integer, id varchar) WHERE case_file.id = v.id")


def _json_batch(table: str, rows: list[tuple]) -> str:
    names = [n.strip() for n in INSERTS[table].split("(", 1)[1].split(")", 1)[0].split(",")]
    return json.dumps([dict(zip(names, r, strict=True)) for r in rows], default=lambda d: d.isoformat())


def _floor_batch(rows, owners: dict, when, ts, dump=json.dumps) -> dict[str, list]:
    out: dict[str, list] = {k: [] for k in (*INSERTS, "level")}
    for clock_id, case_id, customer_id, kind, due in rows:
        due = when(due)
        reason = f"{kind} missed (due {due:%Y-%m-%d %H:%M} UTC)"
        title = f"Escalated to {owners[case_id][1]} (owner): {reason}"
        esc, event_id = new_id(), new_id()
        data = dump({"level": 1, "toStaffId": owners[case_id][0], "clock": kind, "escalationId": esc})
        out["escalation"].append((esc, case_id, customer_id, clock_id, kind, 1, owners[case_id][0], ts(due), reason))
        out["case_event"].append((new_id(), case_id, customer_id, ts(due), "escalated", "onethread", title,
                                  "internal", data))
        out["outbox_event"].append((event_id, "case.escalated", "case", case_id, customer_id, data, ts(due), ts(due),
                                    0))
        out["timeline_entry"].append((new_id(), customer_id, ts(due), "case", title, "onethread", "case", case_id,
                                      event_id))
        if kind == "no_activity":
            out["case_clock"].append((new_id(), case_id, customer_id, "no_activity", ts(due),
                                      ts(due + timedelta(days=7))))
        out["level"].append((1, case_id))
    return out


def floor_postgresql(url: str, now: datetime = NOW, keep: bool = True) -> dict:
    import psycopg

    fired = 0
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        conn.commit()
        t0, cpu0, db0 = time.perf_counter(), time.process_time(), backend_cpu(pid)
        since = datetime.min.replace(tzinfo=UTC)  # each claim from the previous batch's oldest, as onethread's
        while True:
            cur.execute(CLAIM.format(p="%s", limit=clocks.BATCH, lock=" FOR UPDATE SKIP LOCKED", match="= ANY(ARRAY",
                                     close=") "), ("floor", now, since))
            rows = cur.fetchall()
            if not rows:
                break
            fired += len(rows)
            since = min(r[4] for r in rows)
            cur.execute("SELECT c.id, c.owner_id, s.display_name FROM case_file c JOIN staff_user s "
                        "ON s.id = c.owner_id WHERE c.id = ANY(%s)", ([r[1] for r in rows],))
            owners = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
            batch = _floor_batch(sorted(rows, key=lambda r: (r[4], r[0])), owners, lambda d: d, lambda d: d,
                                 dump=lambda d: d)  # JSON values stay objects in the batch's JSON
            for table, sql in INSERTS.items():
                if batch[table]:
                    columns = sql.split("(", 1)[1].split(")", 1)[0]
                    cur.execute(JSON_INSERT.format(t=table, c=columns), (_json_batch(table, batch[table]),))
            levels = {i: lv for lv, i in batch["level"]}  # one row per case, as onethread
            cur.execute(JSON_LEVEL, (json.dumps([{"level": lv, "id": i} for i, lv in levels.items()]),))
        if keep:
            conn.commit()
        seconds = time.perf_counter() - t0  # with the commit, as onethread's; before the rollback otherwise
        cpu, db_cpu = time.process_time() - cpu0, _cpu_delta(db0, backend_cpu(pid))
        if not keep:
            conn.rollback()
    return {"seconds": seconds, "fired": fired, "cpu_seconds": round(cpu, 2), "db_cpu_seconds": db_cpu}


def floor_sqlite(url: str, now: datetime = NOW, keep: bool = True) -> dict:
    path = url.removeprefix("sqlite:///")
    t0, cpu0 = time.perf_counter(), time.process_time()
    fired = 0
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    since = ""  # text timestamps compare in order

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    def ts(value: datetime) -> str:
        return value.replace(tzinfo=None).isoformat(sep=" ")

    while True:
        rows = conn.execute(CLAIM.format(p="?", limit=clocks.BATCH, lock="", match="IN ", close=""),
                            ("floor", ts(now), since)).fetchall()
        if not rows:
            break
        fired += len(rows)
        since = min(r[4] for r in rows)
        ids = [r[1] for r in rows]
        owners = {}
        for chunk in range(0, len(ids), 900):
            part = ids[chunk:chunk + 900]
            owners.update({r[0]: (r[1], r[2]) for r in conn.execute(
                "SELECT c.id, c.owner_id, s.display_name FROM case_file c JOIN staff_user s ON s.id = c.owner_id "
                f"WHERE c.id IN ({', '.join('?' * len(part))})", part)})
        batch = _floor_batch(sorted(rows, key=lambda r: (r[4], r[0])), owners, parse, ts)
        for table, sql in INSERTS.items():
            if batch[table]:
                conn.executemany(sql.format(", ".join(["?"] * len(batch[table][0]))), batch[table])
        conn.executemany(LEVEL.format(p="?"), batch["level"])
    if keep:
        conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if not keep:
        conn.execute("ROLLBACK")
    conn.close()
    return {"seconds": seconds, "fired": fired, "cpu_seconds": round(cpu, 2), "db_cpu_seconds": None}


# --- main -----------------------------------------------------------------------------------

def open_cases(url: str) -> tuple[int, int]:
    """Open cases and running clocks (neither fired nor stopped)."""
    engine = make_engine(Settings(database_url=url).database_url)
    with engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM case_file WHERE status <> 'closed'").scalar()
        running = conn.exec_driver_sql(
            "SELECT count(*) FROM case_clock WHERE fired_at IS NULL AND stopped_at IS NULL").scalar()
    engine.dispose()
    return n, running


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("ONETHREAD_BENCH_PG_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL database to connect to while creating and dropping the bench's own")
    parser.add_argument("--pg-db", default="onethread_bench_sweep", help="name of the database the bench creates")
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--due", type=float, default=0.2, help="fraction of the cases whose clocks are past due")
    parser.add_argument("--database-url", default=None,
                        help="sweep an existing database (a generated one) instead of seeding one: the sweep and "
                             "its floor are each rolled back, so the database is left as it was")
    parser.add_argument("--now", default=None, help="with --database-url: the instant to sweep at (ISO; default now)")
    parser.add_argument("--out", default=None, help="write the JSON result here too")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args(argv)

    seed_s = 0.0
    if args.database_url:
        kind = "sqlite" if args.database_url.startswith("sqlite") else "postgresql"
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)  # bench input, not product code
        url = args.database_url
        cases, running = open_cases(url)
        ours = run_onethread(url, now, keep=False)
        floor = (floor_postgresql if kind == "postgresql" else floor_sqlite)(url, now, keep=False)
        due = ours["fired"]
    else:
        kind = args.db
        dbs = Databases(args.db, args.pg_url, args.pg_db)
        dbs.create()
        try:
            t0 = time.perf_counter()
            seeded = seed(dbs.url("onethread"), args.cases, args.due)
            seed_s = time.perf_counter() - t0
            dbs.copy_for_floor()
            ours = run_onethread(dbs.url("onethread"))
            floor = floor_postgresql(dbs.url("floor")) if args.db == "postgresql" else floor_sqlite(dbs.url("floor"))
        finally:
            if not args.keep:
                dbs.drop()
        cases, due, running = args.cases, seeded["due_clocks"], seeded["running_clocks"]
    errors = []
    # On the bench's own cases every fired clock escalates once, and the floor fires the same
    # clocks. A database that is not the bench's has clocks of every kind (letters, restarts
    # that fall due again), so there the counts are reported, not judged.
    if not args.database_url and not ours["fired"] == floor["fired"] == due == ours["escalations"]:
        errors.append(f"fired {ours['fired']}, floor fired {floor['fired']}, due {due}, "
                      f"escalations {ours['escalations']}")
    result = {
        "db": kind, "cases": cases, "running_clocks": running, "due_clocks": due,
        "due_share": round(due / running, 4) if running else None, "seed_seconds": round(seed_s, 1),
        "onethread_seconds": round(ours["seconds"], 3), "floor_seconds": round(floor["seconds"], 3),
        "ratio": round(ours["seconds"] / floor["seconds"], 2) if floor["seconds"] else None,
        "clocks_per_second": round(ours["fired"] / ours["seconds"]) if ours["seconds"] else None,
        "floor_clocks_per_second": round(floor["fired"] / floor["seconds"]) if floor["seconds"] else None,
        "sql_statements": ours["statements"], "batch": clocks.BATCH, "rss_peak_mb": ours["rss_peak_mb"],
        "onethread_cpu_seconds": ours["cpu_seconds"], "onethread_db_cpu_seconds": ours["db_cpu_seconds"],
        "floor_cpu_seconds": floor["cpu_seconds"], "floor_db_cpu_seconds": floor["db_cpu_seconds"],
        "escalations": ours["escalations"], "floor_fired": floor["fired"],
        "errors": errors,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
    }
    share = f" = {result['due_share']:.1%} of {running:,} running clocks" if running else ""
    print(f"\nclock sweep on {kind}: {cases:,} open cases, {due:,} clocks due{share} (seeded in {seed_s:.1f} s)")
    print(f"{'':<22}{'seconds':>10}{'clocks/s':>12}{'statements':>12}{'peak RSS MB':>13}{'CPU s':>8}"
          f"{'DB CPU s':>10}")

    def cpu(value) -> str:
        return "" if value is None else f"{value:.2f}"

    print(f"{'onethread sweep':<22}{ours['seconds']:>10.3f}{result['clocks_per_second'] or 0:>12,}"
          f"{ours['statements']:>12,}{ours['rss_peak_mb'] or '':>13}{cpu(ours['cpu_seconds']):>8}"
          f"{cpu(ours['db_cpu_seconds']):>10}")
    print(f"{'raw SQL floor':<22}{floor['seconds']:>10.3f}{result['floor_clocks_per_second'] or 0:>12,}{'':>12}"
          f"{'':>13}{cpu(floor['cpu_seconds']):>8}{cpu(floor['db_cpu_seconds']):>10}")
    print(f"{'ratio':<22}{result['ratio']:>10}")
    for e in errors:
        print(f"ERROR: {e}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"sweep-{kind}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(RESULTS.parent.parent)}")
    return result


if __name__ == "__main__":
    raise SystemExit(1 if main()["errors"] else 0)
