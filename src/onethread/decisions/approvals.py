"""Four eyes for drastic actions (S3): terminating a line, flagging a customer for fraud, writing
off above a threshold, closing a complaint without the customer's confirmation, authorising a
representative (who then sees and acts on the customer's cases in the portal).

A request records the reason and the evidence the requester saw (captured now, stored on the
request): for the identifier in question how long this customer has held it and the bills they
paid on it, their tenure, their open cases. Nothing happens to the customer until a second person
with the right role approves; the approval then runs the action in the same transaction through
the capability that owns it (inventory, customers' flags, billing, cases). Every step goes on the
case (if any) and the customer's timeline; every read of the evidence is audited.

The same actions asked for directly (the agent desktop's close, ``POST /api/v1/cases/{id}/close``,
the TMF621 close, the TMF637 termination) go through ``decisions.direct_actions``, which asks
``refuse_direct_close`` / ``refuse_direct_termination`` here before acting, so no entry point can
go around the approval; the routes do not call these checks themselves.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.billing import queries as billing_queries
from onethread.billing import service as billing
from onethread.cases import rules as cases_rules
from onethread.cases import service as cases
from onethread.cases.log import log
from onethread.customers import flags
from onethread.customers import service as customers
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.decisions import approval_rules as rules
from onethread.decisions.approval_rules import ApprovalStatus
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.interactions.rules import CHANNELS
from onethread.inventory import rules as inventory_rules
from onethread.inventory import service as inventory
from onethread.inventory.rules import ProductStatus
from onethread.kernel import pagination
from onethread.kernel.case_status import CaseStatus
from onethread.kernel.clock import Clock, ensure_utc
from onethread.kernel.events import DomainEvent
from onethread.kernel.money import Money
from onethread.models import ApprovalRequest, Bill, Case, Identifier, IdentifierHolding, Product

POLICY_FILE = Path(__file__).with_name("four_eyes.yaml")
ROUTE = "/api/v1/approvals"
TERMINATING = frozenset({"terminated", "pendingTerminate"})


@functools.cache
def policy() -> rules.FourEyesPolicy:
    """The shipped four-eyes policy, read once per process (a broken file names itself)."""
    return rules.parse(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))


def _iso(value: datetime | None) -> str | None:
    return ensure_utc(value).isoformat() if value is not None else None


def _money(amount: int, currency: str) -> str:
    return f"{Money(amount, currency).as_decimal_str()} {currency}"


# --- guards for the direct routes ------------------------------------------------------------

def refuse_direct_termination(product: Product, to_status: str | None, *, channel: str | None,
                              reason: str | None) -> None:
    """A termination outside four eyes must be the customer's own request, recorded with the
    channel they asked through and their reason (S4: the store removes the SIM the customer hands
    in). Without them it is the operator's decision: 409, naming the approval route."""
    if to_status not in TERMINATING or product.status in inventory_rules.TERMINAL:
        return
    if product.status == ProductStatus.PENDING_TERMINATE:
        return  # finishing a termination the customer asked for when it was put pending
    if channel and channel != "system" and (reason or "").strip():
        return
    raise Conflict(
        "terminating a line is a drastic action: unless the customer asked for it (then send the channel "
        "they asked through and their reason), it needs a second person's approval; "
        f"ask with POST {ROUTE} (action terminate_line)", field="status",
        details={"approvalRoute": ROUTE, "action": "terminate_line"})


def refuse_direct_close(session: Session, case_id: str, *, customer_confirmed: bool) -> None:
    """A complaint closes without the customer's confirmation only through four eyes."""
    case = session.get(Case, case_id)
    if case is None or customer_confirmed or case.kind != "complaint" or case.status == CaseStatus.CLOSED:
        return
    if cases_rules.closure_blockers(cases.open_items(session, case)):
        return  # the close is refused anyway, naming what is still open: that comes first
    raise Conflict(
        "closing a complaint without the customer's confirmation needs a second person's approval; "
        f"ask with POST {ROUTE} (action close_unconfirmed)", field="customerConfirmed",
        details={"approvalRoute": ROUTE, "action": "close_unconfirmed"})


# --- evidence --------------------------------------------------------------------------------

