"""Pages: the agent desktop. Search (any identifier or a name) and the match queue; the customer
360 with the timeline across channels; the case view with its actions. Both list their four-eyes
requests and ask for new ones (terminate a line, flag for fraud, close a complaint without the
customer's confirmation) through ``decisions.approvals``; asking leads to the request's page.

Every action is a plain HTML form: POST, then redirect to the page (redirect-after-post). A
refused action re-renders the page with the message next to the field that caused it, answers
with the error's 4xx status, and writes nothing (``form_failed`` rolls the request back).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_SERVICE, SUPERVISORS, Principal
from onethread.api.deps import ClockDep, ContainerDep, DbSession, cross_site
from onethread.api.v1.attachments import file_response
from onethread.attachments import service as attachments
from onethread.cases import (
    case_view,
    contact_service,
    escalation_service,
    handover_service,
    items_service,
    merge_undo,
    my_work,
    triage,
)
from onethread.cases import queries as case_queries
from onethread.cases import rules as case_rules
from onethread.cases import service as cases
from onethread.cases import waits as case_waits
from onethread.customers import queries as customer_queries
from onethread.customers import rules as customer_rules
from onethread.customers import service as customers
from onethread.decisions import approval_queries, approvals, direct_actions
from onethread.errors import DomainError, NotFound, ValidationFailed
from onethread.fieldservice import incidents
from onethread.fieldservice import service as field_service
from onethread.interactions import rules as contact_rules
from onethread.interactions import service as interactions
from onethread.interactions import session_service, timeline
from onethread.inventory import rules as inventory_rules
from onethread.inventory import service as inventory
from onethread.kernel.pagination import encode_cursor
from onethread.outreach import queries as outreach_queries
from onethread.search import service as search
from onethread.web.common import PageForbidden, form_failed, page_number, render, staff_page, zone_of

router = APIRouter(include_in_schema=False)

Desk = staff_page(CUSTOMER_SERVICE)
TIMELINE_PAGE = 25
CLOSED_CASES_PAGE = 10
TIMELINE_CHANNELS = contact_rules.CHANNELS
NO_FAILURE = {"form": None, "errors": {}, "values": {}}


def _approval_label(action: str) -> str:
    return approvals.policy().rule(action).label


def _same_site(request: Request) -> None:
    """A signed-in page session only changes things from our own pages (CSRF)."""
    if cross_site(request):
        raise PageForbidden("a form from another site cannot act with your sign-in")


def _missing(request: Request, principal: Principal, exc: DomainError):
    return render(request, "agent/missing.html", {"principal": principal, "message": exc.message},
                  status_code=exc.http_status)


def _when(value: str, field: str, zone: tzinfo = UTC) -> datetime:
    """A ``datetime-local`` form value, read in the page's zone (the form names it)."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationFailed("choose a date and time", field=field)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{raw!r} is not a date and time", field=field) from exc
    return parsed.replace(tzinfo=zone).astimezone(UTC) if parsed.tzinfo is None else parsed


# --- search and the match queue ------------------------------------------------------------

@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, principal: Desk, session: DbSession, clock: ClockDep, container: ContainerDep,
                q: str | None = Query(None), type: str = Query(""), channel: str = Query(""),
                status: str = Query(""), since: str = Query("", alias="from"), until: str = Query("", alias="to")):
    values = {"type": type, "channel": channel, "status": status, "from": since, "to": until}
    context = {"principal": principal, "q": q or "", "result": None, "errors": {}, "values": values,
               "channels": TIMELINE_CHANNELS, "statuses": case_rules.STATUSES, "candidates": search.rules.CANDIDATES,
               "queued": interactions.match_queue(session, limit=1).total}
    if q is None:
        return render(request, "agent/search.html", context)
    settings = container.settings
    try:
        filters = search.Filters(channel=channel or None, status=status or None,
                                 since=_day(since, "from", zone_of(request, principal)),
                                 until=_day(until, "to", zone_of(request, principal), end=True))
        context["result"] = search.search(session, clock, principal, q, region=settings.default_region,
                                          market=settings.market, kind=type or None, filters=filters, channel="pages")
    except DomainError as exc:
        context["errors"] = form_failed(session, exc)
        return render(request, "agent/search.html", context, status_code=exc.http_status)
    return render(request, "agent/search.html", context)


