"""Offset/limit pages (TMF) and keyset cursors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

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
