"""Opaque string ids that sort by creation time (ULID layout, Crockford base32).

48 bits of milliseconds then 80 random bits: 26 characters, lexicographic order is
creation order (to the millisecond), no coordination between processes needed.
Within one process ids created in the same millisecond still sort in creation order.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id() -> str:
    global _last_ms, _last_rand
    ms = time.time_ns() // 1_000_000  # ordering only; business time comes from the Clock
    with _lock:
        if ms <= _last_ms:
            ms = _last_ms
            rand = _last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_rand = ms, rand
    return _encode(ms, 10) + _encode(rand & ((1 << 80) - 1), 16)


def is_valid_id(value: str) -> bool:
    return len(value) == 26 and all(c in _ALPHABET for c in value)
