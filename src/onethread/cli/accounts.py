"""``onethread user create|deactivate|activate|reset-password|end-sessions`` and
``onethread token create|list|revoke``."""

from __future__ import annotations

from contextlib import contextmanager

import typer

from onethread.access import service as access
from onethread.access import staff_accounts
from onethread.access.rules import STAFF_ROLES, SYSTEM, TOKEN_ROLES, token_state
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


@contextmanager
def _on_user(username: str):
    """(session, clock, user) for an operator's change to a staff user, in one unit of work."""
    c = container()
    with unit_of_work(c) as session:
        yield session, c.security_clock, access.user_by_username(session, username)


@user_app.command("deactivate")
def deactivate_user(username: str = typer.Argument(..., help="the staff user's login name")) -> None:
    """Deactivate a staff user: their page sessions end and their tokens are refused at once."""
    with _on_user(username) as (session, clock, user):
        staff_accounts.set_active(session, clock, SYSTEM, user.id, False)
    typer.echo(f"deactivated {user.username}: signed out everywhere, tokens refused")


@user_app.command("activate")
def activate_user(username: str = typer.Argument(..., help="the staff user's login name")) -> None:
    """Reactivate a staff user."""
    with _on_user(username) as (session, clock, user):
        staff_accounts.set_active(session, clock, SYSTEM, user.id, True)
    typer.echo(f"activated {user.username}")


@user_app.command("reset-password")
def reset_password(
    username: str = typer.Argument(..., help="the staff user's login name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
) -> None:
    """Set a new password for a staff user (asks for it); every session of theirs ends."""
    password = read_password(password_stdin)
    with _on_user(username) as (session, clock, user):
        staff_accounts.reset_password(session, clock, SYSTEM, user.id, password)
    typer.echo(f"new password set for {user.username}; their sessions ended")


@user_app.command("end-sessions")
def end_sessions(username: str = typer.Argument(..., help="the staff user's login name")) -> None:
    """Sign a staff user out everywhere (their page sessions; revoke their tokens separately)."""
    with _on_user(username) as (session, clock, user):
        ended = staff_accounts.end_all_sessions(session, clock, SYSTEM, user.id)
    typer.echo(f"ended {ended} session{'s' if ended != 1 else ''} of {user.username}")


@token_app.command("create")
def create_token(
    name: str = typer.Option(..., "--name", help="who or what uses it, e.g. 'telephony'"),
    role: str = typer.Option(None, "--role", help=f"one of: {', '.join(sorted(TOKEN_ROLES))} "
                             "(with --user: the user's own)"),
    expires: str = typer.Option(None, "--expires", help="ISO-8601 duration, e.g. P30D (default: never)"),
    user: str = typer.Option(None, "--user", help="issue it to this staff user (username): it acts as them, "
                             "with their current role, and may take four-eyes steps"),
) -> None:
    """Create a bearer token and print it once (only its hash is stored)."""
    if not role and not user:
        fail("give --role (a system token) or --user (a token issued to a person)")
    try:
        expires_in = parse_duration(expires) if expires else None
    except DurationError as exc:
        fail(str(exc))
    c = container()
    with unit_of_work(c) as session:
        person = access.user_by_username(session, user) if user else None
        row, secret = access.create_token(session, c.security_clock, name=name, role=person.role if person else role,
                                          expires_in=expires_in, staff_user_id=person.id if person else None)
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
