"""``python -m bench.soak`` (``make soak``): contacts keep arriving while the server and the worker
are killed with SIGKILL at random moments; at the end, nothing may be lost or doubled.

A real ``onethread serve --no-worker`` and a real ``onethread worker`` run on a fresh database.
Client threads send contacts (``POST /tmf-api/partyInteraction/v5/partyInteraction``), each with
its own channel message id, as a channel gateway does; a contact that is not acknowledged (no
answer, a dropped connection, a 5xx or a 503) is sent again with the same message id until it
is, so a retry of a contact that was in fact recorded must not record it twice. Meanwhile the
killer sends SIGKILL to the server (``--server-kills``) and to the worker (``--worker-kills``)
at random moments and starts them again.

At the end it counts, from the database:

- contacts lost (acknowledged to the client, not in the database) and duplicated (one message
  id recorded more than once);
- ``contact.recorded`` outbox events lost (a contact without its event) and duplicated (more
  than one for a contact), and how many of them the worker delivered; events a killed worker had
  claimed wait for the claim lease before another worker takes them, and are listed apart;
- answers the clients got: 2xx, 503, other 5xx, and connection failures (the server was dead).

    .venv/bin/python -m bench.soak --db sqlite
    .venv/bin/python -m bench.soak --db postgresql --pg-url postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python -m bench.soak --db sqlite --server-kills 3 --worker-kills 2   # the CI size

Exit status 1 when anything was lost or duplicated, or a request got a 5xx other than 503.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.harness import ONETHREAD, ROOT, free_port, fresh_database

PATH = "/tmf-api/partyInteraction/v5/partyInteraction"


@dataclass
class Figures:
    db: str
    server_kills: int = 0
    worker_kills: int = 0
    contacts_sent: int = 0
    requests: int = 0
    answers_2xx: int = 0
    answers_503: int = 0
    answers_other_5xx: int = 0
    answers_4xx: int = 0
    connection_failures: int = 0
    contacts_in_db: int = 0
    contacts_lost: int = 0
    contacts_duplicated: int = 0
    events: int = 0
    events_lost: int = 0
    events_duplicated: int = 0
    events_delivered: int = 0
    events_waiting_for_lease: int = 0
    slowest_restart_seconds: float = 0.0
    seconds: float = 0.0
    other_5xx_bodies: list = field(default_factory=list)

    @property
    def held(self) -> bool:
        return not (self.contacts_lost or self.contacts_duplicated or self.events_lost or self.events_duplicated
                    or self.answers_other_5xx or self.answers_4xx)


class Process:
    """One ``onethread`` process that the killer may SIGKILL and start again."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([ONETHREAD, *self.args], env=self.env, stdout=out, stderr=out)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_healthy(base: str, proc: Process, seconds: float = 300) -> float:
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.proc.returncode}); see {proc.log}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer /healthz in {seconds:.0f} s; see {proc.log}")


def contact(message_id: str, k: int) -> dict:
    return {
        "@type": "OnethreadPartyInteraction", "direction": "inbound", "reason": "No signal",
        "description": f"soak contact {k}: still no signal at home",
        "relatedChannel": [{"@type": "RelatedChannel", "role": "interactionChannel",
                            "channel": {"@type": "ChannelRef", "id": "phone"}}],
        "externalIdentifier": [{"@type": "ExternalIdentifier", "id": message_id,
                                "externalIdentifierType": "messageId", "owner": "soak"}],
        "identifiers": {"msisdn": f"+4477009{k % 100000:05d}"},
    }


