"""Deny by default: every route names who may call it, and unauthenticated callers get 401.

A route passes when an ``Authorize`` guard is somewhere in its dependency tree (usually through
``actor: allow(ROLES)``), or when it is marked ``Public`` on purpose. Anything else is listed.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import APIRouter, Depends, FastAPI

from onethread.access import service as access
from onethread.access.rules import ADMINS
from onethread.api.deps import allow
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db.session import session_scope
from tests.support.routes import classify
from tests.tmf_schema import assert_tmf_error

# Routes marked Public on purpose, and why. A new public route must be added here.
PUBLIC_ROUTES = {
    ("GET", "/healthz"): "liveness probe for load balancers; says nothing but 'ok' and the version",
    ("GET", "/readyz"): "readiness probe for load balancers: channel names and states only, no errors or data",
    ("POST", "/api/v1/channels/sms/receipts"): "the SMS provider's delivery receipts, authenticated by HMAC",
    ("GET", "/"): "the start page checks the session cookie itself and redirects strangers to /login",
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "signing in",
    ("POST", "/logout"): "signing out only clears the caller's own cookie",
    ("POST", "/api/v1/channels/social/{platform}"): "a platform webhook, authenticated by its HMAC signature",
    ("GET", "/portal/login"): "the customer portal's sign-in form",
    ("POST", "/portal/login"): "signing in to the customer portal",
    ("POST", "/portal/logout"): "signing out of the portal only clears the caller's own portal cookie",
    ("GET", "/tmf-api/schema/{file_name}"): "the JSON Schema a TMF sub-class's @schemaLocation points at; no data",
}


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory):
    """The app without touching a database: the walk needs only the routes."""
    path = tmp_path_factory.mktemp("deny") / "routes.db"
    container = build(Settings(database_url=f"sqlite:///{path}", env="test"), check_schema=False)
    yield create_app(container=container)
    container.dispose()


def test_every_route_is_guarded_or_explicitly_public(bare_app):
    guarded, public, offenders = classify(bare_app)
    assert not offenders, "routes without an Authorize guard or the Public marker:\n" + "\n".join(offenders)
    assert len(guarded) > 20
    # Public is the exception: every public route is on the reviewed list below, with its reason.
    unexpected = sorted(set(public) - set(PUBLIC_ROUTES))
    assert not unexpected, f"public routes nobody reviewed (add them to PUBLIC_ROUTES with a reason): {unexpected}"
    assert {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login")} <= set(public)


def test_the_walk_catches_an_unguarded_route():
    app = FastAPI()
    router = APIRouter(prefix="/x")

    @router.get("/open")
    def open_route() -> dict:
        return {}

    @router.get("/guarded")
    def guarded_route(actor: allow(ADMINS)) -> dict:
        return {}

    def nested(actor: allow(ADMINS)) -> None:
        return None

    @router.get("/nested", dependencies=[Depends(nested)])
    def nested_route() -> dict:
        return {}

    app.include_router(router)
    guarded, _, offenders = classify(app)
    assert offenders == ["GET /x/open (tests.api.test_deny_by_default.open_route)"]
    assert sorted(guarded) == [("GET", "/x/guarded"), ("GET", "/x/nested")]


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "NOPE", path)


def test_every_guarded_route_answers_401_without_credentials(bare_app, client):
    guarded, _, _ = classify(bare_app)
    for method, path in guarded:
        r = client.request(method, _fill(path), json={} if method in ("POST", "PUT", "PATCH") else None)
        body = assert_tmf_error(r, 401)
        assert r.headers["WWW-Authenticate"] == "Bearer", (method, path)
        assert body["code"] == "NOT_AUTHENTICATED"


def test_every_guarded_route_answers_401_for_a_wrong_scheme_or_unknown_token(bare_app, client):
    guarded, _, _ = classify(bare_app)
    for headers in ({"Authorization": "Basic YWRtaW46YWRtaW4="}, {"Authorization": "Bearer ot_not-a-token"},
                    {"Authorization": "Bearer"}):
        for method, path in guarded:
            r = client.request(method, _fill(path), headers=headers)
            assert_tmf_error(r, 401)


def test_a_forged_session_cookie_is_not_a_sign_in(client):
    client.cookies.set("onethread_session", "eyJ1aWQiOiJBRE1JTiJ9.forged.signature")
    assert_tmf_error(client.get("/api/v1/staff/me"), 401)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_an_expired_token_gets_401(client, container, clock):
    with session_scope(container.sessions) as s:
        _, secret = access.create_token(s, clock, name="short", role="admin", expires_in=timedelta(days=30))
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/staff/me", headers=bearer).status_code == 200
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert client.get("/api/v1/staff/me", headers=bearer).status_code == 200
    clock.advance(timedelta(seconds=1))
    r = client.get("/api/v1/staff/me", headers=bearer)
    body = assert_tmf_error(r, 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert "expired" in body["message"]


def test_a_revoked_token_gets_401(client, container, clock):
    with session_scope(container.sessions) as s:
        row, secret = access.create_token(s, clock, name="gone", role="admin")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/tmf-api/customer/v5/customer", headers=bearer).status_code == 200
    with session_scope(container.sessions) as s:
        access.revoke_token(s, clock, row.id)
    r = client.get("/tmf-api/customer/v5/customer", headers=bearer)
    assert_tmf_error(r, 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"
