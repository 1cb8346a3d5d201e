"""TMF678 Customer Bill over HTTP: the billing system imports a bill with its applied rates through
the TMF API (the same import, and the same audit after it, as ``/api/v1/bills`` and CSV files);
usage naming the removed SIM is accepted as evidence and flagged; the same bill posted again
imports nothing; bills and rates read as the official schema has them (audited); bad input is a
TMF Error and writes nothing. S4's business customer, whose tablet SIM was removed on 10 March."""

from __future__ import annotations

from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.billing import bill_csv
from onethread.models import AuditEntry, Bill, BillFinding, Case, Charge
from tests.support.s4_bill_rates import BASE, april, gbp, rate
from tests.support.s4_bill_rates import s4 as s4
from tests.support.s4_bills import TABLET_ICCID, csv_of, month_rows
from tests.tmf_schema import assert_tmf_error, validate

V1 = "/api/v1"


def counts(uow) -> tuple[int, int, int]:
    with uow() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Bill, Charge, BillFinding))


def test_a_bill_imported_through_tmf678_is_audited_and_posting_it_again_imports_nothing(client, s4, uow,
                                                                                       token_for):
    feed = token_for("integration")
    r = client.post(f"{BASE}/customerBill", json=april(s4), headers=feed)
    assert r.status_code == 201, r.text
    bill = r.json()
    validate("TMF678", "CustomerBill", bill)
    assert r.headers["Location"] == bill["href"] == f"{BASE}/customerBill/{bill['id']}"
    assert (bill["billNo"], bill["amountDue"]["value"], bill["remainingAmount"]["amountMinor"], bill["state"]) == (
        "HLJ-2026-04", 98.5, 9850, "sent")
    assert bill["billingPeriod"] == {"startDateTime": "2026-04-01T00:00:00+00:00",
                                     "endDateTime": "2026-05-01T00:00:00+00:00"}
    assert bill["billingAccount"]["name"] == s4.account_number

    rates = client.get(f"{BASE}/appliedCustomerBillingRate", params={"bill.id": bill["id"]}, headers=feed)
    assert rates.status_code == 200 and rates.headers["X-Total-Count"] == "5"
    for item in rates.json():
        validate("TMF678", "AppliedCustomerBillingRate", item)
    usage = rates.json()[-1]
    # The usage naming the removed SIM's ICCID is evidence: kept, on the SIM's product, flagged.
    assert usage["appliedBillingRateType"] == "usageCharge" and usage["product"]["id"] == s4.tablet
    assert {c["name"]: c["value"] for c in usage["characteristic"]} == {"iccid": TABLET_ICCID,
                                                                        "outsideHolding": True}
    assert usage["periodCoverage"] == bill["billingPeriod"] and usage["taxIncludedAmount"]["amountMinor"] == 450
    assert client.get(usage["href"], headers=feed).json() == usage

    # The audit ran after the import: both charges on the removed SIM are findings on one billing case.
    found = client.get(f"{V1}/customers/{s4.customer}/bill-findings", headers=s4.h["bea"]).json()
    assert sorted((f["code"], f["atStake"]) for f in found) == [("BA01", 1000), ("BA02", 450)]
    assert len({f["caseId"] for f in found}) == 1 and found[0]["caseId"]

    schema = client.get("/tmf-api/schema/OnethreadCustomerBill.schema.json").json()  # where the extension is told
    assert schema["properties"]["@baseType"] == {"const": "CustomerBill"}
    before = counts(uow)
    again = client.post(f"{BASE}/customerBill", json=april(s4), headers=feed)
    assert again.status_code == 200 and again.json()["id"] == bill["id"]  # the bill already recorded
    assert counts(uow) == before
    assert "another amount" in assert_tmf_error(client.post(
        f"{BASE}/customerBill", json=april(s4, amountDue=gbp(99), appliedCustomerBillingRate=[
            rate("oneTimeCharge", "Setup", 99)]), headers=feed), 409)["message"]
    with uow() as s:
        assert s.scalars(select(Case).where(Case.customer_id == s4.customer, Case.kind == "billing_dispute")).one()


def test_a_bill_from_a_csv_file_posted_again_through_tmf678_imports_nothing(client, s4, uow, clock, token_for):
    with uow() as s:
        assert bill_csv.import_csv(s, clock, SYSTEM, csv_of(*month_rows(s4, 4)), region="GB").ok
    before = counts(uow)
    r = client.post(f"{BASE}/customerBill", json=april(s4), headers=token_for("integration"))
    assert r.status_code == 200 and r.json()["billNo"] == "HLJ-2026-04"
    assert counts(uow) == before