def _line_identifier(session: Session, product: Product, now: datetime) -> str | None:
    """The number of a line (else its SIM) held now, or last held."""
    rows = session.execute(
        select(IdentifierHolding.identifier_id, Identifier.kind)
        .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(IdentifierHolding.product_id == product.id, IdentifierHolding.valid_from <= now,
               Identifier.kind.in_(("msisdn", "iccid")))
        .order_by(IdentifierHolding.valid_from.desc())).all()
    for kind in ("msisdn", "iccid"):
        for identifier_id, found in rows:
            if found == kind:
                return identifier_id
    return None


def _identifier_evidence(session: Session, customer_id: str, identifier_id: str, now: datetime) -> dict:
    ident = session.get(Identifier, identifier_id)
    holdings = list(session.scalars(select(IdentifierHolding).where(
        IdentifierHolding.identifier_id == identifier_id).order_by(IdentifierHolding.valid_from)))
    own = [(ensure_utc(h.valid_from), ensure_utc(h.valid_to) if h.valid_to else None) for h in holdings
           if h.customer_id == customer_id]
    others = [h for h in holdings if h.customer_id != customer_id]
    first = own[0][0] if own else None
    current = any(start <= now and (end is None or end > now) for start, end in own)
    before = [ensure_utc(h.valid_to) for h in others if h.valid_to is not None and first and h.valid_to <= first]
    paid = billing_queries.paid_on_identifier(session, customer_id, identifier_id)
    return {
        "id": ident.id, "kind": ident.kind, "value": ident.value,
        "heldSince": _iso(first), "heldFor": rules.years_and_months(first.date(), now.date()) if first else None,
        "heldDays": rules.held_days(own, now), "heldNow": current,
        "periods": [{"from": _iso(s), "to": _iso(e)} for s, e in own],
        # Someone else's earlier holding, without their name: the number was recycled to this customer.
        "anotherHolderUntil": _iso(max(before)) if before else None,
        "bills": {"charged": paid.bills_charged, "paid": paid.bills_paid, "paidTotal": paid.paid_minor,
                  "firstPeriod": paid.first_period.isoformat() if paid.first_period else None,
                  "lastPaidAt": _iso(paid.last_paid_at)},
    }


def gather_evidence(session: Session, clock: Clock, actor: Principal, *, customer_id: str,
                    identifier_id: str | None = None, product: Product | None = None, bill: Bill | None = None,
                    case: Case | None = None) -> dict:
    """What the second person will see, as it is now. Reading it is audited."""
    now = clock.now()
    customer = get_customer(session, customer_id)
    open_cases = session.execute(select(Case.id, Case.title, Case.kind, Case.opened_at).where(
        Case.customer_id == customer_id, Case.status != CaseStatus.CLOSED).order_by(Case.opened_at)).all()
    record = billing_queries.payment_record(session, customer_id)
    evidence: dict = {
        "capturedAt": _iso(now),
        "customer": {"id": customer.id, "name": customer.name, "customerSince": customer.customer_since.isoformat(),
                     "tenure": rules.years_and_months(customer.customer_since, now.date()),
                     "status": customer.status},
        "openCases": [{"id": i, "title": t, "kind": k, "openedAt": _iso(at)} for i, t, k, at in open_cases],
        "bills": {**record, "lastPaidAt": _iso(record["lastPaidAt"])},
        "flags": [f.kind for f in flags.active_flags(session, customer_id)],
        "identifier": _identifier_evidence(session, customer_id, identifier_id, now) if identifier_id else None,
    }
    if product is not None:
        evidence["product"] = {"id": product.id, "name": product.name, "kind": product.kind, "status": product.status,
                               "activatedAt": _iso(product.activated_at)}
    if bill is not None:
        evidence["bill"] = {"id": bill.id, "number": bill.bill_number, "currency": bill.currency,
                            "amount": bill.amount_minor, "paid": bill.paid_minor, "writtenOff": bill.written_off_minor,
                            "owed": billing.owed(bill), "status": bill.status, "dueOn": bill.due_on.isoformat()}
    if case is not None:
        evidence["case"] = {"id": case.id, "title": case.title, "kind": case.kind, "status": case.status,
                            "openedAt": _iso(case.opened_at)}
    access.audit(session, clock, actor, action="read", resource_type="approval_evidence", resource_id=None,
                 customer_id=customer_id, purpose="four-eyes evidence")
    return evidence


