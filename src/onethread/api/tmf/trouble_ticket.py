"""TMF621 Trouble Ticket v5 (``/tmf-api/troubleTicket/v5/troubleTicket``): onethread's cases.

A case is a ``TroubleTicket`` extended as ``OnethreadTroubleTicket`` (``@baseType``
``TroubleTicket``) with what TMF621 does not model: the named owner, hand-overs, commitments,
harms, tasks, participants, clocks, the escalation level and the brief. The actions on those
are onethread's own resources under ``/api/v1`` (api/v1/cases.py, api/v1/case_items.py).
Every TroubleTicket attribute of the specification is accepted (``api.tmf.attributes``): stored
(name, description, severity and ticketType in onethread's words or the usual TMF ones, status,
channel, the customer and owner in ``relatedParty``, one product in ``relatedEntity``, the
``category`` characteristic), kept as given (``KEPT``, and the entries of those lists onethread does
not use), set by onethread (``SERVER_SET``: dates, history, relationships from merges) or refused with
the reason. Translation only: every rule lives in ``onethread.cases``. See docs/api/cases.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from onethread.access.rules import CUSTOMER_READERS, CUSTOMER_WRITERS
from onethread.api.answers import AnswerRoute
from onethread.api.deps import ClockDep, DbSession, allow
from onethread.api.tmf.answers import TroubleTicket
from onethread.api.tmf.attributes import (
    DATETIME,
    OBJECT,
    OBJECTS,
    STRING,
    TmfResourceIn,
    check_unchanged,
    patched,
    same,
    split_entries,
    with_kept,
)
from onethread.api.tmf.conventions import (
    ListParams,
    check_if_match,
    created,
    etag_for,
    merge_patch_body,
    paged,
    parse_fields,
    parse_model,
    select_fields,
)
from onethread.api.tmf.shapes import PartyOrPartyRoleIn as PartyRefIn
from onethread.api.tmf.shapes import RelatedPartyIn
from onethread.api.tmf.shapes import TmfIn as _Tmf
from onethread.cases import clocks as case_clocks
from onethread.cases import reads, rules
from onethread.cases import service as cases
from onethread.cases import waits as case_waits
from onethread.decisions import direct_actions
from onethread.errors import ValidationFailed
from onethread.integrations.rules import schema_location
from onethread.interactions.rules import CHANNELS, channel_named
from onethread.inventory import service as inventory
from onethread.kernel.clock import Clock
from onethread.models import Case

BASE = "/tmf-api/troubleTicket/v5"
EXTENSION = "OnethreadTroubleTicket"
router = APIRouter(prefix=BASE, tags=["TMF621 trouble ticket"], route_class=AnswerRoute)

# onethread case status -> TMF621 TroubleTicketStatusType (and back).
TO_TMF = rules.TMF_STATUS
FROM_TMF = {tmf: ours for ours, tmf in TO_TMF.items()}
UNUSED_TMF = {
    "held": "a case waiting on the customer or a third party is put on hold with POST /api/v1/cases/{id}/wait "
            "(its clocks pause), and taken off hold with POST /api/v1/cases/{id}/resume",
    "cancelled": "a case is never cancelled: close it with its outcome, or merge it into the case it duplicates "
                 "(POST /api/v1/cases/{id}/merge)",
    "rejected": "a case is never rejected: close it with its outcome, or merge it into the case it duplicates "
                "(POST /api/v1/cases/{id}/merge)",
}
# TMF621 attributes onethread keeps as given (no home of its own): checked for their JSON type.
KEPT = {"attachment": OBJECTS, "externalIdentifier": OBJECTS, "note": OBJECTS, "priority": STRING,
        "requestedResolutionDate": DATETIME, "troubleTicketSpecification": OBJECT,
        "troubleTicketRelationship": OBJECTS,
        # shared lists: onethread's entries are parsed (_OURS), the others kept as given
        "relatedParty": OBJECTS, "relatedEntity": OBJECTS, "troubleTicketCharacteristic": OBJECTS}
SHARED = ("relatedParty", "relatedEntity", "troubleTicketCharacteristic", "troubleTicketRelationship")
SERVER_SET = frozenset({"id", "href", "creationDate", "lastUpdate", "statusChangeDate", "resolutionDate",
                        "expectedResolutionDate", "statusChangeHistory"})
# TMF attributes a ticket has that PATCH does not change (sent back unchanged: accepted), and what to do instead.
READ_ONLY = {
    "id": "", "href": "", "creationDate": "", "lastUpdate": "", "statusChangeDate": "", "resolutionDate": "",
    "statusChangeHistory": "it is the case's log", "@schemaLocation": "",
    "expectedResolutionDate": "it follows the case's resolution-target clock",
    "ticketType": "a case keeps its kind; split it (POST /api/v1/cases/{id}/split)",
    "channel": "the channel a case was opened through does not change",
    "owner": "hand the case over (POST /api/v1/cases/{id}/handovers)",
    "category": "", "market": "", "escalatedTo": "",
    "mergedIntoId": "merge with POST /api/v1/cases/{id}/merge",
    "splitFrom": "split with POST /api/v1/cases/{id}/split", "splitInto": "split with POST /api/v1/cases/{id}/split",
    "escalationLevel": "", "handovers": "", "commitments": "", "harms": "", "tasks": "", "participants": "",
    "clocks": "", "waitingOn": "POST /api/v1/cases/{id}/wait and /resume", "waits": "", "pausedFor": "",
    "brief": "", "closureBlockers": "", "complaintSteps": "", "awaitingReplySince": "",
    "outcome": "close with status 'closed' and statusChangeReason",
}
NO_OP_WHEN_SAME = ("name", "description", "severity", "status", "statusChangeReason", "customerConfirmed")
_OURS_REASON = {
    "relatedParty": "the owner changes only by a hand-over (POST /api/v1/cases/{id}/handovers); the customer never",
    "relatedEntity": "a case keeps its product", "troubleTicketCharacteristic": "a case keeps its category",
    "troubleTicketRelationship": "merge with POST /api/v1/cases/{id}/merge",
}


def _ours(key: str):
    """Which entries of a shared list are onethread's (the others are the client's, kept as given)."""
    return {
        "relatedParty": lambda e: e.get("role") in ("customer", "owner"),
        "relatedEntity": lambda e: e.get("role") == "product",
        "troubleTicketCharacteristic": lambda e: e.get("name") == "category",
        "troubleTicketRelationship": lambda e: e.get("relationshipType") in ("mergedFrom", "mergedInto"),
    }[key]


# --- who is acting --------------------------------------------------------------------------

def person(roles: frozenset[str]):
    """``actor: person(ROLES)``: the caller as a named person where there is one. A bearer token
    issued to a staff member already authenticates as that person (``access.token_principal``),
    so this is ``allow`` under the name the case routes read best with."""
    return allow(roles)


# --- request shapes --------------------------------------------------------------------------

class EntityRefIn(_Tmf):
    id: str = Field(..., max_length=26)
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class RelatedEntityIn(_Tmf):
    role: str
    entity: EntityRefIn


class ChannelRefIn(_Tmf):
    id: str = Field(..., description="the channel: " + ", ".join(CHANNELS))
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(None, alias="@referredType")


class CharacteristicIn(_Tmf):
    name: str
    value: str = Field(..., max_length=rules.CATEGORY_MAX)
    valueType: str | None = None
    id: str | None = None


class TicketCreate(TmfResourceIn):
    KEPT = KEPT
    SERVER_SET = SERVER_SET
    name: str | None = Field(None, max_length=rules.TITLE_MAX, description="the case's title")
    description: str = Field(..., min_length=1, max_length=20_000, description="the customer's own account")
    severity: str = Field(..., description=" | ".join(rules.SEVERITIES) + " (or Critical, Major, Minor)")
    ticketType: str = Field(..., description=" | ".join(rules.KINDS))
    channel: ChannelRefIn
    status: str | None = None
    statusChangeReason: str | None = Field(None, max_length=5_000, description="why the status is what is sent")
    contactId: str | None = Field(None, max_length=26,
                                  description=f"{EXTENSION} extension: the contact that opened the case")


class TicketPatch(TmfResourceIn):
    KEPT = KEPT
    name: str | None = Field(None, max_length=rules.TITLE_MAX)
    description: str | None = Field(None, max_length=20_000)
    severity: str | None = None
    status: str | None = None
    statusChangeReason: str | None = Field(None, max_length=5_000,
                                           description="why; when closing, the outcome")
    customerConfirmed: bool | None = Field(None, description=f"{EXTENSION} extension: with status 'closed'")


# --- representation --------------------------------------------------------------------------

def ticket_path(case_id: str) -> str:
    return f"{BASE}/troubleTicket/{case_id}"


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def to_tmf_status(status: str) -> str:
    return TO_TMF[status]


def from_tmf_status(value: str, field: str = "status") -> str:
    if value in FROM_TMF:
        return FROM_TMF[value]
    if value in UNUSED_TMF:
        raise ValidationFailed(f"status {value!r}: {UNUSED_TMF[value]}", field=field)
    raise ValidationFailed(f"status must be one of {', '.join(FROM_TMF)}", field=field)


def _staff_ref(staff_id: str | None, names: dict[str, str]) -> dict | None:
    return {"id": staff_id, "name": names.get(staff_id)} if staff_id else None


def handover_json(h, names: dict[str, str]) -> dict:
    return {"@type": "Handover", "id": h.id, "caseId": h.case_id, "status": h.status,
            "from": _staff_ref(h.from_owner_id, names), "to": _staff_ref(h.to_owner_id, names), "reason": h.reason,
            "requestedBy": h.requested_by, "requestedAt": iso(h.requested_at), "decidedAt": iso(h.decided_at),
            "note": h.decision_note}


def commitment_json(c) -> dict:
    return {"@type": "Commitment", "id": c.id, "caseId": c.case_id, "text": c.text, "dueAt": iso(c.due_at),
            "madeVia": c.made_via, "madeAt": iso(c.made_at), "madeBy": c.made_by, "public": c.public,
            "status": c.status, "closedAt": iso(c.closed_at), "note": c.closed_note}


def harm_json(h) -> dict:
    return {"@type": "Harm", "id": h.id, "caseId": h.case_id, "kind": h.kind, "description": h.description,
            "severity": h.severity, "reportedSeverity": h.reported_severity, "reportedBy": h.reported_by,
            "reportedAt": iso(h.reported_at), "resolvedAt": iso(h.resolved_at), "resolution": h.resolution}


def task_json(t) -> dict:
    return {"@type": "Task", "id": t.id, "caseId": t.case_id, "title": t.title,
            "assignee": {"kind": t.assignee_kind, "id": t.assignee_id, "name": t.assignee_name},
            "dueAt": iso(t.due_at), "status": t.status, "createdAt": iso(t.created_at), "doneAt": iso(t.done_at),
            "note": t.note}


def participant_json(p) -> dict:
    return {"@type": "Participant", "id": p.id, "caseId": p.case_id, "kind": p.kind, "name": p.name,
            "organisation": p.organisation, "contact": p.contact, "addedAt": iso(p.added_at)}


def clock_json(c) -> dict:
    state = "stopped" if c.stopped_at else "breached" if c.fired_at else "paused" if c.paused_at else "running"
    body = {"id": c.id, "kind": c.kind, "label": case_clocks.CLOCK_LABELS.get(c.kind, c.kind), "state": state,
            "startedAt": iso(c.started_at), "dueAt": iso(c.due_at), "firedAt": iso(c.fired_at),
            "stoppedAt": iso(c.stopped_at), "refId": c.ref_id}
    if state == "paused":
        body["pausedAt"] = iso(c.paused_at)
    return body


def wait_json(w) -> dict:
    return {"@type": "CaseWait", "id": w.id, "on": w.waiting_on, "party": w.party, "reason": w.reason,
            "since": iso(w.started_at), "until": iso(w.ended_at), "by": w.started_by_name,
            "endedBy": w.ended_by_name, "endReason": w.end_reason}


def _extension(case: Case, d: reads.CaseDetails) -> dict:
    owner = d.staff.get(case.owner_id)
    names = {u.id: u.display_name for u in d.staff.values()}
    body = {
        "owner": {"id": case.owner_id, "name": owner.display_name if owner else None,
                  "href": f"/api/v1/staff/{case.owner_id}", "teamId": owner.team_id if owner else None},
        "category": case.category,
        "market": case.market,
        "escalationLevel": case.escalation_level,
        "escalatedTo": rules.ladder_rung(case.escalation_level) if case.escalation_level else None,
        "awaitingReplySince": iso(case.awaiting_reply_since),
        "closureBlockers": d.blockers(case),
        "handovers": [handover_json(h, names) for h in d.handovers[case.id]],
        "commitments": [commitment_json(c) for c in d.commitments[case.id]],
        "harms": [harm_json(h) for h in d.harms[case.id]],
        "tasks": [task_json(t) for t in d.tasks[case.id]],
        "participants": [participant_json(p) for p in d.participants[case.id]],
        "clocks": [clock_json(c) for c in d.clocks[case.id]],
        "waitingOn": next((wait_json(w) for w in d.waits[case.id] if w.ended_at is None), None),
        "waits": [wait_json(w) for w in d.waits[case.id]],
        "pausedFor": case_waits.iso_duration(case_waits.paused_for(d.waits[case.id], d.now)),
    }
    if case.kind == "complaint":
        body["complaintSteps"] = {"done": [s for s in rules.COMPLAINT_STEPS if s in d.steps[case.id]],
                                  "missing": d.missing_steps(case)}
    if case.status == "closed":
        body.update(outcome=case.outcome, customerConfirmed=case.customer_confirmed, mergedIntoId=case.merged_into_id)
    if case.id in d.split_from:
        origin = d.split_from[case.id]
        body["splitFrom"] = {"id": origin.id, "href": ticket_path(origin.id), "name": origin.title}
    if d.split_into[case.id]:
        body["splitInto"] = [{"id": new.id, "href": ticket_path(new.id), "name": new.title, "contactIds": moved}
                             for new, moved in d.split_into[case.id]]
    if case.id in d.briefs:
        body["brief"] = d.briefs[case.id].as_dict()
    return body


def to_tmf(case: Case, d: reads.CaseDetails) -> dict:
    customer = d.customers[case.customer_id]
    owner = d.staff.get(case.owner_id)
    body: dict = {
        "id": case.id,
        "href": ticket_path(case.id),
        "@type": EXTENSION,
        "@baseType": "TroubleTicket",
        "@schemaLocation": schema_location(EXTENSION),
        "name": case.title,
        "description": case.customer_account or case.title,
        "severity": case.severity,
        "ticketType": case.kind,
        "status": TO_TMF[case.status],
        "creationDate": iso(case.opened_at),
        "lastUpdate": iso(case.last_activity_at),
        "channel": {"@type": "ChannelRef", "id": case.opened_via, "name": case.opened_via},
        "relatedParty": [
            {"@type": "RelatedPartyRefOrPartyRoleRef", "role": "customer",
             "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer.id, "name": customer.name,
                                  "href": f"/tmf-api/customer/v5/customer/{customer.id}",
                                  "@referredType": "Customer", "partyId": customer.party_id}},
            {"@type": "RelatedPartyRefOrPartyRoleRef", "role": "owner",
             "partyOrPartyRole": {"@type": "PartyRoleRef", "id": case.owner_id,
                                  "name": owner.display_name if owner else case.owner_id,
                                  "href": f"/api/v1/staff/{case.owner_id}", "@referredType": "StaffUser"}},
        ],
    }
    target = next((c for c in d.clocks[case.id] if c.kind == "resolution_target" and not c.stopped_at), None)
    if target is not None:
        body["expectedResolutionDate"] = iso(target.due_at)
    if case.id in d.status_changes:
        changed_at, why = d.status_changes[case.id]
        body["statusChangeDate"] = iso(changed_at)
        if why:
            body["statusChangeReason"] = why
    if case.closed_at is not None:
        body["resolutionDate"] = iso(case.closed_at)
        body["statusChangeReason"] = case.outcome
    if case.product_id and case.product_id in d.products:
        product = d.products[case.product_id]
        body["relatedEntity"] = [{"@type": "RelatedEntity", "role": "product", "entity": {
            "@type": "EntityRef", "id": product.id, "name": product.name, "@referredType": "Product",
            "href": f"/tmf-api/productInventory/v5/product/{product.id}"}}]
    if case.category:
        body["troubleTicketCharacteristic"] = [{"@type": "StringCharacteristic", "name": "category",
                                                "valueType": "string", "value": case.category}]
    relations = [{"@type": "TroubleTicketRelationship", "id": m.id, "href": ticket_path(m.id), "name": m.title,
                  "relationshipType": "mergedFrom"} for m in d.merged_from[case.id]]
    if case.merged_into_id:
        relations.append({"@type": "TroubleTicketRelationship", "id": case.merged_into_id,
                          "href": ticket_path(case.merged_into_id), "relationshipType": "mergedInto"})
    if relations:
        body["troubleTicketRelationship"] = relations
    body.update(_extension(case, d))
    return with_kept(body, case.tmf_attributes, appended=SHARED)


def render(session: Session, clock: Clock, rows: list[Case], *, with_brief: bool = True) -> list[dict]:
    d = reads.details(session, rows, now=clock.now(), with_brief=with_brief)
    return [to_tmf(c, d) for c in rows]


def summary(session: Session, case: Case) -> dict:
    """The short form of a case in answers to actions: always with the owner's name."""
    owner = reads.owner_of(session, case)
    return {"id": case.id, "href": ticket_path(case.id), "title": case.title, "kind": case.kind,
            "status": TO_TMF[case.status], "severity": case.severity,
            "owner": {"id": owner.id, "name": owner.display_name}, "escalationLevel": case.escalation_level}


