"""The bill audit: each rule catches what it should, with the money at stake, and nothing else;
running it again finds nothing twice; every import is audited; the API runs it for the billing
roles and shows a customer's findings, explained, to customer service. S4's business customer,
whose tablet SIM was removed in the store on 10 March 2026."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.billing import audit
from onethread.billing import service as billing
from onethread.models import BillFinding
from tests.support.s4_bills import TABLET_ICCID, joinery
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


@pytest.fixture
def s4(uow, clock):
    return joinery(uow, clock)


def bill(uow, clock, s4, number: str, start: date, end: date, *charges: billing.ChargeIn) -> str:
    with uow() as s:
        return billing.import_bill(s, clock, SYSTEM, billing_account_id=s4.account, bill_number=number,
                                   period_start=start, period_end=end, issued_on=date(2026, 6, 1),
                                   due_on=date(2026, 6, 15), amount_minor=sum(c.amount_minor for c in charges),
                                   currency="GBP", charges=list(charges), region="GB").id


def recurring(product: str, amount: int, start: date | None = None, end: date | None = None) -> billing.ChargeIn:
    return billing.ChargeIn(kind="recurring", description="Monthly", amount_minor=amount, product_id=product,
                            period_start=start, period_end=end)


def usage(amount: int, **ident) -> billing.ChargeIn:
    return billing.ChargeIn(kind="usage", description="Data roaming", amount_minor=amount, **ident)


def found(uow, clock) -> dict[tuple[str, str], int]:
    """Run the audit; every finding as (code, period start) -> money at stake."""
    with uow() as s:
        audit.run(s, clock)
    with uow() as s:
        return {(f.code, f.period_start.isoformat()): f.at_stake_minor for f in s.scalars(select(BillFinding))}


MARCH, APRIL, MAY = (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 30)), \
    (date(2026, 5, 1), date(2026, 5, 31))
FEB = (date(2026, 2, 1), date(2026, 2, 28))


def test_a_recurring_charge_after_the_termination_is_found_whole_or_pro_rata(uow, clock, s4):
    bill(uow, clock, s4, "F", *FEB, recurring(s4.tablet, 1000), recurring(s4.lines[0], 2800))
    bill(uow, clock, s4, "M", *MARCH, recurring(s4.tablet, 1000), recurring(s4.lines[0], 2800))
    bill(uow, clock, s4, "A", *APRIL, recurring(s4.tablet, 1000), recurring(s4.lines[0], 2800))
    # Removed on 10 March: 22 of March's 31 days (10th to 31st) wrongly charged, all of April;
    # February (before the removal) and the lines still held are not findings.
    assert found(uow, clock) == {("BA01", "2026-03-01"): 1000 * 22 // 31, ("BA01", "2026-04-01"): 1000}


def test_usage_on_the_removed_sim_is_found_and_usage_on_a_held_line_is_not(uow, clock, s4):
    bill(uow, clock, s4, "A", *APRIL, usage(450, identifier_kind="iccid", identifier_value=TABLET_ICCID),
         usage(300, identifier_kind="msisdn", identifier_value="07700 900401"))
    bill(uow, clock, s4, "M", *MARCH, usage(310, product_id=s4.tablet))
    assert found(uow, clock) == {("BA02", "2026-04-01"): 450, ("BA02", "2026-03-01"): 310 * 22 // 31}
    with uow() as s:
        f = s.scalars(select(BillFinding).where(BillFinding.period_start == APRIL[0])).one()
        assert (f.product_id, f.reference_on) == (s4.tablet, date(2026, 3, 10))


def test_the_same_product_charged_twice_for_one_period_is_found_once(uow, clock, s4):
    bill(uow, clock, s4, "A", *APRIL, recurring(s4.lines[0], 2800), recurring(s4.lines[1], 2800))
    bill(uow, clock, s4, "M", *MAY, recurring(s4.lines[0], 2800))
    again = bill(uow, clock, s4, "M2", *MAY, recurring(s4.lines[0], 2800), recurring(s4.lines[1], 2800))
    # Line 1 twice for May (the later charge); consecutive months and line 2's one May charge are fine.
    assert found(uow, clock) == {("BA03", "2026-05-01"): 2800}
    with uow() as s:
        assert s.scalars(select(BillFinding)).one().bill_id == again


def test_a_charge_not_matching_the_price_is_found_only_for_a_whole_month_held_all_month(uow, clock, s4):
    bill(uow, clock, s4, "M", *MAY, recurring(s4.lines[0], 3000), recurring(s4.lines[1], 2800),
         recurring(s4.lines[2], 2500), recurring(s4.lines[1], 1000, date(2026, 6, 1), date(2026, 6, 10)))
    # line 1 overcharged by 2.00, line 3 undercharged by 3.00; line 2 right; a part-month charge is pro rata
    # at the billing system's discretion and not compared.
    found(uow, clock)
    with uow() as s:
        rows = {(f.product_id, f.at_stake_minor) for f in s.scalars(select(BillFinding))}
    assert rows == {(s4.lines[0], 200), (s4.lines[2], -300)}


def test_running_the_audit_again_finds_nothing_twice(uow, clock, s4):
    bill(uow, clock, s4, "A", *APRIL, recurring(s4.tablet, 1000))
    first = found(uow, clock)
    with uow() as s:
        assert audit.run(s, clock).total == 0
    assert found(uow, clock) == first == {("BA01", "2026-04-01"): 1000}


def test_every_import_is_audited_and_the_findings_are_shown_to_customer_service(client, s4, token_for):
    body = {"billingAccountId": s4.account, "billNumber": "HLJ-2026-04", "periodStart": "2026-04-01",
            "periodEnd": "2026-04-30", "issuedOn": "2026-05-01", "dueOn": "2026-05-15", "amount": 3800,
            "currency": "GBP", "charges": [
                {"kind": "recurring", "description": "Tablet data SIM", "amount": 1000, "productId": s4.tablet},
                {"kind": "recurring", "description": "Line 1", "amount": 2800, "productId": s4.lines[0]}]}
    assert client.post(f"{V1}/bills", json=body, headers=token_for("integration")).status_code == 201
    agent = token_for("agent")
    listed = client.get(f"{V1}/customers/{s4.customer}/bill-findings", headers=agent)
    assert listed.status_code == 200, listed.text
    (finding,) = listed.json()
    assert (finding["code"], finding["rule"], finding["atStake"], finding["status"], finding["billNumber"]) == (
        "BA01", "charged_after_termination", 1000, "open", "HLJ-2026-04")
    assert "terminated on 2026-03-10" in finding["explanation"] and "10.00 GBP" in finding["explanation"]
    assert client.get(f"{V1}/customers/{s4.customer}/bill-findings", params={"status": "dismissed"},
                      headers=agent).json() == []
    assert_tmf_error(client.get(f"{V1}/customers/{s4.customer}/bill-findings", params={"status": "maybe"},
                                headers=agent), 400)
    # On demand: the billing roles only; nothing new the second time.
    assert_tmf_error(client.post(f"{V1}/bill-audits", json={}, headers=agent), 403)
    ran = client.post(f"{V1}/bill-audits", json={"customerId": s4.customer}, headers=token_for("back_office"))
    assert ran.status_code == 200 and ran.json()["total"] == 0
    assert_tmf_error(client.post(f"{V1}/bill-audits", json={"customerId": "01HNOSUCHCUSTOMER000000000"},
                                 headers=token_for("back_office")), 404)
