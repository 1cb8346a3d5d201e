"""Staff, teams and API tokens (``/api/v1``): who works in onethread and what systems call it.

Translation only: the rules (who may mark whom away, what a valid user or token is) live in
``access.service`` and ``access.rules``. Password hashes and token hashes never leave; a
token's secret is in the answer to its creation and nowhere else.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from onethread.access import service as access
from onethread.access import staff_accounts
from onethread.access.rules import ADMINS, ANYONE, ROLE_LABELS, SUPERVISORS, token_state
from onethread.api.deps import ClockDep, DbSession, SecurityClockDep, allow
from onethread.api.tmf.conventions import created
from onethread.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT
from onethread.models import ApiToken, StaffUser, Team

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["staff, teams and tokens"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# --- shapes --------------------------------------------------------------------------------

class StaffIn(_In):
    username: str = Field(..., min_length=1, max_length=80, description="login name: letters, digits, . - _")
    displayName: str = Field(..., min_length=1, max_length=120)
    role: str = Field(..., max_length=30, description="one of the staff roles, e.g. agent, team_lead")
    password: str | None = Field(None, max_length=1024,
                                 description="at least 10 characters; without one the user cannot sign in yet")
    email: str | None = Field(None, max_length=200)
    teamId: str | None = Field(None, max_length=26)


class StaffOut(_Out):
    type_: Literal["StaffUser"] = Field("StaffUser", alias="@type")
    id: str
    href: str
    username: str
    displayName: str
    email: str | None
    role: str
    roleLabel: str
    teamId: str | None
    active: bool
    away: bool
    createdAt: datetime

    @classmethod
    def of(cls, u: StaffUser) -> StaffOut:
        return cls(id=u.id, href=f"{V1}/staff/{u.id}", username=u.username, displayName=u.display_name,
                   email=u.email, role=u.role, roleLabel=ROLE_LABELS.get(u.role, u.role), teamId=u.team_id,
                   active=u.active, away=u.away, createdAt=u.created_at)


class MeOut(_Out):
    type_: Literal["Principal"] = Field("Principal", alias="@type")
    kind: str = Field(..., description="staff (page session), token (bearer token) or system")
    id: str = Field(..., description="the staff user's id, or the token's id")
    name: str
    role: str
    roleLabel: str
    teamId: str | None
    staff: StaffOut | None = Field(None, description="the staff record behind the caller, when there is one")


class AwayIn(_In):
    away: bool


class TeamIn(_In):
    name: str = Field(..., min_length=1, max_length=120)
    kind: str = Field("contact_centre", min_length=1, max_length=30,
                      description="e.g. store, contact_centre, specialists, back_office, subcontractor")
    leadId: str | None = Field(None, max_length=26, description="the staff user who leads the team")


class TeamOut(_Out):
    type_: Literal["Team"] = Field("Team", alias="@type")
    id: str
    href: str
    name: str
    kind: str
    leadId: str | None
    createdAt: datetime

    @classmethod
    def of(cls, t: Team) -> TeamOut:
        return cls(id=t.id, href=f"{V1}/teams/{t.id}", name=t.name, kind=t.kind, leadId=t.lead_id,
                   createdAt=t.created_at)


class TokenIn(_In):
    name: str = Field(..., min_length=1, max_length=120, description="who or what uses it, e.g. 'telephony'")
    role: str = Field(..., max_length=30, description="a staff role, or 'integration' for a system")
    expiresIn: timedelta | None = Field(None, description="ISO 8601 duration such as P30D; omitted: never expires")


class TokenOut(_Out):
    type_: Literal["ApiToken"] = Field("ApiToken", alias="@type")
    id: str
    href: str
    name: str
    role: str
    prefix: str = Field(..., description="the first characters of the token, to recognise it")
    state: str = Field(..., description="active, expired or revoked")
    createdAt: datetime
    expiresAt: datetime | None
    revokedAt: datetime | None
    lastUsedAt: datetime | None
    staffUserId: str | None = Field(None, description="the person the token was issued to (it acts as them); "
                                    "null: a system token, which can take no four-eyes step")

    @classmethod
    def of(cls, t: ApiToken, now: datetime) -> TokenOut:
        return cls(id=t.id, href=f"{V1}/tokens/{t.id}", name=t.name, role=t.role, prefix=t.prefix,
                   state=token_state(t.revoked_at, t.expires_at, now), createdAt=t.created_at,
                   expiresAt=t.expires_at, revokedAt=t.revoked_at, lastUsedAt=t.last_used_at,
                   staffUserId=t.staff_user_id)


class OwnTokenIn(_In):
    name: str = Field(..., min_length=1, max_length=120, description="where you use it, e.g. 'my laptop'")
    expiresIn: timedelta | None = Field(None, description="ISO 8601 duration such as P30D; omitted: never expires")


class NewTokenOut(TokenOut):
    token: str = Field(..., description="the bearer token: shown in this answer only, store it now")


def _counted(response: Response, items: list, total: int) -> list:
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(len(items))
    return items


# --- staff ---------------------------------------------------------------------------------

@router.post("/staff", status_code=201, response_model=StaffOut, summary="Create a staff user (admins)")
def create_staff(body: StaffIn, response: Response, session: DbSession, clock: ClockDep,
                 actor: allow(ADMINS)) -> StaffOut:
    user = access.create_user(session, clock, username=body.username, display_name=body.displayName,
                              role=body.role, password=body.password, email=body.email, team_id=body.teamId)
    created(response, f"{V1}/staff/{user.id}")
    return StaffOut.of(user)


@router.get("/staff", response_model=list[StaffOut], summary="List staff (supervisors)")
def list_staff(response: Response, session: DbSession, actor: allow(SUPERVISORS),
               offset: int = Query(0, ge=0), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
               role: str | None = Query(None, max_length=30),
               teamId: str | None = Query(None, max_length=26)) -> list[StaffOut]:
    rows, total = access.list_staff(session, offset=offset, limit=limit, role=role, team_id=teamId)
    return _counted(response, [StaffOut.of(u) for u in rows], total)


@router.get("/staff/me", response_model=MeOut, summary="Who am I: the caller as onethread sees it")
def me(session: DbSession, actor: allow(ANYONE)) -> MeOut:
    user = access.user_of(session, actor)
    return MeOut(kind=actor.kind, id=actor.id, name=actor.name, role=actor.role,
                 roleLabel=ROLE_LABELS.get(actor.role, actor.role), teamId=actor.team_id,
                 staff=StaffOut.of(user) if user else None)


@router.get("/staff/{staff_id}", response_model=StaffOut, summary="Retrieve a staff user (supervisors)")
def get_staff(staff_id: str, session: DbSession, actor: allow(SUPERVISORS)) -> StaffOut:
    return StaffOut.of(access.get_user(session, staff_id))


@router.post("/staff/{staff_id}/away", response_model=StaffOut,
             summary="Mark a staff member away or back (supervisors, or the staff member themself)")
def set_away(staff_id: str, body: AwayIn, session: DbSession, actor: allow(ANYONE)) -> StaffOut:
    return StaffOut.of(access.set_away(session, actor, staff_id, body.away))


class PasswordIn(_In):
    password: str = Field(..., max_length=1024, description="the new password (the password rule applies)")


class SessionsEndedOut(_Out):
    type_: Literal["SessionsEnded"] = Field("SessionsEnded", alias="@type")
    staffId: str
    sessionsEnded: int = Field(..., description="how many open page sessions were ended")


@router.post("/staff/{staff_id}/deactivate", response_model=StaffOut,
             summary="Deactivate a staff user (admins): their sessions end and their tokens are refused at once")
def deactivate_staff(staff_id: str, session: DbSession, clock: SecurityClockDep, actor: allow(ADMINS)) -> StaffOut:
    return StaffOut.of(staff_accounts.set_active(session, clock, actor, staff_id, False))


@router.post("/staff/{staff_id}/activate", response_model=StaffOut, summary="Reactivate a staff user (admins)")
def activate_staff(staff_id: str, session: DbSession, clock: SecurityClockDep, actor: allow(ADMINS)) -> StaffOut:
    return StaffOut.of(staff_accounts.set_active(session, clock, actor, staff_id, True))


@router.post("/staff/{staff_id}/password", response_model=StaffOut,
             summary="Reset a staff user's password (admins); every session of theirs ends")
def reset_password(staff_id: str, body: PasswordIn, session: DbSession, clock: SecurityClockDep,
                   actor: allow(ADMINS)) -> StaffOut:
    return StaffOut.of(staff_accounts.reset_password(session, clock, actor, staff_id, body.password))


@router.post("/staff/{staff_id}/end-sessions", response_model=SessionsEndedOut,
             summary="Sign a staff user out everywhere: end all their page sessions (admins)")
def end_sessions(staff_id: str, session: DbSession, clock: SecurityClockDep,
                 actor: allow(ADMINS)) -> SessionsEndedOut:
    return SessionsEndedOut(staffId=staff_id, sessionsEnded=staff_accounts.end_all_sessions(session, clock, actor,
                                                                                             staff_id))


# --- teams ---------------------------------------------------------------------------------

@router.post("/teams", status_code=201, response_model=TeamOut, summary="Create a team (admins)")
def create_team(body: TeamIn, response: Response, session: DbSession, clock: ClockDep,
                actor: allow(ADMINS)) -> TeamOut:
    team = access.create_team(session, clock, name=body.name, kind=body.kind, lead_id=body.leadId)
    created(response, f"{V1}/teams/{team.id}")
    return TeamOut.of(team)


@router.get("/teams", response_model=list[TeamOut], summary="List teams (supervisors)")
def list_teams(response: Response, session: DbSession, actor: allow(SUPERVISORS)) -> list[TeamOut]:
    teams = access.list_teams(session)
    return _counted(response, [TeamOut.of(t) for t in teams], len(teams))


@router.get("/teams/{team_id}", response_model=TeamOut, summary="Retrieve a team (supervisors)")
def get_team(team_id: str, session: DbSession, actor: allow(SUPERVISORS)) -> TeamOut:
    return TeamOut.of(access.get_team(session, team_id))


# --- tokens --------------------------------------------------------------------------------

@router.post("/tokens", status_code=201, response_model=NewTokenOut,
             summary="Create a bearer token (admins); the token is in this answer only")
def create_token(body: TokenIn, response: Response, session: DbSession, clock: SecurityClockDep,
                 actor: allow(ADMINS)) -> NewTokenOut:
    row, secret = access.create_token(session, clock, name=body.name, role=body.role, expires_in=body.expiresIn,
                                      creator=actor)
    created(response, f"{V1}/tokens/{row.id}")
    response.headers["Cache-Control"] = "no-store"
    return NewTokenOut(**TokenOut.of(row, clock.now()).model_dump(), token=secret)


@router.post("/staff/me/tokens", status_code=201, response_model=NewTokenOut,
             summary="A token of your own, acting as you (any signed-in person); the token is in this answer only")
def create_own_token(body: OwnTokenIn, response: Response, session: DbSession, clock: SecurityClockDep,
                     actor: allow(ANYONE)) -> NewTokenOut:
    row, secret = access.create_own_token(session, clock, actor, name=body.name, expires_in=body.expiresIn)
    created(response, f"{V1}/tokens/{row.id}")
    response.headers["Cache-Control"] = "no-store"
    return NewTokenOut(**TokenOut.of(row, clock.now()).model_dump(), token=secret)


@router.get("/tokens", response_model=list[TokenOut], summary="List tokens, never their secret (admins)")
def list_tokens(response: Response, session: DbSession, clock: SecurityClockDep,
                actor: allow(ADMINS)) -> list[TokenOut]:
    now = clock.now()
    rows = access.list_tokens(session)
    return _counted(response, [TokenOut.of(t, now) for t in rows], len(rows))


@router.get("/tokens/{token_id}", response_model=TokenOut, summary="Retrieve a token, never its secret (admins)")
def get_token(token_id: str, session: DbSession, clock: SecurityClockDep, actor: allow(ADMINS)) -> TokenOut:
    return TokenOut.of(access.get_token(session, token_id), clock.now())


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut, summary="Revoke a token at once (admins)")
def revoke_token(token_id: str, session: DbSession, clock: SecurityClockDep, actor: allow(ADMINS)) -> TokenOut:
    return TokenOut.of(access.revoke_token(session, clock, token_id), clock.now())