# --- the log -----------------------------------------------------------------------------------

def _title(req: ApprovalRequest) -> str:
    what = policy().rule(req.action).label
    target = (req.evidence.get("product") or {}).get("name") or (req.evidence.get("case") or {}).get("title")
    if req.action == "add_representative":
        target = f"{req.params.get('name')} as {req.params.get('relationship')}"
    if req.action == "write_off" and req.amount_minor is not None:
        target = f"{_money(req.amount_minor, req.currency)} on bill {(req.evidence.get('bill') or {}).get('number')}"
    return f"{what} ({target})" if target else what


def _record(session: Session, clock: Clock, actor: Principal, req: ApprovalRequest, step: str, title: str,
            text: str | None = None) -> None:
    """A step of a request: on its case when it has one (which also puts it on the timeline), else
    straight on the customer's timeline."""
    data = {"approvalId": req.id, "action": req.action, "status": req.status}
    case = session.get(Case, req.case_id) if req.case_id else None
    if case is not None:
        log(session, clock, case, actor, f"approval_{step}", title, text=text, data=data)
        return
    record_event(session, DomainEvent(
        type=f"approval.{step}", occurred_at=clock.now(), aggregate_type="approval", aggregate_id=req.id,
        customer_id=req.customer_id,
        payload={**data, "actor": actor.id, "actorName": actor.name, "timelineTitle": title,
                 "timelineDetail": text}))


# --- requests ----------------------------------------------------------------------------------

def get_request(session: Session, approval_id: str) -> ApprovalRequest:
    req = session.get(ApprovalRequest, approval_id)
    if req is None:
        raise NotFound(f"no approval request {approval_id}")
    return req


def read_request(session: Session, clock: Clock, actor: Principal, approval_id: str) -> ApprovalRequest:
    """One request with its evidence, for display: the read of the customer's data is audited."""
    req = get_request(session, approval_id)
    access.audit(session, clock, actor, action="read", resource_type="approval", resource_id=req.id,
                 customer_id=req.customer_id, purpose="four-eyes review")
    return req


def list_requests(session: Session, clock: Clock, actor: Principal, *, status: str | None = None,
                  customer_id: str | None = None, offset: int = 0, limit: int = 50,
                  cursor: str | None = None) -> tuple[list[ApprovalRequest], int]:
    """A page of requests, oldest first (``cursor``: after the one it names, ``pagination.after``);
    one audit row per customer shown."""
    if status is not None and status not in rules.STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    query = select(ApprovalRequest)
    if status is not None:
        query = query.where(ApprovalRequest.status == status)
    if customer_id is not None:
        query = query.where(ApprovalRequest.customer_id == customer_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    keyset = pagination.after(cursor, ApprovalRequest.requested_at, ApprovalRequest.id, descending=False)
    if keyset is not None:
        query, offset = query.where(keyset), 0
    rows = list(session.scalars(query.order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
                                .offset(offset).limit(limit)))
    shown: dict[str, list[str]] = {}
    for req in rows:
        shown.setdefault(req.customer_id, []).append(req.id)
    for cid, ids in sorted(shown.items()):
        access.audit(session, clock, actor, action="read", resource_type="approval",
                     resource_id=ids[0] if len(ids) == 1 else None, customer_id=cid, purpose="four-eyes list",
                     detail={"approvalIds": ids})
    return rows, total


def _text(value: str | None, field: str, limit: int, *, required: str | None = None) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationFailed(required, field=field)
        return None
    if len(value) > limit:
        raise ValidationFailed(f"at most {limit} characters", field=field)
    return value


def _pending_twin(session: Session, action: str, target_field: str, target: str) -> ApprovalRequest | None:
    column = getattr(ApprovalRequest, target_field)
    return session.scalar(select(ApprovalRequest).where(ApprovalRequest.action == action, column == target,
                                                        ApprovalRequest.status == ApprovalStatus.PENDING).limit(1))


def _load(session: Session, model, row_id: str | None, field: str, what: str):
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"no {what} {row_id}", field=field)
    return row


