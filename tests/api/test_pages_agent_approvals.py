"""Four eyes from the agent desktop, through the real app (TestClient) on SQLite and PostgreSQL:
asking on the customer 360 leads to the request with its evidence and changes nothing else, the
case and the 360 list the requests, a refused ask says why next to its field with a 4xx and
writes nothing, and a role that may not ask gets the readable 403."""

from __future__ import annotations

import re

from onethread.access import service as access
from onethread.cases import service as cases
from onethread.models import ApprovalRequest, AuditEntry, CaseEvent, Product
from tests.support.pages_agent import BROWSER, count, sign_in, world


def _line(uow, customer_id: str) -> str:
    with uow() as s:
        return next(p.id for p in s.query(Product).filter_by(customer_id=customer_id, kind="mobile_line"))


def _status(uow, product_id: str) -> str:
    with uow() as s:
        return s.get(Product, product_id).status


def test_asking_to_terminate_on_the_360_leads_to_the_evidence_and_the_line_stays_active(client, uow, clock):
    w = world(uow, clock)
    line = _line(uow, w["edith"])
    sign_in(client)
    page = client.get(f"/customers/{w['edith']}", headers=BROWSER).text
    assert f'action="/customers/{w["edith"]}/approvals/terminate"' in page
    assert f'name="productId" value="{line}"' in page
    assert "No four-eyes request for this customer." in page

    r = client.post(f"/customers/{w['edith']}/approvals/terminate",
                    data={"productId": line, "reason": "SIM reported stolen by the police", "caseId": w["case"]},
                    headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303
    approval_id = re.fullmatch(r"/approvals/([0-9A-Z]+)", r.headers["location"]).group(1)
    with uow() as s:
        req = s.get(ApprovalRequest, approval_id)
        assert (req.action, req.status, req.product_id, req.case_id) == ("terminate_line", "pending", line, w["case"])
        assert req.requested_by == w["ann"] and req.reason == "SIM reported stolen by the police"
    assert _status(uow, line) == "active"  # nothing happens until a second person approves

    evidence = client.get(r.headers["location"], headers=BROWSER)
    assert evidence.status_code == 200
    assert "The customer&#39;s own history with" in evidence.text or "The customer's own history with" in evidence.text
    assert "Talk and Text" in evidence.text and "Landline dead for a week" in evidence.text  # line, open case

    # The 360 lists it, waiting, linked to its page; the case it was asked on lists it too.
    page = client.get(f"/customers/{w['edith']}", headers=BROWSER).text
    section = page[page.index('id="approvals-h"'):page.index('id="timeline-h"')]
    assert f'href="/approvals/{approval_id}"' in section and "pending" in section
    assert "waiting for a second person" in section
    case_page = client.get(f"/cases/{w['case']}", headers=BROWSER).text
    approvals = case_page[case_page.index('id="approvals-h"'):]
    assert f'href="/approvals/{approval_id}"' in approvals and "Ann Agent" in approvals and "pending" in approvals
    assert count(uow, CaseEvent, case_id=w["case"], kind="approval_requested") == 1

    # The same again is refused while the first waits: at the top of that line's form, nothing written.
    again = client.post(f"/customers/{w['edith']}/approvals/terminate",
                        data={"productId": line, "reason": "again"}, headers=BROWSER)
    assert again.status_code == 409
    assert re.search(rf'<p class="form-error" id="terminate-error" role="alert">[^<]*{approval_id}', again.text)
    assert count(uow, ApprovalRequest) == 1


def test_asking_to_flag_for_fraud_lists_pending_first(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    r = client.post(f"/customers/{w['edith']}/approvals/fraud",
                    data={"reason": "three SIM swaps in a week from different stores"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/approvals/")
    first = r.headers["location"].rsplit("/", 1)[1]
    client.post(f"{r.headers['location']}/withdraw", data={"note": "asked the customer"})
    r = client.post(f"/customers/{w['edith']}/approvals/fraud", data={"reason": "a fourth swap"},
                    follow_redirects=False)
    second = r.headers["location"].rsplit("/", 1)[1]
    with uow() as s:
        assert [s.get(ApprovalRequest, i).status for i in (first, second)] == ["withdrawn", "pending"]
    page = client.get(f"/customers/{w['edith']}", headers=BROWSER).text
    assert page.index(f"/approvals/{second}") < page.index(f"/approvals/{first}")  # the one waiting first


def test_a_complaint_refused_for_lack_of_confirmation_offers_the_ask_and_the_case_lists_it(client, uow, clock):
    w = world(uow, clock)
    with uow() as s:
        ann = access.staff_principal(access.active_user(s, w["ann"]))
        case = cases.open_new(s, clock, ann, customer_id=w["edith"], kind="complaint", opened_via="letter",
                              title="Charged for a line she never had")
        for step in ("acknowledged", "customer_account", "apology", "resolution_offer"):
            cases.record_step(s, clock, ann, case.id, step=step, text=f"{step} done")
        complaint = case.id
    sign_in(client)
    r = client.post(f"/cases/{complaint}/close", data={"outcome": "Refund offered"}, headers=BROWSER)
    assert r.status_code == 409
    assert re.search(r'<p class="field-error" id="close-customerConfirmed-error" role="alert">[^<]*second person',
                     r.text)
    ask = r.text[r.text.index('id="ask_close"'):]
    assert 'name="outcome" value="Refund offered"' in ask  # carried over from the refused close
    assert "No four-eyes request on this case." in r.text

    empty = client.post(f"/cases/{complaint}/approvals/close", data={"outcome": "Refund offered", "reason": ""},
                        headers=BROWSER)
    assert empty.status_code == 400
    assert re.search(r'<p class="field-error" id="ask_close-reason-error" role="alert">say why', empty.text)
    assert count(uow, ApprovalRequest) == 0

    done = client.post(f"/cases/{complaint}/approvals/close",
                       data={"outcome": "Refund offered", "reason": "No answer after three letters"},
                       follow_redirects=False)
    assert done.status_code == 303
    approval_id = done.headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/cases/{complaint}", headers=BROWSER).text
    section = page[page.index('id="approvals-h"'):]
    assert f'href="/approvals/{approval_id}"' in section and "waiting for a second person" in section
    with uow() as s:
        req = s.get(ApprovalRequest, approval_id)
        assert (req.action, req.status, req.params["outcome"]) == ("close_unconfirmed", "pending", "Refund offered")
    assert 'id="actions"' in page  # still open until a second person approves


def test_an_empty_reason_is_refused_next_to_the_field_and_writes_nothing(client, uow, clock):
    w = world(uow, clock)
    line = _line(uow, w["edith"])
    sign_in(client)
    audits = count(uow, AuditEntry, resource_type="approval_evidence")
    r = client.post(f"/customers/{w['edith']}/approvals/terminate", data={"productId": line, "reason": "  "},
                    headers=BROWSER)
    assert r.status_code == 400
    assert re.search(r'<p class="field-error" id="terminate-reason-error" role="alert">say why', r.text)
    assert f'id="term-reason-{line}" name="reason" value="  " aria-invalid="true"' in r.text
    r = client.post(f"/customers/{w['edith']}/approvals/fraud", data={"reason": ""}, headers=BROWSER)
    assert r.status_code == 400
    assert re.search(r'<p class="field-error" id="fraud-reason-error" role="alert">say why', r.text)
    # A fault case is not a complaint: closing it needs no approval, said at the top of the form.
    r = client.post(f"/cases/{w['case']}/approvals/close", data={"outcome": "fixed", "reason": "no answer"},
                    headers=BROWSER)
    assert r.status_code == 400
    assert re.search(r'<p class="form-error" id="ask_close-error" role="alert">only a complaint', r.text)
    assert count(uow, ApprovalRequest) == 0
    assert count(uow, AuditEntry, resource_type="approval_evidence") == audits  # no evidence read either
    assert count(uow, CaseEvent, case_id=w["case"], kind="approval_requested") == 0
    assert _status(uow, line) == "active"


def test_a_line_of_another_customer_is_refused_and_unknown_customers_are_404(client, uow, clock):
    w = world(uow, clock)
    sons_line = _line(uow, w["son"])
    sign_in(client)
    r = client.post(f"/customers/{w['edith']}/approvals/terminate", data={"productId": sons_line, "reason": "x"},
                    headers=BROWSER)
    assert r.status_code == 400 and 'id="terminate-productId-error"' in r.text
    r = client.post("/customers/01HNOSUCHCUSTOMER000000000/approvals/fraud", data={"reason": "x"}, headers=BROWSER)
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert count(uow, ApprovalRequest) == 0


def test_a_role_that_may_not_ask_gets_the_readable_403(client, uow, clock):
    w = world(uow, clock)
    line = _line(uow, w["edith"])
    sign_in(client, "finn.field")
    for path, data in ((f"/customers/{w['edith']}/approvals/terminate", {"productId": line, "reason": "x"}),
                       (f"/customers/{w['edith']}/approvals/fraud", {"reason": "x"}),
                       (f"/cases/{w['case']}/approvals/close", {"outcome": "x", "reason": "x"})):
        r = client.post(path, data=data, headers=BROWSER)
        assert r.status_code == 403, path
        assert "a field subcontractor may not open this page" in r.text and "Edith" not in r.text
    assert count(uow, ApprovalRequest) == 0
    assert _status(uow, line) == "active"


def test_a_form_from_another_site_cannot_ask(client, uow, clock):
    w = world(uow, clock)
    sign_in(client)
    r = client.post(f"/customers/{w['edith']}/approvals/fraud", data={"reason": "x"},
                    headers={**BROWSER, "Origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.text
    assert count(uow, ApprovalRequest) == 0