def fresh_etag(session: Session, response: Response, case: Case) -> None:
    session.flush()  # the version moves on flush; the ETag must be the one just written
    response.headers["ETag"] = etag_for(case.version)


# --- translation helpers -------------------------------------------------------------------

def _check_type(type_: str | None, extension_used: list[str]) -> None:
    if type_ not in (None, "TroubleTicket", EXTENSION):
        raise ValidationFailed(f"@type is TroubleTicket (or {EXTENSION} with onethread's extension fields)",
                               field="@type")
    if extension_used and type_ != EXTENSION:
        raise ValidationFailed(f"{', '.join(extension_used)}: {EXTENSION} extension field(s); "
                               f"send \"@type\": \"{EXTENSION}\"", field="@type")


def _parties(session: Session, entries: list[dict]) -> tuple[str, str | None, str | None]:
    """(customer id, owner staff id or None, team whose rule chooses the owner or None) from
    onethread's relatedParty entries."""
    by_role: dict[str, PartyRefIn] = {}
    for party in [parse_model(RelatedPartyIn, e) for e in entries]:
        if party.role in by_role:
            raise ValidationFailed(f"relatedParty role {party.role!r} is given twice", field="relatedParty")
        by_role[party.role] = party.partyOrPartyRole
    if "customer" not in by_role:
        raise ValidationFailed("relatedParty needs the customer (role 'customer')", field="relatedParty")
    ref = by_role["customer"]
    customer = inventory.resolve_customer(session, ref.type_, ref.id)
    owner = by_role.get("owner")
    if owner is not None and owner.referred_type == "Team":  # handed to the team: its rule chooses
        return customer.id, None, owner.id
    return customer.id, owner.id if owner else None, None