def _representative_params(session: Session, clock: Clock, owner: str, representative: dict | None) -> dict:
    """The representative asked for, checked now as it will be when approved; kept on the request."""
    if not representative:
        raise ValidationFailed("name the representative (partyId, relationship, permissions)", field="partyId")
    valid_from, valid_until = representative.get("validFrom"), representative.get("validUntil")
    name, perms, relationship = customers.check_representative(
        session, clock, customer_id=owner, party_id=representative.get("partyId") or "",
        relationship=representative.get("relationship") or "", permissions=representative.get("permissions") or [],
        valid_from=valid_from, valid_until=valid_until)
    if any(r.action == "add_representative" and r.params.get("partyId") == representative["partyId"]
           for r in session.scalars(select(ApprovalRequest).where(ApprovalRequest.customer_id == owner,
                                                                  ApprovalRequest.status == ApprovalStatus.PENDING))):
        raise Conflict("the same representative is already waiting for a second person's approval",
                       field="partyId")
    return {"partyId": representative["partyId"], "name": name, "relationship": relationship, "permissions": perms,
            "validFrom": valid_from.isoformat() if valid_from else None,
            "validUntil": valid_until.isoformat() if valid_until else None,
            "evidence": representative.get("evidence")}


def _check_action(session: Session, action: str, owner: str, *, product: Product | None, bill: Bill | None,
                  case: Case | None, amount_minor: int | None, outcome: str | None) -> dict:
    """What each action needs, and that it can still be done; returns the action's own parameters."""
    if action != "write_off" and amount_minor is not None:
        raise ValidationFailed("only a write-off has an amount", field="amount")
    if action == "terminate_line":
        if product is None:
            raise ValidationFailed("name the line to terminate (productId)", field="productId")
        if product.status in inventory_rules.TERMINAL:
            raise Conflict(f"the product is already {product.status}", field="productId")
    elif action == "write_off":
        if bill is None:
            raise ValidationFailed("name the bill (billId)", field="billId")
        if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
            raise ValidationFailed("the amount to write off is a whole, positive number of minor units",
                                   field="amount")
        if amount_minor > billing.owed(bill):
            raise Conflict(f"bill {bill.bill_number} owes {_money(billing.owed(bill), bill.currency)}: "
                           "no more than that can be written off", field="amount")
    elif action == "close_unconfirmed":
        if case is None:
            raise ValidationFailed("name the complaint to close (caseId)", field="caseId")
        if case.status == CaseStatus.CLOSED:
            raise Conflict("the case is already closed", field="caseId")
        if case.kind != "complaint":
            raise ValidationFailed("only a complaint needs approval to close without the customer's confirmation; "
                                   "close this case directly", field="caseId")
        blockers = cases_rules.closure_blockers(cases.open_items(session, case))
        if blockers:
            raise Conflict("the case cannot be closed: " + "; ".join(blockers), details={"open": blockers})
        return {"outcome": _text(outcome, "outcome", rules.OUTCOME_MAX, required="record the outcome")}
    elif action == "flag_fraud" and "fraud" in [f.kind for f in flags.active_flags(session, owner)]:
        raise Conflict("the customer is already flagged for fraud")
    return {}


