"""Triage: no inbound contact waits without an owner or a clock (docs/routing.md).

``on_recorded`` runs on every ``contact.recorded`` event, in the transaction that stored the
contact. An inbound contact that is on no case joins an open case of its customer when onethread
can tell which (its live session's case, a case named in it, our message it answers, the same
product or problem within the threading window), with the reason kept on the contact; otherwise
it becomes a triage item in the queue the routing policy chooses, with a first-response clock on
the market's business hours. A contact nobody could match (the match queue) gets an item too.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from onethread.access.rules import Principal, Role
from onethread.cases import assignment, policy, routing, triage_items
from onethread.cases.log import log
from onethread.cases.rules import CaseStatus
from onethread.cases.service import attach_contact
from onethread.db.bulk import insert_rows
from onethread.db.session import settings_of
from onethread.errors import Conflict, Forbidden, ValidationFailed
from onethread.interactions import service as interactions
from onethread.interactions.rules import Direction
from onethread.kernel.clock import Clock, SettableClock, ensure_utc
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import Case, Contact, ContactSession, Customer, Party, Product, Team, TriageItem, Vulnerability

TRIAGE = Principal(kind="system", id="triage", name="Triage", role=Role.ADMIN)
_CASE_REF = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")  # a case id (ULID) quoted in a subject or text


def _open_case(session: Session, case_id: str | None, customer_id: str) -> Case | None:
    if not case_id:
        return None
    case = session.get(Case, case_id)
    return case if case is not None and case.status != CaseStatus.CLOSED and case.customer_id == customer_id else None


def join_target(session: Session, contact: Contact, now: datetime) -> tuple[Case, str] | None:
    """The open case of the contact's customer it belongs to, and why; None when nothing tells."""
    customer_id = contact.customer_id
    if customer_id is None:
        return None
    if contact.session_id:
        live = session.get(ContactSession, contact.session_id)
        case_id = live.case_id if live is not None else None
        if case_id is None:
            case_id = session.scalar(select(Contact.case_id).where(
                Contact.session_id == contact.session_id, Contact.case_id.is_not(None))
                .order_by(Contact.occurred_at.desc()).limit(1))
        case = _open_case(session, case_id, customer_id)
        if case is not None:
            channel = live.channel if live is not None else "contact"
            return case, f"made during the customer's {channel} contact, which is on this case"
    refs = _CASE_REF.findall(f"{contact.subject or ''} {contact.text or ''}")
    for ref in dict.fromkeys(refs):
        case = _open_case(session, ref, customer_id)
        if case is not None:
            return case, f"names case {case.id}"
    if contact.in_reply_to:
        case_id = session.scalar(select(Contact.case_id).where(
            Contact.channel == contact.channel, Contact.channel_message_id == contact.in_reply_to,
            Contact.direction == Direction.OUTBOUND))
        case = _open_case(session, case_id, customer_id)
        if case is not None:
            return case, "a reply to our message on this case"
    extra = contact.extra or {}
    product, category = extra.get("productId"), extra.get("category")
    if product or category:
        days = settings_of(session).threading_window_days
        same = Case.product_id == product if product else Case.category == category
        case = session.scalar(select(Case).where(Case.customer_id == customer_id,
                                                 Case.status != CaseStatus.CLOSED, same,
                                                 Case.last_activity_at >= now - timedelta(days=days))
                              .order_by(Case.last_activity_at.desc()).limit(1))
        if case is not None:
            what = "product" if product else "problem"
            return case, f"about the same {what} as this case, active within {days} days"
    return None


_CUSTOMER = bindparam("customer_id")
# Built once (SQLAlchemy then only binds the values): what the rules look at, and the owner of
# the customer's latest open case, in one statement a contact.
_FACTS = (select(Customer.segment, Party.preferred_language,
                 exists().where(Vulnerability.customer_id == _CUSTOMER, Vulnerability.ended_at.is_(None)),
                 assignment.owner_of_latest_case(_CUSTOMER))
          .join(Party, Party.id == Customer.party_id).where(Customer.id == _CUSTOMER))
_FACTS_MANY = (select(Customer.id, Customer.segment, Party.preferred_language,
                      exists().where(Vulnerability.customer_id == Customer.id, Vulnerability.ended_at.is_(None)),
                      assignment.owner_of_latest_case(Customer.id))
               .join(Party, Party.id == Customer.party_id).where(Customer.id.in_(bindparam("ids", expanding=True))))
_NAME = bindparam("name")
_TEAM = (select(Team).where(or_(Team.name == _NAME, Team.kind == _NAME))
         .order_by(sql_case((Team.name == _NAME, 0), else_=1), Team.created_at, Team.id).limit(1))


def _facts(session: Session, contact: Contact, pol: routing.RoutingPolicy) -> tuple[routing.Facts, str | None]:
    """What the routing rules look at, and the owner of the customer's latest open case (who a
    returning customer reaches), read in one statement."""
    settings = settings_of(session)
    language = segment = vulnerable = product = owner_id = None
    if contact.customer_id:
        row = session.execute(_FACTS, {"customer_id": contact.customer_id}).first()
        if row is not None:
            segment, language, vulnerable, owner_id = row[0], row[1], bool(row[2]), row[3]
    product_id = (contact.extra or {}).get("productId")
    if product_id and pol.needs("product"):
        product = session.scalar(select(Product.kind).where(Product.id == product_id))
    return routing.Facts(contact.channel, settings.market, language, segment, vulnerable, product), owner_id


