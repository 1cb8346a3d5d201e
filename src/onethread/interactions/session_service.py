"""Contact sessions (a call, a store visit, a chat): verification that stays valid until it
expires, and transfers that keep the session, so the receiver never asks again (S1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.access.service import user_of as staff_of  # the person acting, if any
from onethread.db.outbox import record_event
from onethread.errors import Conflict, Forbidden, NotFound, ValidationFailed
from onethread.interactions import keys, rules
from onethread.interactions.rules import MatchStatus
from onethread.kernel.clock import Clock
from onethread.kernel.events import DomainEvent
from onethread.kernel.ids import new_id
from onethread.models import (
    Contact,
    ContactSession,
    Customer,
    MatchItem,
    SessionHop,
    StaffUser,
    Team,
    Verification,
)


def _event(session: Session, clock: Clock, actor: Principal, type_: str, live: ContactSession, **payload) -> None:
    me = staff_of(session, actor)  # the timeline names the person, not the device's token
    record_event(session, DomainEvent(
        type=type_, occurred_at=clock.now(), aggregate_type="contact_session", aggregate_id=live.id,
        customer_id=live.customer_id, payload={"actor": actor.id, "actorName": me.display_name if me else actor.name,
                                               "channel": live.channel, **payload},
    ))


def start(session: Session, clock: Clock, actor: Principal, *, channel: str, external_id: str | None = None,
          customer_id: str | None = None, staff_id: str | None = None, team_id: str | None = None) -> ContactSession:
    """Open a session; with an ``external_id`` (the telephony call id) a repeat start returns the same one."""
    return start_or_get(session, clock, actor, channel=channel, external_id=external_id, customer_id=customer_id,
                        staff_id=staff_id, team_id=team_id)[0]


def start_or_get(session: Session, clock: Clock, actor: Principal, *, channel: str, external_id: str | None = None,
                 customer_id: str | None = None, staff_id: str | None = None, team_id: str | None = None
                 ) -> tuple[ContactSession, bool]:
    """``start``, also saying whether the session is new (False: a repeat start with the same external id)."""
    if channel not in rules.SESSION_CHANNELS:
        raise ValidationFailed(f"sessions are for {', '.join(rules.SESSION_CHANNELS)}", field="channel")
    if external_id:
        existing = session.scalar(select(ContactSession).where(ContactSession.channel == channel,
                                                               ContactSession.external_id == external_id))
        if existing is not None:
            if customer_id is not None and existing.customer_id not in (None, customer_id):
                raise Conflict(f"session {existing.id} for this {channel} contact is about another customer",
                               field="customerId")
            return existing, False
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer with id {customer_id}", field="customerId")
    if staff_id is not None and session.get(StaffUser, staff_id) is None:
        raise NotFound(f"no staff user {staff_id}", field="staffId")
    if team_id is not None and session.get(Team, team_id) is None:
        raise NotFound(f"no team {team_id}", field="teamId")
    me = staff_of(session, actor)
    holder = staff_id or (me.id if me else None)
    live = ContactSession(id=new_id(), channel=channel, external_id=external_id, customer_id=customer_id,
                          holder_staff_id=holder,
                          holder_team_id=team_id or (me.team_id if me and not staff_id else None),
                          started_at=clock.now(), status="live")
    if external_id and not keys.claim(session, [{**keys.session_key(channel, external_id), "ref_id": live.id}]):
        # a start with this external id committed meanwhile: answer with its session
        existing = session.scalar(select(ContactSession).where(ContactSession.channel == channel,
                                                               ContactSession.external_id == external_id))
        if existing is None or (customer_id not in (None, existing.customer_id) and existing.customer_id):
            raise Conflict(f"a {channel} session with this id was started at the same moment; try again",
                           field="externalId")
        return existing, False
    session.add(live)
    session.flush()
    _event(session, clock, actor, "session.started", live)
    return live, True


def get(session: Session, session_id: str) -> ContactSession:
    live = session.get(ContactSession, session_id)
    if live is None:
        raise NotFound(f"no contact session {session_id}")
    return live


def _live(session: Session, session_id: str) -> ContactSession:
    live = get(session, session_id)
    if live.status != "live":
        raise Conflict("the contact session has ended")
    return live


def identify(session: Session, clock: Clock, actor: Principal, session_id: str, customer_id: str) -> ContactSession:
    live = _live(session, session_id)
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer with id {customer_id}", field="customerId")
    if live.customer_id not in (None, customer_id):
        raise Conflict("the session is already about another customer; start a new one")
    live.customer_id = customer_id
    # Contacts recorded in the session before the caller was identified now belong to them,
    # and leave the match queue (the identification in the session is the person's decision).
    # One a person already dismissed from the queue stays attached to nobody.
    now = clock.now()
    for contact in session.scalars(select(Contact).where(Contact.session_id == live.id,
                                                         Contact.customer_id.is_(None))):
        item = session.scalar(select(MatchItem).where(MatchItem.contact_id == contact.id))
        if item is not None and item.resolved_at is not None:
            continue
        contact.customer_id, contact.match_status = customer_id, MatchStatus.MATCHED
        if item is not None:
            item.resolved_at, item.resolved_by, item.resolution = now, actor.id, "linked"
            item.resolved_customer_id = customer_id
            item.explanation = f"{item.explanation}; identified in contact session {live.id}"
    _event(session, clock, actor, "session.identified", live)
    return live


def verify(session: Session, clock: Clock, actor: Principal, session_id: str, *, method: str, level: int,
           ttl: timedelta) -> Verification:
    live = _live(session, session_id)
    if live.customer_id is None:
        raise Conflict("identify the customer in this session before verifying them")
    if method not in rules.VERIFICATION_METHODS:
        raise ValidationFailed(f"method must be one of {', '.join(rules.VERIFICATION_METHODS)}", field="method")
    if not 1 <= level <= rules.VERIFICATION_METHODS[method]:
        raise ValidationFailed(f"{method} establishes level 1 to {rules.VERIFICATION_METHODS[method]}",
                               field="level")
    if ttl <= timedelta(0):
        raise ValidationFailed("a verification must stay valid for some time", field="ttl")
    now = clock.now()
    me = staff_of(session, actor)
    row = Verification(session_id=live.id, customer_id=live.customer_id, method=method, level=level,
                       verified_by=me.id if me else actor.id, verified_by_name=me.display_name if me else actor.name,
                       verified_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    _event(session, clock, actor, "session.verified", live, method=method, level=level,
           expiresAt=row.expires_at.isoformat())
    return row


def valid_verification(session: Session, session_id: str, at: datetime) -> Verification | None:
    """The strongest verification of the session still valid at ``at`` (None: ask again).

    A verification belongs to its contact: it ends with the session as well as at its expiry.
    """
    live = get(session, session_id)
    rows = session.scalars(select(Verification).where(Verification.session_id == session_id)
                           .order_by(Verification.level.desc(), Verification.expires_at.desc(),
                                     Verification.id.desc())).all()
    return next((v for v in rows if rules.verification_valid(v.expires_at, at, live.ended_at)), None)


def needs_verification(session: Session, clock: Clock, session_id: str, required_level: int = 1) -> bool:
    best = valid_verification(session, session_id, clock.now())
    return rules.needs_verification(best.level if best else None, required_level)


def transfer(session: Session, clock: Clock, actor: Principal, session_id: str, *, to_staff_id: str | None = None,
             to_team_id: str | None = None, reason: str | None = None, note: str | None = None) -> SessionHop:
    """Hand the live session to a person or a team. The session (and its verification) goes with it."""
    live = _live(session, session_id)
    if not to_staff_id and not to_team_id:
        raise ValidationFailed("transfer to a person (toStaffId) or a team (toTeamId)")
    receiver = session.get(StaffUser, to_staff_id) if to_staff_id else None
    if to_staff_id and (receiver is None or not receiver.active):
        raise NotFound(f"no active staff user {to_staff_id}", field="toStaffId")
    if to_team_id and session.get(Team, to_team_id) is None:
        raise NotFound(f"no team {to_team_id}", field="toTeamId")
    if receiver is not None and to_team_id is None:
        to_team_id = receiver.team_id  # a person is reached in their own team
    if (to_staff_id, to_team_id) == (live.holder_staff_id, live.holder_team_id):
        raise Conflict("the session is already held there")
    reason = (reason or "").strip()
    note = (note or "").strip() or None
    if not reason:
        raise ValidationFailed("say why it is transferred", field="reason")
    hop = SessionHop(session_id=live.id, kind="transfer", from_staff_id=live.holder_staff_id,
                     from_team_id=live.holder_team_id, to_staff_id=to_staff_id, to_team_id=to_team_id, reason=reason,
                     note=note, at=clock.now())
    session.add(hop)
    live.holder_staff_id, live.holder_team_id = to_staff_id, to_team_id
    session.flush()
    _event(session, clock, actor, "session.transferred", live, toStaffId=to_staff_id, toTeamId=to_team_id,
           reason=reason)
    return hop


def bounce(session: Session, clock: Clock, actor: Principal, session_id: str, *, reason: str) -> SessionHop:
    """Send a wrongly transferred session back to whoever sent it, saying why."""
    live = _live(session, session_id)
    if not (reason or "").strip():
        raise ValidationFailed("say why it is bounced back", field="reason")
    last = session.scalar(select(SessionHop).where(SessionHop.session_id == live.id)
                          .order_by(SessionHop.at.desc(), SessionHop.id.desc()))
    if last is None:
        raise Conflict("the session was never transferred; there is nobody to bounce it back to")
    if last.kind != "transfer":
        raise Conflict("the last hand-over was already bounced back; transfer it to the right place instead")
    hop = SessionHop(session_id=live.id, kind="bounce", from_staff_id=live.holder_staff_id,
                     from_team_id=live.holder_team_id, to_staff_id=last.from_staff_id, to_team_id=last.from_team_id,
                     reason=reason.strip(), at=clock.now())
    session.add(hop)
    live.holder_staff_id, live.holder_team_id = last.from_staff_id, last.from_team_id
    session.flush()
    _event(session, clock, actor, "session.bounced", live, reason=reason.strip())
    return hop


def end(session: Session, clock: Clock, actor: Principal, session_id: str) -> ContactSession:
    live = get(session, session_id)
    if live.status == "ended":
        return live
    live.status, live.ended_at = "ended", clock.now()
    _event(session, clock, actor, "session.ended", live)
    return live


STORE = "store"


def live_store_visit(session: Session, customer_id: str, staff_id: str) -> ContactSession | None:
    """The customer's store visit that ``staff_id`` is serving now (a live store contact session)."""
    return session.scalar(select(ContactSession).where(
        ContactSession.customer_id == customer_id, ContactSession.channel == STORE,
        ContactSession.status == "live", ContactSession.holder_staff_id == staff_id)
        .order_by(ContactSession.started_at.desc(), ContactSession.id.desc()).limit(1))


