"""Full-text search: latency of ``GET /api/v1/search?q=...`` (customers by identifier or name,
cases and contacts by words, 20 of each, with snippets and an audit row per result shown) at
concurrency 1 (p50, p99) and 16 (throughput) against a real server, on the data generator's
database; the floor is the same statements as raw SQL (the word searches over the newest
candidates, window after window, the snippets, the name search, the audit rows). On PostgreSQL
it also times the previous design's statement (every match read and ranked) at concurrency 1,
and saves ``EXPLAIN ANALYZE`` of the main statements (``bench/results/search-explain.txt``).

    .venv/bin/python -m bench.search --db sqlite --customers 10000
    .venv/bin/python -m bench.search --database-url postgresql://postgres@127.0.0.1/ot_gen1m
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench.harness import fresh_database, load, run_cli, server, timed
from bench.run import machine, row
from onethread.kernel.ids import new_id
from onethread.search import rules

RESULTS = Path(__file__).resolve().parent / "results"
LIMIT = 20


def queries(url: str, count: int, seed: int = 11) -> list[str]:
    """What people type: two words of a contact's text, a word of a case's title, a customer's
    name as written, reversed, or with one letter wrong (a third each of words, titles, names)."""
    rng = random.Random(seed)
    texts, titles, names = _samples(url)
    out = []
    for k in range(count):
        pick = k % 3
        if pick == 0:
            words = [w for w in rules._WORD.findall(rng.choice(texts)) if len(w) > 3] or ["bill"]
            i = rng.randrange(len(words))
            out.append(" ".join(words[i:i + 2]))
        elif pick == 1:
            words = [w for w in rules._WORD.findall(rng.choice(titles)) if len(w) > 3] or ["signal"]
            out.append(rng.choice(words))
        else:
            name = rng.choice(names)
            form = k % 9
            if form == 2:
                name = " ".join(reversed(name.split()))
            elif form == 5 and len(name) > 4:
                j = rng.randrange(1, len(name) - 1)
                name = name[:j] + ("x" if name[j] != "x" else "y") + name[j + 1:]
            out.append(name)
    return out


def _samples(url: str) -> tuple[list[str], list[str], list[str]]:
    sql = ["SELECT body FROM search_doc WHERE kind = 'contact' AND body <> '' ORDER BY id LIMIT 2000",
           "SELECT title FROM search_doc WHERE kind = 'case' ORDER BY id LIMIT 2000",
           "SELECT names FROM search_doc WHERE kind = 'customer' ORDER BY id LIMIT 2000"]
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return tuple([r[0] for r in conn.execute(s)] for s in sql)
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return tuple([r[0] for r in conn.execute(s)] for s in sql)


def http(base: str, headers: dict, qs: list[str], concurrency: int, max_seconds: float) -> object:
    reqs = [("GET", "/api/v1/search?" + urlencode({"q": q, "limit": LIMIT}), None) for q in qs]
    return load("search (HTTP)", base, headers, reqs, concurrency, max_seconds)


_AUDIT = ("INSERT INTO audit_entry (id, at, actor_type, actor_id, actor_name, action, resource_type, resource_id, "
          "customer_id, channel, purpose, detail) VALUES ({})")
_SQLITE_WORDS = ("WITH cand AS (SELECT d.id, d.at FROM search_fts JOIN search_doc d ON d.id = search_fts.rowid "
                 "WHERE search_fts MATCH ?1 AND d.kind = ?2 ORDER BY d.at DESC, d.id DESC LIMIT ?4) "
                 "SELECT d.id, d.ref_id, d.customer_id, -bm25(search_fts, 4.0, 1.0) AS rank FROM search_fts JOIN "
                 "search_doc d ON d.id = search_fts.rowid WHERE search_fts MATCH ?1 AND d.id IN "
                 "(SELECT id FROM cand ORDER BY at DESC, id DESC LIMIT ?5) "
                 "ORDER BY rank DESC, d.at DESC, d.id DESC LIMIT ?3")
_SQLITE_SNIPPET = ("SELECT rowid, snippet(search_fts, -1, '[', ']', ' … ', 24) FROM search_fts "
                   "WHERE search_fts MATCH ? AND rowid IN ({})")
_SQLITE_NAMES = ("SELECT d.ref_id, d.names FROM search_name_fts f JOIN search_doc d ON d.id = f.rowid "
                 "WHERE search_name_fts MATCH ? AND d.kind = 'customer' ORDER BY f.rank LIMIT 500")
_PG_Q = "(websearch_to_tsquery('simple', %(q)s) || websearch_to_tsquery('english', %(q)s))"
# The previous design: every match read and ranked (kept to show what the candidates save).
_PG_ALL_WORDS = (f"SELECT d.id, d.ref_id, d.customer_id, ts_rank(d.tsv, qq.query) AS rank FROM search_doc d, "
                 f"(SELECT {_PG_Q} AS query) qq WHERE d.kind = %(kind)s AND d.tsv @@ qq.query "
                 "ORDER BY rank DESC, d.at DESC, d.id DESC LIMIT %(n)s")
# Now: the newest CANDIDATES + 1 matches in a window, the newest CANDIDATES of them ranked.
_PG_WORDS = (f"WITH cand AS (SELECT d.id, d.at FROM search_doc d WHERE d.kind = %(kind)s AND d.tsv @@ {_PG_Q} "
             "{window} ORDER BY d.at DESC, d.id DESC LIMIT %(more)s) "
             f"SELECT d.id, d.ref_id, d.customer_id, ts_rank(d.tsv, {_PG_Q}) AS rank, (SELECT count(*) FROM cand) "
             "FROM search_doc d WHERE d.id IN (SELECT id FROM cand ORDER BY at DESC, id DESC LIMIT %(cap)s) "
             "ORDER BY rank DESC, d.at DESC, d.id DESC LIMIT %(n)s")
_PG_SNIPPET = (f"SELECT d.id, ts_headline(CAST(d.lang AS regconfig), d.title || ' — ' || d.body, {_PG_Q}, "
               "'MaxWords=24, MinWords=8, MaxFragments=2') FROM search_doc d WHERE d.id = ANY(%(ids)s)")
_PG_NAMES = ("SELECT ref_id, similarity(names, %(q)s) FROM search_doc WHERE kind = 'customer' AND "
             "(names %% %(q)s OR names ILIKE %(pat)s) ORDER BY (names ILIKE %(pat)s) DESC, "
             "similarity(names, %(q)s) DESC LIMIT %(n)s")


_PG_PROBE = ("WITH recent AS MATERIALIZED (SELECT d.id, d.at, d.tsv FROM search_doc d WHERE d.kind = %(kind)s "
             "ORDER BY d.at DESC, d.id DESC LIMIT %(probe)s), cand AS (SELECT d.id, d.at FROM recent d "
             f"WHERE d.tsv @@ {_PG_Q} ORDER BY d.at DESC, d.id DESC LIMIT %(more)s) "
             + _PG_WORDS[_PG_WORDS.index("SELECT d.id, d.ref_id"):])


def pg_words(cur, q: str, kind: str, now: datetime, plans: list | None = None) -> list:
    """The app's word search as raw SQL: the newest rows of the kind first (the probe), then the
    word index window after window (index scans in time order off), until more than CANDIDATES
    match. ``plans``: the EXPLAIN ANALYZE of each statement run is added to it."""
    base = {"q": q, "kind": kind, "n": LIMIT, "cap": rules.CANDIDATES, "more": rules.CANDIDATES + 1,
            "probe": rules.PROBE_ROWS}
    tries = [(_PG_PROBE, base, "the newest rows")]
    for since in rules.windows(now, None):
        window = "AND d.at >= %(since)s" if since is not None else ""
        tries.append((_PG_WORDS.replace("{window}", window), base | {"since": since}, f"window from {since}"))
    rows: list = []
    for k, (statement, params, label) in enumerate(tries):
        if k == 1:
            cur.execute("SELECT set_config('enable_indexscan', 'off', true)")
        if plans is not None:
            plan = "\n".join(r[0] for r in cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params))
            plans.append(f"-- {kind} words {q!r}, {label}\n{plan}")
        rows = cur.execute(statement, params).fetchall()
        if rows and rows[0][4] > rules.CANDIDATES:
            break
    cur.execute("SELECT set_config('enable_indexscan', 'on', true)")
    return rows


def floor(url: str, qs: list[str], concurrency: int, max_seconds: float, *, previous: bool = False):
    """The same statements as raw SQL (``previous``: the word searches as they were, every match
    read and ranked, PostgreSQL only)."""
    local = threading.local()
    clock_now = datetime.now(UTC)
    now = clock_now.replace(tzinfo=None).isoformat(sep=" ")

    def audit_rows(shown):
        return [(new_id(), now, "token", "bench", "bench", "read", kind, rid, cid, "api", "search", "{}")
                for kind, rid, cid in shown]

    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]

        def one(q: str) -> None:
            if not hasattr(local, "conn"):
                local.conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            conn = local.conn
            shown = []
            match = rules.fts5_query(q)
            for kind in ("case", "contact"):
                rows = conn.execute(_SQLITE_WORDS, (match, kind, LIMIT, rules.CANDIDATES + 1, rules.CANDIDATES)
                                    ).fetchall() if match else []
                if rows:
                    conn.execute(_SQLITE_SNIPPET.format(",".join("?" * len(rows))),
                                 (match, *[r[0] for r in rows])).fetchall()
                shown += [(kind, r[1], r[2]) for r in rows]
            probe = rules.name_probe(q)
            names = conn.execute(_SQLITE_NAMES, (probe,)).fetchall() if probe else []
            best = sorted(((rules.similarity(n or "", q), rid) for rid, n in names), reverse=True)[:LIMIT]
            shown += [("customer", rid, rid) for s, rid in best if s >= rules.NAME_SIMILARITY]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_AUDIT.format(", ".join("?" * 12)), audit_rows(shown))
            conn.execute("COMMIT")
    else:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")

        def one(q: str) -> None:
            if not hasattr(local, "conn"):
                local.conn = psycopg.connect(dsn)
            with local.conn.transaction():
                cur = local.conn.cursor()
                shown = []
                for kind in ("case", "contact"):
                    rows = cur.execute(_PG_ALL_WORDS, {"q": q, "kind": kind, "n": LIMIT}).fetchall() if previous \
                        else pg_words(cur, q, kind, clock_now)
                    if rows:
                        cur.execute(_PG_SNIPPET, {"q": q, "ids": [r[0] for r in rows]}).fetchall()
                    shown += [(kind, r[1], r[2]) for r in rows]
                pat = "%" + q.lower().replace("%", "\\%").replace("_", "\\_") + "%"
                shown += [("customer", r[0], r[0]) for r in cur.execute(_PG_NAMES, {"q": q, "pat": pat, "n": LIMIT})]
                cur.executemany(_AUDIT.format(", ".join(["%s"] * 12)), audit_rows(shown))

    name = "search, previous design (raw SQL)" if previous else "search (raw SQL floor)"
    return timed(name, qs, one, concurrency, max_seconds)


def explain(url: str, qs: list[str]) -> str:
    """EXPLAIN ANALYZE of the word searches (each window tried) and the name search for ``qs``."""
    import psycopg

    out = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        cur = conn.cursor()
        for q in qs:
            for kind in ("case", "contact"):
                pg_words(cur, q, kind, datetime.now(UTC), plans=out)
            pat = "%" + q.lower().replace("%", "\\%").replace("_", "\\_") + "%"
            plan = cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + _PG_NAMES, {"q": q, "pat": pat, "n": LIMIT}).fetchall()
            out.append(f"-- names {q!r}\n" + "\n".join(r[0] for r in plan))
        conn.rollback()
    return "\n\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=None, help="a PostgreSQL server URL to create the bench database on")
    ap.add_argument("--database-url", default=None, help="a generated database to measure (nothing generated)")
    ap.add_argument("--customers", type=int, default=10_000, help="customers to generate (without --database-url)")
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--seconds", type=float, default=120.0, help="time per measurement (at most)")
    ap.add_argument("--concurrency", type=int, default=16, help="the throughput measurement's (0: none)")
    ap.add_argument("--keep", action="store_true", help="keep the generated database")
    args = ap.parse_args(argv)

    if args.database_url:
        url, drop = args.database_url, (lambda: None)
        db = "postgresql" if url.startswith("postgresql") else "sqlite"
    else:
        url, drop = fresh_database(args.db, args.pg_url)
        db = args.db
    results = {"db": db, "machine": machine(), "args": vars(args), "measurements": []}
    try:
        if not args.database_url:
            t0 = time.perf_counter()
            run_cli(url, "bench", "generate", "--customers", str(args.customers))
            print(f"generated {args.customers} customers in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        qs = queries(url, args.requests)
        token = run_cli(url, "token", "create", "--name", f"bench-search-{new_id()}", "--role", "agent").splitlines()[0]
        headers = {"Authorization": f"Bearer {token}"}
        with server(url) as (base, rss):
            load("warm-up", base, headers, [("GET", "/api/v1/search?" + urlencode({"q": q}), None) for q in qs[:15]],
                 1)
            r = http(base, headers, qs, 1, args.seconds)
            r.rss_peak_mb = rss.peak_mb()
            many = http(base, headers, qs, args.concurrency, args.seconds) if args.concurrency > 1 else None
            if many is not None:
                many.name = f"search (HTTP), concurrency {args.concurrency}"
        f = floor(url, qs[:r.count], 1, args.seconds)
        results["measurements"] += [row(r, f), f.summary()]
        if many is not None:
            fm = floor(url, qs[:many.count], args.concurrency, args.seconds)
            fm.name = f"search (raw SQL floor), concurrency {args.concurrency}"
            results["measurements"] += [row(many, fm), fm.summary()]
        if db == "postgresql":
            before = floor(url, qs[:r.count], 1, args.seconds, previous=True)
            results["measurements"].append(before.summary())
            picked = [qs[0], qs[1], qs[2], qs[3], qs[4]]
            (RESULTS / "search-explain.txt").parent.mkdir(exist_ok=True)
            (RESULTS / "search-explain.txt").write_text(explain(url, picked))
    finally:
        if not args.keep:
            drop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"search-{db}.json").write_text(json.dumps(results, indent=2))
    print(f"\n{db}: {results['machine']}")
    print(f"{'measurement':26} {'n':>5} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} {'err':>4} {'floor p99':>9} "
          f"{'ratio':>6}")
    for m in results["measurements"]:
        print(f"{m['name']:26} {m['count']:>5} {m['throughput_per_s']:>7} {m['p50_ms']:>8} {m['p99_ms']:>8} "
              f"{m['errors']:>4} {m.get('floor_p99_ms', ''):>9} {m.get('ratio_to_floor', ''):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