def request(session: Session, clock: Clock, actor: Principal, *, action: str, reason: str,
            customer_id: str | None = None, product_id: str | None = None, identifier_id: str | None = None,
            case_id: str | None = None, bill_id: str | None = None, amount_minor: int | None = None,
            outcome: str | None = None, channel: str | None = None,
            representative: dict | None = None) -> ApprovalRequest:
    """Ask for a drastic action. Records the request and its evidence; changes nothing else
    (except a write-off at or below the threshold, which needs no second person and is done now)."""
    refusal = rules.requester_refusal(requester_kind=actor.kind)
    if refusal:
        raise Forbidden(refusal)
    if action not in rules.ACTIONS:
        raise ValidationFailed(f"action must be one of {', '.join(rules.ACTIONS)}", field="action")
    reason = _text(reason, "reason", rules.REASON_MAX, required="say why: the reason is recorded with the evidence")
    if channel is not None and channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    now = clock.now()
    product = _load(session, Product, product_id, "productId", "product")
    bill = _load(session, Bill, bill_id, "billId", "bill")
    case = _load(session, Case, case_id, "caseId", "case")
    owner = customer_id or next((row.customer_id for row in (product, bill, case) if row is not None), None)
    if owner is None:
        raise ValidationFailed("name the customer (customerId)", field="customerId")
    get_customer(session, owner)
    for name, row in (("productId", product), ("billId", bill), ("caseId", case)):
        if row is not None and row.customer_id != owner:
            raise ValidationFailed(f"the {name.removesuffix('Id')} is not this customer's", field=name)
    params = {**({"channel": channel} if channel else {}),
              **_check_action(session, action, owner, product=product, bill=bill, case=case,
                              amount_minor=amount_minor, outcome=outcome)}
    if action == "add_representative":
        params.update(_representative_params(session, clock, owner, representative))

    if identifier_id is not None:
        held = session.scalar(select(IdentifierHolding.id).where(IdentifierHolding.identifier_id == identifier_id,
                                                                 IdentifierHolding.customer_id == owner).limit(1))
        if held is None:
            raise ValidationFailed("the customer has never held that identifier", field="identifierId")
    elif product is not None:
        identifier_id = _line_identifier(session, product, now)

    target_field = rules.TARGET[action]
    target = {"product_id": product_id, "customer_id": owner, "bill_id": bill_id, "case_id": case_id}[target_field]
    twin = _pending_twin(session, action, target_field, target) if action != "add_representative" else None
    if twin is not None:
        raise Conflict(f"the same request is already waiting for a second person ({ROUTE}/{twin.id})",
                       details={"approvalId": twin.id})

    rule = policy().rule(action)
    req = ApprovalRequest(
        customer_id=owner, action=action, product_id=product_id, identifier_id=identifier_id, case_id=case_id,
        bill_id=bill_id, amount_minor=amount_minor if action == "write_off" else None,
        currency=bill.currency if action == "write_off" else None, params=params, reason=reason,
        evidence=gather_evidence(session, clock, actor, customer_id=owner, identifier_id=identifier_id,
                                 product=product, bill=bill, case=case),
        required_roles=sorted(rule.approvers), status=ApprovalStatus.PENDING, requested_at=now, requested_by=actor.id,
        requested_by_name=actor.name, result={})
    session.add(req)
    session.flush()
    _record(session, clock, actor, req, "requested", f"Four eyes: {_title(req)} asked by {actor.name}", reason)
    if not rules.needs_second_person(policy(), action, amount_minor, req.currency):
        limit = rule.threshold_minor[req.currency]
        req.status, req.decided_at = ApprovalStatus.APPROVED, now
        req.decided_by_name = "no second person needed"
        req.decision_note = f"at or below the four-eyes threshold of {_money(limit, req.currency)}"
        session.flush()
        _execute(session, clock, actor, req)
    return req


# --- deciding ----------------------------------------------------------------------------------

def _claim(session: Session, req: ApprovalRequest, expected_version: int | None) -> None:
    refusal = rules.decided_refusal(req.status)
    if refusal:
        raise Conflict(refusal, details={"status": req.status})
    if expected_version is not None and expected_version != req.version:
        raise Conflict("the request changed since you read it; read it again", details={"version": req.version})


