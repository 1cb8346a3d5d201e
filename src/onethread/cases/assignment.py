"""Routing and presence: who gets a waiting contact (docs/routing.md).

Staff have a presence (available, busy, away with a back date, off) and a capacity (open
triage items handed to them at most). A triage item goes to the owner of the customer's open
case when that person is available (a returning customer reaches the person who knows them),
else to an available member of its team by the team's rule (``least_loaded``: the fewest open
items, ``round_robin``: the longest since their last one, ``skills``: whose skills match the
contact's language and product best, then the fewest open items), else it waits in the team's queue.
When someone becomes available, the waiting items of their team are handed to them, oldest first.
"""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, literal, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from onethread.access.rules import FIELD_SUBCONTRACTOR, SUPERVISORS, Presence, Principal
from onethread.cases.rules import CaseStatus
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.kernel.clock import Clock, ensure_utc
from onethread.models import Case, Contact, Customer, Party, Product, StaffUser, Team, TriageItem

PRESENCES = tuple(Presence)
ROUTING_RULES = ("least_loaded", "round_robin", "skills")
_SKILL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_SKILLS = 30


def takes_work(user: StaffUser) -> bool:
    return user.active and user.presence == Presence.AVAILABLE and user.role != FIELD_SUBCONTRACTOR


def loads(session: Session, staff_ids: list[str]) -> dict[str, int]:
    """Open triage items handed to each person."""
    if not staff_ids:
        return {}
    return dict(session.execute(select(TriageItem.assigned_to, func.count()).where(
        TriageItem.assigned_to.in_(staff_ids), TriageItem.done_at.is_(None)).group_by(TriageItem.assigned_to)).all())


def skills_of(user: StaffUser) -> set[str]:
    return set(user.skills or ())


def _by_rule(team: Team | None, free: list[StaffUser], load: dict[str, int], wants: set[str]) -> StaffUser:
    """The one of ``free`` (not empty) the team's rule picks for an item needing ``wants``."""
    rule = team.routing_rule if team is not None else "least_loaded"
    if rule == "round_robin":
        return min(free, key=lambda u: (u.last_assigned_at is not None, u.last_assigned_at or 0, u.username))
    if rule == "skills":  # the best match first; nobody matching: the least loaded
        return min(free, key=lambda u: (-len(wants & skills_of(u)), load.get(u.id, 0), u.username))
    return min(free, key=lambda u: (load.get(u.id, 0), u.username))


def normalise_skills(skills: list[str]) -> list[str]:
    """A person's skills as stored: lower case, each once, in order; refused when malformed."""
    out = list(dict.fromkeys((s or "").strip().lower() for s in skills))
    if len(out) > MAX_SKILLS:
        raise ValidationFailed(f"at most {MAX_SKILLS} skills", field="skills")
    for skill in out:
        if not _SKILL.match(skill):
            raise ValidationFailed(f"a skill is a language code or product kind (a-z, 0-9, _ or -): {skill!r}",
                                   field="skills")
    return out


def set_skills(session: Session, actor: Principal, staff_id: str, skills: list[str]) -> StaffUser:
    """A team lead records what someone handles (languages, product kinds)."""
    if actor.role not in SUPERVISORS:
        raise Forbidden("only a team lead sets someone's skills")
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound(f"no staff member {staff_id}")
    user.skills = normalise_skills(skills)
    return user


def set_team_rule(session: Session, actor: Principal, team_id: str, rule: str) -> Team:
    """A team lead chooses how their team's waiting work is handed out."""
    if actor.role not in SUPERVISORS:
        raise Forbidden("only a team lead sets the team's routing rule")
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    if rule not in ROUTING_RULES:
        raise ValidationFailed(f"the rule is one of {', '.join(ROUTING_RULES)}", field="rule")
    team.routing_rule = rule
    return team


def _open_items_of(staff_id_column):
    """The open triage items handed to a person, as a correlated count (one statement with the
    people it is read with)."""
    return (select(func.count()).select_from(TriageItem)
            .where(TriageItem.assigned_to == staff_id_column, TriageItem.done_at.is_(None)).scalar_subquery())


class TeamRef(NamedTuple):
    """What routing needs of a team (read as plain columns, no ORM object)."""

    id: str
    routing_rule: str


# Built once: the people who may take a new item, as plain rows with their loads: the team's
# available members and the owner of the customer's case, in one statement.
_CANDIDATES = select(
    StaffUser.id, StaffUser.username, StaffUser.team_id, StaffUser.role, StaffUser.active, StaffUser.presence,
    StaffUser.capacity, StaffUser.skills, StaffUser.last_assigned_at, _open_items_of(StaffUser.id).label("load"),
).where(or_(and_(StaffUser.team_id == bindparam("team_id"), StaffUser.presence == Presence.AVAILABLE),
            StaffUser.id == bindparam("owner_id")))