def team_for(session: Session, name_or_kind: str) -> str | None:
    """A team by name, else the oldest team of that kind (one statement; cached for the transaction)."""
    cache = session.info.setdefault("routing_teams", {})
    if name_or_kind not in cache:
        team = session.scalar(_TEAM, {"name": name_or_kind})
        cache[name_or_kind] = team.id if team is not None else None
    return cache[name_or_kind]


def first_response_due(session: Session, at: datetime) -> datetime:
    """When a new item made at ``at`` is due (cached for the transaction: a batch's contacts share it)."""
    cache = session.info.setdefault("first_response_due", {})
    if at not in cache:
        settings = settings_of(session)
        pol = routing.load(settings.routing_policy_file)
        cache[at] = policy.market(settings.market, settings.clock_policy_file).due(at, pol.first_response)
    return cache[at]


def queue(session: Session, contact: Contact, now: datetime, reason: str, *, new: bool = False) -> TriageItem:
    """Put the contact in the queue the routing policy chooses (or reopen its earlier item;
    ``new``: a contact just stored, which has none)."""
    if contact.session_id:
        covering = triage_items.open_for_session(session, contact.session_id)
        if covering is not None:
            return covering  # a call's or chat's later lines wait with its first one
    pol = routing.load(settings_of(session).routing_policy_file)
    facts, owner_id = _facts(session, contact, pol)
    rule = pol.choose(facts)
    team_id = team_for(session, rule.team) if rule else None
    item = None if new else session.scalar(select(TriageItem).where(TriageItem.contact_id == contact.id))
    if item is None:
        item = TriageItem(contact_id=contact.id, escalation_level=0)
        session.add(item)
    item.customer_id, item.session_id, item.channel = contact.customer_id, contact.session_id, contact.channel
    item.team_id, item.rule, item.reason = team_id, rule.name if rule else "no rule matched", reason[:2000]
    item.created_at, item.due_at = now, first_response_due(session, now)
    item.done_at = item.done_by = item.resolution = item.case_id = item.assigned_to = item.assigned_at = None
    team = session.get(Team, team_id) if team_id else None
    assignment.place(session, item, now, _wants(session, contact, facts) if team and team.routing_rule == "skills"
                     else frozenset(), owner_id=owner_id if contact.customer_id else None)
    return item


def _wants(session: Session, contact: Contact, facts: routing.Facts) -> set[str]:
    """The skills a contact asks for (the ``skills`` rule): its customer's language, the kind of
    the product it names."""
    language, product = facts.language, facts.product
    if language is None and contact.customer_id:
        language = session.scalar(select(Party.preferred_language).join(Customer, Customer.party_id == Party.id)
                                  .where(Customer.id == contact.customer_id))
    product_id = (contact.extra or {}).get("productId")
    if product is None and product_id:
        product = session.scalar(select(Product.kind).where(Product.id == product_id))
    return {v.strip().lower() for v in (language, product) if v}


def triage(session: Session, contact: Contact, now: datetime, *, new: bool = False) -> None:
    """Decide where a contact on no case goes: a case it belongs to, else a queue (``new``: just
    stored, so it has no item yet)."""
    target = join_target(session, contact, now)
    if target is not None:
        case, why = target
        attach_contact(session, SettableClock(now), TRIAGE, case.id, contact.id, reason=why)
        return
    existing = None if new else triage_items.open_item(session, contact.id)
    if existing is not None:  # known now (linked from the match queue): it keeps its place and clock
        existing.customer_id = contact.customer_id
        return
    reason = ("nobody could be matched: in the match queue" if contact.customer_id is None
              else "no open case of the customer could be told from the contact")
    queue(session, contact, now, reason, new=new)


def on_recorded(session: Session, event: DomainEvent) -> None:
    """Event handler (``contact.recorded``): triage an inbound contact that is on no case."""
    p = event.payload
    if p.get("direction") != Direction.INBOUND:
        return
    contact = session.get(Contact, event.aggregate_id)
    if contact is None or contact.case_id is not None or (contact.extra or {}).get("caseId"):
        return  # on a case already (threaded), or its caller puts it on the case it names
    now = datetime.fromisoformat(p["at"]) if p.get("at") else ensure_utc(contact.recorded_at)
    triage(session, contact, now, new=not p.get("update"))


def on_dismissed(session: Session, event: DomainEvent) -> None:
    """Event handler (``contact.dismissed``): a match-queue item dismissed (spam...) ends its triage item."""
    item = triage_items.end(session, event.aggregate_id, at=event.occurred_at, by=event.payload.get("actor"),
                            resolution="dismissed")
    if item is not None:  # the other lines of its call or chat keep its place and clock
        triage_items.cover_the_rest(session, item, why=f"the rest of contact session {item.session_id}, whose "
                                    "first contact was dismissed from the match queue")


