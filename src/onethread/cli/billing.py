"""``onethread import bills FILE`` (a billing system's CSV export, all or nothing) and
``onethread audit bills`` (the bill audit's rules, on demand)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from onethread.access.rules import SYSTEM
from onethread.cli.common import container, fail, unit_of_work

import_app = typer.Typer(help="Import data exported by other systems.", no_args_is_help=True)
audit_app = typer.Typer(help="Audits of imported data.", no_args_is_help=True)


def _summary(done) -> str:
    from onethread.billing import rules

    per_rule = ", ".join(f"{code} {rules.AUDIT_RULES[code][0]}: {n}" for code, n in done.run.found.items())
    text = f"{done.run.total} new finding(s) ({per_rule})"
    if done.case_ids:
        text += f"; on billing case(s) {', '.join(done.case_ids)}"
    if done.unowned:
        text += f"; no back-office user to own a case for customer(s) {', '.join(done.unowned)}"
    return text


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")


@import_app.command("bills")
def import_bills(
    file: Path = typer.Argument(..., help="CSV file, one row per charge (columns in docs/billing.md)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Import bills and their charges from a CSV file; nothing is imported unless every row is good."""
    from onethread.billing import bill_csv
    from onethread.decisions import bill_audit

    lines = _lines(file)
    c = container()
    with unit_of_work(c) as session:
        bar = (contextlib.nullcontext() if quiet else
               typer.progressbar(length=max(len(lines) - 1, 0), label="importing", file=None))
        with bar as shown:
            report = bill_csv.import_csv(session, c.clock, SYSTEM, lines, region=c.settings.default_region,
                                         progress=shown.update if shown is not None else None)
        typer.echo(f"rows read: {report.rows_read}; bills imported: {report.bills_imported} "
                   f"({report.charges_imported} charges); already recorded, skipped: {report.bills_skipped}; "
                   f"rows rejected: {report.rows_rejected}")
        if not report.ok:
            typer.secho(f"error: {file}: nothing imported ({len(report.problems)} problem(s)):", fg=typer.colors.RED,
                        err=True)
            for line, reason in report.problems:
                typer.echo(f"line {line}: {reason}", err=True)
            raise typer.Exit(1)
        if report.bill_ids:
            done = bill_audit.audit_and_follow_up(session, c.clock, SYSTEM, bill_ids=report.bill_ids)
            typer.echo(f"audit: {_summary(done)}")


@audit_app.command("bills")
def audit_bills(
    customer: str = typer.Option(None, "--customer", help="one customer's id (default: every charge)"),
) -> None:
    """Run the bill audit's rules; new overcharges go on the customers' billing cases with the refund."""
    from onethread.customers.service import get_customer
    from onethread.decisions import bill_audit

    c = container()
    with unit_of_work(c) as session:
        if customer is not None:
            get_customer(session, customer)
        done = bill_audit.audit_and_follow_up(session, c.clock, SYSTEM, customer_ids=[customer] if customer else None)
        typer.echo(_summary(done))
