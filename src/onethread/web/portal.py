"""Pages: the customer portal (``/portal``), for customers and the people they authorise.

Its own sign-in (``/portal/login``) and its own cookie (``onethread_portal``, signed with a
different salt from the staff cookie): a staff session does not open these pages and a portal
session opens no staff page or API. The pages only translate; what a person may see and send
is decided in ``onethread.customers.portal`` and ``onethread.cases.portal``. See docs/portal.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from onethread.access import signin
from onethread.api.deps import PUBLIC, ClockDep, DbSession, cross_site
from onethread.api.v1.attachments import file_response
from onethread.api.v1.portal import PORTAL_COOKIE, PortalAuthorize, portal_viewer
from onethread.attachments import service as attachments
from onethread.cases import portal as portal_cases
from onethread.customers import portal as portal_people
from onethread.customers.portal import PortalViewer
from onethread.errors import DomainError, NotAuthenticated, NotFound
from onethread.fieldservice import portal as portal_field
from onethread.fieldservice import rules as field_rules
from onethread.web.common import form_failed, render

router = APIRouter(include_in_schema=False)

# None when a browser is not signed in: the page sends it to the sign-in form.
PortalPage = Annotated[PortalViewer | None, Depends(PortalAuthorize(page=True))]


def _to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/portal/login?next={quote(request.url.path)}", status_code=303)


def _safe_next(value: str | None) -> str:
    """Only back into the portal: never an open redirect to another site."""
    if value and value.startswith("/portal") and not value.startswith("//") and "\\" not in value:
        return value
    return "/portal"


@router.get("/portal/login", dependencies=[PUBLIC], response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, clock: ClockDep, next: str | None = None):
    if portal_viewer(request, session, clock) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "portal/login.html", {"error": None, "login": "", "next_url": _safe_next(next),
                                                  "viewer": None})


@router.post("/portal/login", dependencies=[PUBLIC], response_class=HTMLResponse)
def login(request: Request, session: DbSession, clock: ClockDep, login: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):
    context = {"login": login, "next_url": _safe_next(next), "viewer": None}
    if cross_site(request):
        return render(request, "portal/login.html", {**context, "error": "sign in from this site's own form"},
                      status_code=403)
    container = request.app.state.container
    settings = container.settings
    try:
        viewer = portal_people.sign_in(session, clock, login, password, throttle=signin.throttle_of(settings),
                                       address=request.client.host if request.client else None,
                                       production=settings.env == "production",
                                       security_clock=container.security_clock)
    except NotAuthenticated as exc:
        return render(request, "portal/login.html", {**context, "error": exc.message}, status_code=exc.http_status)
    cookie = signin.open_session(session, container.security_clock, kind=signin.PORTAL,
                                 subject_id=viewer.account_id,
                                 max_age=timedelta(seconds=settings.session_max_age_seconds),
                                 secret=container.secret_key)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(PORTAL_COOKIE, cookie, httponly=True, samesite="lax", secure=settings.env == "production",
                        max_age=settings.session_max_age_seconds, path="/")
    return response


@router.post("/portal/logout", dependencies=[PUBLIC])
def logout(request: Request, session: DbSession):
    if cross_site(request):  # another site may not sign the customer out
        return render(request, "portal/login.html", {
            "error": "a sign-out sent from another site was refused: use Sign out on the portal's own pages",
            "login": "", "next_url": "/portal", "viewer": None}, status_code=403)
    container = request.app.state.container
    signin.end_session(session, container.security_clock, request.cookies.get(PORTAL_COOKIE), kind=signin.PORTAL,
                       secret=container.secret_key)
    response = RedirectResponse("/portal/login", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path="/")
    return response


@router.get("/portal", response_class=HTMLResponse)
def my_cases(request: Request, session: DbSession, clock: ClockDep, viewer: PortalPage):
    if viewer is None:
        return _to_sign_in(request)
    rows = portal_cases.my_cases(session, clock, viewer)
    return render(request, "portal/cases.html", {"viewer": viewer, "cases": rows})


def _case_page(request: Request, session, clock, viewer: PortalViewer, case_id: str, *, errors=None, text="",
               sent=False, status_code=200):
    try:
        item, log = portal_cases.read_case(session, clock, viewer, case_id)
    except NotFound:
        return render(request, "portal/not_found.html", {"viewer": viewer}, status_code=404)
    return render(request, "portal/case.html", {
        "viewer": viewer, "item": item, "log": log, "errors": errors or {}, "text": text, "sent": sent,
        "message_max": portal_cases.MESSAGE_MAX, "max_bytes": attachments.limits(session).max_bytes},
        status_code=status_code)


@router.get("/portal/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, session: DbSession, clock: ClockDep, viewer: PortalPage,
              sent: str | None = None):
    if viewer is None:
        return _to_sign_in(request)
    return _case_page(request, session, clock, viewer, case_id, sent=sent == "1")


async def _uploads(request: Request) -> list[attachments.Incoming]:
    """The files of the message form (an empty file input sends a part with no name: not a file)."""
    form = await request.form()
    out = []
    for part in form.getlist("files"):
        if isinstance(part, UploadFile) and part.filename:
            out.append(attachments.Incoming(part.filename, part.content_type, await part.read()))
    return out


Uploads = Annotated[list[attachments.Incoming], Depends(_uploads)]


@router.post("/portal/cases/{case_id}/messages", response_class=HTMLResponse)
def send_message(case_id: str, request: Request, session: DbSession, clock: ClockDep, viewer: PortalPage,
                 files: Uploads, text: Annotated[str, Form()] = ""):
    if viewer is None:
        return _to_sign_in(request)
    try:
        portal_cases.send_message(session, clock, viewer, case_id, text, list(files))
    except NotFound:
        session.rollback()
        return render(request, "portal/not_found.html", {"viewer": viewer}, status_code=404)
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _case_page(request, session, clock, viewer, case_id, errors=errors, text=text,
                          status_code=exc.http_status)
    return RedirectResponse(f"/portal/cases/{case_id}?sent=1", status_code=303)


@router.get("/portal/attachments/{attachment_id}")
def download(attachment_id: str, request: Request, session: DbSession, clock: ClockDep, viewer: PortalPage):
    """A file of a message or reply on one of the viewer's cases; 404 for anything else."""
    if viewer is None:
        return _to_sign_in(request)
    try:
        row, data = portal_cases.read_attachment(session, clock, viewer, attachment_id)
    except NotFound:
        return render(request, "portal/not_found.html", {"viewer": viewer}, status_code=404)
    return file_response(row, data)


