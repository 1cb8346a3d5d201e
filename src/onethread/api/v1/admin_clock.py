"""``/api/v1/admin/clock``: read and move the sandbox's manual clock (not served in production)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import ADMINS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ContainerDep, DbSession, allow
from onethread.api.v1.answers import work as out
from onethread.jobs import sandbox as sandbox_jobs
from onethread.sandbox import service as sandbox

router = APIRouter(prefix="/api/v1/admin", tags=["sandbox clock"], route_class=AnswerRoute)


class ClockMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    now: datetime | None = Field(None, description="move the clock to this instant (with a time zone)")
    advance: str | None = Field(None, description="move the clock forward by an ISO-8601 duration, e.g. P14D")


@router.get("/clock", response_model=out.SandboxClock, summary="The current time of this onethread")
def get_clock(session: DbSession, container: ContainerDep, actor: allow(ADMINS)) -> dict:
    return {"mode": container.settings.clock, "now": sandbox.current(session, container.clock).isoformat()}


@router.post("/clock", response_model=out.SandboxClock,
             summary="Move the manual clock forward; due sweeps run at their own times first")
def move_clock(body: ClockMove, session: DbSession, container: ContainerDep, actor: allow(ADMINS)) -> dict:
    # The move runs the sweeps in transactions of its own, step by step, as a worker would;
    # end the request's transaction first so it holds no lock they would wait for.
    session.commit()
    report = sandbox_jobs.move(container, now=body.now, advance=body.advance)
    return {"mode": container.settings.clock, **report.as_dict()}
