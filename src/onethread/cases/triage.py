"""Triage: no inbound contact waits without an owner or a clock (docs/routing.md).

``on_recorded`` runs on every ``contact.recorded`` event, in the transaction that stored the
contact. An inbound contact that is on no case joins an open case of its customer when onethread
can tell which (its live session's case, a case named in it, our message it answers, the same
product or problem within the threading window), with the reason kept on the contact; otherwise
it becomes a triage item in the queue the routing policy chooses, with a first-response clock on
the market's business hours. A contact nobody could match (the match queue) gets an item too.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, insert, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from onethread.access.rules import Principal, Role
from onethread.cases import assignment, policy, routing, triage_items
from onethread.cases.log import log
from onethread.cases.rules import CaseStatus
from onethread.cases.service import attach_contact
from onethread.db.bulk import insert_rows
from onethread.db.outbox import insert_now
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
_NAME = bindparam("name")
_TEAM = (select(Team.id, Team.routing_rule).where(or_(Team.name == _NAME, Team.kind == _NAME))
         .order_by(sql_case((Team.name == _NAME, 0), else_=1), Team.created_at, Team.id).limit(1))
_INSERT_ITEM = insert(TriageItem.__table__)


def _team_column(name_or_kind: str, column):
    """``column`` of the team a rule names (by name, else the oldest of that kind), as a scalar subquery."""
    return (select(column).where(or_(Team.name == name_or_kind, Team.kind == name_or_kind))
            .order_by(sql_case((Team.name == name_or_kind, 0), else_=1), Team.created_at, Team.id)
            .limit(1).scalar_subquery())


@functools.lru_cache(maxsize=8)
def _facts_statement(teams: tuple[str, ...]):
    """Built once per routing policy (``teams``: the names or kinds its rules send to): what the
    rules look at, the owner of the customer's latest open case, and the id and rule of every team
    the policy may choose, in one statement a contact."""
    team_columns = [_team_column(t, c) for t in teams for c in (Team.id, Team.routing_rule)]
    return (select(Customer.segment, Party.preferred_language,
                   exists().where(Vulnerability.customer_id == _CUSTOMER, Vulnerability.ended_at.is_(None)),
                   assignment.owner_of_latest_case(_CUSTOMER), *team_columns)
            .join(Party, Party.id == Customer.party_id).where(Customer.id == _CUSTOMER))


@functools.lru_cache(maxsize=8)
def _facts_many_statement(teams: tuple[str, ...]):
    """``_facts_statement`` for a batch's customers (one row each, its id first)."""
    team_columns = [_team_column(t, c) for t in teams for c in (Team.id, Team.routing_rule)]
    return (select(Customer.id, Customer.segment, Party.preferred_language,
                   exists().where(Vulnerability.customer_id == Customer.id, Vulnerability.ended_at.is_(None)),
                   assignment.owner_of_latest_case(Customer.id), *team_columns)
            .join(Party, Party.id == Customer.party_id).where(Customer.id.in_(bindparam("ids", expanding=True))))


def _know_teams(session: Session, teams: tuple[str, ...], row, first: int) -> None:
    """Keep the policy's teams read with the facts (``row[first:]``: id and rule of each) for ``team_ref``."""
    known = session.info.setdefault("routing_teams", {})
    for n, name in enumerate(teams):
        team_id, rule = row[first + 2 * n], row[first + 1 + 2 * n]
        known.setdefault(name, assignment.TeamRef(team_id, rule) if team_id is not None else None)


def _facts(session: Session, contact: Contact, pol: routing.RoutingPolicy) -> tuple[routing.Facts, str | None]:
    """What the routing rules look at, and the owner of the customer's latest open case (who a
    returning customer reaches), read in one statement with the policy's teams (``team_ref``
    then reads none)."""
    settings = settings_of(session)
    language = segment = vulnerable = product = owner_id = None
    if contact.customer_id:
        teams = tuple(dict.fromkeys(r.team for r in pol.rules))
        row = session.execute(_facts_statement(teams), {"customer_id": contact.customer_id}).first()
        if row is not None:
            segment, language, vulnerable, owner_id = row[0], row[1], bool(row[2]), row[3]
            _know_teams(session, teams, row, 4)
    product_id = (contact.extra or {}).get("productId")
    if product_id and pol.needs("product"):
        product = session.scalar(select(Product.kind).where(Product.id == product_id))
    return routing.Facts(contact.channel, settings.market, language, segment, vulnerable, product), owner_id


def team_ref(session: Session, name_or_kind: str) -> assignment.TeamRef | None:
    """A team by name, else the oldest team of that kind, with its rule (one statement of plain
    columns, unless ``_facts`` read it already; cached for the transaction)."""
    cache = session.info.setdefault("routing_teams", {})
    if name_or_kind not in cache:
        row = session.execute(_TEAM, {"name": name_or_kind}).first()
        cache[name_or_kind] = assignment.TeamRef(row[0], row[1]) if row is not None else None
    return cache[name_or_kind]


