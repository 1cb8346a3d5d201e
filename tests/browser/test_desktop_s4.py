"""S4 in the agent desktop, in a real browser: the story of the thrown-away SIM told in the store,
by e-mail, on the helpline and on social media is ONE case. An agent who has never seen it finds
the customer by the number he called from (typed the way he said it), sees the four contacts on
the timeline and the brief of the story so far, replies, and is told exactly why the case cannot
be closed yet."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import items_service
from onethread.cases import service as cases
from onethread.demo import worlds
from onethread.interactions import service as interactions
from onethread.inventory import service as inventory
from onethread.models import Case

PASSWORD = "correct horse battery"


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def s4(uow, clock) -> dict:
    """Harbour Lane Joinery: the tablet SIM removed in March, then the same story four times."""
    clock.set(on(date(2026, 3, 2), 9))
    with uow() as s:
        users, _ = worlds.staff(s, clock, [("sam.store", "Sam Patel", "store_advisor", "High Street store"),
                                           ("jo.agent", "Jo Reid", "agent", "Contact centre"),
                                           ("bea.billing", "Bea Jones", "back_office", "Billing back office")],
                                [("High Street store", "store", None), ("Contact centre", "contact_centre", None),
                                 ("Billing back office", "back_office", None)], passwords={"jo.agent": PASSWORD})
        sam, jo, bea = users["sam.store"], users["jo.agent"], users["bea.billing"]
        joinery = worlds.s4_joinery(worlds.Builder(s, clock), tablet_name="Tablet data SIM (old iPad)")
        cust, tablet = joinery.customer, joinery.tablet
        who = {u.username: access.staff_principal(u) for u in (sam, jo, bea)}
        ids = {"customer": cust.id, "tablet": tablet.id, "bea": bea.id}

    clock.set(on(date(2026, 3, 10), 11))
    with uow() as s:
        inventory.change_status(s, clock, who["sam.store"], inventory.get_product(s, ids["tablet"]), "terminated",
                                channel="store", reason="removed at renewal; SIM destroyed in store")

    told = [  # (day, channel, kind, who records it, identifiers, what the customer said)
        (date(2026, 4, 14), "store", "visit_note", who["sam.store"], {},
         "April bill still charges the old tablet SIM removed here on 10 March."),
        (date(2026, 5, 5), "email", "message", SYSTEM, {"email": "Mark@HarbourLane.example"},
         "Charged again in May for the SIM your store destroyed in March."),
        (date(2026, 5, 12), "phone", "call", SYSTEM, {"msisdn": "+44 7700 900401"},
         "Helpline: third time telling this. Refund April and May please."),
        (date(2026, 5, 26), "social", "post", SYSTEM, {"social": "x:@harbourlanejoin"},
         "Third month of being billed for a SIM that is in your store's bin."),
    ]
    for n, (day, channel, kind, recorder, ident, text) in enumerate(told):
        clock.set(on(day, 9, 30))
        with uow() as s:
            contact = interactions.record(s, clock, recorder, interactions.Intake(
                channel=channel, direction="inbound", occurred_at=clock.now(), text=text, kind=kind,
                channel_message_id=f"s4-desk-{n}", identifiers=ident or None,
                customer_id=None if ident else ids["customer"]), region="GB").contact
            case, _ = cases.route_contact(s, clock, who["sam.store"] if channel == "store" else who["jo.agent"],
                                          contact.id, kind="billing_dispute",
                                          title="Charged for a removed tablet SIM", product_id=ids["tablet"],
                                          category="billing", owner_id=ids["bea"])
            ids["case"] = case.id
            if channel == "phone":  # the helpline promises the refund within five days
                items_service.add_commitment(s, clock, who["jo.agent"], case.id,
                                             text="refund the April and May charges for the removed SIM",
                                             due_at=clock.now() + timedelta(days=5), made_via="phone")
    clock.set(on(date(2026, 5, 26), 10, 15))
    return ids


def test_s4_one_story_four_channels_one_case_in_the_agent_desktop(page, uow, clock, shot):
    w = s4(uow, clock)

    # Jo opens the desktop; the sign-in brings her back to the search she asked for.
    page.goto("/search")
    assert "/login" in page.url
    page.get_by_label("Username").fill("jo.agent")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^http://[^/]+/search$"))

    # The customer gives the number the way people say it.
    page.get_by_label(re.compile("Phone number, e-mail")).fill("07700 900401")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=*")
    results = page.get_by_role("table")
    assert "Harbour Lane Joinery Ltd" in results.inner_text()
    assert "Phone number +447700900401" in results.inner_text()
    shot(page, "desktop-search")

    # The 360: one open case, with its one owner; the four contacts on the timeline.
    page.get_by_role("link", name="Harbour Lane Joinery Ltd").click()
    page.wait_for_url(f"**/customers/{w['customer']}")
    assert page.get_by_role("heading", level=1).inner_text() == "Harbour Lane Joinery Ltd"
    cases_table = page.locator("section", has=page.get_by_role("heading", name="Open cases"))
    assert cases_table.get_by_role("row").count() == 2  # the header and ONE case
    assert "Bea Jones" in cases_table.inner_text()
    timeline = page.get_by_role("list", name="Timeline entries, newest first")
    told = [entry.locator(".badge").inner_text() for entry in timeline.locator("li.kind-contact").all()
            if "from the customer" in entry.locator(".title").inner_text()]
    assert told == ["social", "phone", "email", "store"]  # newest first
    assert "Tablet data SIM (old iPad)" in page.locator("#products-h + table").inner_text()
    assert "via store: removed at renewal" in page.content()
    shot(page, "desktop-360")

    # The timeline filtered to one channel shows only that channel.
    page.get_by_role("checkbox", name="social").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**channel=social*")
    assert set(timeline.locator("li.entry .badge").all_inner_texts()) == {"social"}  # the post, and it joining the case
    assert "Third month of being billed" in timeline.inner_text()

    # The case: the brief at the top tells the whole story; nobody asks the customer again.
    page.locator("#cases").get_by_role("link", name="Charged for a removed tablet SIM").click()
    page.wait_for_url(f"**/cases/{w['case']}")
    brief = page.locator("section.brief")
    assert "told us 4 times by email, phone, social, store" in brief.inner_text()
    assert "April bill still charges the old tablet SIM" in brief.inner_text()
    assert "refund the April and May charges" in brief.inner_text()
    contacts = page.locator("#contacts li.entry")
    assert contacts.count() == 4
    assert "Bea Jones" in page.locator("#owner").inner_text()

    # Jo replies (the customer has waited since the tweet) ...
    page.get_by_label("Your reply").fill("Jo here: your refund for April and May is with Bea Jones in billing.")
    page.get_by_label("Send by").select_option("social")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"**/cases/{w['case']}?done=reply*")
    assert "Your reply is on the case" in page.get_by_role("status").inner_text()
    assert contacts.count() == 5
    assert "your refund for April and May is with Bea Jones" in page.locator("#contacts").inner_text()

    # ... and cannot close it: the refund promise is still open, and the page says so.
    page.get_by_label("Outcome", exact=True).fill("explained to the customer")
    page.get_by_role("button", name="Close the case").click()
    refusal = page.locator("#close-error")
    assert "cannot be closed: open commitment: refund the April and May charges" in refusal.inner_text()
    assert page.get_by_label("Outcome", exact=True).input_value() == "explained to the customer"  # kept to correct
    with uow() as s:
        assert s.get(Case, w["case"]).status != "closed"
    shot(page, "desktop-case")

    # The same page on a store tablet: nothing runs off the side.
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"/cases/{w['case']}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(f"/customers/{w['customer']}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_desktop_works_from_the_keyboard_with_the_focus_visible(page, uow, clock):
    w = s4(uow, clock)
    page.goto("/login?next=/search")
    page.get_by_label("Username").fill("jo.agent")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^http://[^/]+/search$"))
    assert page.evaluate("document.activeElement.id") == "q"  # the search box has the focus: just type
    page.keyboard.type("harbour lane")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Search"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    link = page.get_by_role("link", name="Harbour Lane Joinery Ltd")
    assert link.count() == 1
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/customers/{w['customer']}")
    page.keyboard.press("Tab")  # on every page the first stop skips the navigation
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
