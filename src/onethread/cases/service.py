"""Use cases for a case's life: open (or join), messages and replies, complaint steps, close,
merge and split. Ownership is in ``handover_service``, open items in ``items_service``,
clocks in ``clocks``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onethread.access.rules import FIELD_SUBCONTRACTOR, Principal, Role
from onethread.cases import assignment, clocks, merge_undo, proactive, rules, triage_items, waits
from onethread.cases.handover_service import eligible_owner
from onethread.cases.items_service import open_case as load_open
from onethread.cases.log import log
from onethread.cases.rules import CaseStatus, ClockKind, HandoverStatus, ItemStatus
from onethread.customers import queries as customer_queries
from onethread.customers.service import get_customer
from onethread.db.session import settings_of
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.interactions import service as interactions
from onethread.interactions.rules import CHANNELS, Direction
from onethread.kernel.clock import Clock, SettableClock
from onethread.kernel.events import DomainEvent
from onethread.models import (
    Case,
    CaseClock,
    CaseEvent,
    Commitment,
    Contact,
    Customer,
    Handover,
    Harm,
    Participant,
    Party,
    Product,
    Task,
    Team,
)
from onethread.outreach import service as outreach

UNCHANGED = object()  # update_details: leave the TMF attributes as they are


def get_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def open_new(session: Session, clock: Clock, actor: Principal, *, customer_id: str, kind: str, title: str,
             opened_via: str, customer_account: str | None = None, product_id: str | None = None,
             category: str | None = None, owner_id: str | None = None, contact_id: str | None = None,
             severity: str = "medium", tmf_attributes: dict | None = None, owner_team_id: str | None = None) -> Case:
    """Open a case with its one named owner (the person opening it unless another is named, or
    ``owner_team_id``: a member of that team chosen by the team's rule).
    ``tmf_attributes``: TMF621 attributes kept as the client sent them (no home in onethread)."""
    get_customer(session, customer_id)
    if kind not in rules.KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.KINDS)}", field="kind")
    if opened_via not in CHANNELS:
        raise ValidationFailed(f"openedVia must be one of {', '.join(CHANNELS)}", field="openedVia")
    if severity not in rules.SEVERITIES:
        raise ValidationFailed(f"severity must be one of {', '.join(rules.SEVERITIES)}", field="severity")
    if not (title or "").strip():
        raise ValidationFailed("a case needs a title", field="title")
    if len(title.strip()) > rules.TITLE_MAX:
        raise ValidationFailed(f"the title is longer than {rules.TITLE_MAX} characters", field="title")
    if category is not None and len(category) > rules.CATEGORY_MAX:
        raise ValidationFailed(f"the category is longer than {rules.CATEGORY_MAX} characters", field="category")
    if product_id is not None:
        product = session.get(Product, product_id)
        if product is None or product.customer_id != customer_id:
            raise ValidationFailed("the product is not this customer's", field="productId")
    chosen_by = None
    if owner_team_id is not None:
        if owner_id is not None:
            raise ValidationFailed("name the owner or the team whose rule chooses one, not both", field="relatedParty")
        owner_id, chosen_by = _owner_by_rule(session, owner_team_id, customer_id, product_id)
    if owner_id is None:
        if actor.kind != "staff" or actor.role == FIELD_SUBCONTRACTOR:
            raise ValidationFailed("name the case's owner (ownerId): every case has one named person",
                                   field="ownerId")
        owner_id = actor.id
    owner = eligible_owner(session, owner_id)
    now = clock.now()
    settings = settings_of(session)
    case = Case(customer_id=customer_id, kind=kind, category=category, product_id=product_id, title=title.strip(),
                customer_account=customer_account, severity=severity, owner_id=owner.id, opened_via=opened_via,
                opened_at=now, opened_by=actor.id, market=settings.market, last_activity_at=now,
                tmf_attributes=tmf_attributes)
    session.add(case)
    session.flush()
    for kind_ in (ClockKind.FIRST_RESPONSE, ClockKind.NO_ACTIVITY, ClockKind.RESOLUTION_TARGET):
        clocks.start(session, case, kind_, now)
    if kind == "complaint":
        clocks.start(session, case, ClockKind.REGULATOR_WARNING, now)
        clocks.start(session, case, ClockKind.REGULATOR_DEADLINE, now)
    log(session, clock, case, actor, "opened", f"{kind.replace('_', ' ').capitalize()} case opened: {case.title}",
        text=customer_account, channel=opened_via,
        data={"ownerId": owner.id, "ownerName": owner.display_name, "kind": kind,
              **({"ownerChosenBy": chosen_by} if chosen_by else {})})
    if contact_id:
        attach_contact(session, clock, actor, case.id, contact_id)
    proactive.ensure(session, clock, case)
    return case


def find_thread(session: Session, clock: Clock, *, customer_id: str, kind: str | None, product_id: str | None,
                category: str | None) -> Case | None:
    """The open case a new contact about the same problem belongs to, if any."""
    now = clock.now()
    window = timedelta(days=settings_of(session).threading_window_days)
    last_contact = (select(Contact.case_id, func.max(Contact.occurred_at).label("at"))
                    .where(Contact.customer_id == customer_id, Contact.case_id.is_not(None))
                    .group_by(Contact.case_id).subquery())
    candidates = session.execute(
        select(Case, last_contact.c.at).outerjoin(last_contact, last_contact.c.case_id == Case.id)
        .where(Case.customer_id == customer_id, Case.status != CaseStatus.CLOSED).order_by(Case.last_activity_at.desc())
    ).all()
    for case, contacted_at in candidates:
        seen = max(case.last_activity_at, contacted_at) if contacted_at else case.last_activity_at
        if rules.thread_matches(same_customer=True, case_open=True, case_kind=case.kind, kind=kind,
                                case_product=case.product_id, product=product_id, case_category=case.category,
                                category=category, last_activity=seen, at=now, window=window):
            return case
    return None


def route_contact(session: Session, clock: Clock, actor: Principal, contact_id: str, *, kind: str, title: str,
                  product_id: str | None = None, category: str | None = None, owner_id: str | None = None,
                  case_id: str | None = None) -> tuple[Case, bool]:
    """Put a contact on its case: the one named, else the open case about the same problem,
    else a new one. Returns (case, joined an existing case)."""
    contact = interactions.get_contact(session, contact_id)
    if contact.customer_id is None:
        raise Conflict("the contact is in the match queue; link it to a customer first")
    if case_id is None and contact.case_id is not None:
        # Routed before (a retry, or a second system routing the same contact): the same answer.
        current = session.get(Case, contact.case_id)
        if current is not None and current.status != CaseStatus.CLOSED:
            return current, True
    if case_id is not None:
        case = load_open(session, case_id)
        attach_contact(session, clock, actor, case.id, contact.id)
        return case, True
    found = find_thread(session, clock, customer_id=contact.customer_id, kind=kind, product_id=product_id,
                        category=category)
    if found is not None:
        attach_contact(session, clock, actor, found.id, contact.id)
        return found, True
    case = open_new(session, clock, actor, customer_id=contact.customer_id, kind=kind, title=title,
                    opened_via=contact.channel, customer_account=contact.text, product_id=product_id,
                    category=category, owner_id=owner_id, contact_id=contact.id)
    return case, False


def _owner_by_rule(session: Session, team_id: str, customer_id: str, product_id: str | None) -> tuple[str, str]:
    """(owner id, how they were chosen) for a new case handed to the team by its rule."""
    wants = set()
    language = session.scalar(select(Party.preferred_language).join(Customer, Customer.party_id == Party.id)
                              .where(Customer.id == customer_id))
    if language:
        wants.add(language.strip().lower())
    if product_id:
        wants.add(session.scalar(select(Product.kind).where(Product.id == product_id)))
    owner = assignment.case_owner(session, team_id, wants)
    team = session.get(Team, team_id)
    if owner is None:
        raise Conflict(f"nobody in {team.name} can take a case now (all away or off)", field="relatedParty")
    return owner.id, f"the {team.routing_rule.replace('_', ' ')} rule of {team.name}"


def attach_contact(session: Session, clock: Clock, actor: Principal, case_id: str, contact_id: str, *,
                   reason: str | None = None) -> Contact:
    """Put a contact on the case (``reason``: why, when triage decided it). Its triage item, if it
    waited in a queue, is done; the rest of its live exchange (a chat's other lines) comes along."""
    case = load_open(session, case_id)
    contact = interactions.get_contact(session, contact_id)
    if contact.customer_id != case.customer_id:
        raise Conflict("the contact is not from this case's customer")
    if contact.case_id == case.id:
        return contact
    contact.case_id = case.id
    contact.case_reason = reason[:300] if reason else f"put on the case by {actor.name}"
    now = clock.now()
    if contact.direction == Direction.INBOUND:
        waits.customer_answered(session, clock, case, actor, contact.occurred_at)
        _customer_waiting(session, case, contact.occurred_at)
    log(session, clock, case, actor, "contact_linked", f"{contact.channel.capitalize()} contact added to the case",
        text=(contact.text or "")[:500] or None, channel=contact.channel,
        data={"contactId": contact.id, **({"reason": reason} if reason else {})})
    if contact.direction != Direction.INBOUND:
        clocks.touch(session, case, now)  # the customer calling again is not us working on it
    item = triage_items.end(session, contact.id, at=now, by=actor.id, resolution="case", case_id=case.id)
    if item is not None and item.session_id:
        for other in session.scalars(select(Contact).where(
                Contact.session_id == item.session_id, Contact.case_id.is_(None),
                Contact.direction == Direction.INBOUND,
                Contact.customer_id == case.customer_id, Contact.id != contact.id)):
            attach_contact(session, clock, actor, case.id, other.id, reason="the rest of the same contact session")
        triage_items.cover_the_rest(session, item, why=f"the rest of contact session {item.session_id}, whose "
                                    f"contact went to case {case.id}: not from that case's customer")
    return contact


THREADING = Principal(kind="system", id="threading", name="E-mail threading", role=Role.ADMIN)


def thread_reply(session: Session, event: DomainEvent) -> None:
    """Event handler (``contact.recorded``): an inbound answer in the thread of a message that is on
    an open case (a customer replying to our e-mail) joins that case and starts its waiting clock."""
    p = event.payload
    thread_id = p.get("threadId")
    if not thread_id or p.get("direction") != Direction.INBOUND or event.customer_id is None:
        return
    root = session.execute(select(Contact.case_id, Contact.customer_id).where(Contact.id == thread_id)).first()
    if root is None or root.case_id is None or root.customer_id != event.customer_id:
        return
    case = session.get(Case, root.case_id)
    contact = session.get(Contact, event.aggregate_id)
    if case is None or case.status == CaseStatus.CLOSED or contact is None or contact.case_id is not None:
        return
    attach_contact(session, SettableClock(event.occurred_at), THREADING, case.id, contact.id,
                   reason="a reply in the e-mail thread of a message on this case")


def _customer_waiting(session: Session, case: Case, since) -> None:
    if case.awaiting_reply_since is None:
        case.awaiting_reply_since = since
        clocks.start(session, case, ClockKind.CUSTOMER_WAITING, since)


def customer_message(session: Session, clock: Clock, actor: Principal, case_id: str, *, text: str, channel: str,
                     on_behalf: str | None = None) -> Contact:
    """The customer (or their representative) writes to the owner: it lands in the case and starts
    the customer-waiting clock."""
    case = load_open(session, case_id)
    if not (text or "").strip():
        raise ValidationFailed("the message is empty", field="text")
    now = clock.now()
    contact = interactions.record(session, clock, actor, interactions.Intake(
        channel=channel, direction=Direction.INBOUND, occurred_at=now, text=text.strip(), kind="message",
        customer_id=case.customer_id, extra={"caseId": case.id, "onBehalfOf": on_behalf} if on_behalf else
        {"caseId": case.id})).contact
    contact.case_id = case.id
    waits.customer_answered(session, clock, case, actor, now)
    _customer_waiting(session, case, now)
    log(session, clock, case, actor, "customer_message", "Message from the customer" +
        (f" (sent by {on_behalf})" if on_behalf else ""), text=text.strip(), audience="customer", channel=channel,
        data={"contactId": contact.id})
    return contact


def reply(session: Session, clock: Clock, actor: Principal, case_id: str, *, text: str,
          channel: str | None = None) -> Contact:
    """A person answers the customer, by one of ``rules.REPLY_CHANNELS`` (None: the customer's
    chosen channel): the waiting and first-response clocks stop. By e-mail, letter or SMS the
    answer is queued as an outbound message that the worker sends (``outreach``), on the channel
    the customer's record allows. A reply that only reaches a customer online is refused when
    their recorded needs ask for assisted channels."""
    case = load_open(session, case_id)
    if actor.kind != "staff":
        raise Forbidden("replies to the customer come from a named person")
    if not (text or "").strip():
        raise ValidationFailed("the reply is empty", field="text")
    needs = customer_queries.service_needs(session, case.customer_id, clock.now())
    channel = channel or needs.reply_channel or "email"
    if channel not in rules.REPLY_CHANNELS:
        raise ValidationFailed(f"reply by one of {', '.join(rules.REPLY_CHANNELS)}: {channel!r} cannot carry "
                               "a reply to the customer", field="channel")
    refused = needs.refuses(channel)
    if refused:
        raise Conflict(refused, field="channel")
    now = clock.now()
    if channel in rules.SENT_CHANNELS:
        # onethread delivers it: a queued message, guarded (a letters-only customer gets a letter)
        message = outreach.queue(session, clock, actor, customer_id=case.customer_id, channel=channel,
                                 purpose="service", body=text.strip(), template="reply",
                                 context={"case_title": case.title}, case_id=case.id)
        contact = interactions.get_contact(session, message.contact_id)
        channel = message.channel
    else:
        contact = interactions.record(session, clock, actor, interactions.Intake(
            channel=channel, direction=Direction.OUTBOUND, occurred_at=now, text=text.strip(), kind="message",
            customer_id=case.customer_id, extra={"caseId": case.id})).contact
        contact.case_id = case.id
    case.awaiting_reply_since = None
    clocks.stop(session, case.id, (ClockKind.CUSTOMER_WAITING, ClockKind.FIRST_RESPONSE), now)
    if case.status == CaseStatus.OPEN:
        case.status = CaseStatus.IN_PROGRESS
    log(session, clock, case, actor, "replied", f"{actor.name} replied to the customer", text=text.strip(),
        audience="customer", channel=channel, data={"contactId": contact.id})
    proactive.contacted(session, clock, actor, case, f"contacted: {actor.name} replied by {channel}")
    clocks.touch(session, case, now)
    return contact


def record_step(session: Session, clock: Clock, actor: Principal, case_id: str, *, step: str, text: str) -> CaseEvent:
    """Complaint handling: acknowledgement (by a person, not an automatic reply), the customer's
    own account, an apology, a resolution offer."""
    case = load_open(session, case_id)
    if step not in rules.COMPLAINT_STEPS:
        raise ValidationFailed(f"step must be one of {', '.join(rules.COMPLAINT_STEPS)}", field="step")
    if actor.kind != "staff":
        raise Forbidden("complaint steps are taken by a named person; an automatic reply does not count")
    if not (text or "").strip():
        raise ValidationFailed("say what was said", field="text")
    now = clock.now()
    if step == "customer_account":
        case.customer_account = text.strip()
    if step == "acknowledged":
        clocks.stop(session, case.id, (ClockKind.FIRST_RESPONSE,), now)
    entry = log(session, clock, case, actor, f"step_{step}", f"Complaint {rules.STEP_LABELS[step]}",
                text=text.strip(), audience="customer" if step != "customer_account" else "internal",
                data={"step": step})
    clocks.touch(session, case, now)
    return entry


def steps_done(session: Session, case_id: str) -> set[str]:
    kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id,
                                                         CaseEvent.kind.like("step_%"))).all()
    return {k.removeprefix("step_") for k in kinds}


