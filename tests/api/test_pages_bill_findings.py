"""The bill findings page, through the real app on SQLite and PostgreSQL: billing staff see what
the audit found (code, explanation, money at stake, status, a link to the billing case), confirm
or dismiss a finding as themselves (recorded on the finding and the case), a dismissal without a
reason is refused next to the finding and writes nothing, and a role that does not review
findings gets the readable 403. S4's removed tablet SIM, charged and used in April."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onethread.access import service as access
from onethread.models import AuditEntry, BillFinding, CaseEvent
from tests.support.pages_agent import BROWSER, PASSWORD, sign_in
from tests.support.s4_bill_rates import BASE, april
from tests.support.s4_bills import joinery


@pytest.fixture
def s4(uow, clock, client, token_for):
    w = joinery(uow, clock)
    with uow() as s:
        for username, name, role in (("bo.billing", "Bo Lind", "back_office"), ("ann.agent", "Ann Agent", "agent")):
            access.create_user(s, clock, username=username, display_name=name, role=role, password=PASSWORD)
    assert client.post(f"{BASE}/customerBill", json=april(w), headers=token_for("integration")).status_code == 201
    with uow() as s:
        w.found = {f.code: (f.id, f.case_id) for f in s.scalars(select(BillFinding))}
    assert set(w.found) == {"BA01", "BA02"}
    return w


def finding(uow, finding_id: str) -> BillFinding:
    with uow() as s:
        f = s.get(BillFinding, finding_id)
        s.expunge(f)
        return f


def test_billing_staff_see_the_findings_and_confirm_or_dismiss_them_as_themselves(client, uow, s4):
    sign_in(client, "bo.billing")
    page = client.get("/bill-findings", headers=BROWSER)
    assert page.status_code == 200
    text = page.text
    usage_id, case_id = s4.found["BA02"]
    assert "BA01" in text and "BA02" in text and "usage after deactivation" in text
    assert "GBP 10.00" in text and "GBP 4.50" in text and "at stake: GBP 14.50" in text
    assert f'href="/cases/{case_id}"' in text and "Harbour Lane Joinery" in text
    assert f'action="/bill-findings/{usage_id}/dismiss"' in text and "style=" not in text and "<script" not in text

    # A dismissal says why: refused next to the finding, nothing written.
    r = client.post(f"/bill-findings/{usage_id}/dismiss", data={"note": " "}, headers=BROWSER)
    assert r.status_code == 400 and "say why the finding is dismissed" in r.text
    assert finding(uow, usage_id).status == "open"

    r = client.post(f"/bill-findings/{usage_id}/confirm", data={"note": "SIM removed in store on 10 March"},
                    headers=BROWSER, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/bill-findings?status=open&done=confirm"
    f = finding(uow, usage_id)
    with uow() as s:
        bo = access.user_by_username(s, "bo.billing")
        logged = s.scalars(select(CaseEvent.actor_name).where(CaseEvent.case_id == case_id,
                                                              CaseEvent.actor_id == bo.id)).all()
    assert (f.status, f.reviewed_by, f.reviewed_by_name, f.review_note) == (
        "confirmed", bo.id, "Bo Lind", "SIM removed in store on 10 March")
    assert logged == ["Bo Lind"]  # written on the billing case by name

    again = client.get("/bill-findings?status=open&done=confirm", headers=BROWSER).text
    assert "The finding was confirmed." in again and "BA02" not in again and "BA01" in again
    done = client.get("/bill-findings", params={"status": "confirmed"}, headers=BROWSER).text
    assert "BA02" in done and "by Bo Lind" in done and "SIM removed in store on 10 March" in done
    # Reviewed once: a second review is refused with the reason, on the page.
    r = client.post(f"/bill-findings/{usage_id}/dismiss", data={"note": "no", "status": "all"}, headers=BROWSER)
    assert r.status_code == 409 and "already confirmed (by Bo Lind)" in r.text
    bad = client.get("/bill-findings", params={"status": "lost"}, headers=BROWSER)
    assert bad.status_code == 400 and "status must be one of" in bad.text
    with uow() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.resource_type == "bill_finding",
                                                   AuditEntry.actor_id == bo.id)).all()
    assert reads and {r.customer_id for r in reads} == {s4.customer} and {r.channel for r in reads} == {"web"}


def test_only_people_who_review_findings_open_the_page(client, uow, s4, token_for):
    assert client.get("/bill-findings", headers=token_for("back_office")).status_code == 401  # a page, not a token
    sign_in(client, "ann.agent")
    page = client.get("/bill-findings", headers=BROWSER)
    assert page.status_code == 403 and "may not open this page" in page.text
    usage_id, _ = s4.found["BA02"]
    assert client.post(f"/bill-findings/{usage_id}/confirm", headers=BROWSER).status_code == 403
    assert finding(uow, usage_id).status == "open"
