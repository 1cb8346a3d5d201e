"""S5 "But the fibre works": seven months of a damage case for an 89-year-old customer.

The technician drills into a heating pipe on the installation visit. The harm (no heating) is
urgent because she is vulnerable; the insurer, the plumber and the claims handler are
participants with tasks and due dates; an overdue task escalates to the case owner; the son's
unanswered message escalates to the owner's lead; an owner who is away, and then one who does
nothing through two no-activity periods, are replaced by rule with recorded hand-overs; "the
fibre works" closes nothing while the harm is open; the case closes in October with the outcome
and the customer's confirmation. Every escalation and hand-over is on her timeline.

The worker sweeps before anything happens and every evening (``tick``), as a live one would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import brief, clocks, handover_service, items_service, policy, queries
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.demo import worlds
from onethread.errors import Conflict
from onethread.interactions import service as interactions
from onethread.interactions import timeline
from onethread.inventory import service as inventory
from onethread.models import Case, CaseClock, CaseEvent, Contact, Escalation, Handover, Product, StaffUser

CALENDAR = policy.market("GB").calendar


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def tick(uow, clock, when: datetime) -> None:
    """Time passes; the worker has swept up to now."""
    clock.set(when)
    with uow() as s:
        clocks.sweep(s, clock)
        handover_service.replace_away_owners(s, clock)


def world(uow, clock) -> dict:
    with uow() as s:
        users, _ = worlds.staff(s, clock, [
            ("gertrude.b", "Gertrude Blanc", "specialist", "Case specialists"),
            ("omar.s", "Omar Said", "specialist", "Case specialists"),
            ("sofia.l", "Sofia Lind", "specialist", "Case specialists"),
            ("marta.lead", "Marta Lopez", "team_lead", "Case specialists"),
            ("hana.head", "Hana Novak", "team_lead", "Customer relations"),
            ("alex.agent", "Alex Morgan", "agent", "Contact centre"),
            ("lee.lead", "Lee Carter", "team_lead", "Contact centre"),
            ("finn.field", "Finn Walsh", "field_subcontractor", "FibreFix Ltd (subcontractor)"),
        ], [("Case specialists", "specialists", "marta.lead"),
            ("Customer relations", "customer_relations", "hana.head"), ("Contact centre", "contact_centre", "lee.lead"),
            ("FibreFix Ltd (subcontractor)", "subcontractor", "finn.field")])
        people = {u.split(".")[0]: user for u, user in users.items()}

        edith_p = customers.create_individual(s, clock, SYSTEM, given_name="Edith", family_name="Clarke",
                                              birth_date=date(1937, 2, 11))
        robert_p = customers.create_individual(s, clock, SYSTEM, given_name="Robert", family_name="Clarke")
        edith = customers.create_customer(s, clock, SYSTEM, party_id=edith_p.id, customer_since=date(1998, 5, 1))
        son = customers.add_representative(s, clock, SYSTEM, customer_id=edith.id, party_id=robert_p.id,
                                           relationship="son", evidence="Lasting power of attorney on file",
                                           permissions=["view_cases", "message_owner", "raise_complaint"])
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=edith.id, kind="age", consent_given=True,
                                       review_on=date(2026, 12, 1), note="89 years old; lives alone",
                                       needs=["assisted_channels", "proactive_contact", "priority"])
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=edith.id, kind="digital_exclusion",
                                       consent_given=True, review_on=date(2026, 12, 1),
                                       note="No e-mail or smartphone: phone, letter or via her son")
        fibre = inventory.add_product(s, clock, SYSTEM, customer_id=edith.id, kind="fibre", name="Fibre 150",
                                      price_minor=3500, currency="GBP", status="pendingActive")
        ids = {name: u.id for name, u in people.items()}
        return {"customer": edith.id, "fibre": fibre.id, "son": son.id, "ids": ids,
                "as": {name: access.staff_principal(u) for name, u in people.items()}}


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not CALENDAR.is_working_day(day):
        day += timedelta(days=1)
    return day


def escalations(s, case_id: str, kind: str) -> list[Escalation]:
    return list(s.scalars(select(Escalation).where(Escalation.case_id == case_id, Escalation.clock_kind == kind)
                          .order_by(Escalation.at)))


def task_id(s, case_id: str, title_start: str) -> str:
    return s.scalar(select(items_service.Task.id).where(items_service.Task.case_id == case_id,
                                                        items_service.Task.title.startswith(title_start),
                                                        items_service.Task.status == "open"))


def test_seven_months_of_a_damage_case(uow, clock):
    w = world(uow, clock)
    ids, who = w["ids"], w["as"]

    # 16 March: the third installation visit. The technician drills into a heating pipe.
    tick(uow, clock, on(date(2026, 3, 16), 11))
    with uow() as s:
        note = interactions.record(s, clock, who["finn"], interactions.Intake(
            channel="field", direction="internal", kind="technician_note", occurred_at=clock.now(),
            customer_id=w["customer"], text="Third visit: drilled into a heating pipe behind the wall; temporary "
                                            "repair; water turned off, no heating."), region="GB").contact
        case, joined = cases.route_contact(s, clock, who["alex"], note.id, kind="damage_claim",
                                           title="Heating pipe drilled during the fibre installation",
                                           product_id=w["fibre"], category="installation_damage",
                                           owner_id=ids["gertrude"])
        case_id = case.id
        harm = items_service.add_harm(s, clock, who["alex"], case_id, kind="no_heating", severity="medium",
                                      description="No heating or hot water since the pipe was drilled",
                                      reported_by="Finn Walsh (technician, on the visit)")
        inventory.change_status(s, clock, who["finn"], s.get(Product, w["fibre"]), "active", channel="field")
        assert not joined
        # vulnerable and without heating: urgent, whatever was reported
        assert (harm.reported_severity, harm.severity, s.get(Case, case_id).severity) == ("medium", "urgent",
                                                                                         "urgent")
        harm_id = harm.id

    tick(uow, clock, on(date(2026, 3, 16), 12))
    with uow() as s:
        gertrude = who["gertrude"]
        cases.reply(s, clock, gertrude, case_id, channel="phone",
                    text="Gertrude Blanc, customer relations: I own your mother's case and I will call you back.")
        parts = {kind: items_service.add_participant(s, clock, gertrude, case_id, kind=kind, name=name,
                                                     organisation=org).id
                 for kind, name, org in (("claims_handler", "Paul Girard", "ClaimsCo"),
                                         ("plumber", "Nico Ferrand", "Plumbfast"),
                                         ("insurer", "Claims desk", "MOUF Assurances"))}

        def task(title, kind, due):
            items_service.add_task(s, clock, gertrude, case_id, title=title, assignee_kind="participant",
                                   assignee_id=parts[kind], due_at=due)

        task("Repair the pipe and restore the heating", "plumber", on(date(2026, 3, 18), 12))
        task("Assess the water damage to the wall and carpet", "claims_handler", on(date(2026, 3, 23), 12))
        task("Confirm cover for the wall and carpet", "insurer", on(date(2026, 4, 3), 12))

    # 18 March: the plumber has not come. The overdue task escalates to the case owner.
    tick(uow, clock, on(date(2026, 3, 18), 18))
    with uow() as s:
        [overdue] = escalations(s, case_id, "task_overdue")
        assert overdue.to_staff_id == ids["gertrude"] and overdue.at == on(date(2026, 3, 18), 12)
        assert overdue.level == 1

    tick(uow, clock, on(date(2026, 3, 19), 9))
    with uow() as s:
        items_service.complete_task(s, clock, gertrude, task_id(s, case_id, "Repair the pipe"), cancelled=True,
                                    note="Plumbfast did not come; rebooked")
        items_service.add_task(s, clock, gertrude, case_id, title="Come back and repair the pipe",
                               assignee_kind="participant", assignee_id=parts["plumber"],
                               due_at=on(date(2026, 4, 17), 12))

    # 19 March: the son writes to the owner; nobody answers within the day.
    tick(uow, clock, on(date(2026, 3, 19), 10))
    with uow() as s:
        rep = s.get(customers.Representative, w["son"])
        assert customers.representative_may(rep, "message_owner", clock.now().date())
        message = cases.customer_message(s, clock, SYSTEM, case_id, channel="email",
                                         on_behalf="Robert Clarke (son)",
                                         text="My mother has had no heating for three days. Who is doing what?")
        assert message.case_id == case_id
        # the son sees the owner's name
        assert "looked after by Gertrude Blanc" in brief.build(s, s.get(Case, case_id), clock.now()).for_customer
    tick(uow, clock, on(date(2026, 3, 20), 14))
    with uow() as s:
        [unanswered] = escalations(s, case_id, "customer_waiting")
        assert unanswered.to_staff_id == ids["marta"]  # the owner's lead
        assert unanswered.at == on(date(2026, 3, 20), 10)  # eight working hours after the message
        cases.reply(s, clock, gertrude, case_id, channel="phone",
                    text="Sorry for the silence. The plumber is rebooked; I am chasing the claims handler.")

    # 23 March: Gertrude is away. The worker gives the case to the least-loaded colleague.
    tick(uow, clock, on(date(2026, 3, 23), 9))
    with uow() as s:
        s.get(StaffUser, ids["gertrude"]).away = True
    tick(uow, clock, on(date(2026, 3, 23), 9, 5))
    with uow() as s:
        case = s.get(Case, case_id)
        assert case.owner_id == ids["omar"]
        away = s.scalars(select(Handover).where(Handover.case_id == case_id)).one()
        assert (away.from_owner_id, away.to_owner_id, away.status, away.requested_by) == (
            ids["gertrude"], ids["omar"], "imposed", "SYSTEM")
        assert away.reason == "Gertrude Blanc is away"

    # Omar does nothing: the claims task goes overdue (to him, the owner now), a reminder, then
    # a second quiet period: he is replaced by rule, and the hand-over is recorded.
    for day in (date(2026, 3, 23), date(2026, 3, 24), date(2026, 3, 25), date(2026, 3, 26), date(2026, 3, 27)):
        tick(uow, clock, on(day, 18))
    with uow() as s:
        claims = [e for e in escalations(s, case_id, "task_overdue") if e.at == on(date(2026, 3, 23), 12)]
        assert [e.to_staff_id for e in claims] == [ids["omar"]]
        quiet = escalations(s, case_id, "no_activity")
        omar_quiet = [e for e in quiet if e.at >= on(date(2026, 3, 23), 9)]
        assert [(e.to_staff_id, e.level) for e in omar_quiet] == [(ids["omar"], 1), (ids["marta"], 2)]
        case = s.get(Case, case_id)
        assert case.owner_id == ids["sofia"]
        stalled = s.scalars(select(Handover).where(Handover.case_id == case_id)
                            .order_by(Handover.requested_at)).all()[-1]
        assert (stalled.from_owner_id, stalled.to_owner_id, stalled.status) == (ids["omar"], ids["sofia"],
                                                                               "imposed")
        assert stalled.requested_at == omar_quiet[-1].at
        assert stalled.reason.startswith("no activity by Omar Said")

    # Sofia owns it to the end. She keeps the family informed before the case goes stale, and
    # the third parties come and go through the summer.
    sofia = who["sofia"]
    refused = []

    def try_close(s):
        with pytest.raises(Conflict) as exc:
            cases.close(s, clock, sofia, case_id, outcome="The fibre works", customer_confirmed=False)
        refused.append(exc.value.details["open"])

    script = {
        date(2026, 3, 30): lambda s: try_close(s),
        date(2026, 4, 10): lambda s: items_service.complete_task(
            s, clock, sofia, task_id(s, case_id, "Assess the water"), note="Wall and carpet to replace; report "
                                                                            "sent to the insurer"),
        date(2026, 4, 17): lambda s: (
            items_service.complete_task(s, clock, sofia, task_id(s, case_id, "Come back"),
                                        note="Second repair done; it still leaks slowly"),
            items_service.add_task(s, clock, sofia, case_id, title="Replace the leaking pipe section",
                                   assignee_kind="participant", assignee_id=parts["plumber"],
                                   due_at=on(date(2026, 6, 30), 12))),
        date(2026, 5, 20): lambda s: items_service.complete_task(
            s, clock, sofia, task_id(s, case_id, "Confirm cover"), note="Cover confirmed for wall and carpet"),
        date(2026, 9, 14): lambda s: (
            cases.customer_message(s, clock, SYSTEM, case_id, channel="phone", on_behalf="Amira Haddad (social "
                                   "worker)", text="Mrs Clarke is back from hospital; the pipe still leaks."),
            clock.set(on(date(2026, 9, 14), 14)),
            cases.reply(s, clock, sofia, case_id, channel="phone",
                        text="Thank you: the plumber replaces the pipe section this month; I will call her.")),
        date(2026, 9, 15): lambda s: try_close(s),
        date(2026, 9, 29): lambda s: items_service.complete_task(
            s, clock, sofia, task_id(s, case_id, "Replace the leaking"), note="Pipe section replaced; no leak "
                                                                              "after 48 hours"),
        date(2026, 10, 1): lambda s: items_service.resolve_harm(
            s, clock, sofia, harm_id, resolution="Pipe replaced, heating back on, wall re-plastered and carpet "
                                                 "replaced (paid by the insurer)"),
    }
    day = date(2026, 3, 30)
    while day < date(2026, 10, 2):
        if CALENDAR.is_working_day(day):
            tick(uow, clock, on(day, 9, 30))
            with uow() as s:
                if day in script:
                    script[day](s)
                due = s.scalar(select(CaseClock.due_at).where(
                    CaseClock.case_id == case_id, CaseClock.kind == "no_activity",
                    CaseClock.stopped_at.is_(None), CaseClock.fired_at.is_(None)))
                if due is not None and due <= on(next_working_day(day), 9, 30):  # would go stale by then
                    cases.reply(s, clock, sofia, case_id, channel="phone", text="Update from Sofia Lind: "
                                "here is where the repair stands.")
        tick(uow, clock, on(day, 18))
        day += timedelta(days=1)

    # 2 October: everything is put right; the son confirms; the case closes.
    tick(uow, clock, on(date(2026, 10, 2), 10))
    with uow() as s:
        cases.reply(s, clock, sofia, case_id, channel="phone", text="Everything is repaired: is your mother warm?")
        closed = cases.close(s, clock, sofia, case_id, customer_confirmed=True,
                             outcome="Pipe replaced, heating restored, wall and carpet repaired at our cost")
        assert (closed.status, closed.customer_confirmed) == ("closed", True)

    # "The fibre works" closed nothing while the harm was open.
    assert len(refused) == 2
    assert any(b.startswith("open harm: No heating") for b in refused[0])
    assert any(b.startswith("open task: Confirm cover") for b in refused[0])
    assert refused[1] == ["open harm: No heating or hot water since the pipe was drilled",
                          "open task: Replace the leaking pipe section"]

    with uow() as s:
        case = s.get(Case, case_id)
        assert s.get(Product, w["fibre"]).status == "active"
        assert case.outcome.startswith("Pipe replaced") and case.closed_at == on(date(2026, 10, 2), 10)
        # one owner at every moment; each change a recorded hand-over, and only two of them
        handovers = s.scalars(select(Handover).where(Handover.case_id == case_id)
                              .order_by(Handover.requested_at)).all()
        assert [(h.from_owner_id, h.to_owner_id) for h in handovers] == [
            (ids["gertrude"], ids["omar"]), (ids["omar"], ids["sofia"])]
        changes = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "owner_changed")
                            .order_by(CaseEvent.at)).all()
        assert [c.data["toOwnerId"] for c in changes] == [ids["omar"], ids["sofia"]]
        # Sofia was reminded of overdue tasks (the insurer's, the plumber's) as the owner
        sofia_tasks = [e for e in escalations(s, case_id, "task_overdue") if e.at > on(date(2026, 3, 27), 9)]
        assert [e.to_staff_id for e in sofia_tasks] == [ids["sofia"]] * 2
        assert {e.at for e in sofia_tasks} == {on(date(2026, 4, 3), 12), on(date(2026, 6, 30), 12)}
        # and she never let it go quiet: no no-activity breach in her time
        assert not [e for e in escalations(s, case_id, "no_activity") if e.at > on(date(2026, 3, 27), 10)]
        # the social worker was answered the same day
        assert len(escalations(s, case_id, "customer_waiting")) == 1

        # every escalation and hand-over is on her timeline, with who and when
        entries = timeline.read(s, w["customer"], limit=1000).entries
        names = {u.id: u.display_name for u in s.scalars(select(StaffUser))}
        all_escalations = s.scalars(select(Escalation).where(Escalation.case_id == case_id)).all()
        assert len(all_escalations) >= 7
        for esc in all_escalations:
            assert any(e.kind == "case" and e.occurred_at == esc.at and e.actor_name == "onethread"
                       and e.title.startswith(f"Escalated to {names[esc.to_staff_id]} ") for e in entries), esc.reason
        for h in handovers:
            assert any(e.occurred_at == h.requested_at and e.title == f"{names[h.to_owner_id]} now owns the case "
                       "(imposed)" and e.detail == h.reason for e in entries)
        assert any(e.title == "Case closed (confirmed by the customer)" for e in entries)
        messages = s.scalars(select(Contact).where(Contact.case_id == case_id, Contact.direction == "inbound")).all()
        assert {m.extra.get("onBehalfOf") for m in messages} >= {"Robert Clarke (son)",
                                                                  "Amira Haddad (social worker)"}
        assert queries.supervisor_queue(s)[1] == 0
