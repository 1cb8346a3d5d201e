"""``python -m bench.triage_ab``: what triage, routing and the search index cost on ingest, measured
side by side on a busy machine.

``bench.triage_cost`` runs one build after another, so a machine whose load changes by the minute
moves its figures more than the code does. Here every build (a ``src`` directory: the code to
compare, e.g. the same code with a handler unsubscribed) gets its own ``onethread serve`` and its
own freshly seeded database at once, with a contact-centre team of available agents; the contacts
are then sent in small blocks, build after build in turn (the order rotating each round), and each
server's CPU time is read around each of its blocks. Every build thus meets the same moments of
the machine. The raw-SQL floor is measured in the same run, on the first build's database::

    .venv/bin/python -m bench.triage_ab --db sqlite --build pre=/tmp/pre/src --build now=src \\
        --build no-triage=/tmp/notriage/src

Prints, per build, the server CPU a contact (the median of its blocks and the lowest), one contact
a request and in batches, and each build's figure over the first build's; appends them to
``bench/results/triage-ab.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from contextlib import ExitStack

import httpx

from bench import ingest
from bench.harness import fresh_database, load, run_cli, server
from bench.run import RESULTS


def _with_path(src: str, fn, *args):
    """``fn(*args)`` with ``PYTHONPATH`` naming ``src`` (what ``onethread`` commands then run)."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.path.abspath(src)
    try:
        return fn(*args)
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = before


def _seed(src: str, url: str, customers: int) -> list[str]:
    """Seed with the build's own code (its schema), in a process of its own."""
    code = ("import json, sys; from bench.seed import seed; "
            "print(json.dumps(seed(sys.argv[1], int(sys.argv[2]), 10)['customer_ids']))")
    out = subprocess.run([sys.executable, "-c", code, url, str(customers)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": f"{os.path.abspath(src)}{os.pathsep}{os.getcwd()}"},
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _staff(base: str, headers: dict, agents: int) -> None:
    """A contact-centre team of available agents with room for every contact (builds without
    presence, before triage, answer 404 to it and have no routing to do)."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        team = c.post("/api/v1/teams", json={"name": "Contact centre", "kind": "contact_centre"})
        team.raise_for_status()
        for n in range(agents):
            person = c.post("/api/v1/staff", json={"username": f"agent{n}", "displayName": f"Agent {n}",
                                                   "role": "agent", "teamId": team.json()["id"]})
            person.raise_for_status()
            r = c.put(f"/api/v1/staff/{person.json()['id']}/presence", json={"presence": "available", "capacity": 500})
            if r.status_code != 404:
                r.raise_for_status()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--build", action="append", required=True, help="label=path of a src directory")
    ap.add_argument("--customers", type=int, default=2_000)
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--block", type=int, default=100, help="contacts a build gets in a row")
    ap.add_argument("--batch-block", type=int, default=400,
                    help="contacts a build gets in batches in a row (more: a batched contact costs less CPU, "
                         "and the kernel counts CPU in 10 ms ticks)")
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args(argv)
    builds = [tuple(b.split("=", 1)) for b in args.build]

    with ExitStack() as stack:
        live = []
        for label, src in builds:
            url, drop = fresh_database(args.db, args.pg_url)
            stack.callback(drop)
            _with_path(src, run_cli, url, "db", "upgrade")
            ids = _seed(src, url, args.customers)
            token = _with_path(src, run_cli, url, "token", "create", "--name", "bench", "--role", "admin")
            headers = {"Authorization": f"Bearer {token.splitlines()[0]}"}
            base, proc = stack.enter_context(server(url, {"PYTHONPATH": os.path.abspath(src)}))
            _staff(base, headers, args.agents)
            pick = [(n, ids[i]) for n, i in ingest.numbers(len(ids), args.rounds * (args.block + args.batch_block))]
            live.append({"label": label, "url": url, "base": base, "proc": proc, "headers": headers, "pick": pick,
                         "single": [], "batch": []})
        for r in range(args.rounds):
            order = live[r % len(live):] + live[:r % len(live)]
            for b in order:
                chunk = b["pick"][r * args.block:(r + 1) * args.block]
                cpu = b["proc"].cpu_seconds()
                res = load("ingest", b["base"], b["headers"], ingest.requests(0, len(chunk), pick=chunk,
                                                                                tag=f"s{r}"), args.concurrency)
                assert res.summary()["errors"] == 0, res.summary()
                b["single"].append((b["proc"].cpu_seconds() - cpu) * 1000 / len(chunk))
                at = args.rounds * args.block + r * args.batch_block
                chunk = b["pick"][at:at + args.batch_block]
                cpu = b["proc"].cpu_seconds()
                res = load("batches", b["base"], b["headers"],
                           ingest.batch_requests(chunk, args.batch_size, tag=f"b{r}"), args.concurrency)
                assert res.summary()["errors"] == 0, res.summary()
                b["batch"].append((b["proc"].cpu_seconds() - cpu) * 1000 / len(chunk))
        first = live[0]
        floor = ingest.floor(first["url"], 0, args.block, args.concurrency, pick=first["pick"][:args.block],
                             tag="floor").summary()

    rows = []
    for b in live:
        row = {"label": b["label"], "db": args.db, "customers": args.customers, "rounds": args.rounds,
               "block": args.block, "batch_block": args.batch_block}
        for kind in ("single", "batch"):
            row[f"{kind}_cpu_ms_median"] = round(statistics.median(b[kind]), 2)
            row[f"{kind}_cpu_ms_min"] = round(min(b[kind]), 2)
            row[f"{kind}_vs_first"] = round(statistics.median(b[kind]) / statistics.median(first[kind]), 3)
        row["floor_per_s"] = floor["throughput_per_s"]
        rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "triage-ab.jsonl").open("a") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    print(f"floor (raw SQL, one contact a transaction, c{args.concurrency}): {floor['throughput_per_s']}/s")
    for row in rows:
        print(f"{row['label']:12} {row['db']:10} one a request: {row['single_cpu_ms_median']:>5} ms/contact "
              f"(min {row['single_cpu_ms_min']}, x{row['single_vs_first']})   batches: "
              f"{row['batch_cpu_ms_median']:>5} ms/contact (min {row['batch_cpu_ms_min']}, x{row['batch_vs_first']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