def store_visit(session: Session, clock: Clock, actor: Principal, customer_id: str, *, method: str, level: int,
                ttl: timedelta) -> ContactSession:
    """The advisor has checked who the customer at the counter is: the check is recorded in the
    store visit the advisor is serving for this customer, started now if there is none live (a
    second check in the same visit reuses it), and stays valid for ``ttl``. Returns the visit."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer with id {customer_id}")
    me = staff_of(session, actor)
    if me is None:
        raise Forbidden("a store visit is served by a named member of staff")
    visit = live_store_visit(session, customer_id, me.id) or start(session, clock, actor, channel=STORE,
                                                                    customer_id=customer_id)
    verify(session, clock, actor, visit.id, method=method, level=level, ttl=ttl)
    return visit


def live_session_of(session: Session, customer_id: str, exclude_channel: str | None = None) -> ContactSession | None:
    query = select(ContactSession).where(ContactSession.customer_id == customer_id, ContactSession.status == "live")
    if exclude_channel:
        query = query.where(ContactSession.channel != exclude_channel)
    return session.scalar(query.order_by(ContactSession.started_at.desc()))


@dataclass(frozen=True)
class SessionView:
    """What the receiver of a transfer sees: the contact so far and the verification."""

    session: ContactSession
    customer_name: str | None
    contacts: list[Contact]
    hops: list[SessionHop]
    verification: Verification | None
    verification_needed: bool
    staff_names: dict[str, str]  # staff id -> display name, for the holder and every hop
    team_names: dict[str, str]  # team id -> name


def view(session: Session, clock: Clock, session_id: str, required_level: int = 1) -> SessionView:
    if not 1 <= required_level <= rules.MAX_VERIFICATION_LEVEL:
        raise ValidationFailed(f"requiredLevel is 1 to {rules.MAX_VERIFICATION_LEVEL}", field="requiredLevel")
    live = get(session, session_id)
    contacts = list(session.scalars(select(Contact).where(Contact.session_id == live.id)
                                    .order_by(Contact.occurred_at, Contact.id)))
    hops = list(session.scalars(select(SessionHop).where(SessionHop.session_id == live.id)
                                .order_by(SessionHop.at, SessionHop.id)))
    ver = valid_verification(session, live.id, clock.now())
    staff_ids = {live.holder_staff_id} | {h.from_staff_id for h in hops} | {h.to_staff_id for h in hops}
    team_ids = {live.holder_team_id} | {h.from_team_id for h in hops} | {h.to_team_id for h in hops}
    staff_ids.discard(None)
    team_ids.discard(None)
    staff_names = dict(session.execute(select(StaffUser.id, StaffUser.display_name)
                                       .where(StaffUser.id.in_(staff_ids))).all()) if staff_ids else {}
    team_names = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()) \
        if team_ids else {}
    customer = session.get(Customer, live.customer_id) if live.customer_id else None
    return SessionView(live, customer.name if customer else None, contacts, hops, ver,
                       rules.needs_verification(ver.level if ver else None, required_level), staff_names, team_names)
