"""What every page module shares: the templates, the signed-in staff member, rendering, form errors.

Pages only translate: parse the form, call a capability's service, render. A ``DomainError``
raised by a service becomes a readable message on the page (next to its field when the error
names one), and because the request's session is rolled back on error nothing is half-saved.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from onethread import __version__
from onethread.access.rules import STAFF_ROLES, Principal
from onethread.api.deps import SAFE_METHODS, Authorize, DbSession, cookie_principal, cross_site
from onethread.cases import policy
from onethread.customers import rules as customer_rules
from onethread.errors import DomainError, NotAuthenticated

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# The zone the page being drawn shows times in (set by ``render``): the staff member's own, else
# the market's. Every time on a page goes through ``local_when`` / ``local_day``, with the zone named.
_ZONE: ContextVar[ZoneInfo | None] = ContextVar("page_zone", default=None)
_UTC = ZoneInfo("UTC")


def _zone() -> ZoneInfo:
    return _ZONE.get() or _UTC


def market_zone(request: Request) -> ZoneInfo:
    settings = request.app.state.container.settings
    return policy.market(settings.market, settings.clock_policy_file).calendar.tz


def zone_of(request: Request, principal: Principal | None = None) -> ZoneInfo:
    """Where a page shows (and reads) times: the staff member's own zone, else the market's."""
    if principal is not None and principal.time_zone:
        return ZoneInfo(principal.time_zone)
    return market_zone(request)


def _instant(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def local_when(value: datetime | str | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    """``02 Mar 2026, 09:00 GMT``: an instant in the page's zone, the zone named."""
    when = _instant(value)
    if when is None:
        return ""
    here = when.astimezone(_zone())
    return f"{here.strftime(fmt)} {here.tzname()}"


def local_day(value: datetime | date | str | None, fmt: str = "%d %b %Y") -> str:
    """The day an instant falls on in the page's zone (a plain date is shown as it is)."""
    if value is None or value == "":
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime(fmt)
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value).strftime(fmt)
    return _instant(value).astimezone(_zone()).strftime(fmt)


def zone_name() -> str:
    return str(_zone().key)


templates.env.globals.update(local_when=local_when, local_day=local_day, zone_name=zone_name,
                             need_words=customer_rules.need_words)


class SignInRequired(Exception):
    """Raised by ``staff_page``; the app answers with a redirect to the sign-in form."""

    def __init__(self, next_url: str):
        self.next_url = next_url


class PageForbidden(Exception):
    """The signed-in person's role does not include this page."""

    def __init__(self, message: str):
        self.message = message


class StaffPage(Authorize):
    """Route guard for a staff page: the staff member signed in with the page cookie. A browser
    that is not signed in is sent to the sign-in form (and back here after), any other caller
    gets 401; a role without this page gets a readable 403 page, and a form posted from another
    site is refused (CSRF)."""

    def __init__(self, roles: frozenset[str] | None = None):
        super().__init__(roles if roles is not None else STAFF_ROLES)

    def __call__(self, request: Request, session: DbSession) -> Principal:  # type: ignore[override]
        principal = cookie_principal(request, session)
        if principal is None:
            if "text/html" not in request.headers.get("accept", ""):
                raise NotAuthenticated("sign in at /login (pages use the session cookie)")
            target = request.url.path if request.method in SAFE_METHODS else "/"
            raise SignInRequired(target)
        if request.method not in SAFE_METHODS and cross_site(request):
            raise PageForbidden("a form sent from another site cannot change anything here")
        if not principal.may(self.roles):
            raise PageForbidden(f"a {principal.role.replace('_', ' ')} may not open this page")
        return principal


def staff_page(roles: frozenset[str] | None = None):
    """``actor: staff_page(ROLES)``: the signed-in staff member, or a redirect to /login."""
    return Annotated[Principal, Depends(StaffPage(roles))]


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200):
    principal = context.get("principal")
    token = _ZONE.set(zone_of(request, principal if isinstance(principal, Principal) else None))
    try:  # the template is drawn here, in this call
        context = {"version": __version__, **context}
        return templates.TemplateResponse(request, template, context, status_code=status_code)
    finally:
        _ZONE.reset(token)


def page_number(raw: str | None, *, last: int = 10_000) -> tuple[int, str | None]:
    """``?page=`` as a person may type it: (the page to show, None), or (1, a readable message) for
    anything that is not a whole number from 1 to ``last``, so a page answers 400 with words, never
    the framework's JSON 422."""
    if raw is None or not raw.strip():
        return 1, None
    text = raw.strip()
    if not (text.isdecimal() and len(text) <= len(str(last))) or not 1 <= int(text) <= last:
        return 1, f"there is no page {text[:20]!r}: pages are numbered 1 to {last}; showing the first"
    return int(text), None


def form_failed(session: Session, exc: DomainError) -> dict[str, str]:
    """Undo whatever the failed action wrote (the request's session would otherwise commit it
    when the page renders) and return ``{field: message}`` for the template; ``_form`` when the
    error names no field. Answer such a page with ``exc.http_status``."""
    session.rollback()
    return {exc.field or "_form": exc.message}
