"""Decisions and the policies they follow (``/api/v1``): ask a policy, explain an old decision by
its own policy version, order the replacement a decision allows, load a new policy version.

Translation only: every rule is in ``onethread.decisions``. See docs/decisions.md.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from onethread.access.rules import ADMINS, CUSTOMER_SERVICE
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.conventions import created, parse_model
from onethread.api.tmf.trouble_ticket import iso
from onethread.api.v1.answers import decisions as out
from onethread.decisions import service as decisions
from onethread.errors import ValidationFailed
from onethread.interactions.rules import CHANNELS
from onethread.models import Decision, PolicyVersion

V1 = "/api/v1"
router = APIRouter(prefix=V1, tags=["onethread decisions"], route_class=AnswerRoute)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionIn(_In):
    policy: str = Field(..., min_length=1, max_length=60)
    customerId: str = Field(..., max_length=26)
    productId: str | None = Field(None, max_length=26)
    caseId: str | None = Field(None, max_length=26)
    channel: str = Field(..., max_length=20, description=" | ".join(CHANNELS))
    facts: dict[str, Any]


class OrderIn(_In):
    channel: str = Field(..., max_length=20, description="the channel placing the order (the store included)")


class PolicyIn(_In):
    source: str = Field(..., min_length=1, max_length=decisions.SOURCE_MAX, description="the policy's YAML")


def policy_json(row: PolicyVersion) -> dict:
    return {"@type": "PolicyVersion", "id": row.id, "name": row.name, "version": row.version,
            "checksum": row.checksum, "loadedAt": iso(row.loaded_at), "loadedBy": row.loaded_by,
            "href": f"{V1}/policies/{row.name}/versions"}


def decision_json(d: Decision) -> dict:
    return {
        "@type": "Decision", "id": d.id, "href": f"{V1}/decisions/{d.id}",
        "policy": {"name": d.policy_name, "version": d.policy_version, "id": d.policy_version_id},
        "outcome": d.outcome, "rule": d.rule_id,
        "reasons": {"staff": d.staff_reason, "customer": d.customer_reason},
        "dueAt": iso(d.due_at), "facts": d.facts, "channel": d.channel, "customerId": d.customer_id,
        "productId": d.product_id, "caseId": d.case_id, "decidedAt": iso(d.decided_at),
        "decidedBy": {"id": d.decided_by, "name": d.decided_by_name},
        "order": None if d.commitment_id is None else {
            "orderedAt": iso(d.ordered_at), "channel": d.order_channel, "caseId": d.order_case_id,
            "commitmentId": d.commitment_id},
    }


@router.post("/decisions", response_model=out.Decision,
             status_code=201, summary="Ask a policy: the same facts give the same answer in any channel")
def decide(body: DecisionIn, response: Response, session: DbSession, clock: ClockDep,
           actor: allow(CUSTOMER_SERVICE)) -> dict:
    d = decisions.decide(session, clock, actor, policy=body.policy, facts=body.facts, channel=body.channel,
                         customer_id=body.customerId, product_id=body.productId, case_id=body.caseId)
    created(response, f"{V1}/decisions/{d.id}")
    return decision_json(d)


@router.get("/decisions/{decision_id}", response_model=out.ExplainedDecision,
            summary="A decision, explained by the policy version that took it")
def get_decision(decision_id: str, session: DbSession, actor: allow(CUSTOMER_SERVICE)) -> dict:
    ex = decisions.explain(session, decision_id)
    return {**decision_json(ex.decision), "explanation": {
        "policyDescription": ex.policy.description,
        "rule": ex.rule.id, "conditions": [c.describe() for c in ex.rule.conditions],
        "rulesBefore": [r.id for r in ex.policy.rules[:ex.policy.rules.index(ex.rule)]],
        "outcome": {"name": ex.outcome.name, "staffReason": ex.outcome.staff_reason,
                    "customerReason": ex.outcome.customer_reason, "dueInDays": ex.outcome.due_in_days}}}


@router.post("/decisions/{decision_id}/replacement-order", response_model=out.OrderedDecision, status_code=201,
             summary="Order the replacement a decision allows: a commitment with its due date on the case")
def order_replacement(decision_id: str, body: OrderIn, response: Response, session: DbSession, clock: ClockDep,
                      actor: allow(CUSTOMER_SERVICE)) -> dict:
    d, commitment = decisions.order_replacement(session, clock, actor, decision_id, channel=body.channel)
    created(response, f"{V1}/decisions/{d.id}")
    return {**decision_json(d), "commitment": {"id": commitment.id, "text": commitment.text,
                                               "dueAt": iso(commitment.due_at), "caseId": commitment.case_id}}


@router.get("/policies", response_model=list[out.PolicyVersion], summary="Every policy at its newest version")
def list_policies(session: DbSession, actor: allow(CUSTOMER_SERVICE)) -> list[dict]:
    return [policy_json(r) for r in decisions.list_policies(session)]


@router.get("/policies/{name}/versions", response_model=list[out.PolicySource],
            summary="Every version of a policy, with its source")
def policy_versions(name: str, session: DbSession, actor: allow(CUSTOMER_SERVICE)) -> list[dict]:
    return [{**policy_json(r), "source": r.source} for r in decisions.versions(session, name)]


@router.post("/policies", response_model=out.PolicyVersion, status_code=201,
             summary="Load a new policy version (YAML body, or JSON {source}); every version is kept")
async def load_policy(request: Request, response: Response, session: DbSession, clock: ClockDep,
                      actor: allow(ADMINS)) -> dict:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("the policy must be UTF-8 text") from exc
    if ctype == "application/json":
        try:
            data = json.loads(text or "null")
        except ValueError as exc:
            raise ValidationFailed(f"the body is not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ValidationFailed("send {\"source\": \"<the policy's YAML>\"}")
        text = parse_model(PolicyIn, data).source
    elif ctype not in YAML_TYPES:
        raise ValidationFailed(f"send YAML ({YAML_TYPES[0]}) or JSON with the text (got {ctype or 'no type'})")
    row = decisions.load_version(session, clock, actor, text)
    created(response, f"{V1}/policies/{row.name}/versions")
    return policy_json(row)
