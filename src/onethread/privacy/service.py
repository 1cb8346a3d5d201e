"""Erasure (the right to be forgotten): a customer's identity is anonymised while the case, decision
and bill history the operator must keep stays, linked to a customer now called "Erased customer".

What happens to each record kind is the privacy policy's (``privacy.yaml``); decisions, bills,
charges, products, case steps, approval requests and the audit log are always kept. A customer with
an open case or something owed on a bill is refused (409, naming them): the operator still acts on
the case and may pursue the bill, and needs to know whom for. Erasure is an administrator's, a named
person's, with a reason; it is recorded in the audit log (with what was done, by count) and on the
customer's timeline, and it happens once.
"""

from __future__ import annotations

import functools
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import ADMINS, Principal
from onethread.attachments.service import store_of
from onethread.billing.service import owed
from onethread.customers.service import get_customer
from onethread.db.outbox import record_event
from onethread.db.session import settings_of
from onethread.errors import Conflict, Forbidden, ValidationFailed
from onethread.kernel.case_status import CaseStatus
from onethread.kernel.clock import Clock, ensure_utc
from onethread.models import (
    ApprovalRequest,
    Attachment,
    AuditEntry,
    Bill,
    BillingAccount,
    Case,
    CaseEvent,
    Commitment,
    Contact,
    FieldIncident,
    Harm,
    Identifier,
    IdentifierHolding,
    LetterDocument,
    OutboundMessage,
    Party,
    PortalAccount,
    Task,
    TimelineEntry,
    Visit,
    Vulnerability,
    WorkOrder,
)
from onethread.privacy import rules
from onethread.privacy.events import CustomerErased

DEFAULT_FILE = Path(__file__).with_name("privacy.yaml")
ERASURE = "personal_data"  # the audit entry's resource type that marks a customer as erased


@functools.lru_cache(maxsize=8)
def load_policy(path: str | None = None) -> rules.PrivacyPolicy:
    """The privacy policy, read once per process; a bad file names itself and the line."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise rules.PolicyError(str(file), None, f"cannot read it ({exc.strerror or exc})") from exc
    return rules.parse(text, str(file))


def policy_of(session: Session) -> rules.PrivacyPolicy:
    return load_policy(settings_of(session).privacy_policy_file)


def erased_at(session: Session, customer_id: str):
    """When the customer was erased, or None."""
    return session.scalar(select(AuditEntry.at).where(
        AuditEntry.customer_id == customer_id, AuditEntry.resource_type == ERASURE,
        AuditEntry.action == "delete").limit(1))


def blockers(session: Session, customer_id: str) -> list[str]:
    open_cases = session.execute(select(Case.id, Case.title).where(
        Case.customer_id == customer_id, Case.status != CaseStatus.CLOSED).order_by(Case.opened_at)).all()
    bills = session.scalars(select(Bill).where(Bill.customer_id == customer_id).order_by(Bill.period_start))
    owed_bills = [(b.bill_number, owed(b), b.currency) for b in bills if owed(b) > 0]
    return rules.erasure_blockers([tuple(c) for c in open_cases], owed_bills)


def _identifiers(session: Session, policy: rules.PrivacyPolicy, customer_id: str) -> int:
    """Anonymise the identifiers only this customer ever held, of the kinds the policy names. One
    another customer held too (a recycled number) is theirs as well: it is kept."""
    kinds = [k for k, action in policy.identifiers.items() if action == rules.ANONYMISE]
    if not kinds:
        return 0
    held = select(IdentifierHolding.identifier_id).where(IdentifierHolding.customer_id == customer_id)
    shared = select(IdentifierHolding.identifier_id).where(IdentifierHolding.customer_id != customer_id)
    ids = list(session.scalars(select(Identifier.id).where(
        Identifier.id.in_(held), Identifier.id.not_in(shared), Identifier.kind.in_(kinds),
        Identifier.value.not_like("erased:%"))))
    for identifier_id in ids:
        session.execute(update(Identifier).where(Identifier.id == identifier_id)
                        .values(value=rules.erased_identifier(identifier_id)))
    return len(ids)


def _attachments(session: Session, customer_id: str) -> int:
    """Delete the customer's attachments, and each file no other attachment still refers to."""
    rows = list(session.execute(select(Attachment.id, Attachment.storage_key)
                                .where(Attachment.customer_id == customer_id)))
    if not rows:
        return 0
    session.execute(delete(Attachment).where(Attachment.customer_id == customer_id))
    keys = {key for _, key in rows}
    still = set(session.scalars(select(Attachment.storage_key).where(Attachment.storage_key.in_(keys))))
    store = store_of(session)
    for key in keys - still:
        store.delete(key)
    return len(rows)


