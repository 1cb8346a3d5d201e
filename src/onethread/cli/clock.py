"""``onethread clock show|set|advance``: the sandbox's manual clock."""

from __future__ import annotations

from datetime import datetime

import typer

from onethread.cli.common import container, fail
from onethread.errors import DomainError

clock_app = typer.Typer(help="The sandbox's manual clock (ONETHREAD_CLOCK=manual). Moving it runs every sweep "
                        "that falls due on the way, at its own due time.", no_args_is_help=True)


def _move(**kwargs) -> None:
    from onethread.jobs import sandbox

    c = container()
    try:
        report = sandbox.move(c, **kwargs)
    except DomainError as exc:
        fail(exc.message)
    typer.echo(f"clock moved {report.before.isoformat()} -> {report.after.isoformat()} "
               f"in {report.steps + 1} step(s); handled: "
               + (", ".join(f"{k}: {v}" for k, v in report.handled.items()) or "nothing"))


@clock_app.command("show")
def show() -> None:
    """Print the current time and whether the clock is manual."""
    from onethread.sandbox import service as sandbox

    c = container()
    with c.sessions() as session:
        typer.echo(f"{sandbox.current(session, c.clock).isoformat()}  ({c.settings.clock} clock)")


@clock_app.command("set")
def set_(when: str = typer.Argument(..., help="an ISO-8601 date-time with a time zone, e.g. 2026-05-01T09:00:00Z")
         ) -> None:
    """Move the clock to WHEN (never backwards)."""
    try:
        value = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{when!r} is not an ISO-8601 date-time")
    if value.tzinfo is None:
        fail("give a time zone, e.g. 2026-05-01T09:00:00Z")
    _move(now=value)


@clock_app.command("advance")
def advance(duration: str = typer.Argument(..., help="an ISO-8601 duration: P14D, PT36H, P8W")) -> None:
    """Move the clock forward by DURATION."""
    _move(advance=duration)