def _product(entries: list[dict]) -> str | None:
    if len(entries) > 1:
        raise ValidationFailed("relatedEntity: a case is about one product (role 'product')", field="relatedEntity")
    for entity in [parse_model(RelatedEntityIn, e) for e in entries]:
        if entity.entity.referred_type not in (None, "Product"):
            raise ValidationFailed("relatedEntity: onethread relates a case to one product "
                                   "(role 'product', entity.@referredType 'Product')", field="relatedEntity")
        return entity.entity.id
    return None


def _category(entries: list[dict]) -> str | None:
    if len(entries) > 1:
        raise ValidationFailed("troubleTicketCharacteristic: a case has one 'category'",
                               field="troubleTicketCharacteristic")
    for char in [parse_model(CharacteristicIn, e) for e in entries]:
        return char.value.strip() or None
    return None


def _channel(ref: ChannelRefIn) -> str:
    """onethread's channel for a ChannelRef: its id, or a name onethread knows (e.g. 'self service')."""
    channel = ref.id if ref.id in CHANNELS else channel_named(ref.name)
    if channel is None:
        raise ValidationFailed(f"channel: onethread's channels are {', '.join(CHANNELS)}; send one as channel.id "
                               f"(or a name onethread knows as channel.name; got id {ref.id!r}, name {ref.name!r})",
                               field="channel")
    return channel


