"""Bills from a CSV file exported by the billing system: one row per charge (recurring, usage,
one-off, credit, refund), grouped into bills by account number and bill number.

All or nothing: every row is checked first (columns, dates, amounts, kinds, the account, repeated
rows, a bill's header the same on each of its rows), then each new bill goes through
``service.import_bill`` with its own checks; one problem anywhere and nothing is written, every
problem named with its line. A bill already recorded with the same amount is skipped, so the same
file imported again imports nothing twice. Services never commit.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.billing import rules, service
from onethread.errors import Conflict, DomainError
from onethread.kernel.clock import Clock
from onethread.models import BillingAccount

BILL_COLUMNS = ("account", "bill_number", "bill_period_start", "bill_period_end", "issued_on", "due_on",
                "currency", "bill_amount")
CHARGE_COLUMNS = ("kind", "description", "amount", "product_id", "identifier_kind", "identifier_value",
                  "period_start", "period_end")
COLUMNS = BILL_COLUMNS + CHARGE_COLUMNS
OPTIONAL = frozenset({"product_id", "identifier_kind", "identifier_value", "period_start", "period_end"})
MAX_PROBLEMS = 1000  # a file that wrong is reported by its first thousand problems


@dataclass
class ImportReport:
    rows_read: int = 0
    bills_imported: int = 0
    charges_imported: int = 0
    bills_skipped: int = 0  # already recorded, with the same amount
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    customer_ids: set[str] = field(default_factory=set)  # whose bills were imported
    bill_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_rejected(self) -> int:
        return len({line for line, _ in self.problems if line > 1})


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    amount: int = 0
    bill_amount: int = 0
    dates: dict[str, date | None] = field(default_factory=dict)


def _date(text: str) -> date:
    return date.fromisoformat(text)  # YYYY-MM-DD; anything else is a ValueError


def _int(text: str) -> int:
    if not text.lstrip("-").isdigit():
        raise ValueError(text)
    return int(text)


def _check_row(row: _Row, problems: list[tuple[int, str]]) -> None:
    v = row.values
    for name in COLUMNS:
        if name not in OPTIONAL and not v[name]:
            problems.append((row.line, f"{name} is empty"))
    for name in ("bill_period_start", "bill_period_end", "issued_on", "due_on", "period_start", "period_end"):
        if not v[name]:
            row.dates[name] = None
            continue
        try:
            row.dates[name] = _date(v[name])
        except ValueError:
            problems.append((row.line, f"{name} {v[name]!r} is not a date (YYYY-MM-DD)"))
    for name in ("amount", "bill_amount"):
        try:
            setattr(row, name, _int(v[name]))
        except ValueError:
            if v[name]:
                problems.append((row.line, f"{name} {v[name]!r} is not a whole number of minor units"))
    if v["kind"] and v["kind"] not in rules.IMPORTED_CHARGE_KINDS:
        problems.append((row.line, f"kind {v['kind']!r} is not one of {', '.join(rules.IMPORTED_CHARGE_KINDS)}"))


def read_rows(lines: Iterable[str]) -> tuple[list[_Row], list[tuple[int, str]]]:
    """The file's rows, checked one by one, and the problems found (line numbers from 1, the header)."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return [], [(1, "the file is empty")]
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or repeated:
        parts = ([f"missing column(s): {', '.join(missing)}"] if missing else []) + \
                ([f"unknown column(s): {', '.join(unknown)}"] if unknown else []) + \
                ([f"repeated column(s): {', '.join(repeated)}"] if repeated else [])
        return [], [(1, "; ".join(parts) + f" (the columns are: {', '.join(COLUMNS)})")]
    rows, problems, seen = [], [], {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            problems.append((line, f"{len(cells)} fields, the header has {len(names)}"))
            continue
        row = _Row(line, {n: c.strip() for n, c in zip(names, cells, strict=True)})
        key = tuple(row.values[c] for c in COLUMNS)
        if key in seen:
            problems.append((line, f"repeats line {seen[key]}"))
        else:
            seen[key] = line
        _check_row(row, problems)
        rows.append(row)
        if len(problems) >= MAX_PROBLEMS:
            break
    return rows, problems


def _group(rows: list[_Row], problems: list[tuple[int, str]]) -> dict[tuple[str, str], list[_Row]]:
    bills: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        bills.setdefault((row.values["account"], row.values["bill_number"]), []).append(row)
    for group in bills.values():
        first = group[0]
        for row in group[1:]:
            for name in BILL_COLUMNS[2:]:
                if row.values[name] != first.values[name]:
                    problems.append((row.line, f"{name} differs from line {first.line} of the same bill"))
    return bills


def import_csv(session: Session, clock: Clock, actor: Principal, lines: Iterable[str], *, region: str | None,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a billing system's CSV export; nothing is written unless every row is good."""
    report = ImportReport()
    rows, problems = read_rows(lines)
    report.rows_read = len(rows)
    report.problems = problems
    bills = _group(rows, problems)
    numbers = {account for account, _ in bills}
    accounts = {a.account_number: a for a in session.scalars(
        select(BillingAccount).where(BillingAccount.account_number.in_(numbers)))} if numbers else {}
    for (account, _), group in bills.items():
        if account and account not in accounts:
            problems.extend((row.line, f"no billing account {account}") for row in group)
    if problems:
        report.problems.sort()
        return report
    outer = session.begin_nested()
    for (account_number, number), group in bills.items():
        account, first = accounts[account_number], group[0]
        try:
            existing = service.recorded_bill(session, account, number, first.bill_amount)
        except Conflict as exc:
            problems.append((first.line, exc.message))
            if progress:
                progress(len(group))
            continue
        if existing is not None:
            report.bills_skipped += 1
            if progress:
                progress(len(group))
            continue
        charges = [service.ChargeIn(
            kind=r.values["kind"], description=r.values["description"], amount_minor=r.amount,
            product_id=r.values["product_id"] or None, identifier_kind=r.values["identifier_kind"] or None,
            identifier_value=r.values["identifier_value"] or None, period_start=r.dates["period_start"],
            period_end=r.dates["period_end"]) for r in group]
        step = session.begin_nested()
        try:
            bill = service.import_bill(
                session, clock, actor, billing_account_id=account.id, bill_number=number,
                period_start=first.dates["bill_period_start"], period_end=first.dates["bill_period_end"],
                issued_on=first.dates["issued_on"], due_on=first.dates["due_on"], amount_minor=first.bill_amount,
                currency=first.values["currency"], charges=charges, region=region)
        except DomainError as exc:
            step.rollback()
            problems.append((_line_of(exc, group), f"bill {number}: {exc.message}"))
        else:
            step.commit()
            report.bills_imported += 1
            report.charges_imported += len(group)
            report.customer_ids.add(bill.customer_id)
            report.bill_ids.append(bill.id)
        if progress:
            progress(len(group))
    if problems:
        outer.rollback()
        report.problems.sort()
        report.bills_imported = report.charges_imported = 0
        report.customer_ids, report.bill_ids = set(), []
    else:
        outer.commit()
    return report


def _line_of(exc: DomainError, group: list[_Row]) -> int:
    """The line of the charge a service error names (``charges[n].…``), else the bill's first line."""
    name = exc.field or ""
    if name.startswith("charges[") and "]" in name:
        index = name[len("charges["):name.index("]")]
        if index.isdigit() and int(index) < len(group):
            return group[int(index)].line
    return group[0].line