def test_bills_and_rates_are_listed_narrowed_and_read_with_an_audit_trail(client, s4, uow, token_for):
    feed = token_for("back_office")
    may = april(s4, billNo="HLJ-2026-05", billDate="2026-06-01T00:00:00Z", paymentDueDate="2026-06-15T00:00:00Z",
                billingPeriod={"startDateTime": "2026-05-01T00:00:00Z", "endDateTime": "2026-05-31T23:59:59Z"})
    for body in (april(s4), may):
        assert client.post(f"{BASE}/customerBill", json=body, headers=feed).status_code == 201
    listed = client.get(f"{BASE}/customerBill", params={"relatedParty.id": s4.customer, "fields": "billNo"},
                        headers=s4.h["bea"])
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "2"
    assert [b["billNo"] for b in listed.json()] == ["HLJ-2026-05", "HLJ-2026-04"]  # newest first
    assert set(listed.json()[0]) == {"id", "href", "@type", "billNo"}
    one = client.get(f"{BASE}/customerBill", params={"billNo": "HLJ-2026-05", "billingAccount.id": s4.account},
                     headers=s4.h["bea"]).json()
    assert len(one) == 1 and one[0]["billingPeriod"]["endDateTime"] == "2026-06-01T00:00:00+00:00"
    assert client.get(one[0]["href"], headers=s4.h["bea"]).json() == one[0]
    tablet = client.get(f"{BASE}/appliedCustomerBillingRate", params={"product.id": s4.tablet, "limit": 1},
                        headers=s4.h["bea"])
    assert tablet.headers["X-Total-Count"] == "4" and tablet.headers["X-Result-Count"] == "1"
    assert_tmf_error(client.get(f"{BASE}/customerBill/01HNOSUCHBILL0000000000000", headers=s4.h["bea"]), 404)
    assert_tmf_error(client.get(f"{BASE}/appliedCustomerBillingRate/01HNOSUCHRATE0000000000000",
                                headers=s4.h["bea"]), 404)
    assert_tmf_error(client.get(f"{BASE}/customerBill", params={"colour": "red"}, headers=s4.h["bea"]), 400)
    with uow() as s:
        trail = s.scalars(select(AuditEntry.resource_type).where(AuditEntry.customer_id == s4.customer,
                                                                 AuditEntry.actor_id == s4.bea_id)).all()
    assert trail.count("bill") == 3 and trail.count("charge") == 1


def test_bad_bills_are_refused_with_the_tmf_field_and_nothing_is_written(client, s4, uow, token_for):
    feed = token_for("integration")
    before = counts(uow)
    usage = april(s4)["appliedCustomerBillingRate"][-1]
    for body, status, field in [
        (april(s4, colour="red"), 400, None),
        (april(s4, **{"@type": "CustomerBill"}), 400, "@type"),  # the rates are onethread's extension
        (april(s4, **{"@baseType": "Product"}), 400, "@baseType"),
        (april(s4, amountDue=gbp(98.505)), 400, "amountDue"),  # pence, not fractions of them
        (april(s4, amountDue={"unit": "EUR", "value": 98.5}), 400, "amountDue.unit"),  # the account is in pounds
        (april(s4, amountDue=gbp(98)), 400, "appliedCustomerBillingRate"),  # the rates add up to 98.50
        (april(s4, amountDue={**gbp(98.5), "amountMinor": 9800}), 400, "amountDue"),
        (april(s4, billingAccount={"id": "01HNOSUCHACCOUNT0000000000"}), 404, "billingAccount"),
        (april(s4, amountDue=gbp(4.5), appliedCustomerBillingRate=[{**usage, "appliedBillingRateType": "tip"}]),
         400, "appliedCustomerBillingRate[0].appliedBillingRateType"),
        (april(s4, amountDue=gbp(4.5), appliedCustomerBillingRate=[{**usage, "product": {
            "id": "01HNOSUCHPRODUCT0000000000"}}]), 400, "appliedCustomerBillingRate[0].product"),
        # a SIM this customer never held is not evidence about this customer
        (april(s4, amountDue=gbp(4.5), appliedCustomerBillingRate=[{**usage, "characteristic": [
            {"@type": "StringCharacteristic", "name": "iccid", "value": "8944100000000009993"}]}]),
         400, "appliedCustomerBillingRate[0].characteristic"),
        (april(s4, paymentDueDate="2026-04-01T00:00:00Z"), 400, "paymentDueDate"),
    ]:
        error = assert_tmf_error(client.post(f"{BASE}/customerBill", json=body, headers=feed), status)
        if field is not None:
            assert error.get("field") == field or field in error["message"], (field, error)
    assert_tmf_error(client.post(f"{BASE}/customerBill", json=april(s4), headers=token_for("agent")), 403)
    assert counts(uow) == before
