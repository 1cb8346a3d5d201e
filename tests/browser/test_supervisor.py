"""The supervisor view in a real browser: cases pushed past their clocks by moving the clock and
running the sweep appear oldest breach first with owner, clock and how long past; cases per owner;
both charts are drawn on the server and say their numbers in text (read here from the SVG)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import clocks, queries
from onethread.cases import service as cases
from onethread.customers import service as customers
from onethread.models import CaseClock
from tests.browser.steps import sign_in

PASSWORD = "correct horse battery"


def chart(page, chart_id: str) -> dict[str, int]:
    """{bar label: value} as the SVG's own titles say it ("2026-W10: 3 clocks breached")."""
    titles = page.locator(f"svg#{chart_id} g.bar > title").all_text_contents()
    return {t.split(": ")[0]: int(t.split(": ")[1].split(" ")[0]) for t in titles}


def test_the_supervisor_sees_every_breach_oldest_first_and_the_charts_count_them(page, uow, clock, shot):
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        lead = access.create_user(s, clock, username="lee.lead", display_name="Lee Carter", role="team_lead",
                                  password=PASSWORD, team_id=team.id)
        access.set_team_lead(s, team.id, lead.id)
        people = [access.staff_principal(access.create_user(
            s, clock, username=f"agent{i}", display_name=name, role="agent", password=None, team_id=team.id))
            for i, name in enumerate(["Alex Morgan", "Bea Stone"])]

    def open_case(who, name: str, kind: str, title: str) -> str:
        with uow() as s:
            party = customers.create_individual(s, clock, SYSTEM, given_name=name, family_name="Example")
            cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
            return cases.open_new(s, clock, who, customer_id=cust.id, kind=kind, title=title, opened_via="phone").id

    oldest = open_case(people[0], "Maria", "complaint", "No calls for weeks")
    clock.advance(timedelta(days=9))
    middle = open_case(people[1], "Tom", "fault", "Broadband drops")
    clock.advance(timedelta(days=6))
    fresh = open_case(people[1], "Ana", "request", "New SIM")
    with uow() as s:
        report = clocks.sweep(s, clock)
    assert report.fired > 0

    sign_in(page, "lee.lead", PASSWORD)
    page.goto("/supervisor")
    heading = page.get_by_role("heading", name="Past a clock")
    rows = page.locator("#breached tbody tr")
    order = [rows.nth(i).get_attribute("data-case") for i in range(rows.count())]
    assert order[:2] == [oldest, middle] and fresh not in order
    assert heading.inner_text().startswith(f"Past a clock: {len(order)} case")
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[1] == "Maria Example"
    assert "first response" in first[3] and "day" in first[5]
    with uow() as s:
        owners = {name: (n, b) for _, name, n, b in queries.cases_per_owner(s)}
        fired = s.scalar(select(func.count()).select_from(CaseClock).where(CaseClock.fired_at.is_not(None)))
    table = {r.locator("td").nth(0).inner_text(): (int(r.locator("td").nth(1).inner_text()),
                                                   int(r.locator("td").nth(2).inner_text()))
             for r in page.locator("#owners tbody tr").all()}
    assert table == owners
    # Escalations may have moved a case to its team lead; either way each owner's counts are on the page.
    assert sum(n for n, _ in table.values()) >= 3

    ages = chart(page, "aging")
    assert ages["< 1 day"] == 1 and ages["3-7 days"] == 1 and ages["2-4 weeks"] == 1  # 0, 6 and 15 days old
    assert sum(ages.values()) == 3
    weeks = chart(page, "breaches-per-week")
    assert len(weeks) == 12 and sum(weeks.values()) == fired
    assert list(weeks)[-1] == queries.iso_week_label(clock.now().date())
    svg_title = page.locator("svg#breaches-per-week > title").text_content()
    assert svg_title == "Clocks breached per week, last 12 weeks"
    assert f"Total: {fired} clocks breached" in page.locator("svg#breaches-per-week > desc").text_content()
    shot(page, "supervisor")

    # A bar of a chart is a link to the cases it counts, and so is the number past a clock.
    page.locator('svg#aging a.figure:has(g.bar[data-label="3-7 days"])').click()
    page.wait_for_url("**/supervisor/cases?figure=age&bucket=2&at=*")
    assert page.locator("#figure-cases tbody tr").all_inner_texts()[0].startswith("Broadband drops")
    page.goto("/supervisor")
    page.get_by_role("heading", name="Past a clock").get_by_role("link").click()
    listed = page.locator("#figure-cases tbody tr")
    assert [listed.nth(i).get_attribute("data-case") for i in range(listed.count())] == [oldest, middle]
