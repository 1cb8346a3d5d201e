"""The list pages at scale: latency of the API behind each list page (the supervisor queue, a staff
member's cases, the match queue, the known-defect registry, the four-eyes requests), first pages
and deep keyset pages (``cursor``), at concurrency 1 against a real server; the floor is the same
statements as raw SQL on one connection (the count, the page, an audit row per customer shown).

    .venv/bin/python -m bench.lists --db sqlite --customers 2000                  # CI size
    .venv/bin/python -m bench.lists --database-url postgresql://postgres@127.0.0.1/ot_gen1m

The generator writes no match-queue items, known defects or four-eyes requests: the bench adds
``--queue-rows`` of each (from existing contacts and customers, marked ``bench``) when there are
fewer. Exit status 0 unless a request failed; slowness never fails it.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Result, fresh_database, load, run_cli, server, timed
from bench.run import machine, row
from onethread.kernel.ids import new_id
from onethread.kernel.pagination import encode_cursor

RESULTS = Path(__file__).resolve().parent / "results"
PAGE = 50

# name: (the page's path, the floor's count and page statements; :after_at/:after_id for deep pages)
BREACHED = ("(SELECT case_id, min(fired_at) AS oldest FROM case_clock WHERE fired_at IS NOT NULL AND stopped_at IS "
            "NULL GROUP BY case_id) b JOIN case_file c ON c.id = b.case_id JOIN customer cu ON cu.id = c.customer_id "
            "JOIN staff_user s ON s.id = c.owner_id WHERE c.status <> 'closed'")
LISTS = {
    "supervisor queue": (
        "/api/v1/supervisor/queue?limit={n}",
        f"SELECT count(*) FROM {BREACHED}",
        f"SELECT c.id, c.customer_id, b.oldest FROM {BREACHED} {{after}} ORDER BY b.oldest, c.id LIMIT {{n}}",
        ("b.oldest", "c.id", ">")),
    "cases of a staff member": (
        "/api/v1/staff/{owner}/cases?includeClosed=true&limit={n}",
        "SELECT count(*) FROM case_file c WHERE c.owner_id = {owner}",
        "SELECT c.id, c.customer_id, c.opened_at FROM case_file c WHERE c.owner_id = {owner} {after} "
        "ORDER BY c.opened_at DESC, c.id DESC LIMIT {n}", ("c.opened_at", "c.id", "<")),
    "match queue": (
        "/api/v1/match-queue?limit={n}",
        "SELECT count(*) FROM match_item m WHERE m.resolved_at IS NULL",
        "SELECT m.id, t.customer_id, m.created_at FROM match_item m JOIN contact t ON t.id = m.contact_id "
        "WHERE m.resolved_at IS NULL {after} ORDER BY m.created_at, m.id LIMIT {n}", ("m.created_at", "m.id", ">")),
    "known defects": (
        "/api/v1/known-defects?limit={n}",
        "SELECT count(*) FROM known_defect k",
        "SELECT k.id, NULL, k.updated_at FROM known_defect k WHERE 1 = 1 {after} ORDER BY k.updated_at DESC, k.id DESC "
        "LIMIT {n}", ("k.updated_at", "k.id", "<")),
    "approvals (pending)": (
        "/api/v1/approvals?status=pending&limit={n}",
        "SELECT count(*) FROM approval_request a WHERE a.status = 'pending'",
        "SELECT a.id, a.customer_id, a.requested_at FROM approval_request a WHERE a.status = 'pending' {after} "
        "ORDER BY a.requested_at, a.id LIMIT {n}", ("a.requested_at", "a.id", ">")),
}
DEPTHS = (0.0, 0.5, 0.99)  # where in the list the measured pages start (first page, middle, end)
AUDIT = ("INSERT INTO audit_entry (id, at, actor_type, actor_id, actor_name, action, resource_type, resource_id, "
         "customer_id, channel, purpose, detail) VALUES ({})")


def seed(url: str, n: int) -> dict[str, int]:
    """Up to ``n`` match-queue items, known defects and four-eyes requests (half pending), from
    existing contacts and customers, where there are fewer than ``n``."""
    pg = not url.startswith("sqlite")
    j = "::jsonb" if pg else ""
    sql = {
        "match_item": "INSERT INTO match_item (id, contact_id, reason, candidates, explanation, created_at) "
                      f"SELECT 'MQ' || substr(c.id, 3), c.id, 'no_match', '[]'{j}, 'bench', c.occurred_at "
                      "FROM contact c WHERE NOT EXISTS (SELECT 1 FROM match_item m WHERE m.contact_id = c.id) "
                      "ORDER BY c.id LIMIT :n",
        "known_defect": "INSERT INTO known_defect (id, device_model, symptom, status, report_count, proposed_by, "
                        "created_at, updated_at, version) SELECT 'KD' || substr(c.id, 3), 'bench ' || c.id, "
                        "'battery_drain', 'confirmed', 0, 'bench', c.created_at, c.created_at, 1 FROM customer c "
                        "ORDER BY c.id LIMIT :n",
        "approval_request": "INSERT INTO approval_request (id, customer_id, action, params, reason, evidence, "
                            "required_roles, status, requested_at, requested_by, requested_by_name, result, version) "
                            f"SELECT 'AP' || substr(c.id, 3), c.id, 'flag_fraud', '{{}}'{j}, 'bench', '{{}}'{j}, "
                            f"'[\"team_lead\"]'{j}, CASE WHEN substr(c.id, 26, 1) < 'H' THEN 'pending' ELSE "
                            "'approved' END, c.created_at, 'bench', 'bench', "
                            f"'{{}}'{j}, 1 FROM customer c ORDER BY c.id DESC LIMIT :n",
    }
    added = {}
    with _connect(url) as conn:
        for table, stmt in sql.items():
            have = _one(conn, f"SELECT count(*) FROM {table}")
            missing = max(0, n - have)
            if missing:
                _exec(conn, stmt.replace(":n", str(missing)))
            added[table] = missing
        if pg:
            _exec(conn, "ANALYZE match_item, known_defect, approval_request")
    return added


class _connect:
    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.conn = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None, timeout=30)
        else:
            import psycopg

            self.conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


def _exec(conn, sql: str, params: tuple = ()):
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql.replace("%s", "?"), params)
    return conn.execute(sql, params)


def _one(conn, sql: str, params: tuple = ()):
    return _exec(conn, sql, params).fetchone()[0]


def _iso(value) -> str:
    if isinstance(value, str):  # SQLite: stored naive UTC
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def plan(url: str, owners: int, seed: int = 3) -> list[tuple[str, str, str | None, tuple | None]]:
    """(list, owner or None, cursor or None, the keyset values) of every page to measure: the first,
    middle and last page of each list (of busy staff members' cases, for a sample of owners)."""
    rng = random.Random(seed)
    out = []
    with _connect(url) as conn:
        busy = [r[0] for r in _exec(conn, "SELECT owner_id FROM case_file GROUP BY owner_id ORDER BY count(*) DESC, "
                                          "owner_id LIMIT 50").fetchall()]
        picked = rng.sample(busy, min(owners, len(busy)))
        for name, (_, count_sql, page_sql, _keys) in LISTS.items():
            for owner in (picked if "{owner}" in count_sql else [None]):
                p = {"owner": "%s"} if owner else {}
                args = (owner,) if owner else ()
                total = _one(conn, count_sql.format(**p), args)
                for depth in DEPTHS:
                    skip = int(total * depth)
                    if skip == 0:
                        out.append((name, owner, None, None))
                        continue
                    r = _exec(conn, page_sql.format(after="", n=f"1 OFFSET {skip - 1}", **p), args).fetchone()
                    if r:
                        out.append((name, owner, encode_cursor([_iso(r[2]), r[0]]), (r[2], r[0])))
    return out


def http(base: str, headers: dict, pages: list, name: str, repeat: int, max_seconds: float) -> Result:
    reqs = []
    for list_name, owner, cursor, _ in pages:
        if list_name != name:
            continue
        path = LISTS[list_name][0].format(n=PAGE, owner=owner)
        reqs.append(("GET", path + (f"&cursor={cursor}" if cursor else ""), None))
    return load(f"{name} (HTTP)", base, headers, reqs * repeat, 1, max_seconds)


def floor(url: str, pages: list, name: str, repeat: int, max_seconds: float) -> Result:
    local = threading.local()
    _, count_sql, page_sql, (at_col, id_col, op) = LISTS[name]
    items = [p for p in pages if p[0] == name] * repeat

    def one(page) -> None:
        _, owner, _cursor, keys = page
        if not hasattr(local, "conn"):
            local.conn = _connect(url).__enter__()
        conn = local.conn
        ph = "%s"
        p = {"owner": ph} if owner else {}
        args: tuple = (owner,) if owner else ()
        after = f"AND ({at_col}, {id_col}) {op} ({ph}, {ph})" if keys else ""
        _exec(conn, "BEGIN")
        _one(conn, count_sql.format(**p), args)
        rows = _exec(conn, page_sql.format(after=after, n=PAGE, **p),
                     args + ((keys[0], keys[1]) if keys else ())).fetchall()
        now = datetime.now(UTC)
        for cid in sorted({r[1] for r in rows if r[1]}):
            _exec(conn, AUDIT.format(", ".join([ph] * 12)),
                  (new_id(), now if not isinstance(conn, sqlite3.Connection) else now.replace(tzinfo=None).isoformat(
                      sep=" "), "token", "bench", "bench", "read", "case", None, cid, "api", "list", "{}"))
        _exec(conn, "COMMIT")

    return timed(f"{name} floor (raw SQL)", items, one, 1, max_seconds)


def measure(url: str, base: str, headers: dict, pages: list, repeat: int, max_seconds: float) -> list[Result]:
    """The HTTP measurement of every list that has a page to ask for (the server at ``base`` is
    running; a database without cases has no staff member's cases to page)."""
    return [http(base, headers, pages, name, repeat, max_seconds) for name in LISTS
            if any(p[0] == name for p in pages)]


def supervisor_headers(url: str) -> dict:
    """A bearer token issued to a team lead (the supervisor queue is a person's read)."""
    name = f"bench.lead.{new_id().lower()[-8:]}"
    run_cli(url, "user", "create", name, "--role", "team_lead", "--password-stdin", stdin="bench lead password 1\n")
    token = run_cli(url, "token", "create", "--name", f"bench-lists-{name}", "--user", name).splitlines()[0]
    return {"Authorization": f"Bearer {token}"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=None, help="a PostgreSQL server URL to create the bench database on")
    ap.add_argument("--database-url", default=None, help="a generated database to measure (nothing generated)")
    ap.add_argument("--customers", type=int, default=2_000, help="customers to generate (without --database-url)")
    ap.add_argument("--queue-rows", type=int, default=100_000, help="match-queue items, defects, requests to have")
    ap.add_argument("--owners", type=int, default=5, help="staff members whose cases are paged")
    ap.add_argument("--repeat", type=int, default=10, help="times each page is asked for")
    ap.add_argument("--seconds", type=float, default=60.0, help="time per measurement (at most)")
    ap.add_argument("--explain", action="store_true", help="save EXPLAIN ANALYZE of each page (PostgreSQL)")
    args = ap.parse_args(argv)

    if args.database_url:
        url, drop = args.database_url, (lambda: None)
    else:
        url, drop = fresh_database(args.db, args.pg_url)
    db = "sqlite" if url.startswith("sqlite") else "postgresql"
    results = {"db": db, "machine": machine(), "args": vars(args), "measurements": []}
    try:
        if not args.database_url:
            run_cli(url, "bench", "generate", "--customers", str(args.customers))
        results["seeded"] = seed(url, args.queue_rows)
        pages = plan(url, args.owners)
        headers = supervisor_headers(url)
        with server(url) as (base, _rss):
            load("warm-up", base, headers, [("GET", LISTS[name][0].format(n=PAGE, owner=owner), None)
                                            for name, owner, _, _ in pages], 1)
            measured = measure(url, base, headers, pages, args.repeat, args.seconds)
        for r in measured:
            name = r.name.removesuffix(" (HTTP)")
            f = floor(url, pages, name, args.repeat, args.seconds)
            results["measurements"] += [row(r, f)]
        if args.explain and db == "postgresql":
            results["explain"] = explain(url, pages)
    finally:
        if not args.database_url:
            drop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"lists-{db}.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\n{db}: {results['machine']}")
    print(f"{'measurement':32} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'err':>4} {'floor p99':>9} {'ratio':>6}")
    for m in results["measurements"]:
        print(f"{m['name']:32} {m['count']:>5} {m['p50_ms']:>8} {m['p99_ms']:>8} {m['errors']:>4} "
              f"{m.get('floor_p99_ms', ''):>9} {m.get('ratio_to_floor', ''):>6}")
    return 1 if any(m["errors"] for m in results["measurements"]) else 0


def explain(url: str, pages: list) -> dict[str, str]:
    """EXPLAIN ANALYZE of each list's count and its deepest measured page (PostgreSQL)."""
    out = {}
    with _connect(url) as conn:
        for name, (_, count_sql, page_sql, (at_col, id_col, op)) in LISTS.items():
            page = [p for p in pages if p[0] == name][-1]
            owner, keys = page[1], page[3]
            p = {"owner": "%s"} if owner else {}
            args: tuple = (owner,) if owner else ()
            after = f"AND ({at_col}, {id_col}) {op} (%s, %s)" if keys else ""
            plans = []
            for sql, a in ((count_sql.format(**p), args),
                           (page_sql.format(after=after, n=PAGE, **p), args + ((keys[0], keys[1]) if keys else ()))):
                plans.append("\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, a)))
            out[name] = "\n\n".join(plans)
    return out


if __name__ == "__main__":
    sys.exit(main())
