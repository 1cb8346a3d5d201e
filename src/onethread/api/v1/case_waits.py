"""Waiting on the customer or a third party (``/api/v1``): put a case on hold, take it off hold.

Translation only: the rules are in ``onethread.cases.waits``. Both honour ``If-Match`` and answer
with the wait and the case's new ``ETag``. See docs/api/cases.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import CUSTOMER_SERVICE
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession
from onethread.api.tmf.trouble_ticket import person, wait_json
from onethread.api.v1.answers import cases as out
from onethread.api.v1.cases import V1, answer, case_for_action
from onethread.cases import rules, waits

router = APIRouter(prefix=V1, tags=["onethread cases"], route_class=AnswerRoute)


class WaitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: str = Field(..., max_length=20, description=" | ".join(rules.WAIT_ON))
    party: str | None = Field(None, max_length=rules.PARTY_MAX, description="third_party: who (required)")
    reason: str = Field(..., max_length=5_000, description="what the case waits for")


class ResumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=300, description="why the wait is over (the answer came...)")


@router.post("/cases/{case_id}/wait", response_model=out.Wait, status_code=201,
             summary="The case waits on the customer or a named third party: first-response, reply and "
                     "resolution clocks pause (the regulator's never do); 409 if it already waits")
def wait(case_id: str, body: WaitIn, request: Request, response: Response, session: DbSession, clock: ClockDep,
         actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    row = waits.wait(session, clock, actor, case.id, on=body.on, party=body.party, reason=body.reason)
    return answer(session, response, case, wait_json(row))


@router.post("/cases/{case_id}/resume", response_model=out.Wait,
             summary="The wait is over: the paused clocks run again, their due times moved by the time paused; "
                     "409 if the case waits on nobody")
def resume(case_id: str, body: ResumeIn, request: Request, response: Response, session: DbSession,
           clock: ClockDep, actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    row = waits.resume(session, clock, actor, case.id, reason=body.reason)
    return answer(session, response, case, wait_json(row))