# --- installations and repairs at home ----------------------------------------------------------

INCIDENT_KIND_LABELS = {"damage": "Something was damaged", "injury": "Someone was hurt",
                        "unsafe": "Something was left unsafe"}
HARM_KIND_LABELS = {"property_damage": "Damage to my home or belongings", "no_heating": "No heating",
                    "no_water": "No water", "health": "A risk to health", "other": "Something else"}


def _work_orders_page(request: Request, session, clock, viewer: PortalViewer, *, errors=None, form=None,
                      reported=False, status_code=200):
    rows = portal_field.my_work_orders(session, clock, viewer)
    return render(request, "portal/work_orders.html", {
        "viewer": viewer, "orders": [portal_field.summary(session, viewer, wo) for wo in rows],
        "errors": errors or {}, "form": form or {}, "reported": reported,
        "kinds": [(k, INCIDENT_KIND_LABELS[k]) for k in field_rules.INCIDENT_KINDS],
        "harm_kinds": [(k, HARM_KIND_LABELS[k]) for k in field_rules.HARM_KINDS]}, status_code=status_code)


@router.get("/portal/work-orders", response_class=HTMLResponse)
def work_orders_page(request: Request, session: DbSession, clock: ClockDep, viewer: PortalPage,
                     reported: str | None = None):
    if viewer is None:
        return _to_sign_in(request)
    return _work_orders_page(request, session, clock, viewer, reported=reported == "1")


@router.post("/portal/work-orders/{wo_id}/incidents", response_class=HTMLResponse)
def report_incident(wo_id: str, request: Request, session: DbSession, clock: ClockDep, viewer: PortalPage,
                    kind: Annotated[str, Form()] = "", harm_kind: Annotated[str, Form()] = "",
                    description: Annotated[str, Form()] = ""):
    if viewer is None:
        return _to_sign_in(request)
    try:
        portal_field.report(session, clock, viewer, wo_id, kind=kind, harm_kind=harm_kind, description=description)
    except NotFound:
        session.rollback()
        return render(request, "portal/not_found.html", {"viewer": viewer}, status_code=404)
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _work_orders_page(request, session, clock, viewer, errors={wo_id: errors},
                                 form={"wo": wo_id, "kind": kind, "harm_kind": harm_kind, "description": description},
                                 status_code=exc.http_status)
    return RedirectResponse("/portal/work-orders?reported=1", status_code=303)