def open_items(session: Session, case: Case) -> rules.OpenItems:
    harms = session.scalars(select(Harm.description).where(Harm.case_id == case.id, Harm.resolved_at.is_(None))).all()
    commitments = session.scalars(select(Commitment.text).where(Commitment.case_id == case.id,
                                                                Commitment.status == ItemStatus.OPEN)).all()
    proactive_ids = proactive.proactive_task_ids(session, [case.id])  # they end with the case, never block it
    tasks = [t.title for t in session.execute(select(Task.id, Task.title).where(
        Task.case_id == case.id, Task.status == ItemStatus.OPEN)) if t.id not in proactive_ids]
    missing = []
    if case.kind == "complaint":
        done = steps_done(session, case.id)
        missing = [s for s in rules.COMPLAINT_STEPS if s not in done]
    return rules.OpenItems(list(harms), list(commitments), list(tasks), case.awaiting_reply_since, missing)


def close(session: Session, clock: Clock, actor: Principal, case_id: str, *, outcome: str,
          customer_confirmed: bool) -> Case:
    """Close with the outcome; refused, naming everything still open, while anything is."""
    case = load_open(session, case_id)
    if not (outcome or "").strip():
        raise ValidationFailed("record the outcome", field="outcome")
    blockers = rules.closure_blockers(open_items(session, case))
    if blockers:
        raise Conflict("the case cannot be closed: " + "; ".join(blockers), details={"open": blockers})
    now = clock.now()
    case.status, case.closed_at, case.outcome = CaseStatus.CLOSED, now, outcome.strip()
    case.customer_confirmed = customer_confirmed
    proactive.end_with_case(session, case, now)
    waits.end_with_case(session, case.id, now, actor)
    session.execute(update(CaseClock).where(CaseClock.case_id == case.id,
                                                   CaseClock.stopped_at.is_(None)).values(stopped_at=now))
    confirmed = "confirmed by the customer" if customer_confirmed else "not confirmed by the customer"
    log(session, clock, case, actor, "closed", f"Case closed ({confirmed})", text=case.outcome, audience="customer",
        data={"customerConfirmed": customer_confirmed})
    return case