class Load:
    """Client threads: each sends new contacts until told to stop, and retries each one until acknowledged."""

    def __init__(self, base: str, token: str, clients: int, figures: Figures):
        self.base, self.clients, self.figures = base, clients, figures
        self.headers = {"Authorization": f"Bearer {token}"}
        self.stop_new = threading.Event()
        self.acked: set[str] = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)]
        self.answers: Counter = Counter()

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def _run(self, n: int) -> None:
        k = n
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=10) as http:
            while not self.stop_new.is_set():
                message_id = f"soak-{k}"
                body = contact(message_id, k)
                with self.lock:
                    self.figures.contacts_sent += 1
                while True:  # until acknowledged: the channel gateway's retry
                    try:
                        r = http.post(PATH, json=body)
                    except httpx.HTTPError:
                        self._count("connection_failures")
                        time.sleep(0.1)
                        continue
                    if r.status_code in (200, 201):
                        self._count("answers_2xx")
                        with self.lock:
                            self.acked.add(message_id)
                        break
                    if r.status_code == 503:
                        self._count("answers_503")
                    elif r.status_code >= 500:
                        self._count("answers_other_5xx", r.text[:300])
                    else:
                        self._count("answers_4xx", r.text[:300])
                        break  # a 4xx is the client's fault: sending it again would not help
                    time.sleep(0.05)
                k += self.clients

    def _count(self, what: str, body: str | None = None) -> None:
        with self.lock:
            self.figures.requests += 1
            setattr(self.figures, what, getattr(self.figures, what) + 1)
            if body is not None and len(self.figures.other_5xx_bodies) < 5:
                self.figures.other_5xx_bodies.append(body)


def count_rows(url: str, acked: set[str], figures: Figures) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT channel_message_id, count(*) FROM contact "
                                     "WHERE channel_message_id LIKE 'soak-%' GROUP BY channel_message_id")).all()
            seen = {mid: n for mid, n in rows}
            figures.contacts_in_db = sum(seen.values())
            figures.contacts_lost = len(acked - set(seen))
            figures.contacts_duplicated = sum(n - 1 for n in seen.values() if n > 1)
            per_contact = conn.execute(text(
                "SELECT c.id, count(e.id), count(e.delivered_at), "
                "sum(CASE WHEN e.delivered_at IS NULL AND e.claimed_at IS NOT NULL THEN 1 ELSE 0 END) "
                "FROM contact c LEFT JOIN outbox_event e ON e.aggregate_id = c.id AND e.type = 'contact.recorded' "
                "WHERE c.channel_message_id LIKE 'soak-%' GROUP BY c.id")).all()
            figures.events = sum(r[1] for r in per_contact)
            figures.events_lost = sum(1 for r in per_contact if r[1] == 0)
            figures.events_duplicated = sum(r[1] - 1 for r in per_contact if r[1] > 1)
            figures.events_delivered = sum(r[2] for r in per_contact)
            figures.events_waiting_for_lease = sum(int(r[3] or 0) for r in per_contact)
    finally:
        engine.dispose()


def prepare(url: str) -> str:
    """Migrate the fresh database and make the integration token the clients send (in this
    process: two fewer ``onethread`` start-ups than ``db upgrade`` and ``token create``)."""
    from onethread.access import service as access
    from onethread.bootstrap import build
    from onethread.config import Settings
    from onethread.db import migrate
    from onethread.db.engine import make_engine
    from onethread.db.session import session_scope

    settings = Settings(database_url=url, env="test")
    engine = make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    container = build(settings)
    try:
        with session_scope(container.sessions) as session:
            _, secret = access.create_token(session, container.security_clock, name="soak", role="integration")
    finally:
        container.dispose()
    return secret


