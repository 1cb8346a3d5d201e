"""Known defects and symptom matching (``/api/v1``): the registry of (device model, symptom) with its
status, the reports behind each entry, people confirming and retiring entries, and the symptom table
the pages use to turn a customer's words into a symptom.

Translation only: every rule is in ``onethread.decisions.known_defects`` and ``decisions.symptoms``.
See docs/api/known-defects.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onethread.access.rules import CUSTOMER_SERVICE
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.conventions import CURSOR, ListParams, created, etag_for, paged
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.answers import known_defects as out
from onethread.decisions import known_defects, symptoms
from onethread.decisions.symptoms import SymptomMatch
from onethread.errors import PreconditionFailed
from onethread.kernel.pagination import next_cursor
from onethread.models import KnownDefect

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread known defects"], route_class=AnswerRoute)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    deviceModel: str = Field(..., max_length=symptoms.MODEL_MAX)
    symptom: str = Field(..., max_length=known_defects.WORDING_MAX, description="a symptom key, or in words")
    description: str | None = Field(None, max_length=known_defects.NOTE_MAX)
    note: str | None = Field(None, max_length=known_defects.NOTE_MAX)


class NoteIn(_In):
    note: str | None = Field(None, max_length=known_defects.NOTE_MAX)


class MatchIn(_In):
    wording: str = Field(..., max_length=known_defects.WORDING_MAX)
    deviceModel: str | None = Field(None, max_length=symptoms.MODEL_MAX,
                                    description="also say whether this model has a confirmed known defect")


def defect_json(d: KnownDefect) -> dict:
    return {
        "@type": "KnownDefect", "id": d.id, "href": f"{V1}/known-defects/{d.id}",
        "deviceModel": d.device_model, "symptom": d.symptom, "symptomLabel": symptoms.table().label(d.symptom),
        "status": d.status, "description": d.description, "reportCount": d.report_count,
        "proposedAt": iso(d.proposed_at), "proposedBy": d.proposed_by,
        "confirmedAt": iso(d.confirmed_at), "confirmedBy": d.confirmed_by,
        "retiredAt": iso(d.retired_at), "retiredBy": d.retired_by, "note": d.note,
        "createdAt": iso(d.created_at), "updatedAt": iso(d.updated_at),
    }


def match_json(m: SymptomMatch | None) -> dict | None:
    if m is None:
        return None
    return {"symptom": m.symptom, "label": m.label, "how": m.how, "entry": m.entry, "matched": m.matched,
            "explanation": m.explain()}


def _answer(session, response: Response, d: KnownDefect) -> dict:
    session.flush()  # the version moves on flush; the ETag must be the one just written
    response.headers["ETag"] = etag_for(d.version)
    return defect_json(d)


@router.get("/known-defects", response_model=list[out.KnownDefect],
            summary="The known-defect registry, newest change first (filter by status, model)")
def list_defects(response: Response, session: DbSession, actor: allow(CUSTOMER_SERVICE),
                 params: ListParams = Depends(),
                 status: str | None = Query(None, description=" | ".join(known_defects.STATUSES)),
                 model: str | None = Query(None, max_length=symptoms.MODEL_MAX,
                                           description="a device model (case and spacing do not matter)"),
                 cursor: str | None = CURSOR) -> list[dict]:
    rows, total = known_defects.list_defects(session, status=status, model=model, offset=params.offset,
                                             limit=params.limit, cursor=cursor)
    nxt = next_cursor((rows[-1].updated_at, rows[-1].id) if rows else None, len(rows), params.limit)
    return paged(response, [defect_json(r) for r in rows], total, params.fields, nxt)


@router.get("/known-defects/{defect_id}", response_model=out.KnownDefectWithReports,
            summary="A known defect with the reports behind it")
def get_defect(defect_id: str, response: Response, session: DbSession, clock: ClockDep,
               actor: allow(CUSTOMER_SERVICE)) -> dict:
    d = known_defects.get(session, defect_id)
    ev = known_defects.evidence(session, clock, d)
    response.headers["ETag"] = etag_for(d.version)
    return {**defect_json(d), "reports": {
        "distinctCustomers": ev.customers, "distinctCustomersInWindow": ev.customers_in_window,
        "reports": ev.reports, "windowDays": ev.window_days, "threshold": ev.threshold,
        "wordings": [{"wording": w.text, "reports": w.reports, "lastReportedAt": iso(w.last_reported_at)}
                     for w in ev.wordings]}}


@router.post("/known-defects", response_model=out.KnownDefect,
             status_code=201, summary="Register a confirmed known defect directly")
def register(body: RegisterIn, response: Response, session: DbSession, clock: ClockDep,
             actor: allow(known_defects.CURATORS)) -> dict:
    d = known_defects.register(session, clock, actor, device_model=body.deviceModel, symptom=body.symptom,
                               description=body.description, note=body.note)
    created(response, f"{V1}/known-defects/{d.id}")
    return _answer(session, response, d)


def _if_match(request: Request) -> int | None:
    """The version the caller read, from ``If-Match`` (``W/"3"`` or ``"3"``); none or ``*``: not checked.
    A tag that is no version of ours cannot match any version."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    for tag in header.split(","):
        raw = tag.strip().removeprefix("W/").strip('"')
        if raw.isdigit():
            return int(raw)
    return -1