def set_status(session: Session, clock: Clock, actor: Principal, case_id: str, status: str,
               reason: str | None = None) -> Case:
    case = load_open(session, case_id)
    if status not in rules.OPEN_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(sorted(rules.OPEN_STATUSES))} "
                               "(close a case with the close action)", field="status")
    if status != case.status:
        old, case.status = case.status, status
        log(session, clock, case, actor, "status_changed", f"Status: {old} -> {status}",
            text=(reason or "").strip() or None, data={"from": old, "to": status})
        waits.follow_status(session, clock, actor, case, old, reason)
        clocks.touch(session, case, clock.now())
    return case


def update_details(session: Session, clock: Clock, actor: Principal, case_id: str, *, title: str | None = None,
                   customer_account: str | None = None, severity: str | None = None,
                   tmf_attributes: dict | object | None = UNCHANGED) -> Case:
    """Correct the title, the customer's account or the severity (None: unchanged), or replace the
    TMF attributes kept as given (``UNCHANGED``: leave them); each change is logged."""
    case = load_open(session, case_id)
    changes: dict[str, tuple] = {}
    if title is not None:
        if not title.strip():
            raise ValidationFailed("a case needs a title", field="title")
        if len(title.strip()) > rules.TITLE_MAX:
            raise ValidationFailed(f"the title is longer than {rules.TITLE_MAX} characters", field="title")
        if title.strip() != case.title:
            changes["title"] = (case.title, title.strip())
    if customer_account is not None and customer_account.strip() != (case.customer_account or ""):
        changes["customerAccount"] = (case.customer_account, customer_account.strip() or None)
    if severity is not None:
        if severity not in rules.SEVERITIES:
            raise ValidationFailed(f"severity must be one of {', '.join(rules.SEVERITIES)}", field="severity")
        if severity != case.severity:
            changes["severity"] = (case.severity, severity)
    if tmf_attributes is not UNCHANGED and tmf_attributes != case.tmf_attributes:
        changed = sorted(set(tmf_attributes or {}) ^ set(case.tmf_attributes or {}) | {
            k for k in set(tmf_attributes or {}) & set(case.tmf_attributes or {})
            if tmf_attributes[k] != case.tmf_attributes[k]})
        changes["tmfAttributes"] = (changed, None)
        case.tmf_attributes = tmf_attributes
    if not changes:
        return case
    if "title" in changes:
        case.title = changes["title"][1]
    if "customerAccount" in changes:
        case.customer_account = changes["customerAccount"][1]
    if "severity" in changes:
        case.severity = changes["severity"][1]
    names = {"customerAccount": "the customer's account", "tmfAttributes": "other TMF attributes"}
    what = ", ".join(names.get(k, k) for k in changes)
    data = {k: {"from": old, "to": new} for k, (old, new) in changes.items() if k != "tmfAttributes"}
    if "tmfAttributes" in changes:
        data["tmfAttributes"] = changes["tmfAttributes"][0]  # the names changed; the values are on the case
    log(session, clock, case, actor, "details_changed", f"Case details changed: {what}", data=data)
    clocks.touch(session, case, clock.now())
    return case


