"""Staff sign-in and what an administrator does to a staff account: deactivate and reactivate,
reset the password, end every session. Each takes effect at once: the person's page sessions
end and their tokens are refused (a token issued to a deactivated person answers 401)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onethread.access import signin
from onethread.access.passwords import hash_password
from onethread.access.rules import PUBLIC_DEMO_PASSWORD, Principal, password_problems
from onethread.access.service import audit, authenticate, get_user
from onethread.errors import Conflict, NotAuthenticated, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import StaffUser

DEMO_REFUSED = ("the public demo password is refused in production mode: an administrator sets a new one "
                "(`onethread user reset-password USERNAME`)")


def sign_in(session: Session, clock: Clock, throttle: signin.Throttle, *, username: str, password: str,
            address: str | None, production: bool) -> StaffUser:
    """The staff member for this username and password. Refused before the password is checked
    while the account or the address is throttled; every wrong password counts."""
    account = (username or "").strip().lower()
    signin.check_throttle(session, clock, throttle, scope=signin.STAFF, account=account, address=address)
    if production and password == PUBLIC_DEMO_PASSWORD:
        raise NotAuthenticated(DEMO_REFUSED)
    try:
        user = authenticate(session, username, password)
    except NotAuthenticated:
        signin.record_failure(session, clock, throttle, scope=signin.STAFF, account=account, address=address)
        raise
    signin.clear_failures(session, scope=signin.STAFF, account=account)
    return user


def _audit(session: Session, clock: Clock, actor: Principal, user: StaffUser, what: str, **detail) -> None:
    audit(session, clock, actor, action="update", resource_type="staff_user", resource_id=user.id, customer_id=None,
          detail={"change": what, "username": user.username, **detail})


def set_active(session: Session, clock: Clock, actor: Principal, user_id: str, active: bool) -> StaffUser:
    """Deactivate (or reactivate) a staff member. Deactivating ends their sessions at once; their
    tokens are refused while they are inactive. Nobody deactivates themself."""
    user = get_user(session, user_id)
    if not active and actor.kind == "staff" and actor.id == user.id:
        raise Conflict("you cannot deactivate yourself: ask another administrator")
    if user.active != active:
        user.active = active
        ended = 0 if active else signin.end_sessions(session, clock, kind=signin.STAFF, subject_id=user.id,
                                                     why="deactivated")
        _audit(session, clock, actor, user, "activated" if active else "deactivated", sessionsEnded=ended)
    return user


def reset_password(session: Session, clock: Clock, actor: Principal, user_id: str, password: str) -> StaffUser:
    """Set a new password (the person's rule applies) and end every session of theirs."""
    user = get_user(session, user_id)
    problems = password_problems(password or "", user.username, user.email)
    if problems:
        raise ValidationFailed("password " + "; ".join(problems), field="password")
    user.password_hash = hash_password(password)
    ended = signin.end_sessions(session, clock, kind=signin.STAFF, subject_id=user.id, why="password")
    signin.clear_failures(session, scope=signin.STAFF, account=user.username)
    _audit(session, clock, actor, user, "password reset", sessionsEnded=ended)
    return user


def end_all_sessions(session: Session, clock: Clock, actor: Principal, user_id: str) -> int:
    """Sign a staff member out everywhere (their page sessions; revoke tokens separately)."""
    user = get_user(session, user_id)
    ended = signin.end_sessions(session, clock, kind=signin.STAFF, subject_id=user.id, why="ended_by_admin")
    _audit(session, clock, actor, user, "sessions ended", sessionsEnded=ended)
    return ended