def _day(value: str, field: str, zone: tzinfo, *, end: bool = False) -> datetime | None:
    """A ``date`` form value as the start of that day in the page's zone (``end``: of the next day)."""
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{raw!r} is not a date (YYYY-MM-DD)", field=field) from exc
    start = datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=zone)
    return start.astimezone(UTC)


def _queue_page(request: Request, session, principal: Principal, *, failed: dict | None = None, status: int = 200,
                done: str | None = None):
    page = interactions.match_queue(session, limit=100)
    return render(request, "agent/match_queue.html", {
        "principal": principal, "page": page, "failed": failed or {}, "done": done,
        "kind_labels": customer_rules.KIND_LABELS}, status_code=status)


@router.get("/match-queue", response_class=HTMLResponse)
def match_queue_page(request: Request, principal: Desk, session: DbSession, done: str | None = None):
    return _queue_page(request, session, principal, done=done)


def _queue_action(request, session, principal, item_id: str, action, values: dict):
    try:
        action()
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _queue_page(request, session, principal, failed={"item": item_id, "errors": errors, **values},
                           status=exc.http_status)
    return RedirectResponse(f"/match-queue?{urlencode({'done': values['done']})}", status_code=303)


@router.post("/match-queue/{item_id}/link", response_class=HTMLResponse)
def match_link(request: Request, item_id: str, principal: Desk, session: DbSession, clock: ClockDep,
               container: ContainerDep, customerId: Annotated[str, Form()] = "",
               addIdentifiers: Annotated[str, Form()] = ""):
    _same_site(request)

    def act():
        if not customerId.strip():
            raise ValidationFailed("choose the customer this contact is from", field="customerId")
        interactions.link_match(session, clock, principal, item_id, customer_id=customerId.strip(),
                                add_identifiers=bool(addIdentifiers), region=container.settings.default_region)

    return _queue_action(request, session, principal, item_id, act, {"customerId": customerId, "done": "linked"})


@router.post("/match-queue/{item_id}/dismiss", response_class=HTMLResponse)
def match_dismiss(request: Request, item_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                  reason: Annotated[str, Form()] = ""):
    _same_site(request)
    return _queue_action(request, session, principal, item_id,
                         lambda: interactions.dismiss_match(session, clock, principal, item_id, reason=reason),
                         {"reason": reason, "done": "dismissed"})


# --- the customer 360 ----------------------------------------------------------------------

@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, customer_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                  container: ContainerDep, channel: Annotated[list[str] | None, Query()] = None,
                  cursor: str | None = None, view: str = "story", closed: str | None = None):
    return _customer_page(request, session, clock, container, principal, customer_id, channel=channel, cursor=cursor,
                          view=view, closed=closed)


