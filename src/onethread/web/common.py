"""What every page module shares: the templates, the signed-in staff member, rendering, form errors.

Pages only translate: parse the form, call a capability's service, render. A ``DomainError``
raised by a service becomes a readable message on the page (next to its field when the error
names one), and because the request's session is rolled back on error nothing is half-saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from onethread import __version__
from onethread.access.rules import Principal
from onethread.api.deps import DbSession, cookie_principal
from onethread.errors import DomainError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


class SignInRequired(Exception):
    """Raised by ``staff_page``; the app answers with a redirect to the sign-in form."""

    def __init__(self, next_url: str):
        self.next_url = next_url


class PageForbidden(Exception):
    """The signed-in person's role does not include this page."""

    def __init__(self, message: str):
        self.message = message


def staff_page(roles: frozenset[str] | None = None):
    """Dependency for a staff page: the signed-in staff member, or a redirect to /login."""

    def dependency(request: Request, session: DbSession) -> Principal:
        principal = cookie_principal(request, session)
        if principal is None:
            raise SignInRequired(str(request.url.path))
        if roles is not None and not principal.may(roles):
            raise PageForbidden(f"a {principal.role.replace('_', ' ')} may not open this page")
        return principal

    return Annotated[Principal, Depends(dependency)]


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200):
    context = {"version": __version__, **context}
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def form_failed(session: Session, exc: DomainError) -> dict[str, str]:
    """Undo whatever the failed action wrote (the request's session would otherwise commit it
    when the page renders) and return ``{field: message}`` for the template; ``_form`` when the
    error names no field. Answer such a page with ``exc.http_status``."""
    session.rollback()
    return {exc.field or "_form": exc.message}
