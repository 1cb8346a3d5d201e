"""Contact sessions (``/api/v1/sessions``): a call, a store visit or a chat, its verification,
and the transfers that hand it on without asking the customer again (S1).

Translation only: the rules live in ``interactions.session_service`` and ``interactions.rules``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_SERVICE, CUSTOMER_WRITERS, Principal
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, ContainerDep, DbSession, allow
from onethread.api.tmf.conventions import created
from onethread.api.v1.answers import sessions as out
from onethread.interactions import rules
from onethread.interactions import session_service as sessions
from onethread.kernel.clock import Clock
from onethread.models import Contact, SessionHop, Verification
from onethread.outreach import health

router = APIRouter(prefix="/api/v1", tags=["contact sessions"], route_class=AnswerRoute)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=26)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartIn(_In):
    channel: str = Field(..., max_length=20, description=f"one of {', '.join(rules.SESSION_CHANNELS)}")
    externalId: str | None = Field(None, min_length=1, max_length=200,
                                   description="the telephony call id or chat id; a repeat start returns the session")
    customerId: Id | None = Field(None, description="when the customer is already known")


class IdentifyIn(_In):
    customerId: Id


class VerifyIn(_In):
    method: str = Field(..., max_length=40, description=f"one of {', '.join(rules.VERIFICATION_METHODS)}")
    level: int = Field(..., ge=1, le=rules.MAX_VERIFICATION_LEVEL, description="assurance level the check reached")


class TransferIn(_In):
    toStaffId: Id | None = Field(None, description="a person (reached in their own team)")
    toTeamId: Id | None = Field(None, description="a team's queue")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)] = Field(
        ..., description="the story so far, for the receiver")


class BounceIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _ref(ref_id: str | None, names: dict[str, str]) -> dict | None:
    return {"id": ref_id, "name": names.get(ref_id)} if ref_id else None


def _party(staff_id: str | None, team_id: str | None, view: sessions.SessionView) -> dict:
    return {"staff": _ref(staff_id, view.staff_names), "team": _ref(team_id, view.team_names)}


def contact_json(c: Contact) -> dict:
    return {"id": c.id, "channel": c.channel, "kind": c.kind, "direction": c.direction,
            "occurredAt": c.occurred_at.isoformat(), "subject": c.subject, "text": c.text, "actor": c.actor_name,
            "customerId": c.customer_id, "matchStatus": c.match_status}


def hop_json(h: SessionHop, view: sessions.SessionView) -> dict:
    return {"id": h.id, "kind": h.kind, "from": _party(h.from_staff_id, h.from_team_id, view),
            "to": _party(h.to_staff_id, h.to_team_id, view), "reason": h.reason, "note": h.note,
            "at": h.at.isoformat()}


def verification_json(v: Verification) -> dict:
    return {"id": v.id, "@type": "Verification", "method": v.method, "level": v.level,
            "verifiedBy": {"id": v.verified_by, "name": v.verified_by_name}, "verifiedAt": v.verified_at.isoformat(),
            "expiresAt": v.expires_at.isoformat()}


def view_json(view: sessions.SessionView, required_level: int) -> dict:
    live = view.session
    return {
        "id": live.id,
        "href": f"/api/v1/sessions/{live.id}",
        "@type": "ContactSession",
        "channel": live.channel,
        "externalId": live.external_id,
        "status": live.status,
        "startedAt": live.started_at.isoformat(),
        "endedAt": live.ended_at.isoformat() if live.ended_at else None,
        "customer": {"id": live.customer_id, "name": view.customer_name} if live.customer_id else None,
        "holder": _party(live.holder_staff_id, live.holder_team_id, view),
        "contacts": [contact_json(c) for c in view.contacts],
        "hops": [hop_json(h, view) for h in view.hops],
        "verification": verification_json(view.verification) if view.verification else None,
        "requiredLevel": required_level,
        "verificationNeeded": view.verification_needed,
    }


def _load(session, clock: Clock, actor: Principal, session_id: str, required_level: int = 1) -> sessions.SessionView:
    view = sessions.view(session, clock, session_id, required_level)
    if view.session.customer_id:  # the view shows personal data: the read is audited
        access.audit(session, clock, actor, action="read", resource_type="contact_session", resource_id=session_id,
                     customer_id=view.session.customer_id, channel="api", purpose="contact session")
    return view


def _view(session, clock: Clock, actor: Principal, session_id: str, required_level: int = 1) -> dict:
    return view_json(_load(session, clock, actor, session_id, required_level), required_level)


def _hop(session, clock: Clock, actor: Principal, hop: SessionHop) -> dict:
    view = _load(session, clock, actor, hop.session_id)
    return {**hop_json(hop, view), "@type": "SessionHop", "session": view_json(view, 1)}


@router.post("/sessions", response_model=out.ContactSession,
             status_code=201, summary="Start a contact session (a repeat externalId returns it, 200)")
def start(body: StartIn, response: Response, session: DbSession, clock: ClockDep, container: ContainerDep,
          actor: allow(CUSTOMER_WRITERS)) -> dict:
    live, new = sessions.start_or_get(session, clock, actor, channel=body.channel, external_id=body.externalId,
                                      customer_id=body.customerId)
    created(response, f"/api/v1/sessions/{live.id}")
    health.call_started(session, clock, actor, channel=body.channel, external_id=body.externalId,
                        expected_every=container.settings.telephony_silence_seconds)
    if not new:
        response.status_code = 200
    return _view(session, clock, actor, live.id)


@router.get("/sessions/{session_id}", response_model=out.ContactSession,
            summary="What the holder (or the receiver of a transfer) sees")
def get_session(session_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE),
                required_level: int = Query(1, alias="requiredLevel", ge=1, le=rules.MAX_VERIFICATION_LEVEL,
                                            description="the level the next step needs; "
                                                        "verificationNeeded says whether to ask")) -> dict:
    return _view(session, clock, actor, session_id, required_level)


@router.post("/sessions/{session_id}/identify", response_model=out.ContactSession,
             summary="Say who the customer in the session is")
def identify(session_id: str, body: IdentifyIn, session: DbSession, clock: ClockDep,
             actor: allow(CUSTOMER_SERVICE)) -> dict:
    sessions.identify(session, clock, actor, session_id, body.customerId)
    return _view(session, clock, actor, session_id)


@router.post("/sessions/{session_id}/verifications", response_model=out.SessionVerification, status_code=201,
             summary="Record that the customer passed a check; valid for the configured time")
def verify(session_id: str, body: VerifyIn, session: DbSession, clock: ClockDep, container: ContainerDep,
           actor: allow(CUSTOMER_SERVICE)) -> dict:
    ttl = timedelta(minutes=container.settings.verification_ttl_minutes)
    row = sessions.verify(session, clock, actor, session_id, method=body.method, level=body.level, ttl=ttl)
    return {**verification_json(row), "sessionId": session_id}


@router.post("/sessions/{session_id}/transfers", response_model=out.SessionHop, status_code=201,
             summary="Hand the session (and its verification) to a person or a team, with the story so far")
def transfer(session_id: str, body: TransferIn, session: DbSession, clock: ClockDep,
             actor: allow(CUSTOMER_SERVICE)) -> dict:
    hop = sessions.transfer(session, clock, actor, session_id, to_staff_id=body.toStaffId, to_team_id=body.toTeamId,
                            reason=body.reason, note=body.note)
    return _hop(session, clock, actor, hop)


@router.post("/sessions/{session_id}/bounce", response_model=out.SessionHop, status_code=201,
             summary="Send a wrongly transferred session back to whoever sent it, saying why")
def bounce(session_id: str, body: BounceIn, session: DbSession, clock: ClockDep,
           actor: allow(CUSTOMER_SERVICE)) -> dict:
    hop = sessions.bounce(session, clock, actor, session_id, reason=body.reason)
    return _hop(session, clock, actor, hop)


@router.post("/sessions/{session_id}/end", response_model=out.ContactSession,
             summary="End the session (its verification ends with it)")
def end(session_id: str, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE)) -> dict:
    sessions.end(session, clock, actor, session_id)
    return _view(session, clock, actor, session_id)
