"""Pages: the known-defect registry. ``/known-defects`` lists proposals waiting for a person, then
confirmed and retired entries (filtered by model), checks how a customer's wording matches the
symptom table, and lets a specialist, team lead or admin register an entry; ``/known-defects/{id}``
shows one entry with the reports behind it, in the customers' own words, and Confirm / Retire.

Translation only: ``decisions.known_defects`` decides what may move where and who may move it. A
refused form re-renders the page with the message next to its field, answers with the error's
status, and writes nothing (``form_failed`` rolls the request back).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from onethread.access.rules import ADMIN, CUSTOMER_SERVICE, ROLE_LABELS, SPECIALIST, TEAM_LEAD, Principal
from onethread.api.deps import ClockDep, DbSession, cross_site
from onethread.decisions import known_defect_queries, known_defects, symptoms
from onethread.errors import DomainError, Forbidden, ValidationFailed
from onethread.web.common import PageForbidden, form_failed, local_day, local_when, render, staff_page

router = APIRouter(include_in_schema=False)

Desk = staff_page(CUSTOMER_SERVICE)
DONE = {"confirmed": "Confirmed: decisions now treat this fault of this model as a recognised defect.",
        "retired": "Retired: decisions no longer treat this fault as a recognised defect.",
        "registered": "Registered and confirmed: decisions now treat this fault as a recognised defect."}
PAST = {"confirm": "confirmed", "retire": "retired"}


def _same_site(request: Request) -> None:
    if cross_site(request):
        raise PageForbidden("a form from another site cannot act with your sign-in")


def _may_curate(principal: Principal) -> bool:
    return principal.may(known_defects.CURATORS)


def _not_a_curator(principal: Principal) -> Forbidden:
    labels = [ROLE_LABELS[r].lower() for r in (SPECIALIST, TEAM_LEAD, ADMIN) if r in known_defects.CURATORS]
    who = ", ".join(labels[:-1]) + f" or {labels[-1]}" if len(labels) > 1 else labels[0]
    return Forbidden(f"only a {who} may confirm, retire or register known defects; you are signed in as "
                     f"{ROLE_LABELS.get(principal.role, principal.role).lower()}")


def _when(dt) -> str:
    return local_when(dt) if dt else "—"


def _day(dt) -> str:
    return local_day(dt) if dt else "—"


HELPERS = {"when": _when, "day": _day, "statuses": known_defects.STATUSES}


# --- the registry --------------------------------------------------------------------------

def _check(wording: str | None, model: str | None) -> tuple[dict | None, dict[str, str]]:
    """The symptom match for the "check a wording" box: every symptom it matches, best first, and
    (with a model) whether that model has a confirmed known defect for it."""
    if wording is None:
        return None, {}
    try:
        text = known_defects.check_wording(wording)
    except ValidationFailed as exc:
        return None, {"wording": exc.message}
    return {"wording": text, "candidates": symptoms.table().candidates(text), "model": (model or "").strip()}, {}


def _list_page(request: Request, session, clock, principal: Principal, *, model: str | None = None,
               wording: str | None = None, wording_model: str | None = None, failed: dict | None = None,
               status_code: int = 200):
    errors: dict[str, str] = {}
    model_filter = (model or "").strip() or None
    try:
        reg = known_defect_queries.registry(session, model=model_filter)
    except DomainError as exc:  # a model too long to be one
        errors["model"] = form_failed(session, exc).popitem()[1]
        reg = known_defect_queries.registry(session)
        status_code = max(status_code, exc.http_status)
    check, check_errors = _check(wording, wording_model)
    if check is not None and check["model"]:
        try:
            normal = known_defects.check_model(check["model"], "wording_model")
        except DomainError as exc:
            check_errors.update(form_failed(session, exc))
            check = None
        else:
            best = check["candidates"][0] if check["candidates"] else None
            entry = known_defects.find(session, normal, best.symptom) if best else None
            check.update(normal=normal, entry=entry, known=known_defects.known_at(entry, clock.now()))
    if check_errors:
        errors.update(check_errors)
        status_code = max(status_code, 400)
    table = symptoms.table()
    return render(request, "defects/list.html", {
        "principal": principal, "reg": reg, "model": model or "", "errors": errors, "check": check,
        "wording": wording or "", "wording_model": wording_model or "", "may_curate": _may_curate(principal),
        "table": table, "symptom_list": list(table.symptoms.values()),
        "failed": failed or {"errors": {}, "values": {}}, **HELPERS}, status_code=status_code)


@router.get("/known-defects", response_class=HTMLResponse)
def registry_page(request: Request, principal: Desk, session: DbSession, clock: ClockDep,
                  model: str | None = Query(None), wording: str | None = Query(None),
                  wording_model: str | None = Query(None)):
    return _list_page(request, session, clock, principal, model=model, wording=wording, wording_model=wording_model)


@router.post("/known-defects", response_class=HTMLResponse)
def register(request: Request, principal: Desk, session: DbSession, clock: ClockDep,
             deviceModel: Annotated[str, Form()] = "", symptom: Annotated[str, Form()] = "",
             description: Annotated[str, Form()] = ""):
    _same_site(request)
    values = {"deviceModel": deviceModel, "symptom": symptom, "description": description}
    try:
        if not _may_curate(principal):
            raise _not_a_curator(principal)
        if not symptom.strip():
            raise ValidationFailed("choose the symptom from the table", field="symptom")
        defect = known_defects.register(session, clock, principal, device_model=deviceModel, symptom=symptom,
                                        description=description.strip() or None)
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _list_page(request, session, clock, principal, failed={"errors": errors, "values": values},
                          status_code=exc.http_status)
    return RedirectResponse(f"/known-defects/{defect.id}?{urlencode({'done': 'registered'})}", status_code=303)


# --- one entry -----------------------------------------------------------------------------

def _entry_page(request: Request, session, clock, principal: Principal, defect_id: str, *,
                done: str | None = None, failed: dict | None = None, status_code: int = 200):
    try:
        view = known_defect_queries.entry(session, clock, principal, defect_id)
    except DomainError as exc:
        form_failed(session, exc)
        return render(request, "defects/missing.html", {"principal": principal, "message": exc.message},
                      status_code=exc.http_status)
    d = view.defect
    failed = failed or {"action": None, "errors": {}, "note": ""}
    allowed = {action for action in PAST if (d.status, action) in known_defects.TRANSITIONS}
    return render(request, "defects/entry.html", {
        "principal": principal, "v": view, "d": d, "ev": view.evidence, "done": DONE.get(done or ""),
        "may_curate": _may_curate(principal), "may_confirm": "confirm" in allowed, "may_retire": "retire" in allowed,
        # a refusal is shown by the form that was sent, if the page still offers it; else at the top
        "error_inline": _may_curate(principal) and failed["action"] in allowed,
        "failed": failed, **HELPERS}, status_code=status_code)


@router.get("/known-defects/{defect_id}", response_class=HTMLResponse)
def entry_page(request: Request, defect_id: str, principal: Desk, session: DbSession, clock: ClockDep,
               done: str | None = None):
    return _entry_page(request, session, clock, principal, defect_id, done=done)


def _version(value: str) -> int | None:
    """The entry's version the form was drawn with (a hidden field); none: not checked."""
    raw = value.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed("this form is damaged; open the entry again")
    return int(raw)


