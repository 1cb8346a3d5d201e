"""The supervisor's world, signing in, and the figures read off a page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks
from onethread.cases import items_service as items
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.models import CaseClock, Contact, StaffUser, TriageItem

PASSWORD = "correct horse battery"


TRICKY = 'Router "Nova", again, =SUM(A1)'


FORMULA = "=HYPERLINK(\"http://example.com\")"


def world(uow, clock) -> dict:
    """Cases of every age and state: open, in progress, waiting, resolved, closed; past a clock and
    not; a breach dealt with; two clocks out on one case in one week; three owners."""
    with uow() as s:
        centre = access.create_team(s, clock, name="Contact centre")
        billing = access.create_team(s, clock, name="Billing").id
        people = {}
        for username, name, role in (("alex.agent", "Alex Morgan", "agent"), ("bo.agent", "Bo Lind", "agent"),
                                     ("lee.lead", "Lee Carter", "team_lead")):
            people[username] = access.create_user(s, clock, username=username, display_name=name, role=role,
                                                  password=PASSWORD,
                                                  team_id=billing if username == "bo.agent" else centre.id).id
        party = customers.create_individual(s, clock, SYSTEM, given_name="Daniel", family_name="Price")
        one = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        other = customers.create_customer(s, clock, SYSTEM, party_id=customers.create_individual(
            s, clock, SYSTEM, given_name="Ana", family_name="Silva").id).id
    made = []

    def open_case(who: str, customer: str, title: str, status: str | None = None) -> str:
        with uow() as s:
            actor = access.staff_principal(s.get(StaffUser, people[who]))
            case = cases.open_new(s, clock, actor, customer_id=customer, kind="fault", title=title, opened_via="phone")
            if status:
                cases.set_status(s, clock, actor, case.id, status)
            made.append(case.id)
            return case.id

    open_case("alex.agent", one, "Oldest")
    clock.advance(timedelta(days=60))
    open_case("bo.agent", other, TRICKY, "in_progress")
    clock.advance(timedelta(days=20))
    closed = open_case("lee.lead", one, "Closed one")
    with uow() as s:
        cases.close(s, clock, access.staff_principal(s.get(StaffUser, people["lee.lead"])), closed,
                    outcome="Fixed", customer_confirmed=True)
    open_case("alex.agent", other, "Ten days", "waiting_customer")
    clock.advance(timedelta(days=10))
    with uow() as s:
        clocks.sweep(s, clock)
    open_case("lee.lead", one, "Four days", "resolved")
    clock.advance(timedelta(days=4))
    open_case("bo.agent", one, FORMULA)
    clock.advance(timedelta(days=2))
    fresh = open_case("alex.agent", other, "Fresh")
    clock.advance(timedelta(hours=3))
    with uow() as s:
        clocks.sweep(s, clock)
        now = clock.now()
        for hours in (1, 2):  # two clocks out on one case this week
            at = now - timedelta(hours=hours)
            s.add(CaseClock(case_id=fresh, customer_id=other, kind="no_activity", started_at=at, due_at=at,
                            fired_at=at, fired_by="test"))
        at = now - timedelta(days=15)  # a breach dealt with since
        s.add(CaseClock(case_id=made[0], customer_id=one, kind="no_activity", started_at=at, due_at=at, fired_at=at,
                        fired_by="test", stopped_at=at + timedelta(hours=1)))
        lead = access.staff_principal(s.get(StaffUser, people["lee.lead"]))
        for case_id, due in ((fresh, timedelta(days=3)), (made[1], timedelta(days=6, hours=23)),
                             (made[0], timedelta(days=10))):  # two regulator deadlines this week, one later
            s.add(CaseClock(case_id=case_id, customer_id=other if case_id != made[0] else one,
                            kind="regulator_deadline", started_at=now, due_at=now + due))
        s.add(CaseClock(case_id=made[0], customer_id=one, kind="regulator_deadline", started_at=now, due_at=now,
                        stopped_at=now))  # one stopped: not due
        for case_id, severity in ((fresh, "high"), (fresh, "high"), (made[0], "high"), (made[1], "low")):
            items.add_harm(s, clock, lead, case_id, kind="no_service", description="No broadband", severity=severity)
        gone = items.add_harm(s, clock, lead, made[0], kind="other", description="Wrong bill", severity="urgent")
        items.resolve_harm(s, clock, lead, gone.id, resolution="Refunded")
        for n, (customer, team, done) in enumerate(((one, None, False), (None, None, False), (other, billing, False),
                                                    (other, billing, True))):
            contact = Contact(customer_id=customer, channel="email", direction="inbound", occurred_at=now,
                              recorded_at=now, subject=f"Message {n}",
                              match_status="matched" if customer else "queued")
            s.add(contact)
            s.flush()
            s.add(TriageItem(contact_id=contact.id, customer_id=customer, channel="email", team_id=team, rule="test",
                             reason="No case to join", created_at=now - timedelta(minutes=n), due_at=now,
                             done_at=now if done else None))
    return {"people": people, "customers": (one, other), "cases": made, "billing": billing}


def sign_in(client, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


FIGURE = re.compile(r'<a ([^>]*class="figure"[^>]*)>(.*?)</a>', re.S)


def figures_on(page: str) -> list[tuple[str, int]]:
    """(the link, the number it shows) for every figure on the page."""
    out = []
    for attrs, inner in FIGURE.findall(page):
        href = unescape(re.search(r'href="([^"]+)"', attrs).group(1))
        shown = unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<title>.*?</title>", "", inner, flags=re.S)))
        out.append((href, int(re.search(r"\d+", shown).group())))
    return out
