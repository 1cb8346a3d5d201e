"""The browser harness itself: a real Chromium reaches the real app and signs in."""

from __future__ import annotations

from onethread.access import service as access


def test_a_staff_member_signs_in_through_the_browser(page, uow, clock, shot):
    with uow() as s:
        access.create_user(s, clock, username="ann.agent", display_name="Ann Agent", role="agent",
                           password="correct horse battery")
    page.goto("/")
    assert page.url.endswith("/login") or "/login" in page.url
    page.get_by_label("Username").fill("ann.agent")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    assert "wrong username or password" in page.get_by_role("alert").inner_text()
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    assert "Ann Agent" in page.locator("header").inner_text()
    assert shot(page, "harness-signed-in").exists()