def pick(session: Session, team: TeamRef | None, owner_id: str | None, now: datetime,
         wants: set[str] = frozenset()) -> tuple[str | None, str]:
    """Who takes a new triage item (a staff id, None: it waits in its queue) and what to add to
    its reason: the owner of the customer's latest open case (``owner_id``) when available with
    room, else an available member of the team with room by the team's rule (``wants``: the
    skills the item asks for). One statement; round robin also records the hand-out."""
    if team is None and owner_id is None:
        return None, ""
    rows = session.execute(_CANDIDATES, {"team_id": team.id if team else None, "owner_id": owner_id}).all()
    load = {r.id: r.load for r in rows}
    owner = next((r for r in rows if r.id == owner_id), None) if owner_id else None
    chosen, why = None, ""
    if owner is not None and takes_work(owner) and owner.load < owner.capacity:
        chosen, why = owner, "; the owner of the customer's open case takes it"
    elif team is not None:
        free = [r for r in rows if r.team_id == team.id and r.presence == Presence.AVAILABLE and takes_work(r)
                and r.role not in SUPERVISORS and r.load < r.capacity]  # leads escalate, not the pool
        if free:
            chosen = _by_rule(team, free, load, wants)
            matched = wants & skills_of(chosen)
            why = f"; matched on {', '.join(sorted(matched))}" if matched else ""
    if chosen is None:
        return None, ""
    if team is not None and team.routing_rule == "round_robin":  # only round robin reads it
        session.execute(update(StaffUser).where(StaffUser.id == chosen.id).values(last_assigned_at=now)
                        .execution_options(synchronize_session=False))
    return chosen.id, why


def case_owner(session: Session, team_id: str, wants: set[str] = frozenset()) -> StaffUser | None:
    """Who owns a new case handed to the team: an available member (not the lead) by the team's
    rule, counting open cases as the load (``skills``: the best match of ``wants`` first); else
    the team's lead when at work; None when nobody can take it."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}", field="relatedParty")
    members = [u for u in session.scalars(select(StaffUser).where(StaffUser.team_id == team_id))
               if takes_work(u) and not u.away and u.role not in SUPERVISORS and u.id != team.lead_id]
    if members:
        load = dict(session.execute(select(Case.owner_id, func.count()).where(
            Case.owner_id.in_([u.id for u in members]), Case.status != CaseStatus.CLOSED)
            .group_by(Case.owner_id)).all())
        return _by_rule(team, members, load, wants)
    lead = session.get(StaffUser, team.lead_id) if team.lead_id else None
    return lead if lead is not None and lead.active and not lead.away else None


def _give(item: TriageItem, user: StaffUser, now: datetime) -> None:
    item.assigned_to, item.assigned_at = user.id, now
    user.last_assigned_at = now


def owner_of_latest_case(customer_id):
    """The owner of the customer's most recently active open case, as a scalar subquery."""
    return (select(Case.owner_id).where(Case.customer_id == customer_id, Case.status != CaseStatus.CLOSED)
            .order_by(Case.last_activity_at.desc()).limit(1).scalar_subquery())


def _waiting(team_id: str, rule: str, skills: set[str], room: int):
    """The team's waiting unassigned items a person becoming available takes, with what matched
    (``skills`` rule: those asking for their skills, the best match first; then oldest first)."""
    query = select(TriageItem).where(
        TriageItem.team_id == team_id, TriageItem.done_at.is_(None), TriageItem.assigned_to.is_(None))
    if rule != "skills" or not skills:
        return query.add_columns(literal(None), literal(None)).order_by(TriageItem.created_at, TriageItem.id) \
            .limit(room)
    # What the item asks for, as at its arrival (triage._wants): its customer's language, the kind
    # of the product its contact names.
    language = func.lower(func.trim(Party.preferred_language))
    kind = func.lower(Product.kind)
    score = (sql_case((language.in_(sorted(skills)), 1), else_=0) + sql_case((kind.in_(sorted(skills)), 1), else_=0))
    return (query.add_columns(language, kind)
            .join(Contact, Contact.id == TriageItem.contact_id)
            .outerjoin(Customer, Customer.id == TriageItem.customer_id)
            .outerjoin(Party, Party.id == Customer.party_id)
            .outerjoin(Product, Product.id == Contact.extra["productId"].as_string())
            .order_by(score.desc(), TriageItem.created_at, TriageItem.id).limit(room))


def hand_out(session: Session, user: StaffUser, now: datetime) -> int:
    """Someone became available: their team's waiting items, up to their capacity, oldest first
    by the team's rule (``skills``: those matching their skills first). Team leads are the
    escalation, not the pool: their presence hands them nothing."""
    if not takes_work(user) or user.team_id is None or user.role in SUPERVISORS:
        return 0
    room = user.capacity - loads(session, [user.id]).get(user.id, 0)
    if room <= 0:
        return 0
    team = session.get(Team, user.team_id)
    rule = team.routing_rule if team is not None else "least_loaded"
    skills = skills_of(user)
    waiting = session.execute(_waiting(user.team_id, rule, skills, room)).all()
    for item, language, kind in waiting:
        matched = {v for v in (language, kind) if v} & skills
        if matched:
            item.reason = f"{item.reason}; matched on {', '.join(sorted(matched))}"[:2000]
        _give(item, user, now)
    return len(waiting)


