"""Helpers the commands share: settings, the container, readable failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session

from onethread.bootstrap import Container, build
from onethread.config import Settings
from onethread.db.session import session_scope
from onethread.errors import DatabaseNotReady, DomainError


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def container(check_schema: bool = True) -> Container:
    try:
        return build(Settings(), check_schema=check_schema)
    except DatabaseNotReady as exc:
        fail(str(exc))
        raise  # unreachable


@contextmanager
def unit_of_work(c: Container) -> Iterator[Session]:
    """One session for the command: committed at the end, nothing written on error."""
    try:
        with session_scope(c.sessions) as session:
            yield session
    except DomainError as exc:
        fail(exc.message)