def _unname(session: Session, model, column, where, former: list[str], name: str) -> None:
    """Replace the customer's former names in a free-text column of their rows."""
    for old in former:
        session.execute(update(model).where(where, column.contains(old, autoescape=True))
                        .values({column.key: func.replace(column, old, name)})
                        .execution_options(synchronize_session=False))


def _field(session: Session, cid: str, former: list[str], name: str) -> int:
    """Field records: what technicians and staff wrote at her home goes; the work orders, their
    visits (slots, outcomes, wasted days) and incidents stay, as the subcontractor's record."""
    found = session.execute(update(Visit).where(Visit.customer_id == cid, Visit.note.is_not(None))
                            .values(note=rules.ERASED).execution_options(synchronize_session=False)).rowcount
    found += session.execute(update(FieldIncident).where(FieldIncident.customer_id == cid)
                             .values(description=rules.ERASED).execution_options(synchronize_session=False)).rowcount
    session.execute(update(FieldIncident)
                    .where(FieldIncident.customer_id == cid, FieldIncident.repair_note.is_not(None))
                    .values(repair_note=rules.ERASED).execution_options(synchronize_session=False))
    _unname(session, WorkOrder, WorkOrder.title, WorkOrder.customer_id == cid, former, name)
    return found


def _erase_rows(session: Session, policy: rules.PrivacyPolicy, customer, name: str) -> dict[str, int]:
    cid = customer.id
    done: dict[str, int] = {}
    a = policy.erasure
    party = session.get(Party, customer.party_id)
    former = sorted({n for n in (customer.name, party.display_name if party else None) if n and n != name},
                    key=len, reverse=True)  # the names to take out of free text, longest first
    if a.get("party") == rules.ANONYMISE and party is not None:
        if party.kind == "organization":
            party.organization_name = name
        else:
            party.given_name, party.family_name = None, name
        party.title, party.birth_date, party.tmf_attributes = None, None, None
        done["party"] = 1
    if a.get("customer") == rules.ANONYMISE:
        customer.name, customer.tmf_attributes = name, None
        done["customer"] = 1
    if a.get("billing_account") == rules.ANONYMISE:
        done["billing_account"] = session.execute(update(BillingAccount).where(BillingAccount.customer_id == cid)
                                                  .values(name=name)).rowcount
    done["identifier"] = _identifiers(session, policy, cid)
    if a.get("contact") == rules.ANONYMISE:
        done["contact"] = session.execute(update(Contact).where(Contact.customer_id == cid).values(
            subject=None, text=rules.ERASED, identifiers={}, extra={}, attachments=[])).rowcount
    if a.get("attachment") == rules.DELETE:
        done["attachment"] = _attachments(session, cid)
    if a.get("case") == rules.ANONYMISE:
        done["case"] = session.execute(update(Case).where(Case.customer_id == cid, Case.customer_account.is_not(None))
                                       .values(customer_account=rules.ERASED)
                                       .execution_options(synchronize_session=False)).rowcount
        done["harm"] = session.execute(update(Harm).where(Harm.customer_id == cid)
                                       .values(description=rules.ERASED)).rowcount
        for model, column in ((Case, Case.title), (CaseEvent, CaseEvent.text), (Task, Task.title),
                              (Commitment, Commitment.text)):
            _unname(session, model, column, model.customer_id == cid, former, name)
    if a.get("letter_document") == rules.DELETE:
        done["letter_document"] = session.execute(delete(LetterDocument)
                                                  .where(LetterDocument.customer_id == cid)).rowcount
    if a.get("outbound_message") == rules.ANONYMISE:
        done["outbound_message"] = session.execute(update(OutboundMessage).where(OutboundMessage.customer_id == cid)
                                                   .values(to_address=None, cc=[], subject=None, body=rules.ERASED,
                                                           attachments=[])).rowcount
    if a.get("vulnerability") == rules.DELETE:
        done["vulnerability"] = session.execute(delete(Vulnerability).where(Vulnerability.customer_id == cid)).rowcount
    if a.get("portal_account") == rules.ANONYMISE:
        account = session.scalar(select(PortalAccount).where(PortalAccount.party_id == customer.party_id))
        if account is not None:
            account.login, account.active = rules.erased_login(account.id), False
            account.password_hash = "!"  # matches no password
            done["portal_account"] = 1
    if a.get("timeline") == rules.ANONYMISE:
        done["timeline"] = session.execute(update(TimelineEntry).where(
            TimelineEntry.customer_id == cid, TimelineEntry.kind == "contact").values(detail=None)).rowcount
        for column in (TimelineEntry.title, TimelineEntry.detail):
            _unname(session, TimelineEntry, column, TimelineEntry.customer_id == cid, former, name)
    if a.get("field_service") == rules.ANONYMISE:
        done["field_service"] = _field(session, cid, former, name)
    # The four-eyes evidence keeps the request's facts, not the customer's name.
    for req in session.scalars(select(ApprovalRequest).where(ApprovalRequest.customer_id == cid)):
        if isinstance((req.evidence or {}).get("customer"), dict):
            req.evidence = {**req.evidence, "customer": {**req.evidence["customer"], "name": name}}
    return {k: v for k, v in done.items() if v}


