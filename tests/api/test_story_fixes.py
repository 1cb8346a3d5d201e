"""Issue 15, item 5: the fixes found on the way, each as a person would notice it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import items_service
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.decisions import service as decisions
from onethread.interactions import timeline
from onethread.inventory import service as inventory
from onethread.models import Case, Commitment, StaffUser

PASSWORD = "correct horse battery"


def _world(uow, clock):
    with uow() as s:
        decisions.load_shipped(s, clock)
        team = access.create_team(s, clock, name="Contact centre")
        agent = access.create_user(s, clock, username="jo.agent", display_name="Jo Reid", role="agent",
                                   password=PASSWORD, team_id=team.id)
        store = access.create_user(s, clock, username="sam.store", display_name="Sam Patel", role="store_advisor",
                                   password=PASSWORD)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Daniel", family_name="Okafor")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=date(2014, 5, 1))
        handset = inventory.add_product(s, clock, SYSTEM, customer_id=cust.id, kind="handset", name="Nimbus X2",
                                        currency="GBP", model="Nimbus X2",
                                        purchased_on=clock.now().date() - timedelta(days=3))
        return cust.id, handset.id, access.staff_principal(agent), store.id


def _sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD},
                       follow_redirects=False).status_code == 303


def test_a_reply_appears_once_on_the_timeline_linked_to_its_case(uow, clock):
    customer, _, jo, _ = _world(uow, clock)
    with uow() as s:
        case = cases.open_new(s, clock, jo, customer_id=customer, kind="fault", title="No sound", opened_via="phone")
        reply = cases.reply(s, clock, jo, case.id, text="A swap is on its way.", channel="email")
        case_id, reply_id = case.id, reply.id
    with uow() as s:
        page = timeline.read(s, customer, limit=50)
        about_reply = [e for e in page.entries if "swap is on its way" in (e.detail or "")]
        assert len(about_reply) == 1 and about_reply[0].ref_id == reply_id
        assert page.cases[about_reply[0].id] == (case_id, "No sound")


def test_product_events_are_shown_when_they_happened(uow, clock):
    customer, _, _, _ = _world(uow, clock)
    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    with uow() as s:
        sim = inventory.add_product(s, clock, SYSTEM, customer_id=customer, kind="data_sim", name="Tablet SIM",
                                    currency="GBP", activated_at=datetime(2025, 6, 1, 9, 0, tzinfo=UTC))
        # Recorded in December: removed in the store on 10 March.
        inventory.change_status(s, clock, SYSTEM, sim, "terminated", at=datetime(2026, 3, 10, 11, 0, tzinfo=UTC),
                                channel="store", reason="removed in store")
    with uow() as s:
        entries = [e for e in timeline.read(s, customer, limit=50).entries if e.kind == "product"]
    at = {e.title.split(":")[0]: e.occurred_at for e in entries if "Tablet SIM" in e.title}
    assert at["Product terminated"] == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    assert at["Product added"] == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    assert [e.occurred_at for e in entries] == sorted((e.occurred_at for e in entries), reverse=True)


def test_the_360_lists_closed_cases_paged_and_times_in_the_market_zone(client, uow, clock):
    customer, _, jo, _ = _world(uow, clock)
    clock.set(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))  # summer: London is UTC+1
    with uow() as s:
        for n in range(12):
            case = cases.open_new(s, clock, jo, customer_id=customer, kind="request", title=f"Request {n:02d}",
                                  opened_via="phone")
            cases.close(s, clock, jo, case.id, outcome=f"done {n}", customer_confirmed=True)
            clock.advance(timedelta(minutes=1))
    _sign_in(client, "jo.agent")
    first = client.get(f"/customers/{customer}").text

    def closed(html: str) -> str:
        return html[html.index('id="closed-cases"'):html.index('id="products-h"')]

    assert "Closed cases (12)" in first and "page 1 of 2" in first
    assert "Request 11" in closed(first) and "Request 01" not in closed(first)
    second = client.get(f"/customers/{customer}", params={"closed": 2}).text
    assert "Request 01" in closed(second) and "Request 00" in closed(second)
    assert client.get(f"/customers/{customer}", params={"closed": "x"}).status_code == 200
    # Timeline entries link to their case; times are London's, named.
    assert 'on case <a href="/cases/' in first
    assert "01 Jul 2026, 09:11 BST" in first
    with uow() as s:
        s.scalar(select(StaffUser).where(StaffUser.username == "jo.agent")).time_zone = "Europe/Amsterdam"
    assert "01 Jul 2026, 10:11 CEST" in client.get(f"/customers/{customer}").text


def test_the_store_uses_the_open_case_and_never_promises_a_second_replacement(client, uow, clock):
    customer, handset, jo, _ = _world(uow, clock)
    facts = {"device_model": "Nimbus X2", "symptom": "no sound from the headphone jack", "days_since_purchase": 3,
             "physical_damage_evidence": False, "in_stock": False, "known_defect": True}
    with uow() as s:  # the contact centre already promised a doorstep swap on the fault case
        case = cases.open_new(s, clock, jo, customer_id=customer, kind="fault", title="Jack dead",
                              opened_via="phone", product_id=handset)
        by_phone = decisions.decide(s, clock, jo, policy="device_fault", facts=facts, channel="phone",
                                    customer_id=customer, product_id=handset, case_id=case.id)
        decisions.order_replacement(s, clock, jo, by_phone.id, channel="phone")
        case_id = case.id
    _sign_in(client, "sam.store")
    page = client.get(f"/store/customers/{customer}").text
    assert f'<option value="{case_id}" selected>Jack dead</option>' in page  # the device's open case is offered
    asked = client.post(f"/store/customers/{customer}/decision", follow_redirects=False, data={
        "product_id": handset, "device_model": "Nimbus X2", "symptom": "the headphone jack is dead",
        "purchased_on": (clock.now().date() - timedelta(days=3)).isoformat(), "damage": "no", "in_stock": "no",
        "known_defect": "yes", "case_id": ""})
    assert asked.status_code == 303
    decision_id = asked.headers["location"].split("decision=")[1].split("#")[0]
    shown = client.get(asked.headers["location"]).text
    assert "Already promised" in shown and "Place the replacement order" not in shown
    refused = client.post(f"/store/decisions/{decision_id}/order", follow_redirects=False)
    assert refused.status_code == 409 and "already promised" in refused.text
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalar(select(func.count()).select_from(Commitment)) == 1
        assert decisions.get_decision(s, decision_id).case_id == case_id  # the store's decision is on the case
    # Without a promise yet, the store's order goes on the open case, never a second one.
    with uow() as s:
        for c in s.scalars(select(Commitment)):
            items_service.close_commitment(s, clock, jo, c.id, kept=True, note="swapped")
        fresh = decisions.decide(s, clock, jo, policy="device_fault", facts=facts, channel="store",
                                 customer_id=customer, product_id=handset)
        fresh_id = fresh.id
    assert client.post(f"/store/decisions/{fresh_id}/order", follow_redirects=False).status_code == 303
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalars(select(Commitment).where(Commitment.status == "open")).one().case_id == case_id