def _word(value: str, field: str, known: tuple[str, ...], convert) -> str:
    ours = convert(value)
    if ours is None:
        raise ValidationFailed(f"{field} must be one of {', '.join(known)}"
                               + (" (or Critical, Major, Minor)" if field == "severity" else ""), field=field)
    return ours


def _split(kept: dict) -> tuple[dict[str, list[dict]], dict]:
    """onethread's entries of the shared lists, and everything kept as given."""
    mine: dict[str, list[dict]] = {}
    for key in SHARED:
        if kept.get(key) is not None:
            mine[key], kept[key] = split_entries(kept[key], _ours(key))
    return mine, kept


def _kept_patch(kept: dict, current: dict) -> dict:
    """A PATCH's kept attributes; onethread's entries of the shared lists may only come back unchanged."""
    mine, kept = _split(kept)
    for key, entries in mine.items():
        current_mine = [e for e in current.get(key, []) if _ours(key)(e)]
        if not all(any(same(m, c, by_id=key != "troubleTicketCharacteristic") and m.get("role") == c.get("role")
                       for c in current_mine) for m in entries):
            raise ValidationFailed(f"{key}: onethread's entries cannot be changed with PATCH ({_OURS_REASON[key]}); "
                                   "they may be sent back unchanged", field=key)
    return kept


