"""Helpers the commands share: settings, the container, readable failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from onethread.bootstrap import Container, build
from onethread.config import Settings
from onethread.db.session import session_scope
from onethread.errors import DatabaseNotReady, DomainError

# Exit codes (docs/cli.md): 0 done, 1 refused or failed with a message, 2 wrong usage (Typer).


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """The settings from ONETHREAD_* variables; a bad value is a readable error, not a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [f"ONETHREAD_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                    for err in exc.errors()]
        fail("bad configuration: " + "; ".join(problems))


def where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def reaching_database(url: str) -> Iterator[None]:
    """Turn 'cannot connect' into one readable line."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        fail(f"cannot use the database at {where(url)}: {reason}")


def container(check_schema: bool = True) -> Container:
    s = settings()
    with reaching_database(s.database_url):
        try:
            return build(s, check_schema=check_schema)
        except DatabaseNotReady as exc:
            fail(str(exc))


@contextmanager
def unit_of_work(c: Container) -> Iterator[Session]:
    """One session for the command: committed at the end, nothing written on error."""
    with reaching_database(c.settings.database_url):
        try:
            with session_scope(c.sessions) as session:
                yield session
        except DomainError as exc:
            fail(exc.message)


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or asked twice at the terminal."""
    import getpass

    if from_stdin:
        return typer.get_text_stream("stdin").readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        fail("the passwords differ")
    return password
