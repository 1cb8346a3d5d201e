"""S4 "The SIM that was thrown away", caught by the bill audit, over HTTP: the store removed the
tablet SIM on 10 March; the April bill still charges it, the May bill too, with usage naming its
ICCID. Each import is audited: the findings open, then join, the customer's one billing case with
its owner; the billing-error policy computes the refund for April AND May (the usage a data error,
not a reason to refuse a month); the refund and the corrected bills are commitments with dates,
replaced when a later bill adds a month; a named person confirms or dismisses a finding.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from onethread.models import Case, Commitment, Decision
from tests.support.s4_bills import TABLET_ICCID, joinery
from tests.support.trouble_ticket_api import staff_headers
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


@pytest.fixture
def s4(uow, clock):
    return joinery(uow, clock)


def month_bill(s4, month: int, *, usage: bool) -> dict:
    last = {4: 30, 5: 31}[month]
    charges = [{"kind": "recurring", "description": f"Business Unlimited (line {n})", "amount": 2800,
                "productId": line} for n, line in enumerate(s4.lines, start=1)]
    charges.append({"kind": "recurring", "description": "Tablet data SIM (old iPad)", "amount": 1000,
                    "productId": s4.tablet})
    if usage:
        charges.append({"kind": "usage", "description": "Data roaming", "amount": 450,
                        "identifier": {"kind": "iccid", "value": TABLET_ICCID}})
    return {"billingAccountId": s4.account, "billNumber": f"ACC-400401-2026{month:02d}",
            "periodStart": f"2026-{month:02d}-01", "periodEnd": f"2026-{month:02d}-{last}",
            "issuedOn": f"2026-{month + 1:02d}-01", "dueOn": f"2026-{month + 1:02d}-15",
            "amount": sum(c["amount"] for c in charges), "currency": "GBP", "charges": charges}


def open_commitments(uow, case_id: str) -> list[tuple[str, str]]:
    with uow() as s:
        return [(c.text, c.due_at.date().isoformat()) for c in s.scalars(
            select(Commitment).where(Commitment.case_id == case_id, Commitment.status == "open")
            .order_by(Commitment.due_at))]


def test_the_removed_sim_billed_in_april_and_may_is_one_case_with_the_refund_for_both(client, uow, clock, s4,
                                                                                        token_for):
    feed = token_for("integration")
    clock.set(datetime(2026, 5, 1, 9, tzinfo=UTC))
    assert client.post(f"{V1}/bills", json=month_bill(s4, 4, usage=False), headers=feed).status_code == 201
    with uow() as s:
        case = s.scalars(select(Case).where(Case.customer_id == s4.customer)).one()
        assert (case.kind, case.owner_id, case.opened_via, case.product_id) == (
            "billing_dispute", s4.bea_id, "system", s4.tablet)  # the first back-office user owns it
        case_id = case.id
    assert open_commitments(uow, case_id) == [
        ("Refund (bill audit): 10.00 GBP for April 2026 (decision "
         f"{_decision(uow, case_id).id}, refund only)", "2026-05-06"),
        ("Corrected bill (bill audit): the bills for April 2026 corrected and sent again", "2026-05-16")]

    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    r = client.post(f"{V1}/bills", json=month_bill(s4, 5, usage=True), headers=feed)
    assert r.status_code == 201, r.text
    with uow() as s:
        assert [c.id for c in s.scalars(select(Case).where(Case.customer_id == s4.customer))] == [case_id]
    decision = _decision(uow, case_id)
    assert (decision.policy_name, decision.outcome) == ("billing_error_goodwill", "refund_and_goodwill")
    facts = decision.facts
    assert (facts["months_overcharged"], facts["usage_recorded_after_removal"]) == (2, True)
    assert facts["months_overcharged"] * facts["monthly_charge_minor"] + facts["other_overcharge_minor"] == 2450
    assert open_commitments(uow, case_id) == [  # April's promise replaced by one for both months
        (f"Refund (bill audit): 24.50 GBP for April 2026 and May 2026, 29.50 GBP with goodwill (decision "
         f"{decision.id}, refund and goodwill)", "2026-06-06"),
        ("Corrected bill (bill audit): the bills for April 2026 and May 2026 corrected and sent again", "2026-06-16")]

    bea = s4.h["bea"]
    on_case = client.get(f"{V1}/cases/{case_id}/bill-findings", headers=bea).json()
    assert [(f["code"], f["periodStart"], f["atStake"]) for f in on_case] == [
        ("BA01", "2026-04-01", 1000), ("BA01", "2026-05-01", 1000), ("BA02", "2026-05-01", 450)]
    assert "24.50 GBP" in client.get(f"{V1}/cases/{case_id}/brief", headers=bea).text

    # A named person confirms or dismisses; a system cannot, an agent may not; a dismissal says why.
    clock.set(datetime(2026, 6, 2, 10, tzinfo=UTC))
    april, _may, usage = (f["href"] + "/review" for f in on_case)
    assert_tmf_error(client.post(april, json={"verdict": "confirm"}, headers=feed), 403)
    assert_tmf_error(client.post(april, json={"verdict": "confirm"}, headers=token_for("agent")), 403)
    assert_tmf_error(client.post(usage, json={"verdict": "dismiss"}, headers=bea), 400)
    assert_tmf_error(client.post(april, json={"verdict": "maybe"}, headers=bea), 400)
    done = client.post(april, json={"verdict": "confirm", "note": "SIM removed in store on 10 March"}, headers=bea)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["reviewedByName"]) == ("confirmed", "Bea Jones")
    assert_tmf_error(client.post(april, json={"verdict": "dismiss", "note": "no"}, headers=bea), 409)
    assert_tmf_error(client.post(f"{V1}/bill-findings/BA01-NOSUCH/review", json={"verdict": "confirm"},
                                 headers=bea), 404)
    dana = staff_headers(uow, clock, s4.dana_id, "team_lead")
    gone = client.post(usage, json={"verdict": "dismiss", "note": "roaming charge credited on the May bill"},
                       headers=dana)
    assert (gone.json()["status"], gone.json()["reviewedByName"]) == ("dismissed", "Dana Price")
    again = _decision(uow, case_id)
    assert again.id != decision.id and again.facts["usage_recorded_after_removal"] is False
    assert open_commitments(uow, case_id)[0][0].startswith("Refund (bill audit): 20.00 GBP for April 2026 and May")


def _decision(uow, case_id: str) -> Decision:
    with uow() as s:
        found = s.scalars(select(Decision).where(Decision.case_id == case_id)
                          .order_by(Decision.decided_at.desc(), Decision.id.desc())).first()
        s.expunge(found)
        return found


def tmf678(bill: dict) -> dict:
    """The same bill as the billing system would send it through TMF678 (an OnethreadCustomerBill)."""
    kinds = {"recurring": "recurringCharge", "usage": "usageCharge"}
    rates = [{"@type": "AppliedCustomerBillingRate", "appliedBillingRateType": kinds[c["kind"]],
              "name": c["description"], "taxIncludedAmount": {"unit": "GBP", "value": c["amount"] / 100},
              **({"product": {"id": c["productId"]}} if "productId" in c else {}),
              **({"characteristic": [{"@type": "StringCharacteristic", "name": c["identifier"]["kind"],
                                      "value": c["identifier"]["value"]}]} if "identifier" in c else {})}
             for c in bill["charges"]]
    return {"@type": "OnethreadCustomerBill", "@baseType": "CustomerBill", "billNo": bill["billNumber"],
            "billingAccount": {"id": bill["billingAccountId"]},
            "billingPeriod": {"startDateTime": f"{bill['periodStart']}T00:00:00Z",
                              "endDateTime": f"{bill['periodEnd']}T23:59:59Z"},
            "billDate": f"{bill['issuedOn']}T08:00:00Z", "paymentDueDate": f"{bill['dueOn']}T00:00:00Z",
            "amountDue": {"unit": "GBP", "value": bill["amount"] / 100, "amountMinor": bill["amount"]},
            "appliedCustomerBillingRate": rates}


def test_the_same_story_through_tmf678_is_the_same_one_case_and_refund(client, uow, clock, s4, token_for):
    """April's and May's bills sent through TMF678 (May's usage naming the removed SIM's ICCID, and
    May sent twice): the same import, the same audit, one case, the refund for both months."""
    feed, url = token_for("integration"), "/tmf-api/customerBillManagement/v5/customerBill"
    clock.set(datetime(2026, 5, 1, 9, tzinfo=UTC))
    assert client.post(url, json=tmf678(month_bill(s4, 4, usage=False)), headers=feed).status_code == 201
    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    may = tmf678(month_bill(s4, 5, usage=True))
    assert client.post(url, json=may, headers=feed).status_code == 201
    assert client.post(url, json=may, headers=feed).status_code == 200  # sent again: nothing twice
    with uow() as s:
        (case,) = s.scalars(select(Case).where(Case.customer_id == s4.customer)).all()
    on_case = client.get(f"{V1}/cases/{case.id}/bill-findings", headers=s4.h["bea"]).json()
    assert [(f["code"], f["periodStart"], f["atStake"]) for f in on_case] == [
        ("BA01", "2026-04-01", 1000), ("BA01", "2026-05-01", 1000), ("BA02", "2026-05-01", 450)]
    facts = _decision(uow, case.id).facts
    assert (facts["months_overcharged"], facts["usage_recorded_after_removal"]) == (2, True)
