"""S5 in the customer portal, in a real browser: the son signs in, sees his mother's case with the
owner's name and the next step, and messages the owner; nobody answers, the worker sweeps past
the customer-waiting clock, and the owner's team lead, signed in to the staff pages, sees the
unanswered message escalated to her on the case. And Edith's portal never shows another
customer's case, not even by its address."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from onethread.access import portal as accounts
from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.demo import worlds
from onethread.models import Case, CaseClock, Contact, Escalation

PASSWORD = "onethread-demo"


LONDON = ZoneInfo("Europe/London")


def s5_world(uow, clock) -> dict:
    with uow() as s:
        users, _ = worlds.staff(s, clock, worlds.S5_SPECIALISTS, worlds.S5_SPECIALIST_TEAMS, password=PASSWORD)
        owner, lead = users["gertrude.b"], users["marta.lead"]
        gertrude = access.staff_principal(owner)
        edith_p = customers.create_individual(s, clock, SYSTEM, given_name="Edith", family_name="Clarke")
        robert_p = customers.create_individual(s, clock, SYSTEM, given_name="Robert", family_name="Clarke")
        priya_p = customers.create_individual(s, clock, SYSTEM, given_name="Priya", family_name="Shah")
        edith = customers.create_customer(s, clock, SYSTEM, party_id=edith_p.id)
        priya = customers.create_customer(s, clock, SYSTEM, party_id=priya_p.id)
        customers.add_representative(s, clock, SYSTEM, customer_id=edith.id, party_id=robert_p.id,
                                     relationship="son", permissions=["view_cases", "message_owner"],
                                     evidence="Lasting power of attorney on file")
        case = cases.open_new(s, clock, gertrude, customer_id=edith.id, kind="damage_claim", opened_via="field",
                              title="Heating pipe drilled during the fibre installation")
        cases.reply(s, clock, gertrude, case.id, channel="phone",
                    text="Gertrude Blanc here: I own your mother's case and will call you back tomorrow.")
        other = cases.open_new(s, clock, gertrude, customer_id=priya.id, kind="request", opened_via="phone",
                               title="Put the recycled number in Priya's name")
        accounts.create_account(s, clock, party_id=robert_p.id, login="robert.clarke@mail.example", password=PASSWORD)
        accounts.create_account(s, clock, party_id=edith_p.id, login="edith.clarke@mail.example", password=PASSWORD)
        return {"case": case.id, "other": other.id, "lead": lead.id}


def portal_sign_in(page, login: str) -> None:
    page.goto("/portal")
    page.wait_for_url(re.compile(r"/portal/login\?next=/portal$"))
    page.get_by_label("E-mail address").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal$"))


def test_the_son_messages_the_owner_and_the_unanswered_message_escalates_to_her_lead(page, uow, clock, shot):
    w = s5_world(uow, clock)
    clock.advance(timedelta(hours=2))

    # The son signs in and sees his mother's case: who looks after it, and what happens next.
    portal_sign_in(page, "robert.clarke@mail.example")
    card = page.locator(f"[data-case-id='{w['case']}']")
    assert "Heating pipe drilled during the fibre installation" in card.inner_text()
    assert card.locator(".owner").inner_text() == "Gertrude Blanc"
    assert card.locator(".next-step").inner_text() == "Gertrude Blanc decides the next step"
    assert "Edith Clarke's case" in card.inner_text()
    assert "Put the recycled number" not in page.content()
    shot(page, "portal-cases")

    # He opens it; an empty message is refused next to the field and nothing is sent.
    card.get_by_role("link", name="Heating pipe drilled during the fibre installation").click()
    page.wait_for_url(f"**/portal/cases/{w['case']}")
    message = page.get_by_label(re.compile("^Your message"))
    message.fill("   ")
    page.get_by_role("button", name="Send to Gertrude Blanc").click()
    assert page.locator("#text-error").inner_text() == "write a message"
    with uow() as s:
        assert s.scalar(select(Contact).where(Contact.channel == "portal")) is None

    text = "My mother has had no heating for three days. Who is doing what?"
    page.get_by_label(re.compile("^Your message")).fill(text)
    page.get_by_role("button", name="Send to Gertrude Blanc").click()
    page.wait_for_url(f"**/portal/cases/{w['case']}?sent=1")
    assert "Your message was sent to Gertrude Blanc" in page.get_by_role("status").inner_text()
    last = page.locator("ol.log li").last
    assert text in last.inner_text() and "You" in last.inner_text()
    with uow() as s:
        due = s.scalar(select(CaseClock.due_at).where(CaseClock.case_id == w["case"],
                                                      CaseClock.kind == "customer_waiting",
                                                      CaseClock.stopped_at.is_(None)))
        assert s.get(Case, w["case"]).awaiting_reply_since == clock.now()
    assert page.locator(".next-step").inner_text() == (
        f"Gertrude Blanc replies to your message, by {due.astimezone(LONDON):%d %B %Y %H:%M %Z}")  # the market's zone
    shot(page, "portal-message")

    # Nobody answers. The worker sweeps just after the clock's time: the message escalates.
    clock.set(due + timedelta(minutes=1))
    with uow() as s:
        clocks.sweep(s, clock)
        [escalation] = s.scalars(select(Escalation).where(Escalation.case_id == w["case"],
                                                          Escalation.clock_kind == "customer_waiting")).all()
        assert escalation.to_staff_id == w["lead"]

    # The owner's lead signs in to the staff pages and sees it on the case.
    page.goto("/login")
    page.get_by_label("Username").fill("marta.lead")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/cases/{w['case']}")
    escalations = page.get_by_role("region", name="Escalations")
    listed = escalations.inner_text()
    assert "Marta Lopez" in listed and "reply to the customer's message missed" in listed
    assert text in page.content()  # the son's message is on the case the lead is looking at
    shot(page, "portal-escalated")


def test_edith_never_sees_another_customers_case(page, uow, clock, shot):
    w = s5_world(uow, clock)
    portal_sign_in(page, "edith.clarke@mail.example")
    titles = page.locator(".portal-cases h2").all_inner_texts()
    assert titles == ["Heating pipe drilled during the fibre installation"]
    assert "Priya" not in page.content()
    # Another customer's case by its address: the same page as a case that does not exist.
    response = page.goto(f"/portal/cases/{w['other']}")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Case not found"
    assert "Put the recycled number" not in page.content()
    nothing = page.goto("/portal/cases/01NOSUCHCASE0000000000000")
    assert nothing.status == 404 and page.get_by_role("heading", level=1).inner_text() == "Case not found"
    # and the staff pages do not open with her portal session
    page.goto(f"/cases/{w['other']}")
    page.wait_for_url(re.compile(r"/login"))
    assert "Put the recycled number" not in page.content()