def soak(db: str, pg_url: str | None = None, server_kills: int = 25, worker_kills: int = 10, clients: int = 4,
         seed: int = 19, min_gap: float = 0.3, max_gap: float = 2.0, drain_seconds: float = 20,
         log_dir: Path | None = None) -> Figures:
    """One soak on a fresh database; returns the figures (the database is dropped after)."""
    rng = random.Random(seed)
    figures = Figures(db=db)
    url, drop = fresh_database(db, pg_url)
    log_dir = log_dir or Path(ROOT / "bench" / "results")
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    server = worker = None
    try:
        token = prepare(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ONETHREAD_DATABASE_URL": url, "ONETHREAD_ENV": "test"}
        server = Process(["serve", "--port", str(port), "--no-worker"], env, log_dir / f"soak-{db}-server.log")
        worker = Process(["worker"], env, log_dir / f"soak-{db}-worker.log")
        for p in (server, worker):
            p.log.write_bytes(b"")
        server.start()
        worker.start()
        wait_healthy(base, server)
        load = Load(base, token, clients, figures)
        load.start()
        # The kills, in a random order at random moments: a server kill waits for the restarted
        # server to answer before the next gap starts, so every kill lands on a working server.
        kills = ["server"] * server_kills + ["worker"] * worker_kills
        rng.shuffle(kills)
        for what in kills:
            time.sleep(rng.uniform(min_gap, max_gap))
            if what == "server":
                server.kill()
                figures.server_kills += 1
                server.start()
                took = wait_healthy(base, server)
                figures.slowest_restart_seconds = round(max(figures.slowest_restart_seconds, took), 1)
            else:
                worker.kill()
                figures.worker_kills += 1
                worker.start()
            print(f"{db}: {figures.server_kills} server and {figures.worker_kills} worker kills, "
                  f"{figures.contacts_sent} contacts sent", file=sys.stderr, flush=True)
        time.sleep(rng.uniform(min_gap, max_gap))  # a last stretch of load on the survivors
        load.stop_new.set()
        load.join(120)
        if any(t.is_alive() for t in load.threads):
            raise RuntimeError("a client was still retrying after 120 s")
        drain_until = time.monotonic() + drain_seconds  # let the worker deliver what it can
        while time.monotonic() < drain_until:
            count_rows(url, load.acked, figures)
            if figures.events_delivered + figures.events_waiting_for_lease >= figures.events:
                break
            time.sleep(0.5)
        count_rows(url, load.acked, figures)
    finally:
        for p in (server, worker):
            if p is not None:
                p.stop()
        figures.seconds = round(time.monotonic() - started, 1)
        drop()
    return figures


COLUMNS = [
    ("db", "database"), ("server_kills", "server SIGKILLs"), ("worker_kills", "worker SIGKILLs"),
    ("contacts_sent", "contacts sent"), ("requests", "requests"), ("answers_2xx", "2xx"), ("answers_503", "503"),
    ("answers_other_5xx", "other 5xx"), ("connection_failures", "refused/dropped"),
    ("contacts_in_db", "contacts in db"), ("contacts_lost", "contacts lost"),
    ("contacts_duplicated", "contacts duplicated"), ("events", "events"), ("events_lost", "events lost"),
    ("events_duplicated", "events duplicated"), ("events_delivered", "events delivered"),
    ("events_waiting_for_lease", "events waiting for lease"),
    ("slowest_restart_seconds", "slowest server restart (s)"), ("seconds", "seconds"),
]


def table(rows: list[Figures]) -> str:
    lines = ["| " + " | ".join(label for _, label in COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(getattr(f, name)) for name, _ in COLUMNS) + " |" for f in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], action="append",
                        help="database(s) to soak (default: sqlite, and postgresql when --pg-url or "
                             "ONETHREAD_BENCH_PG_URL is given)")
    parser.add_argument("--pg-url", default=os.environ.get("ONETHREAD_BENCH_PG_URL"),
                        help="a PostgreSQL server to create the soak's database on")
    parser.add_argument("--server-kills", type=int, default=25)
    parser.add_argument("--worker-kills", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    dbs = args.db or (["sqlite", "postgresql"] if args.pg_url else ["sqlite"])
    rows = []
    for db in dbs:
        rows.append(soak(db, args.pg_url, args.server_kills, args.worker_kills, args.clients, args.seed))
        print(f"{db}: {json.dumps(asdict(rows[-1]))}", file=sys.stderr)
    print(table(rows))
    out = ROOT / "bench" / "results" / f"soak-{'-'.join(dbs)}.md"
    out.write_text(table(rows) + "\n")
    return 0 if all(f.held for f in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