# --- endpoints -------------------------------------------------------------------------------

@router.get("/troubleTicket", response_model=list[TroubleTicket],
            summary="List or find trouble tickets (cases), newest first")
def list_tickets(response: Response, session: DbSession, clock: ClockDep, actor: person(CUSTOMER_READERS),
                 params: ListParams = Depends(),
                 customer_id: str | None = Query(None, alias="relatedParty.id", description="the customer's id"),
                 status: str | None = Query(None, description="TMF status, or several separated by commas"),
                 ticket_type: str | None = Query(None, alias="ticketType", description=" | ".join(rules.KINDS))
                 ) -> list[dict]:
    statuses = None
    if status is not None:
        wanted = [s.strip() for s in status.split(",") if s.strip()]
        for value in wanted:
            if value not in FROM_TMF and value not in UNUSED_TMF:
                raise ValidationFailed(f"status must be one of {', '.join([*FROM_TMF, *UNUSED_TMF])}", field="status")
        statuses = [FROM_TMF[v] for v in wanted if v in FROM_TMF]
        if not statuses:  # only statuses onethread never uses: nothing matches
            return paged(response, [], 0, params.fields)
    rows, total = reads.list_cases(session, clock, actor, offset=params.offset, limit=params.limit,
                                   customer_id=customer_id, statuses=statuses, kind=ticket_type, channel="api")
    with_brief = params.fields is not None and "brief" in params.fields
    return paged(response, render(session, clock, rows, with_brief=with_brief), total, params.fields)