def _customer_page(request: Request, session, clock, container, principal: Principal, customer_id: str, *,
                   channel: list[str] | None = None, cursor: str | None = None, failed: dict | None = None,
                   status: int = 200, view: str = "story", closed: str | None = None):
    try:
        customer = customers.read_customer(session, clock, principal, customer_id, channel="pages", purpose="360")
    except NotFound as exc:
        return _missing(request, principal, exc)
    channels = [c for c in (channel or []) if c in TIMELINE_CHANNELS]
    now = clock.now()
    profile = customer_queries.customer_profile(session, customer, now, container.settings.default_currency)
    products = inventory.customer_products(session, customer.id)
    with_owners = case_queries.open_cases_with_owners(session, customer.id)
    open_cases = [c for c, _ in with_owners]
    owners = {c.owner_id: name for c, name in with_owners}
    view = view if view in timeline.VIEWS else "story"
    error = None
    try:
        page = timeline.read(session, customer.id, limit=TIMELINE_PAGE, cursor=cursor, channels=channels or None,
                             view=view)
    except DomainError:  # a mangled cursor: show the newest page and say so
        error = "That page of the timeline no longer exists; showing the newest entries."
        page = timeline.read(session, customer.id, limit=TIMELINE_PAGE, channels=channels or None, view=view)
    closed_page, closed_error = page_number(closed)
    closed_rows, closed_total = case_queries.closed_cases_with_owners(
        session, customer.id, offset=(closed_page - 1) * CLOSED_CASES_PAGE, limit=CLOSED_CASES_PAGE)
    base = [("channel", c) for c in channels] + ([("view", "all")] if view == "all" else [])

    def everything_from(entry_id: str | None) -> str:
        """The same place in the timeline with onethread's own entries shown."""
        at = [("channel", c) for c in channels] + [("view", "all")]
        entry = next((e for e in page.entries if e.id == entry_id), None)
        if entry is not None:
            at.append(("cursor", encode_cursor([entry.occurred_at.isoformat(), entry.id])))
        elif cursor:
            at.append(("cursor", cursor))
        return f"/customers/{customer.id}?{urlencode(at)}#timeline"
    return render(request, "agent/customer.html", {
        "principal": principal, "customer": customer, "p": profile, "products": products, "open_cases": open_cases,
        "owners": owners, "complaints": case_queries.complaint_history(session, customer.id), "page": page,
        "channels": TIMELINE_CHANNELS, "chosen": channels, "cursor": cursor, "timeline_error": error,
        "older_url": f"/customers/{customer.id}?{urlencode([*base, ('cursor', page.next_cursor)])}#timeline"
        if page.next_cursor else None,
        "newest_url": f"/customers/{customer.id}?{urlencode(base)}#timeline",
        "view": view, "everything_from": everything_from,
        "story_url": f"/customers/{customer.id}?{urlencode([('channel', c) for c in channels])}#timeline",
        "closed_cases": closed_rows, "closed_total": closed_total, "closed_page": closed_page,
        "closed_pages": max(1, -(-closed_total // CLOSED_CASES_PAGE)), "closed_error": closed_error,
        "kind_labels": customer_rules.KIND_LABELS, "now": now,
        "approvals": approval_queries.for_customer(session, customer.id), "approval_label": _approval_label,
        "lines": [pr for pr in products if inventory_rules.is_line_in_service(pr.kind, pr.status)],
        "failed": failed or NO_FAILURE, "teams": access.list_teams(session), "case_kinds": case_rules.KINDS,
        "severities": case_rules.SEVERITIES,
    }, status_code=status)


def _ask(request: Request, session, clock, principal: Principal, ask, failed_page, values: dict):
    """Ask for a four-eyes action through ``decisions.approvals``; on success show the request
    with its evidence, else the page again with the reason next to the field, nothing written."""
    _same_site(request)
    try:
        req = ask()
    except DomainError as exc:  # an error about something the form has no field for goes at its top
        errors = {(k if k in values["values"] else "_form"): m for k, m in form_failed(session, exc).items()}
        return failed_page({**values, "errors": errors}, exc.http_status)
    return RedirectResponse(f"/approvals/{req.id}", status_code=303)


@router.post("/customers/{customer_id}/approvals/terminate", response_class=HTMLResponse)
def customer_ask_termination(request: Request, customer_id: str, principal: Desk, session: DbSession,
                             clock: ClockDep, container: ContainerDep, productId: Annotated[str, Form()] = "",
                             reason: Annotated[str, Form()] = "", caseId: Annotated[str, Form()] = ""):
    def ask():
        if not productId.strip():
            raise ValidationFailed("choose the line to terminate", field="productId")
        return approvals.request(session, clock, principal, action="terminate_line", reason=reason,
                                 customer_id=customer_id, product_id=productId.strip(), case_id=caseId.strip() or None)

    return _ask(request, session, clock, principal, ask,
                lambda failed, status: _customer_page(request, session, clock, container, principal, customer_id,
                                                      failed=failed, status=status),
                {"form": "terminate", "values": {"productId": productId, "reason": reason, "caseId": caseId}})


@router.post("/customers/{customer_id}/approvals/fraud", response_class=HTMLResponse)
def customer_ask_fraud_flag(request: Request, customer_id: str, principal: Desk, session: DbSession,
                            clock: ClockDep, container: ContainerDep, reason: Annotated[str, Form()] = "",
                            caseId: Annotated[str, Form()] = ""):
    return _ask(request, session, clock, principal,
                lambda: approvals.request(session, clock, principal, action="flag_fraud", reason=reason,
                                          customer_id=customer_id, case_id=caseId.strip() or None),
                lambda failed, status: _customer_page(request, session, clock, container, principal, customer_id,
                                                      failed=failed, status=status),
                {"form": "fraud", "values": {"reason": reason, "caseId": caseId}})


# --- files kept with contacts ----------------------------------------------------------------

@router.get("/attachments/{attachment_id}")
def attachment_download(request: Request, attachment_id: str, principal: Desk, session: DbSession, clock: ClockDep):
    """A file a contact carried, for whoever may read the contact; the read is audited."""
    try:
        row, _, data = attachments.read(session, clock, principal, attachment_id, channel="pages")
    except NotFound as exc:
        return _missing(request, principal, exc)
    return file_response(row, data)


# --- the case view -------------------------------------------------------------------------

def _case_page(request: Request, session, clock, principal: Principal, case_id: str, *, failed: dict | None = None,
               status: int = 200, done: str | None = None):
    try:
        view = case_view.read(session, clock, principal, case_id)
    except NotFound as exc:
        return _missing(request, principal, exc)
    return render(request, "agent/case.html", {
        "principal": principal, "v": view, "c": view.case,
        "approvals": approval_queries.for_case(session, case_id), "approval_label": _approval_label,
        "messages": outreach_queries.list_messages(session, clock, principal, offset=0, limit=100, case_id=case_id,
                                                   channel="pages")[0],
        "failed": failed or NO_FAILURE,
        "may_unmerge": principal.kind == "staff" and principal.role in SUPERVISORS,
        "done": DONE.get(done, "Done.") if done else None, "now": clock.now(),
        "contact_channels": contact_service.RECORDABLE_CHANNELS, "harm_kinds": case_rules.HARM_KINDS,
        "severities": case_rules.SEVERITIES, "commitment_channels": contact_rules.CHANNELS,
        "work_orders": field_service.list_work_orders(session, principal, case_id=case_id, limit=20)[0],
    }, status_code=status)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
              done: str | None = None):
    page = _case_page(request, session, clock, principal, case_id, done=done)
    if page.status_code == 200 and principal.kind == "staff":
        my_work.mark_read(session, clock, principal.id, case_id)  # My work's unread marker clears
    return page


DONE = {
    "reply": "Your reply is on the case and the customer's timeline.",
    "contact": "The contact is recorded on the case.",
    "commitment": "The commitment is on the case, with its clock.",
    "harm": "The harm is recorded on the case.",
    "task": "The task is on the case, with its due date.",
    "handover": "The hand-over is offered; the case stays yours until it is accepted.",
    "accepted": "You now own the case.",
    "escalate": "The case is escalated.",
    "wait": "The case is waiting: its first-response, reply and resolution clocks are paused.",
    "resume": "The wait is over: the paused clocks run again, due later by the time paused.",
    "close": "The case is closed.",
    "kept": "The commitment is marked as kept.",
    "task_done": "The task is marked as done.",
    "harm_resolved": "The harm is marked as put right.",
    "transfer": "The contact is transferred; its verification went with it.",
    "moved": "The contact is moved off this case; the correction is on the case's log.",
    "unmerge": "The merge is undone: both cases are back as they were before it.",
}


def _case_action(request: Request, session, clock, principal: Principal, case_id: str, form: str, action,
                 values: dict, anchor: str | None = None, done: str | None = None):
    """Run ``action``; redirect to the case, or show the form again with the error next to its field."""
    _same_site(request)
    try:
        action()
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _case_page(request, session, clock, principal, case_id,
                          failed={"form": form, "errors": errors, "values": values}, status=exc.http_status)
    return RedirectResponse(f"/cases/{case_id}?done={done or form}#{anchor or form}", status_code=303)


@router.post("/cases/{case_id}/reply", response_class=HTMLResponse)
def case_reply(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
               text: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "reply",
                        lambda: cases.reply(session, clock, principal, case_id, text=text, channel=channel or None),
                        {"text": text, "channel": channel})


@router.post("/cases/{case_id}/contacts", response_class=HTMLResponse)
def case_contact(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                 channel: Annotated[str, Form()] = "", direction: Annotated[str, Form()] = "inbound",
                 text: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "contact",
                        lambda: contact_service.record_contact(session, clock, principal, case_id, channel=channel,
                                                               direction=direction, text=text),
                        {"channel": channel, "direction": direction, "text": text})


@router.post("/cases/{case_id}/contacts/{contact_id}/not-this-case", response_class=HTMLResponse)
def case_contact_not_here(request: Request, case_id: str, contact_id: str, principal: Desk, session: DbSession,
                          clock: ClockDep, reason: Annotated[str, Form()] = "", toCaseId: Annotated[str, Form()] = ""):
    """"Not this case": the contact goes to another open case of the customer, or back to a queue."""
    def act():
        if interactions.get_contact(session, contact_id).case_id != case_id:
            raise NotFound(f"no contact {contact_id} on this case")
        triage.not_this_case(session, clock, principal, contact_id, reason=reason, to_case_id=toCaseId or None)

    return _case_action(request, session, clock, principal, case_id, f"ntc-{contact_id}", act,
                        {"reason": reason, "toCaseId": toCaseId}, anchor="contacts", done="moved")


@router.post("/cases/{case_id}/commitments", response_class=HTMLResponse)
def case_commitment(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                    text: Annotated[str, Form()] = "", dueAt: Annotated[str, Form()] = "",
                    madeVia: Annotated[str, Form()] = "phone"):
    return _case_action(request, session, clock, principal, case_id, "commitment",
                        lambda: items_service.add_commitment(session, clock, principal, case_id, text=text,
                                                             due_at=_when(dueAt, "dueAt", zone_of(request, principal)),
                                                             made_via=madeVia),
                        {"text": text, "dueAt": dueAt, "madeVia": madeVia})


@router.post("/cases/{case_id}/harms", response_class=HTMLResponse)
def case_harm(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
              kind: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
              severity: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "harm",
                        lambda: items_service.add_harm(session, clock, principal, case_id, kind=kind,
                                                       description=description, severity=severity),
                        {"kind": kind, "description": description, "severity": severity})


@router.post("/cases/{case_id}/tasks", response_class=HTMLResponse)
def case_task(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
              title: Annotated[str, Form()] = "", assigneeId: Annotated[str, Form()] = "",
              dueAt: Annotated[str, Form()] = ""):
    def act():
        if not assigneeId:
            raise ValidationFailed("choose who does it", field="assigneeId")
        items_service.add_task(session, clock, principal, case_id, title=title, assignee_kind="staff",
                               assignee_id=assigneeId, due_at=_when(dueAt, "dueAt", zone_of(request, principal)))

    return _case_action(request, session, clock, principal, case_id, "task", act,
                        {"title": title, "assigneeId": assigneeId, "dueAt": dueAt})


@router.post("/cases/{case_id}/commitments/{item_id}/kept", response_class=HTMLResponse)
def case_commitment_kept(request: Request, case_id: str, item_id: str, principal: Desk, session: DbSession,
                         clock: ClockDep, note: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "kept",
                        lambda: items_service.close_commitment(session, clock, principal, item_id, kept=True,
                                                               note=note.strip() or None),
                        {"item": item_id}, anchor="items")


@router.post("/cases/{case_id}/tasks/{item_id}/done", response_class=HTMLResponse)
def case_task_done(request: Request, case_id: str, item_id: str, principal: Desk, session: DbSession,
                   clock: ClockDep, note: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "task_done",
                        lambda: items_service.complete_task(session, clock, principal, item_id,
                                                            note=note.strip() or None),
                        {"item": item_id}, anchor="items")


@router.post("/cases/{case_id}/harms/{item_id}/resolve", response_class=HTMLResponse)
def case_harm_resolved(request: Request, case_id: str, item_id: str, principal: Desk, session: DbSession,
                       clock: ClockDep, resolution: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "harm_resolved",
                        lambda: incidents.resolve_harm(session, clock, principal, item_id,
                                                       resolution=resolution),
                        {"item": item_id, "resolution": resolution}, anchor="items")


@router.post("/cases/{case_id}/handover", response_class=HTMLResponse)
def case_handover(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                  toOwnerId: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = ""):
    def act():
        if not toOwnerId:
            raise ValidationFailed("choose who takes the case", field="toOwnerId")
        handover_service.request(session, clock, principal, case_id, to_owner_id=toOwnerId, reason=reason)

    return _case_action(request, session, clock, principal, case_id, "handover", act,
                        {"toOwnerId": toOwnerId, "reason": reason})


@router.post("/cases/{case_id}/handover/{handover_id}/accept", response_class=HTMLResponse)
def case_handover_accept(request: Request, case_id: str, handover_id: str, principal: Desk, session: DbSession,
                         clock: ClockDep):
    def act():
        if handover_service.get(session, handover_id).case_id != case_id:
            raise NotFound(f"no hand-over {handover_id} on this case")
        handover_service.accept(session, clock, principal, handover_id)

    return _case_action(request, session, clock, principal, case_id, "accepted", act, {}, anchor="owner")


@router.post("/cases/{case_id}/escalate", response_class=HTMLResponse)
def case_escalate(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                  reason: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "escalate",
                        lambda: escalation_service.escalate(session, clock, principal, case_id, reason=reason),
                        {"reason": reason})


@router.post("/cases/{case_id}/wait", response_class=HTMLResponse)
def case_wait(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
              on: Annotated[str, Form()] = "", party: Annotated[str, Form()] = "",
              reason: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "wait",
                        lambda: case_waits.wait(session, clock, principal, case_id, on=on, party=party or None,
                                                reason=reason), {"on": on, "party": party, "reason": reason})


@router.post("/cases/{case_id}/resume", response_class=HTMLResponse)
def case_resume(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                reason: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "resume",
                        lambda: case_waits.resume(session, clock, principal, case_id, reason=reason),
                        {"reason": reason}, anchor="wait")


@router.post("/cases/{case_id}/close", response_class=HTMLResponse)
def case_close(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
               outcome: Annotated[str, Form()] = "", customerConfirmed: Annotated[str, Form()] = ""):
    def act():  # a complaint closed without the customer's confirmation goes through four eyes
        direct_actions.close_case(session, clock, principal, case_id, outcome=outcome,
                                  customer_confirmed=bool(customerConfirmed))

    return _case_action(request, session, clock, principal, case_id, "close", act,
                        {"outcome": outcome, "customerConfirmed": customerConfirmed})


@router.post("/cases/{case_id}/unmerge", response_class=HTMLResponse)
def case_unmerge(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                 reason: Annotated[str, Form()] = ""):
    return _case_action(request, session, clock, principal, case_id, "unmerge",
                        lambda: merge_undo.unmerge(session, clock, principal, case_id, reason=reason),
                        {"reason": reason})


@router.post("/cases/{case_id}/approvals/close", response_class=HTMLResponse)
def case_ask_close_unconfirmed(request: Request, case_id: str, principal: Desk, session: DbSession, clock: ClockDep,
                               outcome: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = ""):
    return _ask(request, session, clock, principal,
                lambda: approvals.request(session, clock, principal, action="close_unconfirmed", reason=reason,
                                          case_id=case_id, outcome=outcome),
                lambda failed, status: _case_page(request, session, clock, principal, case_id, failed=failed,
                                                  status=status),
                {"form": "ask_close", "values": {"outcome": outcome, "reason": reason}})


@router.post("/cases/{case_id}/sessions/{session_id}/transfer", response_class=HTMLResponse)
def case_session_transfer(request: Request, case_id: str, session_id: str, principal: Desk, session: DbSession,
                          clock: ClockDep, toStaffId: Annotated[str, Form()] = "",
                          reason: Annotated[str, Form()] = "", note: Annotated[str, Form()] = ""):
    def act():
        if not case_view.session_on_case(session, case_id, session_id):
            raise NotFound(f"no contact session {session_id} on this case")
        if not toStaffId:
            raise ValidationFailed("choose who takes the contact", field="toStaffId")
        session_service.transfer(session, clock, principal, session_id, to_staff_id=toStaffId, reason=reason,
                                 note=note)

    return _case_action(request, session, clock, principal, case_id, "transfer", act,
                        {"session": session_id, "toStaffId": toStaffId, "reason": reason, "note": note},
                        anchor="sessions")