def _move(move, request: Request, session: Session, clock, actor, defect_id: str, body: NoteIn | None):
    """The registry refuses an entry changed since the caller read it; over HTTP that is a failed
    If-Match precondition (412), with the registry's words (who moved it, when)."""
    try:
        return move(session, clock, actor, defect_id, note=body.note if body else None,
                    expected_version=_if_match(request))
    except known_defects.ChangedSinceRead as exc:
        raise PreconditionFailed(exc.message, details={**exc.details, "currentETag": etag_for(exc.details["version"])}
                                 ) from exc


@router.post("/known-defects/{defect_id}/confirm", response_model=out.KnownDefect,
             summary="Confirm a proposed (or retired) known defect")
def confirm(defect_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
            actor: allow(known_defects.CURATORS), body: NoteIn | None = None) -> dict:
    d = _move(known_defects.confirm, request, session, clock, actor, defect_id, body)
    return _answer(session, response, d)


@router.post("/known-defects/{defect_id}/retire", response_model=out.KnownDefect,
             summary="Reject a proposal, or retire a confirmed known defect")
def retire(defect_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
           actor: allow(known_defects.CURATORS), body: NoteIn | None = None) -> dict:
    d = _move(known_defects.retire, request, session, clock, actor, defect_id, body)
    return _answer(session, response, d)


@router.post("/symptoms/match", response_model=out.SymptomMatch,
             summary="A customer's words -> the canonical symptom, with the entry that matched")
def match(body: MatchIn, session: DbSession, clock: ClockDep, actor: allow(CUSTOMER_SERVICE)) -> dict:
    wording = known_defects.check_wording(body.wording)
    candidates = symptoms.table().candidates(wording)
    answer = {"@type": "SymptomMatch", "wording": wording, "match": match_json(candidates[0] if candidates else None),
              "alternatives": [match_json(m) for m in candidates[1:]]}
    if body.deviceModel is not None:
        model = known_defects.check_model(body.deviceModel)
        defect = known_defects.is_known_defect(session, model, wording, clock.now())
        answer["deviceModel"] = model
        answer["knownDefect"] = None if defect is None else defect_json(defect)
    return answer


@router.get("/symptoms", response_model=out.SymptomTable,
            summary="The symptom table: every key with its label, and the proposal threshold")
def symptom_table(actor: allow(CUSTOMER_SERVICE)) -> dict:
    t = symptoms.table()
    return {"@type": "SymptomTable", "version": t.version,
            "proposal": {"threshold": t.proposal.threshold, "windowDays": t.proposal.window_days},
            "symptoms": [{"symptom": s.key, "label": s.label, "generic": s.generic} for s in t.symptoms.values()]}
