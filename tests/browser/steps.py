"""Steps the browser tests share."""

from __future__ import annotations


def sign_in(page, username: str, password: str) -> None:
    """Sign in to the staff pages as a person would (any earlier session is dropped first)."""
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login*")
