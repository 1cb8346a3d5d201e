"""Use cases for staff, teams, tokens and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from onethread.access.passwords import hash_password, verify_password
from onethread.access.rules import (
    STAFF_ROLES,
    TOKEN_ROLES,
    Principal,
    grant_refusal,
    may_set_away,
    password_problems,
)
from onethread.db.session import record_trail
from onethread.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.kernel.ids import new_id
from onethread.models import ApiToken, AuditEntry, StaffUser, Team

TOKEN_PREFIX = "ot_"

# A token's last use is written at most this often: a busy integration token does not cost a
# write per request, and the token list still shows when it was last used (to the minute).
LAST_USE_GRANULARITY = timedelta(minutes=1)


def _within(value: str | None, limit: int, field: str) -> None:
    """Column widths, checked here so both databases refuse the same input the same way."""
    if value is not None and len(value) > limit:
        raise ValidationFailed(f"{field} is longer than {limit} characters", field=field)


def create_team(session: Session, clock: Clock, *, name: str, kind: str = "contact_centre",
                lead_id: str | None = None) -> Team:
    name = name.strip()
    kind = (kind or "").strip()
    if not name:
        raise ValidationFailed("team name is required", field="name")
    if not kind:
        raise ValidationFailed("team kind is required", field="kind")
    _within(name, 120, "name")
    _within(kind, 30, "kind")
    if lead_id is not None and session.get(StaffUser, lead_id) is None:
        raise NotFound(f"no staff user {lead_id}", field="lead_id")
    if session.scalar(select(Team).where(Team.name == name)):
        raise Conflict(f"a team named {name!r} already exists", field="name")
    team = Team(name=name, kind=kind, lead_id=lead_id, created_at=clock.now())
    session.add(team)
    session.flush()
    return team


def get_team(session: Session, team_id: str) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    return team


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name, Team.id)))


def set_team_lead(session: Session, team_id: str, lead_id: str) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    if session.get(StaffUser, lead_id) is None:
        raise NotFound(f"no staff user {lead_id}")
    team.lead_id = lead_id
    return team


def create_user(
    session: Session,
    clock: Clock,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str | None,
    email: str | None = None,
    team_id: str | None = None,
) -> StaffUser:
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum() \
            or not username.isascii():
        raise ValidationFailed("username: letters, digits, '.', '-' and '_' only", field="username")
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"unknown role {role!r}; one of: {', '.join(sorted(STAFF_ROLES))}", field="role")
    if not display_name.strip():
        raise ValidationFailed("display name is required", field="display_name")
    _within(username, 80, "username")
    _within(display_name.strip(), 120, "display_name")
    _within(email, 200, "email")
    if password is not None:
        problems = password_problems(password, username, email)
        if problems:
            raise ValidationFailed("password " + "; ".join(problems), field="password")
    if team_id is not None and session.get(Team, team_id) is None:
        raise NotFound(f"no team {team_id}", field="team_id")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise Conflict(f"username {username!r} is taken", field="username")
    user = StaffUser(
        username=username,
        display_name=display_name.strip(),
        email=email,
        role=role,
        team_id=team_id,
        password_hash=hash_password(password) if password else None,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        raise NotAuthenticated("wrong username or password")
    return user


def get_user(session: Session, user_id: str) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"no staff user {user_id}")
    return user


def user_by_username(session: Session, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == (username or "").strip().lower()))
    if user is None:
        raise NotFound(f"no staff user {username!r}")
    return user


def list_staff(session: Session, *, offset: int = 0, limit: int = 100, role: str | None = None,
               team_id: str | None = None) -> tuple[list[StaffUser], int]:
    query = select(StaffUser)
    if role is not None:
        query = query.where(StaffUser.role == role)
    if team_id is not None:
        query = query.where(StaffUser.team_id == team_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(StaffUser.username, StaffUser.id).offset(offset).limit(limit))
    return list(rows), total


def set_away(session: Session, actor: Principal, user_id: str, away: bool) -> StaffUser:
    """Mark a staff member away (or back): supervisors for anyone, staff for themselves."""
    user = get_user(session, user_id)
    if not may_set_away(actor, user.id):
        raise Forbidden("only a supervisor may mark someone else away")
    user.away = away
    return user


def user_of(session: Session, principal: Principal) -> StaffUser | None:
    """The staff record behind a principal (page sessions; tokens issued to a staff member)."""
    if principal.kind == "staff":
        return session.get(StaffUser, principal.id)
    if principal.kind == "token":
        row = session.get(ApiToken, principal.id)
        if row is not None and row.staff_user_id:
            return session.get(StaffUser, row.staff_user_id)
    return None


def staff_principal(user: StaffUser) -> Principal:
    return Principal(kind="staff", id=user.id, name=user.display_name, role=user.role, team_id=user.team_id,
                     time_zone=user.time_zone)


def active_user(session: Session, user_id: str) -> StaffUser | None:
    user = session.get(StaffUser, user_id)
    return user if user is not None and user.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    clock: Clock,
    *,
    name: str,
    role: str,
    expires_in: timedelta | None = None,
    staff_user_id: str | None = None,
    creator: Principal | None = None,
) -> tuple[ApiToken, str]:
    """Create a bearer token; returns the row and the token text (shown once, stored hashed).

    ``creator`` (an API caller) may not mint a role ranking above their own. A token issued to a
    person (``staff_user_id``) acts as that person with their current role, whatever ``role`` says."""
    if not name.strip():
        raise ValidationFailed("token name is required", field="name")
    _within(name.strip(), 120, "name")
    if role not in TOKEN_ROLES:
        raise ValidationFailed(f"unknown role {role!r}; one of: {', '.join(sorted(TOKEN_ROLES))}", field="role")
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValidationFailed("expiry must be in the future", field="expires")
    refusal = grant_refusal(creator.role, role) if creator is not None else None
    if refusal:
        raise Forbidden(refusal)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(
        name=name.strip(),
        role=role,
        token_hash=_digest(secret),
        prefix=secret[:10],
        staff_user_id=staff_user_id,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    session.add(row)
    session.flush()
    return row, secret


def create_own_token(session: Session, clock: Clock, actor: Principal, *, name: str,
                     expires_in: timedelta | None = None) -> tuple[ApiToken, str]:
    """A bearer token issued to the caller themself: it acts as them (a named person), with their
    current role, and dies with their account. Only a person may have one; never for someone else."""
    user = user_of(session, actor) if actor.kind == "staff" else None
    if user is None or not user.active:
        raise Forbidden("only a signed-in person (or a token issued to one) may get a token of their own")
    return create_token(session, clock, name=name, role=user.role, expires_in=expires_in, staff_user_id=user.id)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def get_token(session: Session, token_id: str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    return row


def revoke_token(session: Session, clock: Clock, token_id: str) -> ApiToken:
    row = get_token(session, token_id)
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    return row


# Built once with bound parameters: the token check runs on every API request, and building a
# SELECT costs more Python than running it. The person a token was issued to comes in the same
# statement.
_TOKEN = ApiToken.__table__
_USER = StaffUser.__table__
_SELECT_TOKEN = (
    select(_TOKEN.c.id, _TOKEN.c.name, _TOKEN.c.role, _TOKEN.c.revoked_at, _TOKEN.c.expires_at,
           _TOKEN.c.last_used_at, _TOKEN.c.staff_user_id, _USER.c.display_name, _USER.c.role.label("user_role"),
           _USER.c.team_id, _USER.c.active)
    .select_from(_TOKEN.outerjoin(_USER, _USER.c.id == _TOKEN.c.staff_user_id))
    .where(_TOKEN.c.token_hash == bindparam("token_hash"))
)
# The stamp skips a row another request is stamping at that moment (PostgreSQL: SKIP LOCKED; SQLite
# has one writer at a time anyway). Waiting for it would hold this request's thread while the
# other request, holding the row lock until its commit, may wait for a thread: a burst of
# requests of one token at the turn of the minute stalled the server for good.
_STAMP_TOKEN = update(_TOKEN).where(_TOKEN.c.id == (
    select(_TOKEN.c.id).where(_TOKEN.c.id == bindparam("token_id")).with_for_update(skip_locked=True)
    .scalar_subquery())).values(last_used_at=bindparam("at"))


def token_principal(session: Session, clock: Clock, token: str) -> Principal:
    row = session.execute(_SELECT_TOKEN, {"token_hash": _digest(token)}).first()
    now = clock.now()
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("unknown or revoked API token")
    if row.expires_at is not None and row.expires_at <= now:
        raise NotAuthenticated("API token expired")
    if row.staff_user_id and not row.active:
        raise NotAuthenticated("the staff member this token was issued to is no longer active")
    # Validity is checked on every request above (a revocation applies at once); only the
    # last-use stamp is coarse: written at most once a minute.
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_GRANULARITY:
        record_trail(session, _STAMP_TOKEN, {"token_id": row.id, "at": now})
    if row.staff_user_id:
        # A token issued to a person acts as that person (owner, hand-over receiver, the name on
        # the timeline), with that person's current role; it dies with their account.
        return Principal(kind="staff", id=row.staff_user_id, name=row.display_name, role=row.user_role,
                         team_id=row.team_id)
    return Principal(kind="token", id=row.id, name=row.name, role=row.role)


_INSERT_AUDIT = insert(AuditEntry.__table__)  # built once: an audit row is written on every read


def audit(
    session: Session,
    clock: Clock,
    principal: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None,
    customer_id: str | None,
    channel: str | None = None,
    purpose: str | None = None,
    detail: dict | None = None,
) -> str:
    """Record who read or changed which personal data; returns the entry's id.

    One prebuilt Core ``INSERT`` (reads of personal data write a row each, and nothing reads the
    row back in the same request, so it needs no ORM object): in the caller's transaction after
    its pending changes, or, in a read's session, when the read is over (``record_trail``)."""
    entry_id = new_id()
    record_trail(session, _INSERT_AUDIT, {
        "id": entry_id,
        "at": clock.now(),
        "actor_type": principal.kind,
        "actor_id": principal.id,
        "actor_name": principal.name,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "customer_id": customer_id,
        "channel": channel,
        "purpose": purpose,
        "detail": detail or {},
    })
    return entry_id


def audit_list(session: Session, clock: Clock, principal: Principal, shown: list[tuple[str, str, str | None]], *,
               channel: str | None = None, purpose: str = "list") -> None:
    """A list of personal records was read: one audit row per record shown, ``(resource_type,
    resource_id, customer_id)``, written together in one statement."""
    if not shown:
        return
    now = clock.now()
    record_trail(session, _INSERT_AUDIT, [{
        "id": new_id(), "at": now, "actor_type": principal.kind, "actor_id": principal.id,
        "actor_name": principal.name, "action": "read", "resource_type": kind, "resource_id": resource_id,
        "customer_id": customer_id, "channel": channel, "purpose": purpose, "detail": {},
    } for kind, resource_id, customer_id in shown])


def audit_for_customer(
    session: Session, customer_id: str, *, offset: int = 0, limit: int = 100, since: datetime | None = None
) -> tuple[list[AuditEntry], int]:
    base = select(AuditEntry).where(AuditEntry.customer_id == customer_id)
    if since is not None:
        base = base.where(AuditEntry.at >= since)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.scalars(base.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit))
    return list(rows), total
