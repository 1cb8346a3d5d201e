"""Page routes: sign-in and the start page here; the agent desktop, store, supervisor and portal
pages in their own modules, mounted below."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from onethread import __version__
from onethread.access import signin, staff_accounts
from onethread.api.deps import PUBLIC, SESSION_COOKIE, ClockDep, DbSession, cookie_principal
from onethread.customers import service as customers
from onethread.errors import Forbidden, NotAuthenticated
from onethread.web import agent, approvals, defects, integrations, portal, store, supervisor
from onethread.web.common import PageForbidden, SignInRequired, render

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def local_path(value: str | None) -> str | None:
    """``next=`` after sign-in, only if it is a path on this site (never another host: an open
    redirect would let a link to our sign-in page send people elsewhere)."""
    raw = (value or "").strip()
    if not raw.startswith("/") or raw.startswith("//") or "\\" in raw or any(ord(ch) < 32 for ch in raw):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return None
    return raw


def mount_pages(app: FastAPI) -> None:
    router = APIRouter(include_in_schema=False)

    @router.get("/", dependencies=[PUBLIC], response_class=HTMLResponse)
    def home(request: Request, session: DbSession, clock: ClockDep):
        principal = cookie_principal(request, session)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        try:
            rows, total = customers.browse_customers(session, clock, principal, limit=50)
        except Forbidden:
            rows, total = [], None
        return templates.TemplateResponse(request, "home.html", {
            "principal": principal, "customers": rows, "total": total, "version": __version__,
        })

    @router.get("/login", dependencies=[PUBLIC], response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None):
        return templates.TemplateResponse(request, "login.html", {"error": None, "username": "",
                                                                  "next": local_path(next)})

    @router.post("/login", dependencies=[PUBLIC], response_class=HTMLResponse)
    def login(request: Request, session: DbSession, username: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):
        target = local_path(next)
        container = request.app.state.container
        settings, clock = container.settings, container.security_clock
        try:
            user = staff_accounts.sign_in(session, clock, signin.throttle_of(settings), username=username,
                                          password=password, address=request.client.host if request.client else None,
                                          production=settings.env == "production")
        except NotAuthenticated as exc:
            return templates.TemplateResponse(request, "login.html", {"error": exc.message, "username": username,
                                                                      "next": target}, status_code=exc.http_status)
        cookie = signin.open_session(session, clock, kind=signin.STAFF, subject_id=user.id,
                                     max_age=timedelta(seconds=settings.session_max_age_seconds),
                                     secret=container.secret_key)
        response = RedirectResponse(target or "/", status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax",
                            secure=settings.env == "production", max_age=settings.session_max_age_seconds)
        return response

    @router.post("/logout", dependencies=[PUBLIC])
    def logout(request: Request, session: DbSession):
        container = request.app.state.container
        signin.end_session(session, container.security_clock, request.cookies.get(SESSION_COOKIE), kind=signin.STAFF,
                           secret=container.secret_key)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    app.include_router(router)
    for module in (agent, store, supervisor, portal, approvals, defects, integrations):
        app.include_router(module.router)

    @app.exception_handler(SignInRequired)
    def _sign_in(request: Request, exc: SignInRequired):
        if request.method != "GET":  # a form posted after the sign-in lapsed: start again from the sign-in
            return RedirectResponse("/login", status_code=303)
        target = exc.next_url + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(PageForbidden)
    def _forbidden(request: Request, exc: PageForbidden):
        return render(request, "forbidden.html", {"message": exc.message, "principal": None}, status_code=403)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
