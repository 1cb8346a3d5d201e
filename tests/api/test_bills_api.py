"""Bills over HTTP: the billing system imports a bill with its charges (checked: currency, whole
minor units, a number the customer held in the charged period, one bill number per account), a
customer's bills are read (audited), payments move what is owed; bad input writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from onethread.models import AuditEntry, Bill, Charge
from tests.support.s3_world import make_priya
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


@pytest.fixture
def s3(uow, clock):
    return make_priya(uow, clock, bills_from=date(2026, 1, 1))


def bill_body(s3, **extra) -> dict:
    body = {"billingAccountId": s3.account, "billNumber": "P-2026-03-A", "periodStart": "2026-02-01",
            "periodEnd": "2026-02-28", "issuedOn": "2026-03-01", "dueOn": "2026-03-20", "amount": 2300,
            "currency": "GBP", "charges": [
                {"kind": "recurring", "description": "Essentials 10 GB", "amount": 1500, "productId": s3.line},
                {"kind": "usage", "description": "Calls abroad", "amount": 1000,
                 "identifier": {"kind": "msisdn", "value": "07700 900301"}},
                {"kind": "credit", "description": "Goodwill", "amount": -200}]}
    return {**body, **extra}


def counts(container) -> tuple[int, int]:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(Bill)), s.scalar(select(func.count()).select_from(Charge))


def test_a_bill_is_imported_with_its_charges_and_read_newest_first(client, s3, token_for, uow, container):
    feed = token_for("integration")
    r = client.post(f"{V1}/bills", json=bill_body(s3), headers=feed)
    assert r.status_code == 201, r.text
    bill = r.json()
    assert (bill["amount"], bill["owed"], bill["status"], bill["currency"]) == (2300, 2300, "issued", "GBP")
    assert r.headers["Location"] == bill["href"] == f"{V1}/bills/{bill['id']}"
    assert client.get(bill["href"], headers=s3.h["jo"]).json() == bill
    assert_tmf_error(client.get(f"{V1}/bills/01HNOSUCHBILL0000000000000", headers=s3.h["jo"]), 404)
    line, usage, credit = bill["charges"]
    assert line["productId"] == s3.line and line["identifierId"]  # the line's number, found for its period
    assert usage["identifierId"] == line["identifierId"] and credit["amount"] == -200
    listed = client.get(f"{V1}/customers/{s3.priya}/bills", headers=s3.h["jo"])
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "3"
    assert [b["billNumber"] for b in listed.json()] == ["P-2026-03-A", "P-2026-02", "P-2026-01"]
    assert client.get(f"{V1}/customers/{s3.tom}/bills", params={"limit": 1},
                      headers=s3.h["jo"]).headers["X-Result-Count"] == "1"
    assert_tmf_error(client.get(f"{V1}/customers/01HNOSUCHCUSTOMER000000000/bills", headers=s3.h["jo"]), 404)
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.customer_id == s3.priya, AuditEntry.resource_type == "bill")) == 2  # one bill, one list


def test_bad_bills_are_refused_and_nothing_is_written(client, s3, token_for, container):
    feed = token_for("back_office")
    before = counts(container)
    one = bill_body(s3)["charges"][0]
    for body, status in [
        (bill_body(s3, currency="EUR"), 400),  # the account is in pounds
        (bill_body(s3, amount=23.0), 400),  # not minor units
        (bill_body(s3, amount=2400), 400),  # the charges add up to 2300
        (bill_body(s3, amount=-1, charges=[]), 400),
        (bill_body(s3, periodEnd="2026-01-01"), 400),
        (bill_body(s3, dueOn="2026-02-01"), 400),
        (bill_body(s3, issuedOn="2026-04-01", dueOn="2026-04-20"), 400),  # in the future
        (bill_body(s3, billNumber="P-2026-01"), 409),  # already imported
        (bill_body(s3, billingAccountId="01HNOSUCHACCOUNT0000000000"), 404),
        (bill_body(s3, amount=1500, charges=[{**one, "productId": "01HNOSUCHPRODUCT0000000000"}]), 400),
        (bill_body(s3, amount=1500, charges=[{**one, "kind": "write_off"}]), 400),
        (bill_body(s3, amount=1500, charges=[{**one, "periodStart": "2026-02-01"}]), 400),
        # Tom's number is Priya's only from September 2019: a charge on it for 2018 is not hers.
        (bill_body(s3, amount=1500, charges=[{**one, "productId": None, "periodStart": "2018-05-01",
                                              "periodEnd": "2018-05-31",
                                              "identifier": {"kind": "msisdn", "value": "07700 900301"}}]), 400),
        (bill_body(s3, amount=1500, charges=[{**one, "identifier": {"kind": "msisdn", "value": "not a number"}}]),
         400),
        (bill_body(s3, colour="red"), 400),
    ]:
        assert_tmf_error(client.post(f"{V1}/bills", json=body, headers=feed), status)
    assert_tmf_error(client.post(f"{V1}/bills", json=bill_body(s3), headers=s3.h["jo"]), 403)  # agents read only
    assert counts(container) == before


def test_payments_move_what_is_owed_and_never_past_it(client, s3, token_for):
    feed = token_for("integration")
    bill = client.post(f"{V1}/bills", json=bill_body(s3), headers=feed).json()
    pay = f"{V1}/bills/{bill['id']}/payments"
    part = client.post(pay, json={"amount": 1000, "paidAt": "2026-03-01T10:00:00Z"}, headers=feed)
    assert part.status_code == 201, part.text
    assert (part.json()["owed"], part.json()["status"]) == (1300, "issued")
    too_much = assert_tmf_error(client.post(pay, json={"amount": 1301}, headers=feed), 409)
    assert "owes 13.00 GBP" in too_much["message"]
    for bad in ({"amount": 0}, {"amount": -5}, {"amount": 1.5}, {"amount": 10, "paidAt": "2026-04-01T00:00:00Z"},
                {"amount": 10, "paidAt": "2026-03-01T10:00:00"}):
        assert_tmf_error(client.post(pay, json=bad, headers=feed), 400)
    assert_tmf_error(client.post(pay, json={"amount": 10}, headers=s3.h["jo"]), 403)
    assert_tmf_error(client.post(f"{V1}/bills/01HNOSUCHBILL0000000000000/payments", json={"amount": 1},
                                 headers=feed), 404)
    rest = client.post(pay, json={"amount": 1300}, headers=feed).json()
    assert (rest["owed"], rest["status"], rest["paid"]) == (0, "paid", 2300)
    assert rest["paidAt"].startswith("2026-03-02T09:00")