def team_for(session: Session, name_or_kind: str) -> str | None:
    """The id of ``team_ref``'s team."""
    team = team_ref(session, name_or_kind)
    return team.id if team is not None else None


def first_response_due(session: Session, at: datetime) -> datetime:
    """When a new item made at ``at`` is due (cached for the transaction: a batch's contacts share it)."""
    cache = session.info.setdefault("first_response_due", {})
    if at not in cache:
        settings = settings_of(session)
        pol = routing.load(settings.routing_policy_file)
        cache[at] = policy.market(settings.market, settings.clock_policy_file).due(at, pol.first_response)
    return cache[at]


def queue(session: Session, contact: Contact, now: datetime, reason: str, *, new: bool = False) -> None:
    """Put the contact in the queue the routing policy chooses, handed to someone when anyone can
    take it (or reopen its earlier item; ``new``: a contact just stored, which has none). A new
    contact's item is one prebuilt INSERT, its person chosen before it is written."""
    if contact.session_id and triage_items.open_for_session(session, contact.session_id) is not None:
        return  # a call's or chat's later lines wait with its first one
    pol = routing.load(settings_of(session).routing_policy_file)
    facts, owner_id = _facts(session, contact, pol)
    rule = pol.choose(facts)
    team = team_ref(session, rule.team) if rule else None
    wants = _wants(session, contact, facts) if team is not None and team.routing_rule == "skills" else frozenset()
    who, why = assignment.pick(session, team, owner_id if contact.customer_id else None, now, wants)
    values = dict(customer_id=contact.customer_id, session_id=contact.session_id, channel=contact.channel,
                  team_id=team.id if team else None, rule=rule.name if rule else "no rule matched",
                  reason=f"{reason[:2000]}{why}", created_at=now, due_at=first_response_due(session, now),
                  assigned_to=who, assigned_at=now if who else None,
                  done_at=None, done_by=None, resolution=None, case_id=None)
    item = None if new else session.scalar(select(TriageItem).where(TriageItem.contact_id == contact.id))
    if item is None:
        insert_now(session, _INSERT_ITEM, {"id": new_id(), "contact_id": contact.id, "escalation_level": 0,
                                           "escalated_to": None, **values})
        return
    for key, value in values.items():
        setattr(item, key, value)


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
    """``on_recorded`` for a batch (``record_events``): the plain contacts share their statements:
    the routing facts with the policy's teams, the people who may take the items with their loads
    (plain rows), the items' one ``INSERT`` (and round robin's hand-outs, one executemany)."""
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
        teams = tuple(dict.fromkeys(r.team for r in pol.rules))
        for row in session.execute(_facts_many_statement(teams), {"ids": customer_ids}):
            facts[row[0]] = (row[2], row[1], bool(row[3]), row[4])
            _know_teams(session, teams, row, 5)
    owners = {cid: f[3] for cid, f in facts.items() if f[3]}
    market = settings_of(session).market
    items, refs = [], {}
    for contact in plain:
        language, segment, vulnerable, _ = facts.get(contact.customer_id, (None, None, None, None))
        rule = pol.choose(routing.Facts(contact.channel, market, language, segment, vulnerable, None))
        team = team_ref(session, rule.team) if rule else None
        if team is not None:
            refs[team.id] = team
        now = ensure_utc(contact.recorded_at)
        reason = ("nobody could be matched: in the match queue" if contact.customer_id is None
                  else "no open case of the customer could be told from the contact")
        items.append({  # plain rows, written in one INSERT below (no ORM object a contact)
            "id": new_id(), "contact_id": contact.id, "customer_id": contact.customer_id, "session_id": None,
            "channel": contact.channel, "team_id": team.id if team else None,
            "rule": rule.name if rule else "no rule matched", "reason": reason, "assigned_to": None,
            "assigned_at": None, "created_at": now, "due_at": first_response_due(session, now),
            "escalation_level": 0, "escalated_to": None, "done_at": None, "done_by": None, "resolution": None,
            "case_id": None})
    pool = assignment.Pool(session, refs, set(owners.values()))
    for item in items:
        team = refs.get(item["team_id"])
        language = facts.get(item["customer_id"], (None,))[0] \
            if team is not None and team.routing_rule == "skills" else None
        wants = {language.strip().lower()} if language else frozenset()
        who, is_owner = pool.pick(item["team_id"], owners.get(item["customer_id"]), wants)
        if who is not None:
            if is_owner:
                item["reason"] = f"{item['reason']}; the owner of the customer's open case takes it"
            elif wants & assignment.skills_of(who):
                item["reason"] = f"{item['reason']}; matched on {', '.join(sorted(wants))}"
            item["assigned_to"], item["assigned_at"] = who.id, item["created_at"]
            pool.give(item["team_id"], who, item["created_at"])
    pool.write(session)
    insert_rows(session, TriageItem.__table__, items)


on_recorded.many = _on_recorded_many  # bulk form, used by record_events (contact batches)
