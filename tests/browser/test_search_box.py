"""The desktop's search box in Chromium: words of an e-mail find the contact under the customers,
the words found are marked, a stored <script> is shown as text and never runs, and Narrow keeps
only the contacts."""

from __future__ import annotations

from tests.browser.steps import sign_in
from tests.support.search import PASSWORD
from tests.support.search import world as search_world  # noqa: F401 (a fixture)


def test_the_search_box_finds_words_in_cases_and_contacts(page, search_world, shot, backend):  # noqa: F811
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, "ann.agent", PASSWORD)
    page.goto("/search")
    page.get_by_label("Phone number, e-mail").fill("modem")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=*")
    contacts = page.locator("section", has=page.get_by_role("heading", name="1 contact"))
    assert "Tom & Jerry" in contacts.inner_text()
    if backend == "sqlite":  # PostgreSQL's snippets leave tags out; SQLite's keep them, shown as text
        assert "<script>alert(1)</script>" in contacts.inner_text()
    assert contacts.locator("mark").first.inner_text().lower() == "modem"
    assert dialogs == []  # the stored script did not run
    shot(page, "desktop-search-words")
    page.get_by_label("Show").select_option("contact")
    page.get_by_label("Phone number, e-mail").fill("roaming charge")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**type=contact*")
    assert page.get_by_role("heading", name="4 contacts").is_visible()
    assert page.get_by_role("heading", name="customers", exact=False).count() == 0
