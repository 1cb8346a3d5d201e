"""``onethread gdpr export|erase|sweep``: personal-data rights from the command line (docs/privacy.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import Principal, Role
from onethread.cli.common import container, fail, unit_of_work
from onethread.models import StaffUser
from onethread.privacy import export as exporting
from onethread.privacy import retention, rules
from onethread.privacy import service as privacy

gdpr_app = typer.Typer(help="Personal-data rights: subject-access export, erasure, retention sweep.",
                       no_args_is_help=True)

BY_HELP = "username of the administrator doing this (recorded in the audit log)"


def _person(session, username: str) -> Principal:
    """The named, active administrator the command acts as."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    if user is None or not user.active:
        fail(f"no active staff user {username!r}")
    if user.role != Role.ADMIN:
        fail(f"{user.username} is a {user.role}: only an administrator may do this")
    return access.staff_principal(user)


@gdpr_app.command("export")
def export(
    customer_id: str = typer.Argument(..., help="the customer's id"),
    by: str = typer.Option(..., "--by", help=BY_HELP),
    out: Path = typer.Option(None, "--out", help="write the JSON here (default: standard output)"),
) -> None:
    """Everything held on a customer, as JSON, with the list of their attachments; audited."""
    c = container()
    with unit_of_work(c) as session:
        data = exporting.export(session, c.clock, _person(session, by), customer_id, channel="cli")
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"wrote {out} ({len(data['contacts'])} contacts, {len(data['cases'])} cases, "
               f"{len(data['bills'])} bills, {len(data['attachments'])} attachments)", err=True)


@gdpr_app.command("erase")
def erase(
    customer_id: str = typer.Argument(..., help="the customer's id"),
    by: str = typer.Option(..., "--by", help=BY_HELP),
    reason: str = typer.Option(..., "--reason", help="why (the customer's request and its reference)"),
) -> None:
    """Anonymise the customer's identity; the case, decision and bill history stays. Refused while a
    case is open or a bill owes something."""
    c = container()
    with unit_of_work(c) as session:
        try:
            done = privacy.erase(session, c.clock, _person(session, by), customer_id, reason=reason, channel="cli")
        except rules.PolicyError as exc:
            fail(str(exc))
    what = ", ".join(f"{k}: {v}" for k, v in done["done"].items()) or "nothing to change"
    typer.echo(f"erased {customer_id} ({what}); kept: {', '.join(done['kept'])}")


@gdpr_app.command("sweep")
def sweep() -> None:
    """Anonymise or delete every record past its retention period; prints the counts."""
    c = container()
    with unit_of_work(c) as session:
        try:
            report = retention.sweep(session, c.clock)
        except rules.PolicyError as exc:
            fail(str(exc))
    for kind, count in report.counts.items():
        typer.echo(f"{kind}: {count} {report.actions[kind]}d")
    typer.echo(f"retention sweep at {report.at.isoformat()}: {report.total} records")