def set_presence(session: Session, clock: Clock, actor: Principal, staff_id: str, *, presence: str,
                 back_at: datetime | None = None, capacity: int | None = None) -> tuple[StaffUser, int]:
    """Set someone's presence (themself, or anyone for a supervisor); returns the person and how
    many waiting items were handed to them (when they became available)."""
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound(f"no staff member {staff_id}")
    if not (actor.role in SUPERVISORS or (actor.kind == "staff" and actor.id == staff_id)):
        raise Forbidden("only a team lead sets someone else's presence")
    if presence not in PRESENCES:
        raise ValidationFailed(f"presence must be one of {', '.join(PRESENCES)}", field="presence")
    now = clock.now()
    if back_at is not None:
        if presence != Presence.AWAY:
            raise ValidationFailed("a back date goes with presence away", field="backAt")
        if back_at.tzinfo is None:
            raise ValidationFailed("the back date needs a time zone", field="backAt")
        if ensure_utc(back_at) <= now:
            raise ValidationFailed("the back date is in the past", field="backAt")
    if capacity is not None and not 0 <= capacity <= 500:
        raise ValidationFailed("capacity is 0 to 500 open items", field="capacity")
    if presence != user.presence:
        user.presence, user.presence_since = presence, now
    user.back_at = ensure_utc(back_at) if back_at else None
    user.away = presence in (Presence.AWAY, Presence.OFF)
    if capacity is not None:
        user.capacity = capacity
    handed = hand_out(session, user, now) if presence == Presence.AVAILABLE else 0
    return user, handed


def assign_item(session: Session, clock: Clock, actor: Principal, item: TriageItem, staff_id: str) -> TriageItem:
    """A person takes a waiting item, or a team lead hands it to someone."""
    if not (actor.role in SUPERVISORS or (actor.kind == "staff" and actor.id == staff_id)):
        raise Forbidden("only a team lead hands an item to someone else; take it yourself")
    if item.done_at is not None:
        raise Conflict(f"this item is done ({item.resolution})")
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active or user.role == FIELD_SUBCONTRACTOR:
        raise NotFound(f"no active staff member {staff_id}", field="staffId")
    _give(item, user, clock.now())
    return item


# Built once: the people who may take a batch's items, as plain rows with their loads: the
# available members of the teams concerned and the owners of the customers' cases.
_CANDIDATES_MANY = select(*_CANDIDATES.selected_columns).where(or_(
    and_(StaffUser.team_id.in_(bindparam("team_ids", expanding=True)), StaffUser.presence == Presence.AVAILABLE),
    StaffUser.id.in_(bindparam("owner_ids", expanding=True))))
_STAFF = StaffUser.__table__
_HANDED = update(_STAFF).where(_STAFF.c.id == bindparam("staff_id")).values(last_assigned_at=bindparam("at"))


class Pool:
    """Who can take work, for many items at once (a batch of contacts): the available members of
    the teams concerned and the owners, with their loads, read in one statement of plain columns,
    then decided in memory as ``pick`` decides one item, counting each hand-out."""

    def __init__(self, session: Session, teams: dict[str, TeamRef], owner_ids: set[str]):
        self.teams = teams
        rows = session.execute(_CANDIDATES_MANY, {"team_ids": sorted(teams), "owner_ids": sorted(owner_ids)}).all() \
            if teams or owner_ids else []
        self.people = {r.id: SimpleNamespace(**r._asdict()) for r in rows}  # round robin moves last_assigned_at
        self.load = {r.id: r.load for r in rows}
        self.handed: dict[str, datetime] = {}

    def _room(self, user: SimpleNamespace) -> bool:
        return takes_work(user) and self.load.get(user.id, 0) < user.capacity

    def pick(self, team_id: str | None, owner_id: str | None, wants: set[str] = frozenset()
             ) -> tuple[SimpleNamespace | None, bool]:
        """(who takes an item of ``team_id``, whether it is the owner of the customer's case)."""
        owner = self.people.get(owner_id) if owner_id else None
        if owner is not None and self._room(owner):
            return owner, True
        team = self.teams.get(team_id) if team_id else None
        if team is None:
            return None, False
        free = [u for u in self.people.values() if u.team_id == team.id and u.presence == Presence.AVAILABLE
                and u.role not in SUPERVISORS and self._room(u)]  # leads escalate, not the pool
        if not free:
            return None, False
        return _by_rule(team, free, self.load, wants), False

    def give(self, team_id: str | None, user: SimpleNamespace, now: datetime) -> None:
        team = self.teams.get(team_id) if team_id else None
        if team is not None and team.routing_rule == "round_robin":  # only round robin reads it
            user.last_assigned_at = self.handed[user.id] = now
        self.load[user.id] = self.load.get(user.id, 0) + 1

    def write(self, session: Session) -> None:
        """Record round robin's hand-outs (one executemany; nothing under the other rules)."""
        if self.handed:
            session.execute(_HANDED, [{"staff_id": k, "at": v} for k, v in self.handed.items()])
