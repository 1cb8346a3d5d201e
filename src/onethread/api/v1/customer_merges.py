"""Customer merges (``/api/v1/customer-merges``): the same person recorded twice, merged on named
evidence by a team lead or an administrator, and undone. Translation only: the rules are in
``onethread.customers.merge_service``. See docs/api/customer-merges.md."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import SUPERVISORS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.conventions import created
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.answers import customers as out
from onethread.customers import merge_service
from onethread.models import CustomerMerge

router = APIRouter(prefix="/api/v1", tags=["onethread customer merges"], route_class=AnswerRoute)
PATH = "/api/v1/customer-merges"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MergeIn(_In):
    sourceId: str = Field(..., max_length=26, description="the record that goes away into the target")
    targetId: str = Field(..., max_length=26)
    evidence: Literal["name_and_birth_date", "verified_identity"]
    reason: str = Field(..., min_length=1, max_length=5_000)


class UndoIn(_In):
    reason: str = Field(..., min_length=1, max_length=5_000)


def merge_json(record: CustomerMerge) -> dict:
    return {"@type": "CustomerMerge", "id": record.id, "href": f"{PATH}/{record.id}", "sourceId": record.source_id,
            "targetId": record.target_id, "evidence": record.evidence, "reason": record.reason,
            "moved": {name: len(ids) for name, ids in sorted(record.moved.items())},
            "mergedBy": {"id": record.merged_by, "name": record.merged_by_name}, "mergedAt": iso(record.merged_at),
            "undone": None if record.undone_at is None else {
                "by": {"id": record.undone_by, "name": record.undone_by_name}, "at": iso(record.undone_at),
                "reason": record.undo_reason}}


@router.post("/customer-merges", response_model=out.CustomerMerge, status_code=201,
             summary="Merge two records of one person on named evidence (never a shared identifier alone); 409 "
                     "with the reason when the evidence does not hold. Team leads and administrators, as persons")
def create(body: MergeIn, response: Response, session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> dict:
    record = merge_service.merge(session, clock, actor, source_id=body.sourceId, target_id=body.targetId,
                                 reason=body.reason, evidence=body.evidence)
    created(response, f"{PATH}/{record.id}")
    return merge_json(record)


@router.get("/customer-merges/{merge_id}", response_model=out.CustomerMerge,
            summary="A customer merge: who, when, why, on what evidence, what moved")
def get(merge_id: str, session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> dict:
    return merge_json(merge_service.read_merge(session, clock, actor, merge_id))


@router.post("/customer-merges/{merge_id}/undo", response_model=out.CustomerMerge,
             summary="Move back exactly what the merge moved; 409 when that can no longer be exact")
def undo(merge_id: str, body: UndoIn, session: DbSession, clock: ClockDep, actor: allow(SUPERVISORS)) -> dict:
    return merge_json(merge_service.undo(session, clock, actor, merge_id, reason=body.reason))
