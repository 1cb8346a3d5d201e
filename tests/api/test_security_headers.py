"""Pages and API answers carry the security headers; no page runs inline script or style; the
Swagger UI is off in production; sign-in and sign-out refuse posts from another site (issue 19)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.web import portal as portal_pages
from tests.support.pages_login import PASSWORD, make_user, sign_in

TEMPLATES = Path(portal_pages.__file__).parent / "templates"
EVIL = {"Origin": "http://evil.example:8001", "Sec-Fetch-Site": "cross-site"}


def test_every_page_refuses_framing_and_inline_code_and_is_not_cached(client, uow, clock):
    make_user(uow, clock)
    pages = [client.get("/login"), client.get("/portal/login")]
    sign_in(client)
    pages += [client.get("/"), client.get("/store"), client.get("/supervisor", headers={"Accept": "text/html"})]
    for page in pages:
        assert page.status_code in (200, 403) and page.headers["content-type"].startswith("text/html"), page.url
        assert page.headers["x-frame-options"] == "DENY"
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text and "<style" not in page.text and "style=" not in page.text


def test_no_template_holds_inline_script_or_style():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert "<style" not in text and "style=" not in text, path
        assert not re.search(r"\son[a-z]+=", text), path  # no onclick= and friends either


def test_api_answers_are_not_sniffed_or_cached(client, admin):
    for r in (client.get("/api/v1/staff", headers=admin), client.get("/api/v1/staff"),
              client.get("/tmf-api/customer/v5/customer", headers=admin)):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
    static = client.get("/static/onethread.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert static.headers.get("cache-control") != "no-store"  # a style sheet holds nothing personal


def test_the_swagger_ui_is_off_in_production_and_the_openapi_document_stays(database_url, clock):
    secret = "a-long-random-production-secret-for-this-test-only-3f9c1e"
    container = build(Settings(database_url=database_url, env="production", secret_key=secret), clock=clock)
    try:
        with TestClient(create_app(container=container)) as prod:
            assert prod.get("/docs").status_code == 404
            assert prod.get("/redoc").status_code == 404
            assert prod.get("/openapi.json").status_code == 200
    finally:
        container.dispose()


def test_the_development_swagger_ui_gets_its_own_narrow_policy(client):
    r = client.get("/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "https://cdn.jsdelivr.net" in csp


def test_staff_sign_in_and_sign_out_from_another_site_are_refused_readably(client, uow, clock):
    make_user(uow, clock)
    r = client.post("/login", data={"username": "ann.agent", "password": PASSWORD}, headers=EVIL,
                    follow_redirects=False)
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]
    assert "another site" in r.text and "set-cookie" not in r.headers
    r = client.post("/login", data={"username": "ann.agent", "password": PASSWORD},
                    headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert r.status_code == 303  # the site's own form still signs in
    out = client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert out.status_code == 403 and "another site" in out.text and "set-cookie" not in out.headers
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in
    assert client.post("/logout", headers={"Sec-Fetch-Site": "same-origin"},
                       follow_redirects=False).status_code == 303


def test_portal_sign_out_from_another_site_is_refused(client):
    r = client.post("/portal/logout", headers=EVIL, follow_redirects=False)
    assert r.status_code == 403 and "another site" in r.text and "set-cookie" not in r.headers
    assert client.post("/portal/logout", follow_redirects=False).status_code == 303
