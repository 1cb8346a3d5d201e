"""S3 "Whose number is it?": a drastic action needs recorded evidence and a second person.

Priya has held her number since it was recycled to her six and a half years ago and paid every
bill on it; before that it was Tom's. An agent who suspects fraud asks to terminate her line: the
request carries the evidence (how long she has held the number, the bills she paid on it), the
line stays active until a second person with the right role approves, the agent cannot approve
their own request, and once a team lead approves the line is terminated and the timeline says so.
The same four eyes guard a fraud flag, a write-off above the threshold and closing a complaint
without the customer's confirmation.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.billing import service as billing
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.decisions import approvals
from onethread.errors import Conflict
from onethread.models import ApprovalRequest, AuditEntry, Bill, CaseEvent, CustomerFlag, Product, TimelineEntry
from tests.support.s3_world import MONTHLY, NUMBER, PRODUCTS, RECYCLED, V1, ask_termination, product_status
from tests.support.s3_world import s3 as s3
from tests.tmf_schema import assert_tmf_error

E164 = "+447700900301"


def test_s3_termination_waits_for_a_second_team_lead_and_the_evidence_shows_her_years_on_the_number(
        client, s3, uow, container, clock):
    asked = ask_termination(client, s3)
    assert asked.status_code == 201, asked.text
    req = asked.json()
    assert req["status"] == "pending" and req["requestedBy"]["name"] == "Jo Reid"
    assert set(req["requiredRoles"]) == {"team_lead", "admin"}

    # The evidence, captured when she was accused: her own history with the number.
    ev = client.get(f"{V1}/approvals/{req['id']}", headers=s3.h["lee"]).json()["evidence"]
    number = ev["identifier"]
    assert (number["kind"], number["value"]) == ("msisdn", E164)
    assert number["heldSince"].startswith("2019-09-01") and number["heldNow"] is True
    assert number["heldFor"] == "6 years 6 months"
    assert number["heldDays"] == (date(2026, 3, 2) - RECYCLED).days
    assert number["anotherHolderUntil"].startswith("2019-09-01")  # recycled to her: Tom's name is not shown
    paid_months = len(s3.bills) - 1
    assert number["bills"]["charged"] == len(s3.bills)
    assert number["bills"]["paid"] == paid_months  # Tom's August 2019 bill is not hers
    assert number["bills"]["paidTotal"] == {"GBP": paid_months * MONTHLY}
    assert number["bills"]["firstPeriod"] == "2019-09-01"
    assert number["bills"]["lastPaidAt"].startswith("2026-01-31")
    assert ev["customer"]["customerSince"] == "2019-09-01" and ev["customer"]["tenure"] == "6 years 6 months"
    assert ev["product"]["status"] == "active" and ev["openCases"] == [] and ev["flags"] == []

    # Until a second person approves, nothing happens to her service.
    assert product_status(client, s3) == "active"
    with uow() as s:
        held = identifier_service.resolve(s, "msisdn", NUMBER, clock.now(), region="GB")
        assert held.customer_id == s3.priya
    # The agent cannot go around it with a direct termination either.
    direct = client.patch(f"{PRODUCTS}/{s3.line}", json={"status": "terminated"},
                          headers={**s3.h["jo"], "Content-Type": "application/merge-patch+json"})
    body = assert_tmf_error(direct, 409)
    assert "/api/v1/approvals" in body["message"] and body["details"]["action"] == "terminate_line"
    assert product_status(client, s3) == "active"

    # Never the requester; never someone without the role.
    own = assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=s3.h["jo"]), 403)
    assert "asked for this yourself" in own["message"]
    other_agent = assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={},
                                               headers=s3.h["sam"]), 403)
    assert "team lead" in other_agent["message"]
    assert product_status(client, s3) == "active"
    assert client.get(f"{V1}/approvals/{req['id']}", headers=s3.h["jo"]).json()["status"] == "pending"

    # A second team lead approves: the line is terminated, in the same transaction.
    clock.advance(timedelta(minutes=20))
    done = client.post(f"{V1}/approvals/{req['id']}/approve", json={"note": "Checked with the customer"},
                       headers=s3.h["lee"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved" and done.json()["decidedBy"]["name"] == "Lee Carter"
    assert done.json()["result"]["productStatus"] == "terminated"
    assert product_status(client, s3) == "terminated"
    again = assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=s3.h["hana"]), 409)
    assert "already approved" in again["message"]

    timeline = [e["title"] for e in client.get(f"{V1}/customers/{s3.priya}/timeline", headers=s3.h["lee"]).json()
                ["entries"]]
    assert any(t.startswith("Four eyes: Terminate a line (Essentials 10 GB) asked by Jo Reid") for t in timeline)
    assert any("approved by Lee Carter" in t for t in timeline)
    assert "Product terminated: Essentials 10 GB" in timeline
    with uow() as s:
        reads = s.scalars(select(AuditEntry.resource_type).where(AuditEntry.customer_id == s3.priya)).all()
        assert {"approval_evidence", "approval"} <= set(reads)


def test_s3_a_rejected_or_withdrawn_request_changes_nothing(client, s3, uow):
    req = ask_termination(client, s3).json()
    dup = assert_tmf_error(ask_termination(client, s3, who="sam"), 409)
    assert req["id"] in dup["message"]
    assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/withdraw", json={}, headers=s3.h["lee"]), 403)
    assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/reject", json={}, headers=s3.h["lee"]), 400)
    no = client.post(f"{V1}/approvals/{req['id']}/reject", json={"note": "She has held the number for years"},
                     headers=s3.h["hana"])
    assert no.status_code == 200 and no.json()["status"] == "rejected"
    assert product_status(client, s3) == "active"
    assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=s3.h["lee"]), 409)

    second = ask_termination(client, s3).json()
    back = client.post(f"{V1}/approvals/{second['id']}/withdraw", json={"note": "asked by mistake"},
                       headers=s3.h["jo"])
    assert back.status_code == 200 and back.json()["status"] == "withdrawn"
    assert product_status(client, s3) == "active"
    with uow() as s:
        assert s.get(Product, s3.line).terminated_at is None


def test_s3_even_an_admin_cannot_approve_their_own_fraud_flag(client, s3, uow):
    req = client.post(f"{V1}/approvals", headers=s3.h["ada"], json={
        "action": "flag_fraud", "customerId": s3.priya, "reason": "Number registered in someone else's name"})
    assert req.status_code == 201, req.text
    req = req.json()
    assert req["evidence"]["customer"]["name"] == "Priya Shah" and req["evidence"]["identifier"] is None
    body = assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=s3.h["ada"]), 403)
    assert "whatever your role" in body["message"]
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(CustomerFlag)) == 0
    done = client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=s3.h["hana"])
    assert done.status_code == 200, done.text
    with uow() as s:
        flag = s.scalars(select(CustomerFlag)).one()
        assert (flag.customer_id, flag.kind, flag.approval_id, flag.set_by) == (s3.priya, "fraud", req["id"],
                                                                                s3.staff["hana"])
    timeline = client.get(f"{V1}/customers/{s3.priya}/timeline", headers=s3.h["lee"]).json()["entries"]
    assert "Flagged for fraud" in [e["title"] for e in timeline]
    assert_tmf_error(client.post(f"{V1}/approvals", headers=s3.h["jo"], json={
        "action": "flag_fraud", "customerId": s3.priya, "reason": "again"}), 409)


def test_a_write_off_at_or_below_the_threshold_needs_nobody_above_it_a_second_person(client, s3, uow, clock):
    unpaid = s3.bills[-1]  # February: £15.00 owed
    small = client.post(f"{V1}/approvals", headers=s3.h["jo"], json={
        "action": "write_off", "billId": unpaid, "amount": 500, "reason": "Goodwill for the time on hold"})
    assert small.status_code == 201, small.text
    assert small.json()["status"] == "approved" and small.json()["decidedBy"]["name"] == "no second person needed"
    with uow() as s:
        assert (s.get(Bill, unpaid).written_off_minor, s.get(Bill, unpaid).status) == (500, "issued")

    with uow() as s:  # a large bill for the rest of the test
        big = billing.import_bill(s, clock, SYSTEM, billing_account_id=s3.account, bill_number="P-ADJ-1",
                                  period_start=date(2026, 2, 1), period_end=date(2026, 2, 28),
                                  issued_on=date(2026, 3, 1), due_on=date(2026, 3, 20), amount_minor=12000,
                                  currency="GBP", charges=[billing.ChargeIn(
                                      kind="one_off", description="Roaming", amount_minor=12000)], region="GB").id
    large = client.post(f"{V1}/approvals", headers=s3.h["jo"], json={
        "action": "write_off", "billId": big, "amount": 12000, "reason": "Roaming charged while the line was barred"})
    assert large.status_code == 201 and large.json()["status"] == "pending"
    with uow() as s:
        assert s.get(Bill, big).written_off_minor == 0
    assert_tmf_error(client.post(f"{V1}/approvals/{large.json()['id']}/approve", json={}, headers=s3.h["sam"]), 403)
    assert_tmf_error(client.post(f"{V1}/approvals/{large.json()['id']}/approve", json={}, headers=s3.h["ada"]), 403)
    ok = client.post(f"{V1}/approvals/{large.json()['id']}/approve", json={}, headers=s3.h["bea"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["result"] == {"billId": big, "billStatus": "written_off", "writtenOff": 12000, "owed": 0}
    bills = client.get(f"{V1}/customers/{s3.priya}/bills", headers=s3.h["jo"]).json()
    written = next(b for b in bills if b["id"] == big)
    assert written["status"] == "written_off" and written["charges"][-1]["kind"] == "write_off"
    assert written["charges"][-1]["amount"] == -12000


def test_closing_a_complaint_without_the_customers_confirmation_needs_a_second_person(client, s3, uow, clock):
    jo = s3.h["jo"]
    with uow() as s:
        agent = access.staff_principal(access.active_user(s, s3.staff["jo"]))
        case = cases.open_new(s, clock, agent, customer_id=s3.priya, kind="complaint", opened_via="social",
                              title="Accused of fraud; number terminated")
        for step in ("acknowledged", "customer_account", "apology", "resolution_offer"):
            cases.record_step(s, clock, agent, case.id, step=step, text=f"{step} done")
        case_id = case.id
    direct = client.post(f"{V1}/cases/{case_id}/close", json={"outcome": "Offer made", "customerConfirmed": False},
                         headers=jo)
    assert assert_tmf_error(direct, 409)["details"]["action"] == "close_unconfirmed"
    req = client.post(f"{V1}/approvals", headers=jo, json={
        "action": "close_unconfirmed", "caseId": case_id, "outcome": "Offer made; the customer did not answer",
        "reason": "No answer after three attempts"})
    assert req.status_code == 201, req.text
    assert req.json()["evidence"]["case"]["title"] == "Accused of fraud; number terminated"
    assert [c["id"] for c in req.json()["evidence"]["openCases"]] == [case_id]
    assert client.get(f"/tmf-api/troubleTicket/v5/troubleTicket/{case_id}", headers=jo).json()["status"] != "closed"
    done = client.post(f"{V1}/approvals/{req.json()['id']}/approve", json={}, headers=s3.h["lee"])
    assert done.status_code == 200, done.text
    with uow() as s:
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at,
                                                                                              CaseEvent.id)).all()
        assert kinds[-4:] == ["approval_requested", "approval_approved", "closed", "approval_executed"]
        closed = cases.get_case(s, case_id)
        assert (closed.status, closed.customer_confirmed) == ("closed", False)


def test_two_approvals_at_once_one_wins_the_other_gets_a_conflict(s3, uow, container, clock):
    with uow() as s:
        jo = access.staff_principal(access.active_user(s, s3.staff["jo"]))
        req_id = approvals.request(s, clock, jo, action="terminate_line", product_id=s3.line,
                                   reason="suspected fraud").id
    late = container.sessions()
    try:
        hana = access.staff_principal(access.active_user(late, s3.staff["hana"]))
        assert approvals.get_request(late, req_id).status == "pending"  # she read it pending...
        late.commit()
        with uow() as s:  # ... and meanwhile Lee approved it
            lee = access.staff_principal(access.active_user(s, s3.staff["lee"]))
            approvals.approve(s, clock, lee, req_id)
        with pytest.raises(Conflict):
            approvals.approve(late, clock, hana, req_id)
        late.rollback()
    finally:
        late.close()
    with uow() as s:
        req = s.get(ApprovalRequest, req_id)
        assert (req.status, req.decided_by) == ("approved", s3.staff["lee"])
        changes = s.scalar(select(func.count()).select_from(TimelineEntry).where(
            TimelineEntry.customer_id == s3.priya, TimelineEntry.title == "Product terminated: Essentials 10 GB"))
        assert changes == 1


def test_the_demo_has_priyas_paid_bills_and_a_request_waiting_for_a_second_person(client, container, uow, admin):
    from onethread.demo import loader
    from onethread.models import Customer

    with uow() as s:
        loader.load(s, container)
    with container.sessions() as s:
        priya = s.scalars(select(Customer).where(Customer.name == "Priya Shah")).one().id
        joinery = s.scalars(select(Customer).where(Customer.name == "Harbour Lane Joinery Ltd")).one().id
    waiting = client.get(f"{V1}/approvals", params={"status": "pending", "customerId": priya}, headers=admin).json()
    assert [r["action"] for r in waiting] == ["terminate_line"]
    req = client.get(f"{V1}/approvals/{waiting[0]['id']}", headers=admin).json()
    number = req["evidence"]["identifier"]
    assert number["value"] == E164 and number["heldDays"] > 6 * 365 and number["anotherHolderUntil"]
    assert number["bills"]["paid"] == number["bills"]["charged"] >= 12 * 6
    timeline = client.get(f"{V1}/customers/{priya}/timeline", headers=admin).json()["entries"]
    assert any(e["title"].startswith("Four eyes: Terminate a line") for e in timeline)
    # S4: the old tablet SIM is still charged after the store removed it (for the bill audit to find).
    bills = client.get(f"{V1}/customers/{joinery}/bills", params={"limit": 100}, headers=admin).json()
    tablet = [c for b in bills for c in b["charges"] if "old iPad" in c["description"]]
    assert tablet and any(b["status"] == "issued" for b in bills)
