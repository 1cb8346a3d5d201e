"""The items on a case (``/api/v1``): hand-overs (request, accept, decline, cancel, impose),
commitments, harms, participants and tasks. Translation only: the rules are in
``onethread.cases.handover_service`` and ``onethread.cases.items_service``. Every answer carries
the case with its owner's name, and the case's new ``ETag``. See docs/api/cases.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onethread.access.rules import CUSTOMER_SERVICE, CUSTOMER_WRITERS, SUPERVISORS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession
from onethread.api.tmf.trouble_ticket import (
    commitment_json,
    handover_json,
    harm_json,
    participant_json,
    person,
    task_json,
)
from onethread.api.v1.answers import cases as out
from onethread.api.v1.cases import answer, case_for_action
from onethread.cases import handover_service, items_service, reads, rules
from onethread.fieldservice import incidents
from onethread.interactions.rules import CHANNELS
from onethread.models import Case, StaffUser

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread case items"], route_class=AnswerRoute)
NOTE_MAX = 5_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HandoverIn(_In):
    toOwnerId: str = Field(..., max_length=26, description="the staff member who is to own the case")
    reason: str = Field(..., min_length=1, max_length=NOTE_MAX)


class NoteIn(_In):
    note: str | None = Field(None, max_length=NOTE_MAX)


class ReasonIn(_In):
    reason: str = Field(..., min_length=1, max_length=NOTE_MAX)


class CommitmentIn(_In):
    text: str = Field(..., min_length=1, max_length=NOTE_MAX, description="what was promised")
    dueAt: AwareDatetime
    madeVia: str = Field(..., max_length=20, description=" | ".join(CHANNELS))
    public: bool = Field(False, description="made in public (a social reply)")


class HarmIn(_In):
    kind: str = Field(..., description=" | ".join(rules.HARM_KINDS))
    description: str = Field(..., min_length=1, max_length=NOTE_MAX)
    severity: str = Field(..., description=" | ".join(rules.SEVERITIES))
    reportedBy: str | None = Field(None, max_length=120, description="who reported it (default: you)")


class ResolutionIn(_In):
    resolution: str = Field(..., min_length=1, max_length=NOTE_MAX)


class ParticipantIn(_In):
    kind: str = Field(..., description=" | ".join(rules.PARTICIPANT_KINDS))
    name: str = Field(..., min_length=1, max_length=200)
    organisation: str | None = Field(None, max_length=200)
    contact: str | None = Field(None, max_length=200)


class TaskIn(_In):
    title: str = Field(..., min_length=1, max_length=rules.TITLE_MAX)
    assigneeKind: str = Field(..., description="staff | team | participant")
    assigneeId: str = Field(..., max_length=26)
    dueAt: AwareDatetime


def _names(session: Session, *ids: str) -> dict[str, str]:
    return {i: u.display_name for i in ids if i and (u := session.get(StaffUser, i)) is not None}


def _handover(session: Session, h) -> dict:
    return handover_json(h, _names(session, h.from_owner_id, h.to_owner_id))


def _case_of(session: Session, case_id: str) -> Case:
    return reads.get(session, case_id)


# --- hand-overs ------------------------------------------------------------------------------

@router.post("/cases/{case_id}/handovers", response_model=out.Handover, status_code=201,
             summary="Ask another person to take the case; the owner changes only when they accept")
def request_handover(case_id: str, body: HandoverIn, request: Request, response: Response, session: DbSession,
                     clock: ClockDep, actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    handover = handover_service.request(session, clock, actor, case.id, to_owner_id=body.toOwnerId,
                                        reason=body.reason)
    return answer(session, response, case, _handover(session, handover))


@router.post("/handovers/{handover_id}/accept", response_model=out.Handover,
             summary="The receiver accepts: they own the case from now")
def accept_handover(handover_id: str, response: Response, session: DbSession, clock: ClockDep,
                    actor: person(CUSTOMER_SERVICE), body: NoteIn | None = None) -> dict:
    case = handover_service.accept(session, clock, actor, handover_id, note=body.note if body else None)
    handover = handover_service.get(session, handover_id)
    return answer(session, response, case, _handover(session, handover))


@router.post("/handovers/{handover_id}/decline", response_model=out.Handover,
             summary="The receiver declines, saying why; the owner stays")
def decline_handover(handover_id: str, body: ReasonIn, response: Response, session: DbSession, clock: ClockDep,
                     actor: person(CUSTOMER_SERVICE)) -> dict:
    handover = handover_service.decline(session, clock, actor, handover_id, body.reason)
    return answer(session, response, _case_of(session, handover.case_id), _handover(session, handover))


@router.post("/handovers/{handover_id}/cancel", response_model=out.Handover,
             summary="Withdraw a hand-over nobody answered (who asked, the owner, or a team lead)")
def cancel_handover(handover_id: str, response: Response, session: DbSession, clock: ClockDep,
                    actor: person(CUSTOMER_SERVICE), body: NoteIn | None = None) -> dict:
    handover = handover_service.cancel(session, clock, actor, handover_id)
    return answer(session, response, _case_of(session, handover.case_id), _handover(session, handover))


@router.post("/cases/{case_id}/impose-owner", response_model=out.Handover,
             summary="A team lead gives the case a new owner at once (recorded as an imposed hand-over)")
def impose_owner(case_id: str, body: HandoverIn, request: Request, response: Response, session: DbSession,
                 clock: ClockDep, actor: person(SUPERVISORS)) -> dict:
    case = case_for_action(session, request, case_id)
    handover_service.impose(session, clock, actor, case.id, to_owner_id=body.toOwnerId, reason=body.reason)
    handover = handover_service.latest(session, case.id)
    return answer(session, response, case, _handover(session, handover))


# --- commitments -----------------------------------------------------------------------------

@router.post("/cases/{case_id}/commitments", response_model=out.Commitment, status_code=201,
             summary="Record a promise made to the customer (any channel, public or not) with its due date")
def add_commitment(case_id: str, body: CommitmentIn, request: Request, response: Response, session: DbSession,
                   clock: ClockDep, actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    item = items_service.add_commitment(session, clock, actor, case.id, text=body.text, due_at=body.dueAt,
                                        made_via=body.madeVia, public=body.public)
    return answer(session, response, case, commitment_json(item))


@router.post("/commitments/{commitment_id}/kept", response_model=out.Commitment, summary="The promise was kept")
def commitment_kept(commitment_id: str, response: Response, session: DbSession, clock: ClockDep,
                    actor: person(CUSTOMER_SERVICE), body: NoteIn | None = None) -> dict:
    item = items_service.close_commitment(session, clock, actor, commitment_id, kept=True,
                                          note=body.note if body else None)
    return answer(session, response, _case_of(session, item.case_id), commitment_json(item))


@router.post("/commitments/{commitment_id}/cancel", response_model=out.Commitment,
             summary="Withdraw a promise, saying why (tell the customer)")
def commitment_cancel(commitment_id: str, body: NoteIn, response: Response, session: DbSession, clock: ClockDep,
                      actor: person(CUSTOMER_SERVICE)) -> dict:
    item = items_service.close_commitment(session, clock, actor, commitment_id, kept=False, note=body.note)
    return answer(session, response, _case_of(session, item.case_id), commitment_json(item))


# --- harms -----------------------------------------------------------------------------------

@router.post("/cases/{case_id}/harms", response_model=out.Harm, status_code=201,
             summary="Report what the customer suffers (damage, no heating...); vulnerability raises the severity")
def add_harm(case_id: str, body: HarmIn, request: Request, response: Response, session: DbSession,
             clock: ClockDep, actor: person(CUSTOMER_WRITERS)) -> dict:
    case = case_for_action(session, request, case_id)
    harm = items_service.add_harm(session, clock, actor, case.id, kind=body.kind, description=body.description,
                                  severity=body.severity, reported_by=body.reportedBy)
    return answer(session, response, case, harm_json(harm))


@router.post("/harms/{harm_id}/resolve", response_model=out.Harm, summary="The harm is put right, saying how")
def resolve_harm(harm_id: str, body: ResolutionIn, response: Response, session: DbSession, clock: ClockDep,
                 actor: person(CUSTOMER_SERVICE)) -> dict:
    harm = incidents.resolve_harm(session, clock, actor, harm_id, resolution=body.resolution)
    return answer(session, response, _case_of(session, harm.case_id), harm_json(harm))


# --- participants and tasks ------------------------------------------------------------------

@router.post("/cases/{case_id}/participants", response_model=out.Participant, status_code=201,
             summary="Add a third party: insurer, claims handler, plumber, subcontractor, social worker...")
def add_participant(case_id: str, body: ParticipantIn, request: Request, response: Response, session: DbSession,
                    clock: ClockDep, actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    item = items_service.add_participant(session, clock, actor, case.id, kind=body.kind, name=body.name,
                                         organisation=body.organisation, contact=body.contact)
    return answer(session, response, case, participant_json(item))


@router.post("/cases/{case_id}/tasks", response_model=out.Task, status_code=201,
             summary="Delegate work to a person, team or participant with a due date; overdue, it escalates")
def add_task(case_id: str, body: TaskIn, request: Request, response: Response, session: DbSession,
             clock: ClockDep, actor: person(CUSTOMER_SERVICE)) -> dict:
    case = case_for_action(session, request, case_id)
    task = items_service.add_task(session, clock, actor, case.id, title=body.title, assignee_kind=body.assigneeKind,
                                  assignee_id=body.assigneeId, due_at=body.dueAt)
    return answer(session, response, case, task_json(task))


@router.post("/tasks/{task_id}/done", response_model=out.Task, summary="The task is done")
def task_done(task_id: str, response: Response, session: DbSession, clock: ClockDep,
              actor: person(CUSTOMER_SERVICE), body: NoteIn | None = None) -> dict:
    task = items_service.complete_task(session, clock, actor, task_id, note=body.note if body else None)
    return answer(session, response, _case_of(session, task.case_id), task_json(task))


@router.post("/tasks/{task_id}/cancel", response_model=out.Task, summary="The task is no longer needed, saying why")
def task_cancel(task_id: str, body: NoteIn, response: Response, session: DbSession, clock: ClockDep,
                actor: person(CUSTOMER_SERVICE)) -> dict:
    task = items_service.complete_task(session, clock, actor, task_id, note=body.note, cancelled=True)
    return answer(session, response, _case_of(session, task.case_id), task_json(task))