@router.post("/troubleTicket", response_model=TroubleTicket,
             status_code=201, summary="Open a case (a trouble ticket) with its one named owner")
def create_ticket(body: TicketCreate, response: Response, session: DbSession, clock: ClockDep,
                  actor: person(CUSTOMER_WRITERS), fields: str | None = None) -> dict:
    _check_type(body.type_, ["contactId"] if body.contactId is not None else [])
    mine, kept = _split(body.kept_new or {})
    customer_id, owner_id, owner_team_id = _parties(session, mine.get("relatedParty", []))
    if owner_id is None and owner_team_id is None and actor.kind != "staff":
        raise ValidationFailed("name the case's owner: a relatedParty with role 'owner' and the staff member's id "
                               "(a system caller is nobody's colleague)", field="relatedParty")
    channel = _channel(body.channel)
    severity = _word(body.severity, "severity", rules.SEVERITIES, rules.severity_from)
    kind = _word(body.ticketType, "ticketType", rules.KINDS, rules.kind_from)
    if mine.get("troubleTicketRelationship"):
        raise ValidationFailed(f"troubleTicketRelationship: {_OURS_REASON['troubleTicketRelationship']}",
                               field="troubleTicketRelationship")
    status = from_tmf_status(body.status) if body.status is not None else None
    if status == "closed":
        raise ValidationFailed("a case is opened, not closed: close it later with its outcome", field="status")
    if not body.description.strip():
        raise ValidationFailed("description (the customer's account of the problem) is empty", field="description")
    title = (body.name or "").strip() or body.description.strip().splitlines()[0][:rules.TITLE_MAX]
    case = cases.open_new(session, clock, actor, customer_id=customer_id, kind=kind, title=title,
                          opened_via=channel, customer_account=body.description.strip(),
                          product_id=_product(mine.get("relatedEntity", [])),
                          category=_category(mine.get("troubleTicketCharacteristic", [])),
                          owner_id=owner_id, owner_team_id=owner_team_id, contact_id=body.contactId,
                          severity=severity,
                          tmf_attributes={k: v for k, v in kept.items() if v != []} or None)
    if status is not None and status != case.status:
        cases.set_status(session, clock, actor, case.id, status, reason=body.statusChangeReason)
    created(response, ticket_path(case.id))
    fresh_etag(session, response, case)
    return select_fields(render(session, clock, [case])[0], parse_fields(fields))


