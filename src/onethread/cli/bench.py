"""``onethread bench ...``: operator-scale data and measurements.

Each command is a function registered on ``bench_app``; add the next one beside ``generate``.
"""

from __future__ import annotations

from datetime import datetime

import typer

from onethread.cli.common import fail, reaching_database, settings, where

bench_app = typer.Typer(help="Operator-scale data and benchmarks (see docs/datagen.md).", no_args_is_help=True)


def _database_url(given: str | None) -> str:
    if given is None:
        return settings().database_url
    from onethread.config import Settings

    return Settings(database_url=given).database_url


@bench_app.command("generate")
def generate(
    customers: int = typer.Option(..., "--customers", min=1, max=5_000_000, help="how many customers to generate"),
    seed: int = typer.Option(1, "--seed", help="same seed and options, same rows"),
    contacts_per_customer: float = typer.Option(10.0, "--contacts-per-customer", min=0.0, max=1000.0,
                                                help="mean contacts per customer, long tail included"),
    cases_per_customer: float = typer.Option(1.0, "--cases-per-customer", min=0.0, max=20.0,
                                             help="mean cases per customer"),
    open_share: float = typer.Option(0.15, "--open-share", min=0.0, max=1.0,
                                     help="share of cases still open (opened in the last 60 days)"),
    bill_months: int = typer.Option(4, "--bill-months", min=0, max=36, help="monthly bills per billing account"),
    long_tail_every: int = typer.Option(10_000, "--long-tail-every", min=1,
                                        help="every Nth customer (from the 8th) has 1,000-5,000 contacts"),
    now: str | None = typer.Option(None, "--now", help="ISO-8601 date-time the data leads up to "
                                   "(default: the configured clock's now)"),
    database_url: str | None = typer.Option(None, "--database-url",
                                            help="where to write (default: ONETHREAD_DATABASE_URL)"),
    workers: int = typer.Option(2, "--workers", min=1, max=8,
                                help="parallel writers on PostgreSQL (SQLite always uses one)"),
    batch: int = typer.Option(500, "--batch", min=1, max=10_000, help="customers per transaction"),
    keep_indexes: bool = typer.Option(False, "--keep-indexes",
                                      help="PostgreSQL: keep every index and constraint during the load "
                                      "(row by row, slower) instead of re-creating them after it"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress lines on stderr"),
) -> None:
    """Fill an empty database with a mid-size operator's data (migrating it to head first)."""
    import signal
    import sys

    from onethread.datagen.run import generate as run
    from onethread.datagen.shape import Options
    from onethread.datagen.sink import DeferredBuildFailed
    from onethread.errors import DomainError

    url = _database_url(database_url)
    if settings().env == "production":
        fail("generated data is refused in production mode (ONETHREAD_ENV=production)")
    at = _now(now, url)
    options = Options(customers=customers, now=at, seed=seed, contacts_per_customer=contacts_per_customer,
                      cases_per_customer=cases_per_customer, open_share=open_share, bill_months=bill_months,
                      long_tail_every=long_tail_every)
    typer.echo(f"generating {customers:,} customers (seed {seed}, now {at.isoformat()}) into {where(url)}",
               err=True)
    # A polite kill (SIGTERM) stops the load like Ctrl-C does, so the dropped indexes and
    # constraints are still re-created before the process ends.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with reaching_database(url):
            try:
                report = run(url, options, batch_size=batch, workers=workers,
                             progress=None if quiet else sys.stderr, keep_indexes=keep_indexes)
            except DomainError as exc:
                fail(exc.message)
            except DeferredBuildFailed as exc:
                fail(exc.message)
    finally:
        signal.signal(signal.SIGTERM, previous)
    typer.echo(report.table())


def _now(given: str | None, url: str) -> datetime:
    if given is not None:
        try:
            value = datetime.fromisoformat(given.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--now {given!r} is not an ISO-8601 date-time")
        if value.tzinfo is None:
            fail("--now needs a time zone, e.g. 2026-05-01T09:00:00Z")
        return value
    from onethread.config import Settings
    from onethread.kernel.clock import SystemClock

    if settings().clock != "manual":
        return SystemClock().now()
    # The sandbox's manual clock lives in the database: read it once the schema is there.
    from onethread.bootstrap import build
    from onethread.db import migrate
    from onethread.db.engine import make_engine
    from onethread.sandbox import service as sandbox

    engine = make_engine(url)
    with reaching_database(url):
        migrate.upgrade(engine)
    engine.dispose()
    c = build(Settings(database_url=url, clock="manual"))
    try:
        with c.sessions() as session:
            return sandbox.current(session, c.clock)
    finally:
        c.dispose()


@bench_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_suite(ctx: typer.Context) -> None:
    """Run the benchmark suite (``bench/suite.py``) from a source checkout; options pass through,
    e.g. ``onethread bench run --db postgresql --pg-url ... --customers 10000 --quick``."""
    import subprocess
    import sys
    from pathlib import Path

    here = Path.cwd()
    if not (here / "bench" / "suite.py").is_file():
        fail("the benchmark suite lives in the source checkout: run this from the repository's top "
             "folder (where bench/suite.py is), or use 'make bench'")
    raise typer.Exit(subprocess.call([sys.executable, "-m", "bench.suite", *ctx.args], cwd=here))
