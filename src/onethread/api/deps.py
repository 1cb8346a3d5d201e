"""Typed dependencies: the container, a request-scoped session, the caller, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onethread.access import service as access
from onethread.access import signin
from onethread.access.rules import Principal
from onethread.api.errors import BUSY_RETRY_AFTER
from onethread.bootstrap import Container
from onethread.db.gate import GateTimeout, WriteGate
from onethread.db.session import finish_read
from onethread.errors import DatabaseUnavailable, Forbidden, NotAuthenticated
from onethread.kernel.clock import Clock

SESSION_COOKIE = "onethread_session"


# The dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in
# the thread pool, and each such hop costs more CPU than the work inside it.

async def get_container(request: Request) -> Container:
    return request.app.state.container


def _commit(session: Session) -> None:
    try:
        finish_read(session) if session.info.get("reads") else session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed when the endpoint returns, rolled back on error.

    A GET (HEAD, OPTIONS) only reads: its session may write nothing but the read's own trail,
    which is written when the read is over (``db.session.finish_read``).

    Opening a session does no I/O (it takes a connection at its first statement), so it happens
    on the event loop; the commit (or rollback) and the close run in the thread pool, in one hop.

    On SQLite a request that changes data first takes the process's write gate (``db.gate``),
    waiting on the event loop, and gives it back after its commit; so does a read before it
    writes its trail. A request that does not get it within ``ONETHREAD_DB_WAIT_SECONDS`` is
    answered 503 with ``Retry-After``."""
    container = request.app.state.container
    reads = request.method in SAFE_METHODS
    gate = container.write_gate
    session = (container.read_sessions if reads else container.sessions)()
    held = False
    try:
        if gate is not None and not reads:
            try:
                await _take(gate, container.settings.db_wait_seconds)
            except DatabaseUnavailable:
                session.close()  # never used: no statement ran, no I/O
                raise
            held = True
        try:
            yield session
        except BaseException:
            await run_in_threadpool(_rollback, session)
            raise
        if gate is not None and reads and session.info.get("trail"):
            try:
                await _take(gate, container.settings.db_wait_seconds)
            except DatabaseUnavailable:
                await run_in_threadpool(_rollback, session)  # no answer without the read's trail
                raise
            held = True
        await run_in_threadpool(_commit, session)
    finally:
        if held:
            gate.release()


async def _take(gate: WriteGate, seconds: float) -> None:
    try:
        await gate.acquire(seconds)
    except GateTimeout:
        raise DatabaseUnavailable(f"the database is busy with other changes (waited {seconds:g} s); "
                                  "try again shortly", retry_after=BUSY_RETRY_AFTER) from None


async def get_clock(request: Request) -> Clock:
    return request.app.state.container.clock


async def get_security_clock(request: Request) -> Clock:
    return request.app.state.container.security_clock


ContainerDep = Annotated[Container, Depends(get_container)]
SecurityClockDep = Annotated[Clock, Depends(get_security_clock)]  # token expiry: real time in a sandbox
# scope="function": the commit happens when the endpoint returns and before the response is
# sent, so a commit that fails becomes an error response, never a 2xx for a lost write.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]


def current_principal(request: Request, session: DbSession, clock: ClockDep) -> Principal:
    """The caller, from a bearer token or a signed page-session cookie; 401 when neither."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("use 'Authorization: Bearer <token>'")
        return access.token_principal(session, request.app.state.container.security_clock, token.strip())
    principal = cookie_principal(request, session)
    if principal is None:
        raise NotAuthenticated("sign in, or send 'Authorization: Bearer <token>'")
    if request.method not in SAFE_METHODS and cross_site(request):
        raise Forbidden("a signed-in page session cannot be used from another site")
    return principal


def cross_site(request: Request) -> bool:
    """A cookie-authorised change coming from another origin (CSRF). Browsers say so in
    ``Sec-Fetch-Site`` and ``Origin``; a request without either is not from a browser page."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin and origin != "null":
        from urllib.parse import urlsplit

        return urlsplit(origin).netloc != request.headers.get("host", "")
    return origin == "null"


def cookie_principal(request: Request, session: Session) -> Principal | None:
    """The staff member signed in to the pages, if the cookie's server-side session is open and
    the user active (``access.signin``)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    container = request.app.state.container
    user = signin.staff_of_cookie(session, container.security_clock, cookie, container.secret_key)
    return access.staff_principal(user) if user else None


class Authorize:
    """Route guard: ``Depends(Authorize(roles))``. Every route declares one (or is public)."""

    def __init__(self, roles: frozenset[str]):
        self.roles = frozenset(roles)

    async def __call__(self, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.may(self.roles):
            raise Forbidden(f"a {principal.role} may not do this")
        return principal


def allow(roles: frozenset[str]):
    """``Annotated`` alias for a route's caller: ``actor: allow(CUSTOMER_READERS)``."""
    return Annotated[Principal, Depends(Authorize(roles))]


class Public:
    """Marks a route as deliberately open (health, login). Checked by the deny-by-default test."""

    async def __call__(self) -> None:
        return None


PUBLIC = Depends(Public())
