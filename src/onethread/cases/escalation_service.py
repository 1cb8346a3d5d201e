"""A person escalates a case by hand (the sweep escalates breached clocks in ``breaches``).

The case climbs one rung of the same ladder the clocks use (owner, team lead, head of customer
relations); the escalation names the person it goes to and why, and lands on the case log and
the customer's timeline.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.cases import clocks, rules
from onethread.cases.items_service import open_case
from onethread.cases.log import log
from onethread.errors import Conflict, Forbidden, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Escalation, StaffUser, Team

MANUAL = "manual"


def escalate(session: Session, clock: Clock, actor: Principal, case_id: str, *, reason: str) -> Escalation:
    """Raise the case one rung above its current escalation level, to the person on that rung."""
    case = open_case(session, case_id)
    if actor.kind != "staff":
        raise Forbidden("a case is escalated by hand by a named person")
    if not (reason or "").strip():
        raise ValidationFailed("say why the case needs escalating", field="reason")
    owner = session.get(StaffUser, case.owner_id)
    lead_id = session.scalar(select(Team.lead_id).where(Team.id == owner.team_id)) if owner.team_id else None
    head_id = clocks.head_of_customer_relations(session)
    wanted = max(min(case.escalation_level + 1, len(rules.LADDER)), 2)  # rung 1 is the owner
    level, to = rules.escalation_target(wanted, case.owner_id, lead_id, head_id)
    if to == case.owner_id or level <= case.escalation_level:
        raise Conflict("there is nobody higher to escalate this case to: it is already with "
                       + ("the head of customer relations" if case.escalation_level >= len(rules.LADDER)
                          else "the highest person set up (no team lead or head of customer relations above)"))
    now = clock.now()
    receiver = session.get(StaffUser, to)
    item = Escalation(case_id=case.id, customer_id=case.customer_id, clock_id=None, clock_kind=MANUAL, level=level,
                      to_staff_id=to, at=now, reason=f"escalated by {actor.name}: {reason.strip()}")
    session.add(item)
    case.escalation_level = max(case.escalation_level, level)
    rung = rules.ladder_rung(level).replace("_", " ")
    log(session, clock, case, actor, "escalated", f"Escalated to {receiver.display_name} ({rung}) by {actor.name}",
        text=reason.strip(), data={"level": level, "toStaffId": to, "clock": MANUAL})
    clocks.touch(session, case, now)
    session.flush()
    return item
