"""Many rows of one table in one statement: the sweeps' and bulk operations' writes."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert many rows (all with the same keys) in one statement.

    On PostgreSQL the rows travel as one JSON array and the server unpacks it
    (``INSERT ... SELECT ... FROM json_populate_recordset``): one statement planned and run for
    the batch, not one per row, and no per-value work in the driver. Elsewhere (or when a column
    left out has a default to compute): a Core executemany.
    """
    if not rows:
        return
    names = list(rows[0])
    if not is_postgresql(session) or any(c.default is not None for c in table.c if c.name not in rows[0]):
        session.execute(insert(table), rows)
        return
    if session.autoflush:
        session.flush()  # pending ORM rows first, as Session.execute would: these rows may refer to them
    quote = session.get_bind().dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    session.connection().exec_driver_sql(
        f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} "
        f"FROM json_populate_recordset(NULL::{quote(table.name)}, CAST(%(rows)s AS JSON))",
        {"rows": json_rows(rows)})


def _json_value(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_rows(rows: list[dict]) -> str:
    """Rows as one JSON array for PostgreSQL to unpack (timestamps in ISO 8601 with their offset)."""
    return json.dumps(rows, default=_json_value, separators=(",", ":"))
