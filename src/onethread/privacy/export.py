"""Subject-access export: everything onethread holds on one customer, as JSON.

Every column of every row about the customer, grouped by what it is (the person, identifiers over
time, contacts, cases with their records, work orders with their visits and incidents, decisions,
bills with their charges, preferences, outbound messages, the audit of who read their data), and
the list of their attachments with a link to each file. Secrets (password hashes) and file bytes
are left out; letters are listed like attachments. The export itself is a read of personal data
and is audited.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.attachments.service import content_url
from onethread.customers.service import get_customer
from onethread.kernel.clock import Clock, ensure_utc
from onethread.models import (
    ApprovalRequest,
    Attachment,
    AuditEntry,
    Bill,
    BillingAccount,
    Case,
    CaseClock,
    CaseEvent,
    Charge,
    Commitment,
    Contact,
    ContactPreference,
    ContactSession,
    CustomerFlag,
    Decision,
    DefectReport,
    Escalation,
    FieldIncident,
    Handover,
    Harm,
    Household,
    HouseholdMember,
    Identifier,
    IdentifierHolding,
    LetterDocument,
    OutboundMessage,
    Participant,
    Party,
    PartyRelationship,
    PortalAccount,
    Product,
    ProductStatusChange,
    Representative,
    Task,
    Verification,
    Visit,
    Vulnerability,
    WorkOrder,
    WorkOrderTask,
)

FORMAT = "onethread-subject-access/1"
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "content"})  # never exported


def _value(value):
    if isinstance(value, datetime):
        return ensure_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


def row(obj) -> dict:
    """Every column of an ORM row, JSON-ready (secrets and bytes left out)."""
    return {c.key: _value(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in SECRET_COLUMNS}


def _rows(session: Session, query) -> list[dict]:
    return [row(r) for r in session.scalars(query)]


def _by(items: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for item in items:
        grouped.setdefault(item[key], []).append(item)
    return grouped


def _cases(session: Session, customer_id: str) -> list[dict]:
    cases = _rows(session, select(Case).where(Case.customer_id == customer_id).order_by(Case.opened_at, Case.id))
    ids = [c["id"] for c in cases]
    records = {
        "events": (CaseEvent, CaseEvent.at), "commitments": (Commitment, Commitment.made_at),
        "harms": (Harm, Harm.reported_at), "tasks": (Task, Task.created_at),
        "participants": (Participant, Participant.added_at), "handovers": (Handover, Handover.requested_at),
        "clocks": (CaseClock, CaseClock.due_at), "escalations": (Escalation, Escalation.at),
    }
    found = {name: _by(_rows(session, select(model).where(model.case_id.in_(ids)).order_by(when, model.id)),
                       "case_id") if ids else {}
             for name, (model, when) in records.items()}
    for case in cases:
        for name in records:
            case[name] = found[name].get(case["id"], [])
    return cases


def _bills(session: Session, customer_id: str) -> list[dict]:
    bills = _rows(session, select(Bill).where(Bill.customer_id == customer_id).order_by(Bill.period_start, Bill.id))
    charges = _by(_rows(session, select(Charge).where(Charge.customer_id == customer_id)
                        .order_by(Charge.created_at, Charge.id)), "bill_id")
    for bill in bills:
        bill["charges"] = charges.get(bill["id"], [])
    return bills


def _work_orders(session: Session, customer_id: str) -> list[dict]:
    """The customer's work orders, each with its tasks, visits and the incidents reported on it."""
    orders = _rows(session, select(WorkOrder).where(WorkOrder.customer_id == customer_id)
                   .order_by(WorkOrder.created_at, WorkOrder.id))
    ids = [o["id"] for o in orders]
    if not ids:
        return orders
    tasks = _by(_rows(session, select(WorkOrderTask).where(WorkOrderTask.work_order_id.in_(ids))
                      .order_by(WorkOrderTask.position, WorkOrderTask.id)), "work_order_id")
    visits = _by(_rows(session, select(Visit).where(Visit.work_order_id.in_(ids))
                       .order_by(Visit.slot_start, Visit.id)), "work_order_id")
    incidents = _by(_rows(session, select(FieldIncident).where(FieldIncident.work_order_id.in_(ids))
                          .order_by(FieldIncident.reported_at, FieldIncident.id)), "work_order_id")
    for order in orders:
        order["tasks"] = tasks.get(order["id"], [])
        order["visits"] = visits.get(order["id"], [])
        order["incidents"] = incidents.get(order["id"], [])
    return orders


def _identifiers(session: Session, customer_id: str) -> list[dict]:
    found = session.execute(
        select(IdentifierHolding, Identifier.kind, Identifier.value)
        .join(Identifier, Identifier.id == IdentifierHolding.identifier_id)
        .where(IdentifierHolding.customer_id == customer_id)
        .order_by(IdentifierHolding.valid_from, IdentifierHolding.id)).all()
    return [{"kind": kind, "value": value, **row(holding)} for holding, kind, value in found]


