"""The device-fault policy's ``is_existing_customer`` fact: when the caller does not say it, the
decision service derives it from the customer record (a customer since before the purchase is an
existing one) and records that it did; a caller's value is believed, with the record's view beside it.
The store page no longer works it out itself."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.models import Decision
from tests.support.pages_store_supervisor import fault, sign_in, world
from tests.support.s1_world import FACTS
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"
ASKED = {k: v for k, v in FACTS.items() if k != "is_existing_customer"}


def customer(uow, clock, since: date | None) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="David", family_name="Okafor")
        return customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=since).id


def ask(client, headers, customer_id, facts) -> dict:
    r = client.post(f"{V1}/decisions", headers=headers, json={
        "policy": "device_fault", "customerId": customer_id, "channel": "phone", "facts": facts})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_customer_since_before_the_purchase_is_derived_existing_and_it_says_so(client, admin, uow, clock):
    today = clock.now().date()
    long_standing = customer(uow, clock, date(2014, 6, 1))
    d = ask(client, admin, long_standing, ASKED)
    assert d["facts"]["is_existing_customer"] is True
    assert d["facts"]["existing_customer_record"] == {
        "source": "customer_record", "customer_since": "2014-06-01",
        "purchased_on": (today - timedelta(days=3)).isoformat(), "existing_customer": True}
    # The same answer as when the caller says it: being an existing customer never gives less.
    said = ask(client, admin, long_standing, FACTS)
    assert (said["outcome"], said["rule"], said["reasons"]) == (d["outcome"], d["rule"], d["reasons"])


def test_a_customer_who_joined_with_the_purchase_is_not_an_existing_one(client, admin, uow, clock):
    bought = clock.now().date() - timedelta(days=3)
    new = customer(uow, clock, bought)
    d = ask(client, admin, new, ASKED)
    assert d["facts"]["is_existing_customer"] is False
    assert d["facts"]["existing_customer_record"]["source"] == "customer_record"
    assert d["facts"]["existing_customer_record"]["customer_since"] == bought.isoformat()
    joined_the_day_before = customer(uow, clock, bought - timedelta(days=1))
    assert ask(client, admin, joined_the_day_before, ASKED)["facts"]["is_existing_customer"] is True


def test_a_value_the_caller_gives_wins_and_the_records_view_is_kept_beside_it(client, admin, uow, clock):
    long_standing = customer(uow, clock, date(2014, 6, 1))
    d = ask(client, admin, long_standing, {**ASKED, "is_existing_customer": False})
    assert d["facts"]["is_existing_customer"] is False
    record = d["facts"]["existing_customer_record"]
    assert record["source"] == "caller" and record["existing_customer"] is True
    # Without the purchase age there is nothing to derive from: the missing fact is named, nothing is kept.
    no_age = {k: v for k, v in ASKED.items() if k != "days_since_purchase"}
    r = client.post(f"{V1}/decisions", headers=admin, json={
        "policy": "device_fault", "customerId": long_standing, "channel": "phone", "facts": no_age})
    assert "days_since_purchase" in assert_tmf_error(r, 400)["message"]
    huge = client.post(f"{V1}/decisions", headers=admin, json={
        "policy": "device_fault", "customerId": long_standing, "channel": "phone",
        "facts": {**ASKED, "days_since_purchase": 10**12}})
    assert "is_existing_customer" in assert_tmf_error(huge, 400)["message"]
    with uow() as s:
        assert len(s.scalars(select(Decision)).all()) == 1


def test_the_store_page_leaves_it_to_the_decision_service(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:  # a customer since long before this purchase
        customers.get_customer(s, w.customer).customer_since = date(2012, 1, 9)
    sign_in(client, "sol.store")
    r = client.post(f"/store/customers/{w.customer}/decision", data=fault(clock, product_id=w.handset),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    with uow() as s:
        facts = s.scalar(select(Decision)).facts
    assert facts["is_existing_customer"] is True
    assert facts["existing_customer_record"]["source"] == "customer_record"
