"""Signing in: server-side sessions, throttling of wrong passwords, the instance's own secret.

- A **session** is a row (``sign_in_session``); the browser's cookie carries a random key, signed,
  whose SHA-256 finds the row. Logging out, deactivating someone, resetting their password or an
  administrator's "end all sessions" end the rows, and the cookie stops working at once.
- **Throttling**: failed sign-ins are counted per account and per client address over a window;
  past the limit the sign-in is refused before the password is even checked (no argon2 work),
  with the time it opens again, until enough failures are older than the window.
- **The secret** that signs cookies is generated on first run and kept in the database
  (``instance_secret``) unless ``ONETHREAD_SECRET_KEY`` is given: never a string in the code.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onethread.errors import NotAuthenticated
from onethread.kernel.clock import Clock
from onethread.models import InstanceSecret, SignInFailure, SignInSession, StaffUser

STAFF = "staff"
PORTAL = "portal"
SESSION_KEY_SECRET = "session_key"
_SALTS = {STAFF: "onethread.staff-session.v2", PORTAL: "onethread.portal-session.v2"}


class TooManySignIns(NotAuthenticated):
    """Refused before the password is checked: too many recent failures (429)."""

    http_status = 429
    code = "TOO_MANY_REQUESTS"
    reason = "Too many failed sign-ins"


@dataclass(frozen=True)
class Throttle:
    account_limit: int  # failures per account within the window
    address_limit: int  # failures from one client address within the window
    window: timedelta


def throttle_of(settings) -> Throttle:
    """The limits from the settings (``ONETHREAD_SIGN_IN_*``)."""
    return Throttle(settings.sign_in_max_failures, settings.sign_in_address_max_failures,
                    timedelta(minutes=settings.sign_in_window_minutes))


# --- the instance's secret ----------------------------------------------------------------------

def instance_secret(session: Session, clock: Clock, name: str = SESSION_KEY_SECRET) -> str:
    """The secret called ``name``, generated (64 random URL-safe characters) and stored the first
    time it is asked for. Two processes starting at once: the second reads the first's."""
    value = session.scalar(select(InstanceSecret.value).where(InstanceSecret.name == name))
    if value:
        return value
    value = secrets.token_urlsafe(48)
    try:
        with session.begin_nested():
            session.execute(insert(InstanceSecret).values(name=name, value=value, created_at=clock.now()))
    except IntegrityError:
        value = session.scalar(select(InstanceSecret.value).where(InstanceSecret.name == name))
    return value


# --- sessions -----------------------------------------------------------------------------------

def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(session: Session, clock: Clock, *, kind: str, subject_id: str, max_age: timedelta,
                 secret: str) -> str:
    """Record a new signed-in browser for ``subject_id``; returns the cookie value."""
    key = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(SignInSession(key_hash=_digest(key), kind=kind, subject_id=subject_id, created_at=now,
                              expires_at=now + max_age))
    session.flush()
    return URLSafeSerializer(secret, salt=_SALTS[kind]).dumps(key)


def _key(cookie: str | None, kind: str, secret: str) -> str | None:
    if not cookie:
        return None
    try:
        key = URLSafeSerializer(secret, salt=_SALTS[kind]).loads(cookie)
    except BadSignature:
        return None
    return key if isinstance(key, str) else None


def session_subject(session: Session, clock: Clock, cookie: str | None, *, kind: str, secret: str) -> str | None:
    """The staff user's or portal account's id behind a cookie, while its session is open."""
    key = _key(cookie, kind, secret)
    if key is None:
        return None
    return session.scalar(select(SignInSession.subject_id).where(
        SignInSession.key_hash == _digest(key), SignInSession.kind == kind, SignInSession.ended_at.is_(None),
        SignInSession.expires_at > clock.now()))