def not_this_case(session: Session, clock: Clock, actor: Principal, contact_id: str, *, reason: str,
                  to_case_id: str | None = None) -> Contact:
    """A person corrects where a contact went: off its case, onto ``to_case_id`` or back to a queue."""
    if actor.kind != "staff":
        raise Forbidden("a correction is made by a named person")
    if not (reason or "").strip():
        raise ValidationFailed("say why it is not this case", field="reason")
    contact = interactions.get_contact(session, contact_id)
    if contact.case_id is None:
        raise Conflict("the contact is on no case")
    if contact.direction != Direction.INBOUND:
        raise Conflict("only a contact from the customer is moved off a case this way")
    if to_case_id == contact.case_id:
        raise ValidationFailed("that is the case it is on", field="caseId")
    old = session.get(Case, contact.case_id)
    target = None
    if to_case_id is not None:
        target = _open_case(session, to_case_id, contact.customer_id)
        if target is None:
            raise ValidationFailed("no open case of this customer with that id", field="caseId")
    was = contact.case_reason
    contact.case_id, contact.case_reason = None, None
    log(session, clock, old, actor, "contact_moved", "Contact moved off the case: not this case", text=reason.strip(),
        channel=contact.channel, data={"contactId": contact.id, "wasReason": was,
                                       "toCaseId": target.id if target else None})
    if target is not None:
        attach_contact(session, clock, actor, target.id, contact.id,
                       reason=f"moved here from case {old.id} by {actor.name}: {reason.strip()}")
    else:
        queue(session, contact, clock.now(), f"not case {old.id} ({actor.name}: {reason.strip()})")
    return contact


def _plain(contact: Contact | None, payload: dict) -> bool:
    """A new contact that none of the joining rules but the customer's open cases could place:
    no session, no reply, no case named, no product or problem given."""
    if contact is None or contact.case_id is not None or payload.get("update") or contact.session_id:
        return False
    extra = contact.extra or {}
    return not (extra.get("caseId") or extra.get("productId") or extra.get("category") or contact.in_reply_to
                or _CASE_REF.search(f"{contact.subject or ''} {contact.text or ''}"))


def _on_recorded_many(session: Session, events: list[DomainEvent]) -> None:
    """``on_recorded`` for a batch (``record_events``): the plain contacts share their queries."""
    plain = []
    for event in events:
        if event.payload.get("direction") != Direction.INBOUND:
            continue
        contact = session.get(Contact, event.aggregate_id)
        if _plain(contact, event.payload):
            plain.append(contact)
        else:
            on_recorded(session, event)
    if not plain:
        return
    pol = routing.load(settings_of(session).routing_policy_file)
    customer_ids = sorted({c.customer_id for c in plain if c.customer_id})
    facts: dict[str, tuple] = {}  # customer -> (language, segment, vulnerable, owner of the latest open case)
    if customer_ids:
        for cid, segment, language, vulnerable, owner in session.execute(_FACTS_MANY, {"ids": customer_ids}):
            facts[cid] = (language, segment, bool(vulnerable), owner)
    owners = {cid: f[3] for cid, f in facts.items() if f[3]}
    market = settings_of(session).market
    items = []
    for contact in plain:
        language, segment, vulnerable, _ = facts.get(contact.customer_id, (None, None, None, None))
        rule = pol.choose(routing.Facts(contact.channel, market, language, segment, vulnerable, None))
        now = ensure_utc(contact.recorded_at)
        reason = ("nobody could be matched: in the match queue" if contact.customer_id is None
                  else "no open case of the customer could be told from the contact")
        # Plain rows, written in one INSERT below (no ORM object a contact).
        items.append(SimpleNamespace(
            id=new_id(), contact_id=contact.id, customer_id=contact.customer_id, session_id=None,
            channel=contact.channel, team_id=team_for(session, rule.team) if rule else None,
            rule=rule.name if rule else "no rule matched", reason=reason, assigned_to=None, assigned_at=None,
            created_at=now, due_at=first_response_due(session, now), escalation_level=0, escalated_to=None,
            done_at=None, done_by=None, resolution=None, case_id=None))
    pool = assignment.Pool(session, {i.team_id for i in items if i.team_id}, set(owners.values()))
    by_skill = {t.id for t in pool.teams.values() if t.routing_rule == "skills"}
    for item in items:
        language = facts.get(item.customer_id, (None,))[0] if item.team_id in by_skill else None
        who, is_owner = pool.pick(item, owners.get(item.customer_id),
                                  {language.strip().lower()} if language else frozenset())
        if who is not None:
            if is_owner:
                item.reason = f"{item.reason}; the owner of the customer's open case takes it"
            elif language and language.strip().lower() in assignment.skills_of(who):
                item.reason = f"{item.reason}; matched on {language.strip().lower()}"
            pool.give(item, who, item.created_at)
    insert_rows(session, TriageItem.__table__, [vars(item) for item in items])


on_recorded.many = _on_recorded_many  # bulk form, used by record_events (contact batches)
