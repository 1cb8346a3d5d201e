"""``onethread db upgrade|current|backup`` and ``onethread demo``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import typer

from onethread.cli.common import container, fail, reaching_database, settings, unit_of_work, where
from onethread.db import migrate, partition
from onethread.db.engine import make_engine

db_app = typer.Typer(help="Database schema: upgrade to the latest migration, show where it is; back up SQLite.",
                     no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="target revision (default: the latest)"),
            partitions: int = typer.Option(0, "--partitions", min=0, max=1024,
                                           help="PostgreSQL: then hash-partition the tables spread by customer "
                                                "(or by their own key) into N partitions (docs/scaling.md)")) -> None:
    """Apply migrations up to REVISION (safe to run again: it does nothing when up to date)."""
    url = settings().database_url
    engine = make_engine(url)
    if partitions and (engine.dialect.name != "postgresql" or partitions < 2):
        engine.dispose()
        fail("--partitions needs PostgreSQL and at least 2 partitions")
    try:
        with reaching_database(url):
            before = migrate.current_revision(engine)
            migrate.upgrade(engine, revision)
            after = migrate.current_revision(engine)
            report = partition.partition(engine, partitions) if partitions else None
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"{where(url)}: already at {after}")
    else:
        typer.echo(f"{where(url)}: upgraded {before or '(empty)'} -> {after}")
    if report is not None:
        typer.echo(f"partitioned {len(report.tables)} tables by hash into {partitions} ({report.rows} rows copied); "
                   f"already partitioned: {len(report.already)}")
        for dropped in report.dropped:
            typer.echo(f"not kept on partitioned tables: {dropped} (see docs/scaling.md)")


@db_app.command("current")
def current() -> None:
    """Show the database's schema revision and the one this onethread needs."""
    url = settings().database_url
    engine = make_engine(url)
    try:
        with reaching_database(url):
            current_rev, head = migrate.current_revision(engine), migrate.head_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"database: {current_rev or '(no schema)'}")
    typer.echo(f"needed:   {head}")


def demo(
    reset: bool = typer.Option(False, "--reset",
                               help="empty the database first, then load the demo (not in production)"),
    if_empty: bool = typer.Option(False, "--if-empty", help="load only when there are no customers yet"),
) -> None:
    """Load the demo data of the five stories (customers, identifiers, households, products, staff)."""
    from onethread.demo import loader

    if settings().env == "production":
        fail("the demo data is refused in production mode (ONETHREAD_ENV=production)")
    c = container()
    if reset:
        loader.reset(c)
        typer.echo("emptied the database")
    with unit_of_work(c) as session:
        if if_empty and loader.has_data(session):
            typer.echo("demo: the database already has customers; nothing loaded")
            return
        if not reset and loader.has_data(session):
            fail("the database already has data; use --reset to start again, or --if-empty")
        summary = loader.load(session, c)
    typer.echo("demo loaded: " + ", ".join(f"{n} {what}" for what, n in summary.items()))
    typer.echo(f"sign in as any demo user (e.g. 'ada.admin', 'sam.store') with password '{loader.DEMO_PASSWORD}'")


@db_app.command("backup")
def backup(
    file: Path = typer.Argument(..., help="where to write the copy (a new file)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace FILE if it exists"),
) -> None:
    """Copy the SQLite database to FILE while onethread keeps running (SQLite's online backup).

    For PostgreSQL use pg_dump -Fc (docs/operations.md)."""
    from onethread.db.backup import BackupRefused, backup_sqlite, row_counts

    url = settings().database_url
    try:
        written = backup_sqlite(url, file, overwrite=overwrite)
    except BackupRefused as exc:
        fail(str(exc))
    except sqlite3.Error as exc:
        fail(f"the backup failed: {exc}")
    engine = make_engine(f"sqlite:///{written}")
    try:
        counts = row_counts(engine)
    finally:
        engine.dispose()
    size = written.stat().st_size
    typer.echo(f"{where(url)}: backed up to {written} ({size:,} bytes, {len(counts)} tables, "
               f"{sum(counts.values()):,} rows, integrity ok)")
