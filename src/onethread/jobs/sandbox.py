"""Moving the manual clock: every sweep that falls due on the way runs at its own due time,
in order, as a live worker would have run it, before the move answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from onethread.bootstrap import Container
from onethread.db.session import session_scope
from onethread.errors import Conflict
from onethread.jobs.registry import NEXT_DUE, SWEEPS
from onethread.kernel.clock import SettableClock
from onethread.sandbox import service as sandbox

MAX_STEPS = 100_000


@dataclass
class MoveReport:
    before: datetime
    after: datetime
    steps: int = 0
    handled: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"before": self.before.isoformat(), "now": self.after.isoformat(), "steps": self.steps,
                "handled": self.handled}


def _run_sweeps(c: Container, at: SettableClock, report: MoveReport) -> None:
    with session_scope(c.sessions) as session:
        for name, sweep in SWEEPS:
            report.handled[name] = report.handled.get(name, 0) + sweep(session, at)
        sandbox.set_row(session, at.now(), at.now())


def move(c: Container, *, now: datetime | None = None, advance: str | None = None) -> MoveReport:
    if c.settings.clock != "manual":
        raise Conflict("this server runs on the system clock (start it with ONETHREAD_CLOCK=manual to move time)")
    with session_scope(c.sessions) as session:
        start = sandbox.current(session, c.clock)
        target = sandbox.target_of(session, c.clock, now=now, advance=advance)
    step = SettableClock(start)
    report = MoveReport(start, target)
    while report.steps < MAX_STEPS:
        with c.sessions() as session:
            dues = [d for d in (fn(session, target) for _, fn in NEXT_DUE) if d is not None]
        if not dues:
            break
        step.set(max(min(dues), step.now()))
        _run_sweeps(c, step, report)
        report.steps += 1
    step.set(target)
    _run_sweeps(c, step, report)
    return report
