"""``python -m bench.profile``: where one request's time goes, in process, for the hot paths.

Not a benchmark (``bench.suite`` is): it counts the SQL statements of one request of each kind
and, with ``--pyinstrument``, profiles N of them. The app's synchronous endpoints normally run
in a thread pool, which a sampling profiler of the main thread cannot see; here they run
inline on the event loop's thread, so the profile shows the whole request.

    .venv/bin/python -m bench.profile --db sqlite --what ingest --pyinstrument
    .venv/bin/python -m bench.profile --db sqlite --what batches --agents 8 --sql   # a batch of 10
    .venv/bin/python -m bench.profile --db postgresql --pg-url postgresql://postgres@127.0.0.1/postgres \\
        --what 360 --pyinstrument
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter

from sqlalchemy import event

from bench import customer360, ingest, resolve
from bench.harness import fresh_database, run_cli
from bench.seed import seed


def _inline_threadpool() -> None:
    import anyio.to_thread

    async def run_sync(func, *args, abandon_on_cancel=False, cancellable=None, limiter=None):
        return func(*args)

    anyio.to_thread.run_sync = run_sync


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--customers", type=int, default=2_000)
    ap.add_argument("--long-tail", type=int, default=2_000)
    ap.add_argument("--what", choices=["ingest", "batches", "360", "resolve"], default="ingest",
                    help="batches: POST /api/v1/contact-batches, --batch-size contacts a request")
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("-n", type=int, default=300, help="requests to time (and profile)")
    ap.add_argument("--pyinstrument", action="store_true")
    ap.add_argument("--sql", action="store_true", help="print the statements of one request")
    ap.add_argument("--agents", type=int, default=0,
                    help="a contact-centre team of this many available agents first (triage hands items out)")
    ap.add_argument("--cprofile", action="store_true", help="profile with cProfile (deterministic) instead")
    args = ap.parse_args(argv)

    import httpx

    from onethread.app import create_app
    from onethread.config import Settings

    url, drop = fresh_database(args.db, args.pg_url)
    try:
        run_cli(url, "db", "upgrade")
        seeded = seed(url, args.customers, args.long_tail)
        token = run_cli(url, "token", "create", "--name", "bench", "--role", "admin").splitlines()[0]
        headers = {"Authorization": f"Bearer {token}"}
        app = create_app(Settings(database_url=url, env="test"))
        engine = app.state.container.engine
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda c, cur, sql, *a: statements.append(sql))
        if args.what == "ingest":
            reqs = ingest.requests(args.customers, args.n + 1)
        elif args.what == "batches":
            pick = [(n, None) for n, _ in ingest.numbers(args.customers, (args.n + 1) * args.batch_size)]
            reqs = ingest.batch_requests(pick, args.batch_size, tag="profile")
        elif args.what == "360":
            reqs = [("GET", f"/api/v1/customers/{cid}/360", None)
                    for cid in customer360.targets(seeded["customer_ids"], seeded["long_tail"], args.n + 1)]
        else:
            reqs = resolve.requests(args.customers, args.n + 1)
        _inline_threadpool()

        async def go() -> None:
            transport = httpx.ASGITransport(app=app)
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=transport, base_url="http://bench", headers=headers) as client:
                if args.agents:
                    team = await client.post("/api/v1/teams", json={"name": "Contact centre", "kind": "contact_centre"})
                    for n in range(args.agents):
                        r = await client.post("/api/v1/staff", json={
                            "username": f"agent{n}", "displayName": f"Agent {n}", "role": "agent",
                            "teamId": team.json()["id"]})
                        assert r.status_code < 400, r.text
                        r = await client.put(f"/api/v1/staff/{r.json()['id']}/presence",
                                             json={"presence": "available", "capacity": 500})
                        assert r.status_code < 400, r.text
                method, path, body, *_ = reqs[0]
                statements.clear()
                r = await client.request(method, path, json=body)
                assert r.status_code < 400, r.text
                kinds = Counter(s.split(None, 1)[0].upper() for s in statements)
                print(f"{args.what}: {len(statements)} statements for one request: {dict(kinds)}")
                if args.sql:
                    for s in statements:
                        print("  ", " ".join(s.split())[:220])
                profiler = None
                if args.pyinstrument:
                    from pyinstrument import Profiler

                    profiler = Profiler(interval=0.0005, async_mode="disabled")
                    profiler.start()
                cprof = None
                if args.cprofile:
                    import cProfile

                    cprof = cProfile.Profile()
                    cprof.enable()
                t0 = time.perf_counter()
                for method, path, body, *_ in reqs[1:]:
                    r = await client.request(method, path, json=body)
                    assert r.status_code < 400, r.text
                dt = time.perf_counter() - t0
                if cprof is not None:
                    import pstats

                    cprof.disable()
                    ours = r"onethread/(cases|search|interactions|db|kernel)"
                    pstats.Stats(cprof).sort_stats("cumulative").print_stats(ours, 45)
                if profiler is not None:
                    profiler.stop()
                    print(profiler.output_text(unicode=False, color=False, show_all=False))
                print(f"{args.what}: {args.n} requests in {dt:.2f}s = {dt / args.n * 1000:.2f} ms each "
                      f"(in process{', profiled' if profiler else ''})")

        asyncio.run(go())
        app.state.container.dispose()
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
