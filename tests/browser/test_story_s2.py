"""S2 "A year of denial" in a real browser, on the demo: Margaret Hughes's first timeline page shows
every one of her contacts and a handful of escalation lines, onethread's own entries folded into a
countable line that opens them; her case shows the owner, the next step and the clocks before
anything else, on the first screen."""

from __future__ import annotations

from sqlalchemy import select

from onethread.demo import loader
from onethread.models import Case, Contact, Customer
from tests.browser.steps import sign_in


def test_the_s2_demo_reads_as_a_story_in_the_browser(page, uow, container, shot):
    with uow() as s:
        loader.load(s, container)
    with uow() as s:
        margaret = s.scalar(select(Customer.id).where(Customer.name == "Margaret Hughes"))
        case_id = s.scalar(select(Case.id).where(Case.customer_id == margaret, Case.kind == "complaint"))
        contacts = len(s.scalars(select(Contact.id).where(Contact.customer_id == margaret)).all())
    sign_in(page, "lee.lead", "onethread-demo")

    page.goto(f"/customers/{margaret}")
    entries = page.locator("ol.timeline li.entry:not(.folded)")
    assert page.locator("ol.timeline li.kind-contact").count() == contacts == 7
    titles = entries.locator(".title").all_inner_texts()
    escalations = [t for t in titles if t.startswith(("Escalated to", "Reminder to"))]
    assert 1 <= len(escalations) <= 5, escalations
    folded = page.get_by_test_id("folded")
    assert folded.count() >= 1
    counted = sum(int(t.split()[0]) for t in folded.all_inner_texts())
    assert counted >= 20
    assert page.locator("ol.timeline .case-link a").first.get_attribute("href") == f"/cases/{case_id}"
    shot(page, "desktop-story")

    # The fold opens everything at that place.
    folded.first.locator("a").click()
    page.wait_for_url("**view=all**")
    assert page.get_by_label("everything, onethread's own escalations and reminders too").is_checked()
    assert any(t.startswith("Reminder to") for t in page.locator("ol.timeline .title").all_inner_texts())

    # The case: owner, next step and clocks on the first screen, before the story.
    page.goto(f"/cases/{case_id}")
    glance = page.get_by_test_id("glance-owner")
    box = glance.bounding_box()
    assert box is not None and box["y"] + box["height"] < 860
    assert page.get_by_test_id("glance-next").is_visible()
    clocks = page.get_by_test_id("glance-clocks").inner_text()
    assert "activity on the case: breached" in clocks and clocks.count("activity on the case: breached") == 1
    assert "reminded" in page.get_by_test_id("glance-escalation").inner_text()
    assert "Escalated to" not in page.get_by_test_id("done").inner_text()
    shot(page, "desktop-case-story")
