"""The JSON Schemas of onethread's TMF sub-classes, served where their ``@schemaLocation`` points.

``OnethreadTroubleTicket`` (``@baseType`` ``TroubleTicket``) and ``OnethreadPartyInteraction``
(``@baseType`` ``PartyInteraction``) are the TMF resources plus onethread's own attributes; each
schema describes those attributes (the TMF ones are the specification's). Public: a schema holds
no data, and a client following ``@schemaLocation`` may not have a token for this server.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from onethread.api.answers import media
from onethread.api.deps import PUBLIC
from onethread.errors import NotFound
from onethread.integrations.rules import SCHEMA_BASE, schema_location

router = APIRouter(tags=["TMF extension schemas"])

STR = {"type": "string"}
TEXT = {"type": ["string", "null"]}
WHEN = {"type": ["string", "null"], "format": "date-time"}
INT = {"type": "integer"}
BOOL = {"type": ["boolean", "null"]}
ID = {"type": "string", "description": "a 26-character ULID"}
STAFF = {"type": ["object", "null"], "properties": {"id": ID, "name": TEXT}, "required": ["id"]}


def _obj(type_name: str | None, props: dict, required: tuple[str, ...] = ()) -> dict:
    properties = {"@type": {"const": type_name}, **props} if type_name else props
    return {"type": "object", "properties": properties, "required": [*(("@type",) if type_name else ()), *required],
            "additionalProperties": False}


def _list(item: dict) -> dict:
    return {"type": "array", "items": item}


_WAIT = _obj("CaseWait", {
    "id": ID, "on": {"enum": ["customer", "third_party"]}, "party": TEXT, "reason": STR, "since": WHEN,
    "until": WHEN, "by": TEXT, "endedBy": TEXT, "endReason": TEXT}, ("id", "on", "since"))

_TICKET = {
    "contactId": {**ID, "description": "create only: the contact that opened the case"},
    "customerConfirmed": {**BOOL, "description": "closed cases: whether the customer confirmed the outcome; on "
                                                 "PATCH with status closed"},
    "owner": _obj(None, {"id": ID, "name": TEXT, "href": STR, "teamId": TEXT}, ("id", "href")),
    "category": TEXT,
    "market": STR,
    "escalationLevel": {**INT, "minimum": 0},
    "escalatedTo": TEXT,
    "awaitingReplySince": {**WHEN, "description": "the customer's unanswered message"},
    "closureBlockers": _list(STR),
    "handovers": _list(_obj("Handover", {
        "id": ID, "caseId": ID, "status": STR, "from": STAFF, "to": STAFF, "reason": TEXT, "requestedBy": TEXT,
        "requestedAt": WHEN, "decidedAt": WHEN, "note": TEXT}, ("id", "status"))),
    "commitments": _list(_obj("Commitment", {
        "id": ID, "caseId": ID, "text": STR, "dueAt": WHEN, "madeVia": TEXT, "madeAt": WHEN, "madeBy": TEXT,
        "public": {"type": "boolean"}, "status": STR, "closedAt": WHEN, "note": TEXT}, ("id", "status"))),
    "harms": _list(_obj("Harm", {
        "id": ID, "caseId": ID, "kind": STR, "description": TEXT, "severity": STR, "reportedSeverity": TEXT,
        "reportedBy": TEXT, "reportedAt": WHEN, "resolvedAt": WHEN, "resolution": TEXT}, ("id", "kind"))),
    "tasks": _list(_obj("Task", {
        "id": ID, "caseId": ID, "title": STR,
        "assignee": _obj(None, {"kind": STR, "id": TEXT, "name": TEXT}, ("kind",)),
        "dueAt": WHEN, "status": STR, "createdAt": WHEN, "doneAt": WHEN, "note": TEXT}, ("id", "status"))),
    "participants": _list(_obj("Participant", {
        "id": ID, "caseId": ID, "kind": STR, "name": STR, "organisation": TEXT, "contact": TEXT,
        "addedAt": WHEN}, ("id", "kind"))),
    "clocks": _list(_obj(None, {
        "id": ID, "kind": STR, "label": STR, "state": {"enum": ["running", "paused", "breached", "stopped"]},
        "startedAt": WHEN, "dueAt": WHEN, "firedAt": WHEN, "stoppedAt": WHEN, "refId": TEXT,
        "pausedAt": {**WHEN, "description": "paused while the case waits; the due time moves on resume"}},
        ("id", "kind", "state"))),
    "waitingOn": {**_WAIT, "type": ["object", "null"], "description": "who the case waits on now (its first-"
                  "response, reply and resolution clocks are paused), or null"},
    "waits": _list(_WAIT),
    "pausedFor": {**STR, "description": "ISO-8601 duration: wall time the case has waited on others so far"},
    "complaintSteps": _obj(None, {"done": _list(STR), "missing": _list(STR)}, ("done", "missing")),
    "outcome": TEXT,
    "mergedIntoId": TEXT,
    "splitFrom": _obj(None, {"id": ID, "href": STR, "name": STR}, ("id", "href")),
    "splitInto": _list(_obj(None, {"id": ID, "href": STR, "name": STR, "contactIds": _list(ID)}, ("id", "href"))),
    "brief": _obj(None, {
        "caseId": ID, "headline": STR, "problem": STR, "owner": STR, "channels": _list(STR), "contacts": INT,
        "done": _list(STR), "open": _list(STR), "nextStep": STR, "nextStepDue": WHEN, "nextStepOwner": STR,
        "forCustomer": STR, "escalation": {**TEXT, "description": "where the automatic escalations stand, in one "
                                                                    "sentence"}}, ("caseId", "headline")),
}

_INTERACTION = {
    "kind": {**STR, "description": "message, call, visit, visit_note, post, direct_message, note, letter, form, "
                                   "technician_note, chat"},
    "matchStatus": {"enum": ["matched", "queued", "linked"]},
    "sessionId": TEXT,
    "caseId": TEXT,
    "identifiers": {"type": "object", "additionalProperties": STR,
                    "description": "what the channel knew about the sender: msisdn, email, social, account, "
                                   "iccid, imei"},
    "recordedBy": TEXT,
}

_BILL = {
    "appliedCustomerBillingRate": {**_list({"type": "object", "description": "a TMF678 AppliedCustomerBillingRate"}),
                                   "description": "import only: the bill's charges, imported with it"},
}

SCHEMAS = {
    "OnethreadTroubleTicket": ("TroubleTicket", "TMF621 Trouble Ticket v5",
                               "A case: a TroubleTicket with one named owner, hand-overs, commitments, harms, tasks, "
                               "participants, clocks, escalation and the brief.", _TICKET, ("owner",)),
    "OnethreadPartyInteraction": ("PartyInteraction", "TMF683 Party Interaction v5",
                                  "A contact: a PartyInteraction with how it was matched to its customer, its "
                                  "contact session and its case.", _INTERACTION, ("matchStatus",)),
    "OnethreadCustomerBill": ("CustomerBill", "TMF678 Customer Bill v5",
                              "A bill the billing system sends: a CustomerBill with its applied rates, imported "
                              "together.", _BILL, ()),
}


def schema(name: str) -> dict:
    base, spec, description, props, required = SCHEMAS[name]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": schema_location(name),
        "title": name,
        "description": f"{description} The attributes onethread adds to {spec}'s {base} (named in @baseType); "
                       f"every other attribute is the specification's.",
        "type": "object",
        "properties": {"@type": {"const": name}, "@baseType": {"const": base},
                       "@schemaLocation": {"const": schema_location(name)}, **props},
        "required": ["@type", "@baseType", *required],
    }


@router.get(f"{SCHEMA_BASE}/{{file_name}}", dependencies=[PUBLIC], responses=media("application/schema+json"),
            summary="The JSON Schema of one of onethread's TMF sub-classes (its @schemaLocation)")
def get_schema(file_name: str) -> JSONResponse:
    name = file_name.removesuffix(".schema.json")
    if name not in SCHEMAS or not file_name.endswith(".schema.json"):
        raise NotFound(f"no schema {file_name}; onethread publishes "
                       + ", ".join(f"{n}.schema.json" for n in SCHEMAS), field="name")
    return JSONResponse(schema(name), media_type="application/schema+json")
