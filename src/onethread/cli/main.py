"""``onethread``: serve, worker, demo, db, user, token, gdpr, import, audit."""

from __future__ import annotations

import sys

import typer

from onethread.cli import accounts, database, portal, runtime
from onethread.cli.bench import bench_app
from onethread.cli.billing import audit_app, import_app
from onethread.cli.clock import clock_app
from onethread.cli.gdpr import gdpr_app

app = typer.Typer(
    help="onethread: omni-channel customer service for telecom operators.\n\n"
    "Configuration comes from ONETHREAD_* environment variables (see docs/configuration.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(runtime.serve)
app.command("worker")(runtime.worker)
app.command("demo")(database.demo)
app.add_typer(database.db_app, name="db")
app.add_typer(accounts.user_app, name="user")
app.add_typer(accounts.token_app, name="token")
app.add_typer(clock_app, name="clock")
app.add_typer(portal.portal_app, name="portal-account")
app.add_typer(bench_app, name="bench")
app.add_typer(gdpr_app, name="gdpr")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
