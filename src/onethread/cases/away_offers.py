"""Hand-overs offered by rule for an owner away past the threshold (docs/routing.md).

Someone who set their presence to away or off keeps their cases for
``ONETHREAD_AWAY_HANDOVER_HOURS``; after that the worker's sweep does not impose a new owner but
offers each case to a colleague chosen by the team's rule (a pending hand-over, on the
colleague's My work). Accepting makes them the owner, recorded like any hand-over. An offer
declined, or not answered within ``ONETHREAD_AWAY_OFFER_HOURS``, goes to the next colleague by
the same rule; nobody is offered the same case twice while its owner is away. An owner back at
work keeps their case: the rule's open offers are withdrawn.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import SYSTEM
from onethread.cases.handover_service import RuleChooser
from onethread.cases.log import log
from onethread.cases.rules import CaseStatus, HandoverStatus
from onethread.db.session import settings_of
from onethread.kernel.clock import Clock, ensure_utc
from onethread.models import Case, Handover, StaffUser

DECLINED = (HandoverStatus.DECLINED, HandoverStatus.EXPIRED)


def _settle_open_offers(session: Session, clock: Clock, now: datetime, threshold: datetime,
                        answer_by: timedelta) -> int:
    """Withdraw the rule's offers whose owner is back; expire offers on an away owner's case that
    nobody answered in time. How many offers ended."""
    ended = 0
    rows = session.execute(select(Handover, Case, StaffUser).join(Case, Case.id == Handover.case_id)
                           .join(StaffUser, StaffUser.id == Case.owner_id)
                           .where(Handover.status == HandoverStatus.PENDING, Case.status != CaseStatus.CLOSED)
                           .order_by(Handover.requested_at, Handover.id)).all()
    for offer, case, owner in rows:
        if offer.requested_by == SYSTEM.id and not owner.away:
            offer.status, offer.decided_at = HandoverStatus.CANCELLED, now
            log(session, clock, case, SYSTEM, "handover_cancelled", f"Hand-over withdrawn: {owner.display_name} "
                "is back", data={"handoverId": offer.id})
            ended += 1
        elif owner.away and owner.presence_since is not None and ensure_utc(owner.presence_since) <= threshold \
                and ensure_utc(offer.requested_at) <= now - answer_by:
            offer.status, offer.decided_at = HandoverStatus.EXPIRED, now
            offer.decision_note = f"not answered within {_hours(answer_by)}"
            log(session, clock, case, SYSTEM, "handover_expired", "Hand-over not answered in time",
                text=offer.decision_note, data={"handoverId": offer.id, "toOwnerId": offer.to_owner_id})
            ended += 1
    return ended


def _hours(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'' if hours == 1 else 's'}"


def offer_for_away_owners(session: Session, clock: Clock) -> int:
    """Sweep: offer the cases of owners away (by presence) past the threshold; how many offers
    were made."""
    now = clock.now()
    settings = settings_of(session)
    answer_by = timedelta(hours=settings.away_offer_hours)
    threshold = now - timedelta(hours=settings.away_handover_hours)
    _settle_open_offers(session, clock, now, threshold, answer_by)
    session.flush()
    pending = select(Handover.id).where(Handover.case_id == Case.id, Handover.status == HandoverStatus.PENDING)
    rows = session.execute(
        select(Case, StaffUser).join(StaffUser, StaffUser.id == Case.owner_id)
        .where(Case.status != CaseStatus.CLOSED, StaffUser.away.is_(True), StaffUser.presence_since.is_not(None),
               StaffUser.presence_since <= threshold, ~pending.exists())
        .order_by(Case.opened_at, Case.id)).all()
    if not rows:
        return 0
    chooser = RuleChooser.load(session, [(case.id, case.owner_id) for case, _ in rows])
    asked = session.execute(select(Handover.case_id, Handover.from_owner_id, Handover.to_owner_id,
                                   Handover.requested_at).where(Handover.case_id.in_([case.id for case, _ in rows]),
                                                                Handover.status.in_(DECLINED))).all()
    made = 0
    for case, owner in rows:
        since = owner.presence_since
        for case_id, from_owner, to_owner, at in asked:  # already asked during this absence: not again
            if case_id == case.id and from_owner == owner.id and ensure_utc(at) >= ensure_utc(since):
                chooser.formers.setdefault(case.id, set()).add(to_owner)
        chosen = chooser.pick(case.id, owner.id)
        if chosen is None:
            continue  # everyone was asked: the case stays with its owner until a lead imposes one
        reason = (f"{owner.display_name} is away; offered by the team's rule (answer within "
                  f"{_hours(answer_by)}, else it is offered to the next colleague)")
        offer = Handover(case_id=case.id, customer_id=case.customer_id,
                         from_owner_id=owner.id, to_owner_id=chosen, reason=reason,
                         requested_by=SYSTEM.id, requested_at=now, status=HandoverStatus.PENDING)
        session.add(offer)
        session.flush()
        log(session, clock, case, SYSTEM, "handover_requested", f"Hand-over to {chooser.name(chosen)} offered",
            text=reason, data={"handoverId": offer.id, "toOwnerId": chosen})
        made += 1
    return made
