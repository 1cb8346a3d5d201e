"""The customer portal's API (``/api/v1/portal/...``) and the admins' route that opens portal
accounts (``/api/v1/portal-accounts``).

The portal API authenticates with the portal's own cookie (``onethread_portal``, the one the
portal pages set at ``/portal/login``); a staff cookie or a bearer token does not open it, and
a portal cookie opens no staff route (the portal role is in no staff role group). A case that
is not the caller's answers 404. Translation only: the rules are in ``onethread.cases.portal``
and ``onethread.customers.portal``. See docs/api/portal.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onethread.access import portal as accounts
from onethread.access import signin
from onethread.access.rules import ADMINS, PORTAL_USERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import SAFE_METHODS, Authorize, ClockDep, DbSession, allow, cross_site
from onethread.api.tmf.conventions import created, paged
from onethread.api.v1.answers import portal as out
from onethread.api.v1.attachments import file_response, files_of
from onethread.attachments import service as attachments
from onethread.cases import portal as portal_cases
from onethread.customers import portal as portal_people
from onethread.customers.portal import PortalViewer
from onethread.errors import Forbidden, NotAuthenticated
from onethread.fieldservice import portal as portal_field
from onethread.fieldservice import rules as field_rules
from onethread.kernel.clock import Clock

PORTAL_COOKIE = "onethread_portal"
V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["customer portal"], route_class=AnswerRoute)


def portal_viewer(request: Request, session: Session, clock: Clock) -> PortalViewer | None:
    """The person signed in to the portal, if the portal cookie is genuine, fresh and the account open."""
    cookie = request.cookies.get(PORTAL_COOKIE)
    if not cookie:
        return None
    container = request.app.state.container
    account_id = signin.session_subject(session, container.security_clock, cookie, kind=signin.PORTAL,
                                        secret=container.secret_key)
    return portal_people.signed_in(session, clock, account_id)


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


class PortalAuthorize(Authorize):
    """Route guard for the portal: the caller signed in with the portal cookie, as a
    ``PortalViewer``. Only the portal cookie counts; a cookie-authorised change from another
    site is refused. With ``page=True`` a browser that is not signed in gets ``None`` (the
    page sends it to the sign-in form); anything else gets 401."""

    def __init__(self, page: bool = False):
        super().__init__(PORTAL_USERS)
        self.page = page

    def __call__(self, request: Request, session: DbSession, clock: ClockDep) -> PortalViewer | None:
        viewer = portal_viewer(request, session, clock)
        if viewer is None:
            if self.page and _wants_page(request):
                return None
            raise NotAuthenticated("sign in to the customer portal (/portal/login)")
        if not viewer.principal.may(self.roles):  # the portal principal's role; kept for symmetry with staff
            raise Forbidden("not a portal user")
        if request.method not in SAFE_METHODS and cross_site(request):
            raise Forbidden("a signed-in portal session cannot be used from another site")
        return viewer


PortalUser = Annotated[PortalViewer, Depends(PortalAuthorize())]


# --- shapes ----------------------------------------------------------------------------------

class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileIn(_In):
    name: str = Field(..., min_length=1, max_length=300, description="the file's name")
    mimeType: str | None = Field(None, max_length=100, description="its type (checked against its bytes)")
    content: str = Field(..., min_length=1, description="the file, base64")


class MessageIn(_In):
    text: str = Field("", max_length=portal_cases.MESSAGE_MAX,
                      description="the message to the case's owner (may be empty when files are sent)")
    files: list[FileIn] = Field(default_factory=list, max_length=20, description="files sent with the message")


def file_json(row) -> dict:
    return {"id": row.id, "name": row.filename, "mimeType": row.content_type, "size": row.size,
            "url": f"{V1}/portal/attachments/{row.id}"}


class PortalIncidentIn(_In):
    kind: str = Field(..., description=" | ".join(field_rules.INCIDENT_KINDS))
    harmKind: str = Field(..., description="what you are left with: " + " | ".join(field_rules.HARM_KINDS))
    description: str = Field(..., min_length=1, max_length=4000, description="what happened")
    severity: str | None = Field(None, description="low | medium | high | urgent (default medium; raised for a "
                                 "customer who needs extra care)")


class PortalAccountIn(_In):
    partyId: str = Field(..., min_length=1, max_length=26, description="the person who signs in")
    login: str = Field(..., min_length=3, max_length=accounts.LOGIN_MAX, description="their e-mail address")
    password: str = Field(..., min_length=1, max_length=1024)


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def case_body(item: portal_cases.PortalCase) -> dict:
    case = item.case
    return {
        "@type": "PortalCase", "id": case.id, "href": f"{V1}/portal/cases/{case.id}", "title": case.title,
        "kind": case.kind, "customer": {"id": case.customer_id, "name": item.customer_name},
        "onBehalfOf": item.on_behalf, "status": case.status, "statusLabel": item.status_label,
        "owner": {"name": item.owner_name}, "nextStep": item.next_step, "nextStepDue": iso(item.next_step_due),
        "forCustomer": item.for_customer, "awaitingReplySince": iso(item.awaiting_reply_since),
        "mayMessage": item.may_message, "openedAt": iso(case.opened_at), "closedAt": iso(case.closed_at),
    }


def viewer_body(viewer: PortalViewer) -> dict:
    return {"@type": "PortalUser", "name": viewer.name, "login": viewer.login, "customers": [
        {"id": s.customer_id, "name": s.customer_name, "relationship": s.relationship, "mayMessage": s.may_message}
        for s in viewer.standings.values()]}


# --- the portal ------------------------------------------------------------------------------

@router.get("/portal/me", response_model=out.PortalUser,
            summary="Who is signed in to the portal, and for which customers they may act")
def me(viewer: PortalUser) -> dict:
    return viewer_body(viewer)


@router.get("/portal/cases", response_model=list[out.PortalCase],
            summary="My cases and those of the customers I represent: owner, status, next step")
def my_cases(response: Response, session: DbSession, clock: ClockDep, viewer: PortalUser) -> list[dict]:
    rows = portal_cases.my_cases(session, clock, viewer)
    return paged(response, [case_body(r) for r in rows], len(rows), None)


@router.get("/portal/cases/{case_id}", response_model=out.PortalCaseWithLog,
            summary="One of my cases with its customer-visible log (404 if not mine)")
def my_case(case_id: str, session: DbSession, clock: ClockDep, viewer: PortalUser) -> dict:
    item, log = portal_cases.read_case(session, clock, viewer, case_id)
    return {**case_body(item), "log": [{"at": iso(e.at), "what": e.label, "by": e.by, "text": e.text,
                                         "mine": e.mine, "files": [file_json(f) for f in e.files]} for e in log]}


@router.post("/portal/cases/{case_id}/messages", response_model=out.PortalMessage, status_code=201,
             summary="Message the case's owner; it lands in the case and starts the reply clock")
def message(case_id: str, body: MessageIn, response: Response, session: DbSession, clock: ClockDep,
            viewer: PortalUser) -> dict:
    contact = portal_cases.send_message(session, clock, viewer, case_id, body.text,
                                        files_of(body.files, field="files"))
    created(response, f"{V1}/portal/cases/{case_id}")
    item, _ = portal_cases.read_case(session, clock, viewer, case_id)
    return {"@type": "PortalMessage", "id": contact.id, "caseId": case_id, "at": iso(contact.occurred_at),
            "text": contact.text, "from": viewer.name, "onBehalfOf": (contact.extra or {}).get("onBehalfOf"),
            "files": [file_json(f) for f in attachments.for_contacts(session, [contact.id])[contact.id]],
            "case": case_body(item)}


@router.get("/portal/attachments/{attachment_id}", summary="Download a file of a message or reply on one of my "
            "cases (404 if not mine)", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def my_file(attachment_id: str, session: DbSession, clock: ClockDep, viewer: PortalUser) -> Response:
    row, data = portal_cases.read_attachment(session, clock, viewer, attachment_id)
    return file_response(row, data)


def work_order_body(session: Session, viewer: PortalViewer, wo) -> dict:
    s = portal_field.summary(session, viewer, wo)
    visit = s["nextVisit"]
    return {"@type": "PortalWorkOrder", "id": wo.id, "title": wo.title, "kind": wo.kind, "status": wo.status,
            "caseId": wo.case_id, "customer": {"id": wo.customer_id, "name": s["customerName"]},
            "subcontractor": s["subcontractor"], "mayReport": s["mayReport"],
            "nextVisit": {"startDateTime": iso(visit.slot_start), "endDateTime": iso(visit.slot_end)}
            if visit else None,
            "incidents": [{"id": i.id, "kind": i.kind, "description": i.description, "reportedBy": i.reported_by,
                           "reportedAt": iso(i.reported_at), "putRight": i.confirmed_at is not None}
                          for i in s["incidents"]]}


@router.get("/portal/work-orders", response_model=list[out.PortalWorkOrder],
            summary="Installations and repairs at my home (and of those I represent)")
def my_work_orders(response: Response, session: DbSession, clock: ClockDep, viewer: PortalUser) -> list[dict]:
    rows = portal_field.my_work_orders(session, clock, viewer)
    return paged(response, [work_order_body(session, viewer, r) for r in rows], len(rows), None)


@router.post("/portal/work-orders/{wo_id}/incidents", response_model=out.PortalIncident, status_code=201,
             summary="Report damage, injury or something left unsafe by a visit: a harm on the case, as a "
                     "technician's report (404 if not mine)")
def report_incident(wo_id: str, body: PortalIncidentIn, response: Response, session: DbSession,
                    clock: ClockDep, viewer: PortalUser) -> dict:
    item = portal_field.report(session, clock, viewer, wo_id, kind=body.kind, harm_kind=body.harmKind,
                               description=body.description, severity=body.severity)
    created(response, f"{V1}/portal/work-orders")
    return {"@type": "PortalIncident", "id": item.id, "workOrderId": item.work_order_id, "caseId": item.case_id,
            "kind": item.kind, "description": item.description, "reportedBy": item.reported_by,
            "reportedAt": iso(item.reported_at)}


# --- accounts (admins) -----------------------------------------------------------------------

@router.post("/portal-accounts", response_model=out.PortalAccount,
             status_code=201, summary="Open a portal sign-in for a person (admins)")
def create_account(body: PortalAccountIn, response: Response, session: DbSession, clock: ClockDep,
                   actor: allow(ADMINS)) -> dict:
    account = accounts.create_account(session, clock, party_id=body.partyId, login=body.login,
                                      password=body.password, actor=actor)
    created(response, f"{V1}/portal-accounts/{account.id}")
    return {"@type": "PortalAccount", "id": account.id, "partyId": account.party_id, "login": account.login,
            "active": account.active, "createdAt": iso(account.created_at)}


def _account_json(account) -> dict:
    return {"@type": "PortalAccount", "id": account.id, "partyId": account.party_id, "login": account.login,
            "active": account.active, "createdAt": iso(account.created_at)}


@router.post("/portal-accounts/{account_id}/disable", response_model=out.PortalAccount,
             summary="Close a portal sign-in (admins): its sessions end at once")
def disable_account(account_id: str, session: DbSession, clock: ClockDep, actor: allow(ADMINS)) -> dict:
    return _account_json(accounts.set_active(session, clock, account_id, False, actor=actor))


@router.post("/portal-accounts/{account_id}/enable", response_model=out.PortalAccount,
             summary="Reopen a closed portal sign-in (admins)")
def enable_account(account_id: str, session: DbSession, clock: ClockDep, actor: allow(ADMINS)) -> dict:
    return _account_json(accounts.set_active(session, clock, account_id, True, actor=actor))
