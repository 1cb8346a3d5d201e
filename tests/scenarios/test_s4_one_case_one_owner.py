"""S4 "The SIM that was thrown away", as a case: one problem told in the store, on an online
form, to the helpline and on Twitter is ONE billing case with ONE owner from April to June.
Each person who picks it up sees the brief; the missed refund promise escalates; the case
cannot be closed while the promise is open.

March to June on the clock, with the worker sweeping every evening.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.cases import brief, clocks, items_service, policy, queries
from onethread.cases import service as cases
from onethread.errors import Conflict
from onethread.interactions import service as interactions
from onethread.interactions import timeline
from onethread.inventory import service as inventory
from onethread.models import Case, CaseEvent, Commitment, Contact, Escalation, Handover, Product
from tests.support.s4_world import world

CALENDAR = policy.market("GB").calendar


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def contact(uow, clock, who, channel: str, kind: str, text: str, n: int, **ident) -> str:
    with uow() as s:
        return interactions.record(s, clock, who, interactions.Intake(
            channel=channel, direction="inbound", occurred_at=clock.now(), text=text, kind=kind,
            channel_message_id=f"s4-{n}", customer_id=ident.pop("customer_id", None),
            identifiers=ident or None), region="GB").contact.id


def test_one_billing_case_one_owner_across_four_channels(uow, clock):
    w = world(uow, clock)
    bea, dana_id = w["bea"], w["dana_id"]

    # 10 March: the store removes the old tablet SIM at the renewal, and bins it.
    clock.set(on(date(2026, 3, 10), 11))
    with uow() as s:
        tablet = s.get(Product, w["tablet"])
        inventory.change_status(s, clock, w["sam"], tablet, "terminated", at=clock.now(), channel="store",
                                reason="removed at renewal; SIM destroyed in store")
    with uow() as s:
        tablet = s.get(Product, w["tablet"])
        assert (tablet.status, tablet.terminated_at, tablet.termination_channel) == (
            "terminated", on(date(2026, 3, 10), 11), "store")

    told = [  # (day, channel, kind, who records it, identifiers, text, who routes it)
        (date(2026, 4, 14), "store", "visit_note", w["sam"], {"customer_id": w["customer"]},
         "April bill still charges the old tablet SIM removed here on 10 March.", w["sam"]),
        (date(2026, 5, 5), "portal", "form", SYSTEM, {"email": "mark@harbourlane.example"},
         "Charged again in May for the SIM your store destroyed in March.", w["jo"]),
        (date(2026, 5, 12), "phone", "call", SYSTEM, {"msisdn": "07700 900401"},
         "Helpline: third time telling this. Refund April and May please.", w["alex"]),
        (date(2026, 5, 26), "social", "post", SYSTEM, {"social": "x:@harbourlanejoin"},
         "Third month of being billed for a SIM that is in your store's bin.", w["tess"]),
    ]
    by_day = {day: item for day, *item in told}
    case_id = None
    owners_seen, briefs = [], []
    last_update = None
    day = date(2026, 4, 14)
    while day <= date(2026, 6, 12):
        clock.set(on(day, 9, 30))
        if day in by_day:
            channel, kind, recorder, ident, text, router = by_day[day]
            contact_id = contact(uow, clock, recorder, channel, kind, text, len(owners_seen), **dict(ident))
            with uow() as s:
                case, joined = cases.route_contact(
                    s, clock, router, contact_id, kind="billing_dispute", title="Charged for a removed tablet SIM",
                    product_id=w["tablet"], category="billing", owner_id=w["bea_id"])
                assert joined == (case_id is not None)
                case_id = case.id
                owners_seen.append(case.owner_id)
                # whoever picks it up sees the story so far, and does not ask for it again
                briefs.append((router.name, brief.build(s, case, clock.now())))
            if channel == "phone":  # the helpline promises the refund within five days
                with uow() as s:
                    items_service.add_commitment(s, clock, router, case_id,
                                                 text="refund the April and May charges for the removed SIM",
                                                 due_at=clock.now() + timedelta(days=5), made_via="phone")
            clock.set(on(day, 10, 30))
            with uow() as s:
                cases.reply(s, clock, bea, case_id, text="Bea Jones here: I own your billing case and I am on it.",
                            channel="email")
            last_update = day
        elif case_id and CALENDAR.is_working_day(day) and (day - last_update).days >= 7:
            with uow() as s:  # the owner keeps the customer informed every week
                if s.get(Case, case_id).status != "closed":
                    cases.reply(s, clock, bea, case_id, text="Update on your case: the credit is with billing.",
                                channel="email")
            last_update = day
        if day == date(2026, 5, 18):  # the promise is broken: the owner cannot close it away
            with uow() as s, pytest.raises(Conflict) as refused:
                cases.close(s, clock, bea, case_id, outcome="nothing to do", customer_confirmed=False)
            assert "open commitment: refund the April and May charges" in refused.value.message
        if day == date(2026, 5, 27):
            with uow() as s:
                commitment = s.scalars(select(Commitment).where(Commitment.case_id == case_id)).one()
                items_service.close_commitment(s, clock, bea, commitment.id, kept=True,
                                               note="April and May credited (GBP 20.00), late")
        if day == date(2026, 6, 1):
            with uow() as s:
                closed = cases.close(s, clock, bea, case_id, customer_confirmed=True,
                                     outcome="Charges for the removed tablet SIM refunded for April and May")
                assert closed.status == "closed"
        clock.set(on(day, 17))
        with uow() as s:
            clocks.sweep(s, clock)
        day += timedelta(days=1)

    with uow() as s:
        case = s.get(Case, case_id)
        # ONE case, ONE owner, every contact on it
        assert s.scalar(select(func.count()).select_from(Case).where(Case.customer_id == w["customer"])) == 1
        assert owners_seen == [w["bea_id"]] * 4 and case.owner_id == w["bea_id"]
        assert s.scalar(select(func.count()).select_from(Handover).where(Handover.case_id == case_id)) == 0
        assert not s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                     CaseEvent.kind == "owner_changed")).all()
        inbound = s.scalars(select(Contact).where(Contact.customer_id == w["customer"],
                                                  Contact.direction == "inbound")).all()
        assert sorted(c.channel for c in inbound) == ["phone", "portal", "social", "store"]
        assert {c.case_id for c in inbound} == {case_id}

        # the missed promise escalated, once, to the owner's lead, at its due time
        missed = s.scalars(select(Escalation).where(Escalation.case_id == case_id,
                                                    Escalation.clock_kind == "commitment_due")).all()
        assert len(missed) == 1
        assert missed[0].to_staff_id == dana_id and missed[0].at == on(date(2026, 5, 17), 9, 30)
        # ... and is on the customer's timeline, with who and when
        entries = timeline.read(s, w["customer"], limit=500).entries
        for esc in s.scalars(select(Escalation).where(Escalation.case_id == case_id)):
            assert any(e.kind == "case" and e.occurred_at == esc.at and e.title.startswith("Escalated to ")
                       and e.actor_name == "onethread" for e in entries), esc.reason
        assert any(e.title.startswith("Escalated to Dana Price (team lead): commitment due missed")
                   for e in entries)

        # closed with the outcome, confirmed by the customer; nothing fires after closure
        assert (case.status, case.customer_confirmed) == ("closed", True)
        assert "refunded" in case.outcome
        assert queries.supervisor_queue(s)[1] == 0

    # The fourth person (the social team) saw the whole story without asking for it again.
    who, fourth = briefs[-1]
    assert who == "Tess Ward"
    assert fourth.owner == "Bea Jones"
    assert fourth.problem.startswith("April bill still charges the old tablet SIM")
    assert fourth.channels == ["phone", "portal", "social", "store"] and fourth.contacts == 4
    assert fourth.headline == ("Harbour Lane Joinery Ltd: Charged for a removed tablet SIM (billing dispute, "
                               "since 14 Apr 2026; told us 4 times by phone, portal, social, store)")
    assert any(line.startswith("promise due 17 May: refund the April and May charges") for line in fourth.open)
    assert any("commitment due" in line for line in fourth.open if line.startswith("past its clock"))
    # "Done so far" is what people did; the escalation is its own line
    assert not any("Escalated to" in line for line in fourth.done)
    assert "Dana Price (team lead)" in fourth.escalation
    assert "looked after by Bea Jones" in fourth.for_customer
    # and each earlier person saw the contacts before theirs
    assert [b.contacts for _, b in briefs] == [1, 2, 3, 4]
    assert briefs[1][1].channels == ["portal", "store"]
