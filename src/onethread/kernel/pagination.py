"""Offset/limit pages (TMF) and keyset cursors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal, tuple_

from onethread.errors import ValidationFailed

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = DEFAULT_LIMIT


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


MAX_CURSOR_LENGTH = 2048  # a cursor holds a few sort keys; anything longer is not ours


def decode_cursor(cursor: str) -> list[Any]:
    """The values an ``encode_cursor`` cursor holds; ``ValueError`` for anything else."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError("malformed cursor")
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeError, RecursionError) as exc:  # binascii.Error is a ValueError
        raise ValueError("malformed cursor") from exc
    if not isinstance(value, list):
        raise ValueError("malformed cursor")
    return value


def after(cursor: str | None, at_column: Any, id_column: Any, *, descending: bool) -> Any:
    """Keyset paging: the condition for the rows after the one ``cursor`` names (a ``next_cursor``
    of a page sorted by (time, id), ascending or ``descending``), or ``None`` for the first page.
    With an index on (time, id) the thousandth page costs what the first does, and no row is
    repeated or skipped when rows are added meanwhile. A malformed cursor: ``ValidationFailed``."""
    if cursor is None:
        return None
    try:
        at_iso, last_id = decode_cursor(cursor)
        at = datetime.fromisoformat(at_iso)
        if not isinstance(last_id, str):
            raise TypeError("id")
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("malformed cursor; use the X-Next-Cursor of the previous page", field="cursor") from exc
    # A row comparison, which an index on (time, id) starts from (an OR of the two is a filter).
    if descending:
        return tuple_(at_column, id_column) < tuple_(literal(at, at_column.type), literal(last_id))
    return tuple_(at_column, id_column) > tuple_(literal(at, at_column.type), literal(last_id))


def next_cursor(last: tuple[datetime, str] | None, shown: int, limit: int) -> str | None:
    """The cursor of the page after one that showed ``shown`` rows of ``limit``, its last row's
    (time, id) being ``last``: none when the page was not full (there is nothing after it)."""
    if last is None or shown < limit:
        return None
    return encode_cursor([last[0].isoformat(), last[1]])