def _attachments(session: Session, customer_id: str) -> list[dict]:
    files = [{"id": a.id, "name": a.filename, "size": a.size, "contentType": a.content_type, "sha256": a.sha256,
              "source": a.source, "contactId": a.contact_id, "createdAt": _value(a.created_at),
              "link": content_url(a.id)}
             for a in session.scalars(select(Attachment).where(Attachment.customer_id == customer_id)
                                      .order_by(Attachment.created_at, Attachment.id))]
    letters = [{"id": d.id, "name": d.filename, "size": d.size, "contentType": "application/pdf", "sha256": d.sha256,
                "source": "letter", "messageId": d.message_id, "createdAt": _value(d.created_at),
                "link": f"/api/v1/letters/{d.id}/pdf"}
               for d in session.scalars(select(LetterDocument).where(LetterDocument.customer_id == customer_id)
                                        .order_by(LetterDocument.created_at, LetterDocument.id))]
    return files + letters


def export(session: Session, clock: Clock, actor: Principal, customer_id: str, *,
           channel: str | None = None) -> dict:
    """Everything held on the customer; the read is audited (with what was exported, by count)."""
    customer = get_customer(session, customer_id)
    cid = customer.id
    party = session.get(Party, customer.party_id)
    portal = session.scalar(select(PortalAccount).where(PortalAccount.party_id == customer.party_id))
    sessions_ = _rows(session, select(ContactSession).where(ContactSession.customer_id == cid)
                      .order_by(ContactSession.started_at, ContactSession.id))
    memberships = _rows(session, select(HouseholdMember).where(HouseholdMember.customer_id == cid))
    households = _rows(session, select(Household).where(
        Household.id.in_([m["household_id"] for m in memberships]))) if memberships else []
    representatives = session.execute(
        select(Representative, Party).join(Party, Party.id == Representative.party_id)
        .where(Representative.customer_id == cid).order_by(Representative.created_at)).all()
    preference = session.get(ContactPreference, cid)
    data = {
        "@type": "SubjectAccessExport",
        "format": FORMAT,
        "customerId": cid,
        "exportedAt": _value(clock.now()),
        "exportedBy": {"type": actor.kind, "id": actor.id, "name": actor.name},
        "customer": row(customer),
        "party": row(party) if party else None,
        "partyRelationships": _rows(session, select(PartyRelationship).where(or_(
            PartyRelationship.party_id == customer.party_id, PartyRelationship.related_party_id == customer.party_id))
            .order_by(PartyRelationship.created_at, PartyRelationship.id)),
        "billingAccounts": _rows(session, select(BillingAccount).where(BillingAccount.customer_id == cid)
                                 .order_by(BillingAccount.opened_on, BillingAccount.id)),
        "households": [{**h, "memberships": [m for m in memberships if m["household_id"] == h["id"]]}
                       for h in households],
        "representatives": [{**row(r), "name": p.display_name} for r, p in representatives],
        "vulnerabilities": _rows(session, select(Vulnerability).where(Vulnerability.customer_id == cid)
                                 .order_by(Vulnerability.recorded_at, Vulnerability.id)),
        "flags": _rows(session, select(CustomerFlag).where(CustomerFlag.customer_id == cid)
                       .order_by(CustomerFlag.set_at, CustomerFlag.id)),
        "identifiers": _identifiers(session, cid),
        "products": _rows(session, select(Product).where(Product.customer_id == cid)
                          .order_by(Product.created_at, Product.id)),
        "productStatusChanges": _rows(session, select(ProductStatusChange).where(ProductStatusChange.customer_id == cid)
                                      .order_by(ProductStatusChange.at, ProductStatusChange.id)),
        "contacts": _rows(session, select(Contact).where(Contact.customer_id == cid)
                          .order_by(Contact.occurred_at, Contact.id)),
        "contactSessions": sessions_,
        "verifications": _rows(session, select(Verification).where(Verification.customer_id == cid)
                               .order_by(Verification.verified_at, Verification.id)),
        "cases": _cases(session, cid),
        "workOrders": _work_orders(session, cid),
        "decisions": _rows(session, select(Decision).where(Decision.customer_id == cid)
                           .order_by(Decision.decided_at, Decision.id)),
        "defectReports": _rows(session, select(DefectReport).where(DefectReport.customer_id == cid)
                               .order_by(DefectReport.reported_at, DefectReport.id)),
        "approvalRequests": _rows(session, select(ApprovalRequest).where(ApprovalRequest.customer_id == cid)
                                  .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)),
        "bills": _bills(session, cid),
        "contactPreference": row(preference) if preference else None,
        "outboundMessages": _rows(session, select(OutboundMessage).where(OutboundMessage.customer_id == cid)
                                  .order_by(OutboundMessage.created_at, OutboundMessage.id)),
        "portalAccount": row(portal) if portal else None,
        "auditOfReads": _rows(session, select(AuditEntry).where(AuditEntry.customer_id == cid)
                              .order_by(AuditEntry.at, AuditEntry.id)),
        "attachments": _attachments(session, cid),
    }
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    access.audit(session, clock, actor, action="read", resource_type="subject_access_export", resource_id=cid,
                 customer_id=cid, channel=channel, purpose="subject access request", detail={"counts": counts})
    return data