def _move(request: Request, session, clock, principal: Principal, defect_id: str, action: str, note: str,
          version: str):
    _same_site(request)
    try:
        if not _may_curate(principal):
            raise _not_a_curator(principal)
        move = known_defects.confirm if action == "confirm" else known_defects.retire
        # An entry changed after the page was drawn is refused by the registry, naming who and when.
        move(session, clock, principal, defect_id, note=note, expected_version=_version(version))
    except DomainError as exc:
        errors = form_failed(session, exc)
        return _entry_page(request, session, clock, principal, defect_id,
                           failed={"action": action, "errors": errors, "note": note}, status_code=exc.http_status)
    return RedirectResponse(f"/known-defects/{defect_id}?{urlencode({'done': PAST[action]})}", status_code=303)


@router.post("/known-defects/{defect_id}/confirm", response_class=HTMLResponse)
def confirm(request: Request, defect_id: str, principal: Desk, session: DbSession, clock: ClockDep,
            note: Annotated[str, Form()] = "", version: Annotated[str, Form()] = ""):
    return _move(request, session, clock, principal, defect_id, "confirm", note, version)


@router.post("/known-defects/{defect_id}/retire", response_class=HTMLResponse)
def retire(request: Request, defect_id: str, principal: Desk, session: DbSession, clock: ClockDep,
           note: Annotated[str, Form()] = "", version: Annotated[str, Form()] = ""):
    return _move(request, session, clock, principal, defect_id, "retire", note, version)