@router.get("/troubleTicket/{ticket_id}", response_model=TroubleTicket,
            summary="Retrieve a trouble ticket (a case) with everything on it")
def get_ticket(ticket_id: str, response: Response, session: DbSession, clock: ClockDep,
               actor: person(CUSTOMER_READERS), fields: str | None = None) -> dict:
    case = reads.read_case(session, clock, actor, ticket_id, channel="api")
    response.headers["ETag"] = etag_for(case.version)
    return select_fields(render(session, clock, [case])[0], parse_fields(fields))


@router.patch("/troubleTicket/{ticket_id}", response_model=TroubleTicket,
              summary="Update a case (JSON merge-patch): name, description, severity, status; closing is checked")
def patch_ticket(ticket_id: str, request: Request, response: Response, session: DbSession, clock: ClockDep,
                 actor: person(CUSTOMER_WRITERS), raw: dict = Depends(merge_patch_body),
                 fields: str | None = None) -> dict:
    case = reads.get(session, ticket_id)
    check_if_match(request, case.version)
    current = render(session, clock, [case])[0]
    # What is sent back as it is changes nothing (a client may send the whole ticket it read).
    raw = {k: v for k, v in check_unchanged(raw, current, READ_ONLY).items()
           if not (k in NO_OP_WHEN_SAME and same(v, current.get(k)))}
    patch = parse_model(TicketPatch, raw)
    kept = _kept_patch(patch.kept, current)
    _check_type(patch.type_, ["customerConfirmed"] if "customerConfirmed" in raw else [])
    for key in ("name", "severity", "status"):
        if key in raw and raw[key] is None:
            raise ValidationFailed(f"{key} cannot be removed", field=key)
    status = from_tmf_status(patch.status) if patch.status is not None else None
    if "customerConfirmed" in raw and status != "closed":
        raise ValidationFailed("customerConfirmed goes with status 'closed'", field="customerConfirmed")
    severity = _word(patch.severity, "severity", rules.SEVERITIES, rules.severity_from) if patch.severity else None
    if {"name", "description", "severity"} & set(raw) or kept:
        cases.update_details(session, clock, actor, case.id, title=patch.name,
                             customer_account=(patch.description or "") if "description" in raw else None,
                             severity=severity,
                             tmf_attributes=patched(case.tmf_attributes, kept) if kept else cases.UNCHANGED)
    if status == "closed":
        if not (patch.statusChangeReason or "").strip():
            raise ValidationFailed("closing needs the outcome in statusChangeReason", field="statusChangeReason")
        direct_actions.close_case(session, clock, actor, case.id, outcome=patch.statusChangeReason,
                                  customer_confirmed=bool(patch.customerConfirmed))
    elif status is not None:
        cases.set_status(session, clock, actor, case.id, status, reason=patch.statusChangeReason)
    elif "statusChangeReason" in raw:
        raise ValidationFailed("statusChangeReason goes with a status", field="statusChangeReason")
    fresh_etag(session, response, case)
    return select_fields(render(session, clock, [case])[0], parse_fields(fields))
