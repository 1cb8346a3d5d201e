"""S5.6 in a real browser: Sofia opens Edith's case and sees her needs in plain words, the reply
form set to a letter with no online-only channel offered, and her proactive-contact clock."""

from __future__ import annotations

from tests.browser.steps import sign_in
from tests.support.vulnerable_service import PASSWORD, world


def test_the_case_page_shows_her_needs_and_replies_by_letter(page, uow, clock, shot):
    w = world(uow, clock)
    sign_in(page, "sofia.l", PASSWORD)
    page.goto(f"/cases/{w['case']}")
    care = page.get_by_test_id("care")
    assert care.is_visible()
    assert "assisted channels only: by phone, by letter or in person" in care.inner_text()
    assert "Replies go by letter" in page.get_by_test_id("care-reply").inner_text()
    channel = page.locator("#reply-channel")
    assert channel.input_value() == "letter"
    assert "portal" not in channel.locator("option").all_inner_texts()
    assert "proactive contact with the customer" in page.get_by_test_id("glance-clocks").inner_text()
    shot(page, "case-vulnerable-customer")
    page.locator("#reply-text").fill("Mrs Clarke, the plumber comes on Tuesday morning.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"**/cases/{w['case']}?done=reply*")
    assert "Your reply is on the case" in page.get_by_role("status").inner_text()
