"""``onethread user create`` and ``onethread token create|list|revoke``."""

from __future__ import annotations

import typer

from onethread.access import service as access
from onethread.access.rules import STAFF_ROLES, TOKEN_ROLES, token_state
from onethread.cli.common import container, fail, read_password, unit_of_work
from onethread.kernel.durations import DurationError, parse_duration

user_app = typer.Typer(help="Staff users.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer API tokens for systems and scripts.", no_args_is_help=True)


@user_app.command("create")
def create_user(
    username: str = typer.Argument(..., help="login name (letters, digits, . - _)"),
    role: str = typer.Option(..., "--role", help=f"one of: {', '.join(sorted(STAFF_ROLES))}"),
    name: str = typer.Option(None, "--name", help="display name (default: the username)"),
    email: str = typer.Option(None, "--email", help="contact e-mail (optional)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
) -> None:
    """Create a staff user; asks for the password (or reads it from stdin)."""
    password = read_password(password_stdin)
    c = container()
    with unit_of_work(c) as session:
        user = access.create_user(session, c.clock, username=username, display_name=name or username, role=role,
                                  password=password, email=email)
        typer.echo(f"created {user.username} ({user.role}), id {user.id}")


@token_app.command("create")
def create_token(
    name: str = typer.Option(..., "--name", help="who or what uses it, e.g. 'telephony'"),
    role: str = typer.Option(..., "--role", help=f"one of: {', '.join(sorted(TOKEN_ROLES))}"),
    expires: str = typer.Option(None, "--expires", help="ISO-8601 duration, e.g. P30D (default: never)"),
) -> None:
    """Create a bearer token and print it once (only its hash is stored)."""
    try:
        expires_in = parse_duration(expires) if expires else None
    except DurationError as exc:
        fail(str(exc))
    c = container()
    with unit_of_work(c) as session:
        row, secret = access.create_token(session, c.security_clock, name=name, role=role, expires_in=expires_in)
        until = row.expires_at.isoformat() if row.expires_at else "never"
    typer.echo(secret)
    typer.echo(f"token {row.id} '{row.name}' ({row.role}), expires {until}. Shown once: store it now.", err=True)


@token_app.command("list")
def list_tokens() -> None:
    """List tokens (never their secret)."""
    c = container()
    with unit_of_work(c) as session:
        rows = access.list_tokens(session)
        now = c.security_clock.now()
        if not rows:
            typer.echo("no tokens")
        for r in rows:
            state = token_state(r.revoked_at, r.expires_at, now)
            typer.echo(f"{r.id}  {r.prefix}…  {r.role:<20} {state:<8} {r.name}")


@token_app.command("revoke")
def revoke_token(token_id: str = typer.Argument(..., help="the token's id (from `onethread token list`)")) -> None:
    """Revoke a token at once."""
    c = container()
    with unit_of_work(c) as session:
        row = access.revoke_token(session, c.security_clock, token_id)
        typer.echo(f"revoked {row.id} '{row.name}'")