def staff_of_cookie(session: Session, clock: Clock, cookie: str | None, secret: str) -> StaffUser | None:
    """The active staff member signed in with this cookie (one statement: session and user)."""
    key = _key(cookie, STAFF, secret)
    if key is None:
        return None
    return session.scalar(select(StaffUser).join(SignInSession, SignInSession.subject_id == StaffUser.id).where(
        SignInSession.key_hash == _digest(key), SignInSession.kind == STAFF, SignInSession.ended_at.is_(None),
        SignInSession.expires_at > clock.now(), StaffUser.active.is_(True)))


def end_session(session: Session, clock: Clock, cookie: str | None, *, kind: str, secret: str) -> None:
    """Logout: the session behind this cookie ends now (nothing to do for a bad cookie)."""
    key = _key(cookie, kind, secret)
    if key is not None:
        session.execute(update(SignInSession).where(
            SignInSession.key_hash == _digest(key), SignInSession.kind == kind, SignInSession.ended_at.is_(None))
            .values(ended_at=clock.now(), ended_why="logout"))


def end_sessions(session: Session, clock: Clock, *, kind: str, subject_id: str, why: str) -> int:
    """End every session of one person not ended yet; returns how many (one past its age counts:
    ending it costs nothing, and the command line's clock need not be the server's)."""
    result = session.execute(update(SignInSession).where(
        SignInSession.kind == kind, SignInSession.subject_id == subject_id, SignInSession.ended_at.is_(None))
        .values(ended_at=clock.now(), ended_why=why))
    return result.rowcount or 0


# --- throttling ---------------------------------------------------------------------------------

def _reopens_at(session: Session, scope: str, key_kind: str, key: str, since: datetime, limit: int,
                window: timedelta) -> datetime | None:
    """When this key may try again, if it has ``limit`` failures or more since ``since``."""
    ats = list(session.scalars(select(SignInFailure.at).where(
        SignInFailure.scope == scope, SignInFailure.key_kind == key_kind, SignInFailure.key == key,
        SignInFailure.at > since).order_by(SignInFailure.at.desc()).limit(limit)))
    return ats[-1] + window if len(ats) >= limit else None


def check_throttle(session: Session, clock: Clock, throttle: Throttle, *, scope: str, account: str,
                   address: str | None) -> None:
    """``TooManySignIns`` (with when to try again) when this account or address failed too often."""
    now = clock.now()
    since = now - throttle.window
    until = _reopens_at(session, scope, "account", account[:200], since, throttle.account_limit, throttle.window)
    whose = "this account"
    if until is None and address:
        until = _reopens_at(session, scope, "address", address[:200], since, throttle.address_limit,
                            throttle.window)
        whose = "your address"
    if until is not None:
        minutes = max(1, -(-int((until - now).total_seconds()) // 60))
        raise TooManySignIns(f"too many failed sign-ins for {whose}: try again in {minutes} minute"
                             f"{'s' if minutes != 1 else ''} (at {until:%H:%M} UTC), or ask an administrator to "
                             "reset the password", details={"retryAfterSeconds": int((until - now).total_seconds())})


def record_failure(session: Session, clock: Clock, throttle: Throttle, *, scope: str, account: str,
                   address: str | None) -> None:
    now = clock.now()
    keys = [("account", account[:200])] + ([("address", address[:200])] if address else [])
    for key_kind, key in keys:
        session.execute(delete(SignInFailure).where(  # what is older than the window counts no more
            SignInFailure.scope == scope, SignInFailure.key_kind == key_kind, SignInFailure.key == key,
            SignInFailure.at <= now - throttle.window))
        session.add(SignInFailure(scope=scope, key_kind=key_kind, key=key, at=now))
    session.flush()


def clear_failures(session: Session, *, scope: str, account: str) -> None:
    """A right password: the account's count starts again (the address's does not)."""
    session.execute(delete(SignInFailure).where(SignInFailure.scope == scope, SignInFailure.key_kind == "account",
                                                SignInFailure.key == account[:200]))
