"""Deterministic ULIDs: the app's layout (48-bit milliseconds, 80 random bits, Crockford base32),
with the time taken from the row's own timestamp and the random part from the seeded generator,
so the same seed gives the same ids and ids still sort by when the row happened."""

from __future__ import annotations

from datetime import UTC, datetime
from random import Random

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)  # 10 bits -> two characters


def encode(ms: int, rand80: int) -> str:
    """The 26-character ULID of (``ms``, ``rand80``): the same string ``kernel.ids`` would write."""
    p, r = _PAIRS, rand80
    return (f"{p[ms >> 40]}{p[(ms >> 30) & 1023]}{p[(ms >> 20) & 1023]}{p[(ms >> 10) & 1023]}{p[ms & 1023]}"
            f"{p[r >> 70]}{p[(r >> 60) & 1023]}{p[(r >> 50) & 1023]}{p[(r >> 40) & 1023]}{p[(r >> 30) & 1023]}"
            f"{p[(r >> 20) & 1023]}{p[(r >> 10) & 1023]}{p[r & 1023]}")


class IdMaker:
    """Ids for rows that happened at given times, reproducible from the generator's state."""

    def __init__(self, rng: Random) -> None:
        self._bits = rng.getrandbits

    def at(self, when: datetime) -> str:
        return encode(int(when.timestamp() * 1000), self._bits(80))

    def at_seconds(self, ts: float) -> str:
        return encode(int(ts * 1000), self._bits(80))


def time_of(ulid: str) -> datetime:
    """The millisecond a ULID was made for (to check ordering in tests)."""
    ms = 0
    for ch in ulid[:10]:
        ms = ms * 32 + _ALPHABET.index(ch)
    return datetime.fromtimestamp(ms / 1000, UTC)
