"""The periodic sweeps, listed explicitly. Each is ``sweep(session, clock) -> rows handled``.

The foundation has none; the cases issue adds SLA and regulator clocks here.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from onethread.kernel.clock import Clock

Sweep = Callable[[Session, Clock], int]

SWEEPS: list[tuple[str, Sweep]] = []
