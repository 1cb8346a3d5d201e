"""S4's bill findings in the browser: April's bill, sent by the billing system through TMF678,
still charges the tablet SIM removed in the store and bills usage on its ICCID. A back-office
person opens the findings page, sees both findings with the money at stake and the billing case,
is told in words that a dismissal needs a reason, then confirms the usage as a data error under
their own name."""

from __future__ import annotations

from onethread.access import service as access
from onethread.models import BillFinding
from tests.browser.steps import sign_in
from tests.support.s4_bill_rates import BASE, april
from tests.support.s4_bills import joinery

PASSWORD = "the sim was binned"


def test_a_back_office_person_reviews_the_findings_on_the_page(page, client, uow, clock, token_for, shot):
    s4 = joinery(uow, clock)
    with uow() as s:
        bo = access.create_user(s, clock, username="bo.billing", display_name="Bo Lind", role="back_office",
                                password=PASSWORD).id
    assert client.post(f"{BASE}/customerBill", json=april(s4), headers=token_for("integration")).status_code == 201
    with uow() as s:
        usage = s.query(BillFinding).filter_by(code="BA02").one()
        usage_id, case_id = usage.id, usage.case_id

    sign_in(page, "bo.billing", PASSWORD)
    page.get_by_role("link", name="Bill findings").click()
    page.wait_for_url("**/bill-findings")
    table = " ".join(page.locator("table").inner_text().split())
    assert "Harbour Lane Joinery Ltd" in table and "BA01" in table and "BA02" in table
    assert "GBP 10.00" in table and "GBP 4.50" in table
    assert "at stake: GBP 14.50" in page.locator("p.muted").first.inner_text()
    assert page.locator(f"#finding-{usage_id} a", has_text="billing case").get_attribute("href") == f"/cases/{case_id}"
    assert shot(page, "bill-findings").exists()

    row = page.locator(f"#finding-{usage_id}")
    row.get_by_role("button", name="Dismiss").click()
    assert "say why the finding is dismissed" in page.locator(f"#finding-{usage_id}").get_by_role("alert").inner_text()
    with uow() as s:
        assert s.get(BillFinding, usage_id).status == "open"

    page.locator(f"#confirm-{usage_id}").fill("data error: the SIM was destroyed in the store on 10 March")
    page.locator(f"#finding-{usage_id}").get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/bill-findings?status=open&done=confirm")
    assert "The finding was confirmed." in page.get_by_role("status").inner_text()
    assert page.locator(f"#finding-{usage_id}").count() == 0  # no longer open
    with uow() as s:
        f = s.get(BillFinding, usage_id)
        assert (f.status, f.reviewed_by, f.reviewed_by_name) == ("confirmed", bo, "Bo Lind")
