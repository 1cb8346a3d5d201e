"""``onethread portal-account create|disable|enable``: sign-ins to the customer portal."""

from __future__ import annotations

import typer

from onethread.access import portal as accounts
from onethread.cli.common import container, read_password, unit_of_work

portal_app = typer.Typer(help="Customer portal sign-ins (customers and their representatives).",
                         no_args_is_help=True)


@portal_app.command("create")
def create(
    party_id: str = typer.Option(..., "--party-id", help="the person who signs in (a customer's party, or a "
                                                        "representative's)"),
    login: str = typer.Option(..., "--login", help="their e-mail address (stored in lower case)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
) -> None:
    """Open a portal sign-in for a person; asks for the password (or reads it from stdin)."""
    password = read_password(password_stdin)
    c = container()
    with unit_of_work(c) as session:
        account = accounts.create_account(session, c.clock, party_id=party_id, login=login, password=password)
        typer.echo(f"created portal account {account.login} for party {account.party_id}, id {account.id}")


def _set_active(account_id: str, active: bool) -> None:
    c = container()
    with unit_of_work(c) as session:
        account = accounts.set_active(session, c.clock, account_id, active)
        typer.echo(f"portal account {account.login} {'enabled' if active else 'disabled'}")


@portal_app.command("disable")
def disable(account_id: str = typer.Argument(..., help="the portal account's id")) -> None:
    """Close a portal sign-in; its cookie stops working on the next request."""
    _set_active(account_id, False)


@portal_app.command("enable")
def enable(account_id: str = typer.Argument(..., help="the portal account's id")) -> None:
    """Reopen a closed portal sign-in."""
    _set_active(account_id, True)
