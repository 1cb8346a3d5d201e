"""Four eyes in the browser: an agent asks to terminate Priya's line; on the approvals page the
agent's own Approve is refused with a reason a person can read; a team lead opens the request,
sees the evidence (years on the number, bills paid on it) and approves; the line is terminated."""

from __future__ import annotations

from datetime import date

from onethread.models import ApprovalRequest, Product
from tests.browser.steps import sign_in, sign_out
from tests.support.s3_world import ask_termination, make_priya

PASSWORD = "four eyes see more"


def test_the_requester_is_refused_and_a_second_person_approves_through_the_page(page, client, uow, clock, shot):
    s3 = make_priya(uow, clock, bills_from=date(2024, 3, 1), password=PASSWORD)
    asked = ask_termination(client, s3)
    assert asked.status_code == 201, asked.text
    req_id = asked.json()["id"]

    sign_in(page, "jo.agent", PASSWORD)
    page.goto("/approvals")
    page.get_by_role("link", name="Terminate a line").click()
    page.wait_for_url(f"**/approvals/{req_id}")
    assert "You asked for this" in page.get_by_text("You asked for this").inner_text()
    page.get_by_role("button", name="Approve").click()
    refusal = page.get_by_role("alert").inner_text()
    assert "you asked for this yourself" in refusal and "a second person must approve it" in refusal
    with uow() as s:
        assert s.get(Product, s3.line).status == "active"
        assert s.get(ApprovalRequest, req_id).status == "pending"
    sign_out(page)

    sign_in(page, "lee.lead", PASSWORD)
    page.goto("/approvals")
    assert "Priya Shah" in page.locator("table").inner_text()
    page.get_by_role("link", name="Terminate a line").click()
    evidence = " ".join(page.locator("section.card").inner_text().split())
    assert "since 01 Sep 2019 (6 years 6 months" in evidence
    assert "another customer held it until 01 Sep 2019" in evidence
    assert "23 of 24 bills paid, GBP 345.00 in all" in evidence
    assert "Customer since 01 Sep 2019 (6 years 6 months)" in evidence
    assert shot(page, "approvals-evidence").exists()
    page.get_by_label("Note (optional)").fill("She has held the number for six years: checked with her")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"**/approvals/{req_id}?done=approve")
    assert "approved: the action has been carried out" in page.get_by_role("status").inner_text()
    with uow() as s:
        assert s.get(Product, s3.line).status == "terminated"
        assert s.get(ApprovalRequest, req_id).decided_by == s3.staff["lee"]
    page.goto("/approvals?status=approved")
    assert "Priya Shah" in page.locator("table").inner_text()
