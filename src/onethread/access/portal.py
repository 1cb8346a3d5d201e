"""Portal sign-ins: an account per person (party), argon2-hashed passwords, and the portal's own
signed cookie. What a signed-in person may see is decided by ``customers.portal`` from who the
party is (their own customer record, the customers they represent), never stored here."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access import signin
from onethread.access.passwords import hash_password, verify_password
from onethread.access.rules import PUBLIC_DEMO_PASSWORD, SYSTEM, Principal, password_problems
from onethread.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Customer, Party, PortalAccount

LOGIN_MAX = 200  # portal_account.login
# One '@', something before it, a dotted domain after it, no spaces: enough to catch typing
# mistakes; whether the address works is the operator's business when it sends to it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_login(login: str) -> str:
    return (login or "").strip().lower()


def _audit(session: Session, clock: Clock, actor: Principal, account: PortalAccount, action: str,
           detail: dict) -> None:
    customer_id = session.scalar(select(Customer.id).where(Customer.party_id == account.party_id)
                                 .order_by(Customer.created_at, Customer.id).limit(1))
    access.audit(session, clock, actor, action=action, resource_type="portal_account", resource_id=account.id,
                 customer_id=customer_id, detail={"partyId": account.party_id, **detail})


def create_account(session: Session, clock: Clock, *, party_id: str, login: str, password: str,
                   actor: Principal = SYSTEM) -> PortalAccount:
    """A portal sign-in for a person; one per person, one person per login (audited)."""
    login = normalise_login(login)
    if not _EMAIL.match(login):
        raise ValidationFailed("the login is an e-mail address (name@example.com)", field="login")
    if len(login) > LOGIN_MAX:
        raise ValidationFailed(f"the login is longer than {LOGIN_MAX} characters", field="login")
    problems = password_problems(password or "", login)
    if problems:
        raise ValidationFailed("password " + "; ".join(problems), field="password")
    if session.get(Party, party_id) is None:
        raise NotFound(f"no party {party_id}", field="partyId")
    if session.scalar(select(PortalAccount.id).where(PortalAccount.party_id == party_id)):
        raise Conflict("this person already has a portal account", field="partyId")
    if session.scalar(select(PortalAccount.id).where(PortalAccount.login == login)):
        raise Conflict(f"the login {login!r} is taken", field="login")
    account = PortalAccount(party_id=party_id, login=login, password_hash=hash_password(password),
                            active=True, created_at=clock.now())
    session.add(account)
    session.flush()
    _audit(session, clock, actor, account, "create", {"login": login})
    return account


def authenticate(session: Session, clock: Clock, login: str, password: str, *,
                 throttle: signin.Throttle | None = None, address: str | None = None, production: bool = False,
                 security_clock: Clock | None = None) -> PortalAccount:
    """The account for this login and password; the same answer for a wrong login or password.
    With ``throttle``: refused before the password is checked while the login or the address has
    failed too often, and every failure counts (``access.signin``)."""
    login = normalise_login(login)
    guard = security_clock or clock
    if throttle is not None:
        signin.check_throttle(session, guard, throttle, scope=signin.PORTAL, account=login, address=address)
    if production and password == PUBLIC_DEMO_PASSWORD:
        raise NotAuthenticated("the public demo password is refused in production mode: the operator sets a "
                               "new one for this account")
    account = session.scalar(select(PortalAccount).where(PortalAccount.login == login))
    ok = verify_password(account.password_hash if account else None, password or "")
    if not ok or account is None or not account.active:
        if throttle is not None:
            signin.record_failure(session, guard, throttle, scope=signin.PORTAL, account=login, address=address)
        raise NotAuthenticated("wrong e-mail address or password")
    if throttle is not None:
        signin.clear_failures(session, scope=signin.PORTAL, account=login)
    account.last_login_at = clock.now()
    return account


def active_account(session: Session, account_id: str) -> PortalAccount | None:
    account = session.get(PortalAccount, account_id)
    return account if account is not None and account.active else None


def get_account(session: Session, account_id: str) -> PortalAccount:
    account = session.get(PortalAccount, account_id)
    if account is None:
        raise NotFound(f"no portal account {account_id}")
    return account


def set_active(session: Session, clock: Clock, account_id: str, active: bool,
               actor: Principal = SYSTEM) -> PortalAccount:
    """Close (or reopen) a sign-in; a closed account's cookie stops working at once (audited)."""
    account = get_account(session, account_id)
    if account.active != active:
        account.active = active
        ended = 0 if active else signin.end_sessions(session, clock, kind=signin.PORTAL, subject_id=account.id,
                                                     why="deactivated")
        _audit(session, clock, actor, account, "update", {"active": active, "sessionsEnded": ended})
    return account
