"""My work in the browser (issue 15): an agent is signed in on their home page; an e-mail that
threads onto no case lands in the team's queue, is handed to the agent (available, with room)
and appears on their My work without a reload, marked as theirs."""

from __future__ import annotations

from sqlalchemy import select

from onethread.access import service as access
from onethread.models import TriageItem
from tests.browser.steps import sign_in
from tests.support.triage_api import customer_with_email, email

PASSWORD = "my work comes to me"


def test_an_unthreaded_email_reaches_my_work_without_a_reload(page, uow, clock, shot):
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        jo = access.create_user(s, clock, username="jo.agent", display_name="Jo Reid", role="agent",
                                password=PASSWORD, team_id=team.id).id
    customer_with_email(uow, clock, "Ann", "Lee", "ann@example.com")
    sign_in(page, "jo.agent", PASSWORD)
    section = page.locator("#my-work")
    assert "Nothing waiting." in section.inner_text()
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

    contact = email(uow, clock, "ann@example.com", subject="Router keeps dropping", text="since Monday")
    with uow() as s:
        item = s.scalar(select(TriageItem).where(TriageItem.contact_id == contact))
        assert item.team_id == team.id and item.assigned_to == jo

    mine = page.locator("#my-triage li", has_text="Router keeps dropping")
    mine.wait_for(timeout=15_000)
    assert "mine" in mine.inner_text() and "Ann Lee" in mine.inner_text()
    assert "1 waiting contact (1 handed to me)" in page.locator("#my-work-counts").inner_text()
    assert page.evaluate("window.loadedOnce") is True  # it came without a reload
    assert shot(page, "my-work").exists()