def merge(session: Session, clock: Clock, actor: Principal, source_id: str, *, into_id: str, reason: str) -> Case:
    """Two cases turned out to be one problem: everything moves to ``into``; the source closes."""
    source, target = load_open(session, source_id), load_open(session, into_id)
    if source.id == target.id or source.customer_id != target.customer_id:
        raise ValidationFailed("merge two different cases of the same customer", field="intoId")
    if not (reason or "").strip():
        raise ValidationFailed("say why the cases are merged", field="reason")
    record = merge_undo.before(session, source, target)
    now = clock.now()
    proactive.end_with_case(session, source, now, f"case merged into {target.id}, whose own task goes on")
    for model in (Contact, Commitment, Harm, Task, Participant):  # tasks may be assigned to participants
        session.execute(update(model).where(model.case_id == source.id).values(case_id=target.id))
    session.execute(update(Handover).where(Handover.case_id == source.id, Handover.status == HandoverStatus.PENDING)
                    .values(status=HandoverStatus.CANCELLED, decided_at=now,
                            decision_note=f"case merged into {target.id}"))
    session.execute(update(CaseClock).where(CaseClock.case_id == source.id, CaseClock.kind.in_(
                                                (ClockKind.TASK_OVERDUE, ClockKind.COMMITMENT_DUE)))
                    .values(case_id=target.id))
    session.execute(update(CaseClock).where(CaseClock.case_id == source.id,
                                                   CaseClock.stopped_at.is_(None)).values(stopped_at=now))
    if source.awaiting_reply_since and not target.awaiting_reply_since:
        _customer_waiting(session, target, source.awaiting_reply_since)
    target.severity = rules.max_severity([target.severity, source.severity])
    source.status, source.closed_at, source.merged_into_id = CaseStatus.CLOSED, now, target.id
    source.outcome = f"merged into {target.id}: {reason.strip()}"
    clocks.touch(session, target, now)
    entry = log(session, clock, source, actor, "merged", f"Merged into case {target.title}", text=reason.strip(),
                data={"intoId": target.id})
    entry.data = {"intoId": target.id, "undo": merge_undo.after(session, record, target)}  # not in the outbox
    log(session, clock, target, actor, "merged_in", f"Case {source.title} merged into this one", text=reason.strip(),
        data={"fromId": source.id})
    return target


def split(session: Session, clock: Clock, actor: Principal, case_id: str, *, contact_ids: list[str], kind: str,
          title: str, reason: str) -> Case:
    """Some contacts are about another problem: they move to a new case with the same owner."""
    case = load_open(session, case_id)
    if not contact_ids:
        raise ValidationFailed("name the contacts that belong to the new case", field="contactIds")
    contacts = session.scalars(select(Contact).where(Contact.id.in_(contact_ids))).all()
    if len(contacts) != len(set(contact_ids)) or any(c.case_id != case.id for c in contacts):
        raise ValidationFailed("every contact must be on this case", field="contactIds")
    if not (reason or "").strip():
        raise ValidationFailed("say why the case is split", field="reason")
    new = open_new(session, clock, actor, customer_id=case.customer_id, kind=kind, title=title,
                   opened_via="system", owner_id=case.owner_id)
    for contact in contacts:
        contact.case_id = new.id
    log(session, clock, case, actor, "split", f"Split off: {new.title}", text=reason.strip(),
        data={"newId": new.id, "contactIds": sorted(c.id for c in contacts)})
    log(session, clock, new, actor, "split_from", f"Split from case {case.title}", text=reason.strip(),
        data={"fromId": case.id})
    return new
