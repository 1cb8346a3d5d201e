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
from onethread.access import service as access
from onethread.access import signin, staff_accounts
from onethread.access.rules import CUSTOMER_SERVICE
from onethread.api.deps import PUBLIC, SESSION_COOKIE, ClockDep, DbSession, cookie_principal, cross_site
from onethread.api.v1 import my_work
from onethread.customers import service as customers
from onethread.errors import Forbidden, NotAuthenticated
from onethread.web import (
    agent,
    approvals,
    bill_findings,
    defects,
    field,
    integrations,
    new_case,
    portal,
    store,
    supervisor,
)
from onethread.web.common import PageForbidden, SignInRequired, render

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


CROSS_SITE_SIGN_IN = "this sign-in came from another site's form and was refused: sign in here"
CROSS_SITE_SIGN_OUT = ("a sign-out sent from another site was refused: use the Sign out button on "
                       "onethread's own pages")


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
        me = access.user_of(session, principal) if principal.may(CUSTOMER_SERVICE) else None
        work = my_work.work_json(session, clock, principal, me) if me is not None else None  # My work first
        return templates.TemplateResponse(request, "home.html", {
            "principal": principal, "customers": rows, "total": total, "version": __version__, "work": work,
        })

    @router.get("/login", dependencies=[PUBLIC], response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None):
        return templates.TemplateResponse(request, "login.html", {"error": None, "username": "",
                                                                  "next": local_path(next)})

    @router.post("/login", dependencies=[PUBLIC], response_class=HTMLResponse)
    def login(request: Request, session: DbSession, username: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):
        target = local_path(next)
        if cross_site(request):  # a sign-in form on another site (login CSRF): refused, readably
            return templates.TemplateResponse(request, "login.html", {
                "error": CROSS_SITE_SIGN_IN, "username": username, "next": target}, status_code=403)
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
        if cross_site(request):  # another site may not sign people out either
            return render(request, "forbidden.html", {"message": CROSS_SITE_SIGN_OUT, "principal": None,
                                                     "heading": "Not signed out"},
                          status_code=403)
        container = request.app.state.container
        signin.end_session(session, container.security_clock, request.cookies.get(SESSION_COOKIE), kind=signin.STAFF,
                           secret=container.secret_key)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    app.include_router(router)
    for module in (agent, new_case, store, supervisor, portal, approvals, defects, integrations, bill_findings,
                   field):
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

    def unavailable_page(request: Request, message: str, headers: dict[str, str]):
        """The database could not be had in time: a 503 page saying to try again (api.errors)."""
        response = render(request, "unavailable.html", {"message": message, "principal": None,
                                                         "retry_after": headers.get("Retry-After")},
                          status_code=503)
        response.headers.update(headers)
        return response

    app.state.unavailable_page = unavailable_page
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