def _flush_claim(session: Session) -> None:
    """Write the decision first: a second decision on the same version finds no row (409)."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("someone else decided this request at the same moment; read it again") from exc


def approve(session: Session, clock: Clock, actor: Principal, approval_id: str, *, note: str | None = None,
            expected_version: int | None = None) -> ApprovalRequest:
    """A second person with the right role approves: the action runs now, in this transaction."""
    req = get_request(session, approval_id)
    _claim(session, req, expected_version)
    refusal = rules.approval_refusal(requester_id=req.requested_by, approver_id=actor.id, approver_role=actor.role,
                                     approver_kind=actor.kind, required_roles=req.required_roles)
    if refusal:
        raise Forbidden(refusal)
    note = _text(note, "note", rules.NOTE_MAX)
    req.status, req.decided_at = ApprovalStatus.APPROVED, clock.now()
    req.decided_by, req.decided_by_name = actor.id, actor.name
    req.decision_note = note
    _flush_claim(session)
    _record(session, clock, actor, req, "approved", f"Four eyes: {_title(req)} approved by {actor.name}", note)
    _execute(session, clock, actor, req)
    return req


def reject(session: Session, clock: Clock, actor: Principal, approval_id: str, *, note: str,
           expected_version: int | None = None) -> ApprovalRequest:
    """A second person says no: nothing happens to the customer."""
    req = get_request(session, approval_id)
    _claim(session, req, expected_version)
    refusal = rules.approval_refusal(requester_id=req.requested_by, approver_id=actor.id, approver_role=actor.role,
                                     approver_kind=actor.kind, required_roles=req.required_roles)
    if refusal:
        raise Forbidden(refusal)
    note = _text(note, "note", rules.NOTE_MAX, required="say why the request is rejected")
    req.status, req.decided_at = ApprovalStatus.REJECTED, clock.now()
    req.decided_by, req.decided_by_name = actor.id, actor.name
    req.decision_note = note
    _flush_claim(session)
    _record(session, clock, actor, req, "rejected", f"Four eyes: {_title(req)} rejected by {actor.name}", note)
    return req


def withdraw(session: Session, clock: Clock, actor: Principal, approval_id: str, *, note: str | None = None,
             expected_version: int | None = None) -> ApprovalRequest:
    """The requester takes the request back."""
    req = get_request(session, approval_id)
    _claim(session, req, expected_version)
    refusal = rules.withdraw_refusal(requester_id=req.requested_by, caller_id=actor.id)
    if refusal:
        raise Forbidden(refusal)
    note = _text(note, "note", rules.NOTE_MAX)
    req.status, req.decided_at = ApprovalStatus.WITHDRAWN, clock.now()
    req.decided_by, req.decided_by_name = actor.id, actor.name
    req.decision_note = note
    _flush_claim(session)
    _record(session, clock, actor, req, "withdrawn", f"Four eyes: {_title(req)} withdrawn by {actor.name}", note)
    return req


def _execute(session: Session, clock: Clock, actor: Principal, req: ApprovalRequest) -> None:
    """Do the approved action through the capability that owns it; its result is kept on the request."""
    why = f"four eyes {req.id}: {req.reason}"
    if req.action == "terminate_line":
        product = inventory.get_product(session, req.product_id)
        if product.status in inventory_rules.TERMINAL:
            raise Conflict(f"the product is already {product.status}")
        inventory.change_status(session, clock, actor, product, ProductStatus.TERMINATED,
                                channel=req.params.get("channel"), reason=why[:inventory_rules.REASON_MAX])
        result = {"productId": product.id, "productStatus": product.status,
                  "terminatedAt": _iso(product.terminated_at)}
        done = f"{product.name} terminated"
    elif req.action == "flag_fraud":
        flag = flags.set_flag(session, clock, actor, customer_id=req.customer_id, kind="fraud", reason=req.reason,
                              approval_id=req.id)
        result, done = {"flagId": flag.id, "kind": flag.kind}, "customer flagged for fraud"
    elif req.action == "write_off":
        bill = billing.write_off(session, clock, actor, req.bill_id, amount_minor=req.amount_minor, reason=req.reason,
                                 approval_id=req.id)
        result = {"billId": bill.id, "billStatus": bill.status, "writtenOff": bill.written_off_minor,
                  "owed": billing.owed(bill)}
        done = f"{_money(req.amount_minor, req.currency)} written off bill {bill.bill_number}"
    elif req.action == "add_representative":
        p = req.params
        rep = customers.add_representative(
            session, clock, actor, customer_id=req.customer_id, party_id=p["partyId"],
            relationship=p["relationship"], permissions=p["permissions"],
            valid_from=date.fromisoformat(p["validFrom"]) if p.get("validFrom") else None,
            valid_until=date.fromisoformat(p["validUntil"]) if p.get("validUntil") else None,
            evidence=p.get("evidence"))
        result = {"representativeId": rep.id, "partyId": rep.party_id, "permissions": list(rep.permissions)}
        done = f"{p['name']} authorised to act for the customer"
    else:  # close_unconfirmed
        case = cases.close(session, clock, actor, req.case_id, outcome=req.params["outcome"],
                           customer_confirmed=False)
        result, done = {"caseId": case.id, "caseStatus": case.status}, "complaint closed without confirmation"
    req.executed_at, req.result = clock.now(), result
    session.flush()
    _record(session, clock, actor, req, "executed", f"Four eyes: {done}", req.decision_note)
