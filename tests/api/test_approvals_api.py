"""Four eyes over HTTP: bad requests are TMF errors that write nothing, lists filter and page, the
evidence stays as it was when asked, versions guard decisions, and the direct routes send staff
to the approval unless the customer asked."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.billing import service as billing
from onethread.cases import service as cases
from onethread.models import ApprovalRequest, AuditEntry, OutboxEvent
from tests.support.s3_world import MONTHLY, ask_termination, make_priya, product_status
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"
PRODUCTS = "/tmf-api/productInventory/v5/product"
PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def s3(uow, clock):
    return make_priya(uow, clock, bills_from=date(2025, 11, 1))  # four bills (February unpaid) are enough here


def counts(container) -> tuple[int, int, int]:
    with container.sessions() as s:
        return (s.scalar(select(func.count()).select_from(ApprovalRequest)),
                s.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.resource_type == "approval_evidence")),
                s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type.like("approval.%"))))


def test_bad_requests_are_tmf_errors_and_write_nothing(client, s3, uow, clock, container, token_for):
    jo = s3.h["jo"]
    with uow() as s:
        agent = access.staff_principal(access.active_user(s, s3.staff["jo"]))
        fault = cases.open_new(s, clock, agent, customer_id=s3.priya, kind="fault", opened_via="phone",
                               title="No signal").id
        complaint = cases.open_new(s, clock, agent, customer_id=s3.priya, kind="complaint", opened_via="phone",
                                   title="Accused of fraud").id
    before = counts(container)
    post = lambda body, h=jo: client.post(f"{V1}/approvals", json=body, headers=h)  # noqa: E731
    why = {"reason": "suspected fraud"}
    assert_tmf_error(post({"action": "delete_customer", **why, "customerId": s3.priya}), 400)
    assert_tmf_error(post({"action": "terminate_line", "productId": s3.line}), 400)  # no reason
    assert_tmf_error(post({"action": "terminate_line", "productId": s3.line, "reason": "   "}), 400)
    assert_tmf_error(post({"action": "terminate_line", **why}), 400)  # which line?
    assert_tmf_error(post({"action": "terminate_line", **why, "productId": "01HNOSUCHPRODUCT0000000000"}), 404)
    assert_tmf_error(post({"action": "terminate_line", **why, "productId": s3.line, "customerId": s3.tom}), 400)
    assert_tmf_error(post({"action": "terminate_line", **why, "productId": s3.line, "amount": 100}), 400)
    assert_tmf_error(post({"action": "terminate_line", **why, "productId": s3.line, "channel": "pigeon"}), 400)
    assert_tmf_error(post({"action": "flag_fraud", **why}), 400)  # whom?
    assert_tmf_error(post({"action": "write_off", **why, "billId": s3.bills[-1], "amount": 10.5}), 400)
    assert_tmf_error(post({"action": "write_off", **why, "billId": s3.bills[-1], "amount": 0}), 400)
    owed = assert_tmf_error(post({"action": "write_off", **why, "billId": s3.bills[-1], "amount": MONTHLY + 1}), 409)
    assert "owes 15.00 GBP" in owed["message"]
    assert_tmf_error(post({"action": "write_off", **why, "billId": s3.bills[0], "amount": 1}), 409)  # paid
    assert_tmf_error(post({"action": "close_unconfirmed", **why, "caseId": fault, "outcome": "done"}), 400)
    blocked = assert_tmf_error(post({"action": "close_unconfirmed", **why, "caseId": complaint, "outcome": "x"}), 409)
    assert "complaint step missing" in blocked["message"]
    assert_tmf_error(post({"action": "close_unconfirmed", **why, "caseId": complaint}), 409)
    assert_tmf_error(post({"action": "terminate_line", **why, "productId": s3.line}, token_for("integration")), 403)
    assert_tmf_error(post({"action": "terminate_line", **why, "productId": s3.line,
                           "identifierId": "01HNOSUCHIDENTIFIER0000000"}), 400)
    assert_tmf_error(client.post(f"{V1}/approvals", content=b"{", headers={**jo, "Content-Type": "application/json"}),
                     400)
    assert counts(container) == before
    assert product_status(client, s3) == "active"


def test_lists_filter_and_page_one_request_shows_its_evidence(client, s3):
    term = ask_termination(client, s3).json()
    flag = client.post(f"{V1}/approvals", headers=s3.h["jo"], json={
        "action": "flag_fraud", "customerId": s3.priya, "reason": "suspected fraud"}).json()
    assert client.post(f"{V1}/approvals/{flag['id']}/reject", json={"note": "no grounds"},
                       headers=s3.h["lee"]).status_code == 200
    pending = client.get(f"{V1}/approvals", params={"status": "pending"}, headers=s3.h["lee"])
    assert pending.status_code == 200 and pending.headers["X-Total-Count"] == "1"
    assert [r["id"] for r in pending.json()] == [term["id"]] and "evidence" not in pending.json()[0]
    mine = client.get(f"{V1}/approvals", params={"customerId": s3.priya, "limit": 1}, headers=s3.h["lee"])
    assert mine.headers["X-Total-Count"] == "2" and mine.headers["X-Result-Count"] == "1"
    rest = client.get(f"{V1}/approvals", params={"customerId": s3.priya, "cursor": mine.headers["X-Next-Cursor"]},
                      headers=s3.h["lee"])
    assert [r["id"] for r in mine.json() + rest.json()] == [term["id"], flag["id"]]  # oldest first
    assert "X-Next-Cursor" not in rest.headers
    assert_tmf_error(client.get(f"{V1}/approvals", params={"cursor": "bm9wZQ"}, headers=s3.h["lee"]), 400)
    assert client.get(f"{V1}/approvals", params={"customerId": s3.tom}, headers=s3.h["lee"]).json() == []
    assert_tmf_error(client.get(f"{V1}/approvals", params={"status": "maybe"}, headers=s3.h["lee"]), 400)
    one = client.get(f"{V1}/approvals/{term['id']}", headers=s3.h["sam"]).json()
    assert one["evidence"]["identifier"]["value"] == "+447700900301" and one["href"] == f"{V1}/approvals/{term['id']}"
    assert_tmf_error(client.get(f"{V1}/approvals/01HNOSUCHAPPROVAL000000000", headers=s3.h["lee"]), 404)


def test_the_evidence_is_what_the_requester_saw(client, s3, uow, clock):
    req = ask_termination(client, s3).json()
    assert req["evidence"]["identifier"]["bills"]["paid"] == 3
    with uow() as s:
        billing.record_payment(s, clock, SYSTEM, s3.bills[-1], amount_minor=MONTHLY)
    now = client.get(f"{V1}/approvals/{req['id']}", headers=s3.h["lee"]).json()["evidence"]
    assert now == req["evidence"]  # recorded when asked, not recomputed


def test_a_decision_names_the_version_it_read_and_only_the_requester_withdraws(client, s3):
    req = ask_termination(client, s3).json()
    stale = assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={"version": req["version"] + 1},
                                         headers=s3.h["lee"]), 409)
    assert "changed since you read it" in stale["message"]
    body = assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/withdraw", json={}, headers=s3.h["sam"]), 403)
    assert "only the person who asked" in body["message"]
    assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/reject", json={"note": "no"}, headers=s3.h["jo"]), 403)
    gone = client.post(f"{V1}/approvals/{req['id']}/withdraw", json={"version": req["version"]}, headers=s3.h["jo"])
    assert gone.status_code == 200 and gone.json()["version"] == req["version"] + 1
    assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=s3.h["lee"]), 409)
    assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={"colour": 1}, headers=s3.h["lee"]), 400)
    assert product_status(client, s3) == "active"


def test_staff_cannot_terminate_directly_unless_the_customer_asked(client, s3, clock):
    url = f"{PRODUCTS}/{s3.line}"
    for body in ({"status": "terminated"}, {"status": "pendingTerminate"},
                 {"@type": "OnethreadProduct", "status": "terminated", "statusChannel": "system",
                  "statusReason": "fraud suspected"},
                 {"@type": "OnethreadProduct", "status": "terminated", "statusChannel": "phone"}):
        r = client.patch(url, json=body, headers={**s3.h["lee"], **PATCH})
        assert assert_tmf_error(r, 409)["details"]["approvalRoute"] == "/api/v1/approvals", body
    assert product_status(client, s3) == "active"
    # The customer's own request, recorded with where she asked and why, is not a drastic action.
    own = client.patch(url, json={"@type": "OnethreadProduct", "status": "pendingTerminate", "statusChannel": "store",
                                  "statusReason": "customer moves abroad; asked to end the line"},
                       headers={**s3.h["jo"], **PATCH})
    assert own.status_code == 200, own.text
    own = client.patch(url, json={"status": "terminated"}, headers={**s3.h["jo"], **PATCH})  # as she asked
    assert own.status_code == 200, own.text
    assert own.json()["status"] == "terminated"
    assert datetime.fromisoformat(own.json()["terminationDate"].replace("Z", "+00:00")) == clock.now()
