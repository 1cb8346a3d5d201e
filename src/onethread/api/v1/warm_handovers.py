"""Warm hand-overs (``/api/v1/cases/warm-handovers``): open a case (or take an open one of the
customer's), offer it to the person who takes over with the story so far, and send the live contact
(a store visit, a call, a chat) with it, verification included. The same operation as the store
page's hand-over form, for the contact centre and any other channel.

Translation only: the rules are in ``onethread.cases.warm_handover``. See docs/api/warm-handovers.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onethread.access.rules import CUSTOMER_SERVICE
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession
from onethread.api.tmf.conventions import created
from onethread.api.tmf.trouble_ticket import fresh_etag, handover_json, iso, person, summary, ticket_path
from onethread.api.v1.answers import cases as out
from onethread.cases import rules
from onethread.cases import warm_handover as handovers
from onethread.interactions.rules import CHANNELS
from onethread.models import StaffUser

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread cases"], route_class=AnswerRoute)


class WarmHandoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customerId: str = Field(..., max_length=26)
    caseId: str | None = Field(None, max_length=26, description="one of the customer's open cases; none: open one")
    kind: str = Field("fault", description="for a new case: " + " | ".join(rules.KINDS))
    title: str | None = Field(None, max_length=rules.TITLE_MAX, description="for a new case")
    customerAccount: str | None = Field(None, max_length=handovers.WORDS_MAX,
                                        description="for a new case: the customer's own words")
    toOwnerId: str = Field(..., max_length=26, description="the staff member who is to take the case")
    note: str = Field(..., max_length=handovers.NOTE_MAX, description="the story so far, for the receiver")
    channel: str = Field(..., max_length=20, description="where the customer is served: " + " | ".join(CHANNELS))
    sessionId: str | None = Field(None, max_length=26,
                                  description="the live contact session to send along (default: the customer's "
                                              "live session on this channel that you are serving, if any)")


def _names(session: Session, *ids: str | None) -> dict[str, str]:
    return {i: u.display_name for i in ids if i and (u := session.get(StaffUser, i)) is not None}


@router.post("/cases/warm-handovers", response_model=out.WarmHandover, status_code=201,
             summary="Hand the customer's problem over with the story: the case (opened if needed), the hand-over "
                     "request and the live contact with its verification, all or nothing")
def warm_handover(body: WarmHandoverIn, response: Response, session: DbSession, clock: ClockDep,
                  actor: person(CUSTOMER_SERVICE)) -> dict:
    done = handovers.warm_handover(
        session, clock, actor, customer_id=body.customerId, case_id=body.caseId, kind=body.kind, title=body.title,
        words=body.customerAccount, to_owner_id=body.toOwnerId, note=body.note, channel=body.channel,
        session_id=body.sessionId)
    h = done.handover
    created(response, ticket_path(done.case.id))
    fresh_etag(session, response, done.case)
    return {
        "@type": "WarmHandover", "caseOpened": done.opened, "case": summary(session, done.case),
        "handover": handover_json(h, _names(session, h.from_owner_id, h.to_owner_id)),
        "session": None if done.hop is None else {
            "id": done.hop.session_id, "href": f"{V1}/sessions/{done.hop.session_id}",
            "contactId": done.contact.id if done.contact else None,
            "transferredTo": {"id": done.hop.to_staff_id, "teamId": done.hop.to_team_id},
            "transferredAt": iso(done.hop.at)},
    }