def erase(session: Session, clock: Clock, actor: Principal, customer_id: str, *, reason: str,
          channel: str | None = None) -> dict:
    """Anonymise the customer's identity as the policy says; returns what was done, by record kind."""
    if actor.kind != "staff" or not actor.may(ADMINS):
        raise Forbidden("erasure is an administrator's, a named person's (a page session or a token issued to "
                        "a person), not a system's")
    problem = rules.reason_problem(reason)
    if problem:
        raise ValidationFailed(problem, field="reason")
    customer = get_customer(session, customer_id)
    when = erased_at(session, customer.id)
    if when is not None:
        raise Conflict(f"the customer was erased on {ensure_utc(when).isoformat()}", details={"erasedAt": str(when)})
    found = blockers(session, customer.id)
    if found:
        raise Conflict("the customer cannot be erased yet: " + "; ".join(found), details={"blockers": found})
    policy = policy_of(session)
    done = _erase_rows(session, policy, customer, rules.ERASED_NAME)
    customer.updated_at = clock.now()
    session.flush()
    kept = sorted([*rules.ALWAYS_KEPT, *(k for k, v in policy.erasure.items() if v == rules.KEEP)])
    access.audit(session, clock, actor, action="delete", resource_type=ERASURE, resource_id=customer.id,
                 customer_id=customer.id, channel=channel, purpose="erasure",
                 detail={"reason": reason.strip(), "done": done, "kept": kept, "policyVersion": policy.version})
    record_event(session, CustomerErased(
        occurred_at=clock.now(), aggregate_id=customer.id, customer_id=customer.id, actor=actor.id,
        actor_name=actor.name, channel=channel, timeline_title=f"Personal data erased by {actor.name}",
        timeline_detail=reason.strip()))
    return {"customerId": customer.id, "erasedAt": ensure_utc(clock.now()).isoformat(),
            "erasedBy": {"id": actor.id, "name": actor.name}, "done": done, "kept": kept}

