"""Opening a case on the agent desktop (issue 15): the customer 360's "Open a new case" form makes
the person opening it the owner, or hands the case to a team whose rule picks the owner among its
members at work; a refused form says why beside the field and opens nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.cases import assignment
from onethread.models import Case, CaseEvent, Team
from tests.support.pages_agent import BROWSER, sign_in, world


def cases_of(uow, customer_id: str) -> int:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(Case).where(Case.customer_id == customer_id))


def test_a_new_case_is_mine_or_handed_to_a_team_by_its_rule(client, uow, clock):
    w = world(uow, clock)  # Ann owns Edith's open case; Bob, in her team, owns none
    with uow() as s:
        team = s.scalar(select(Team.id).where(Team.name == "Contact centre"))
    sign_in(client)
    page = client.get(f"/customers/{w['edith']}", headers=BROWSER)
    assert f'action="/customers/{w["edith"]}/cases"' in page.text
    assert f'<option value="{team}" >Contact centre (by its least loaded rule)</option>' in page.text

    # handed to the team: its least-loaded member at work owns it, and the log says how
    r = client.post(f"/customers/{w['edith']}/cases", follow_redirects=False, data={
        "kind": "billing_dispute", "title": "Charged twice for March", "openedVia": "phone", "severity": "medium",
        "customerAccount": "two payments on her statement", "ownerTeamId": team})
    assert r.status_code == 303, r.text
    case_id = r.headers["location"].removeprefix("/cases/")
    with uow() as s:
        case = s.get(Case, case_id)
        assert case.owner_id == w["bob"] and case.opened_by == w["ann"] and case.kind == "billing_dispute"
        opened = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "opened"))
        assert opened.data["ownerChosenBy"] == "the least loaded rule of Contact centre"
    assert "Bob Baker" in client.get(r.headers["location"], headers=BROWSER).text

    # no team chosen: the person opening it owns it
    r = client.post(f"/customers/{w['edith']}/cases", follow_redirects=False,
                    data={"kind": "request", "title": "Large-print bills", "openedVia": "phone"})
    with uow() as s:
        assert s.get(Case, r.headers["location"].removeprefix("/cases/")).owner_id == w["ann"]

    # refused: said beside the field, the values kept, nothing opened
    before = cases_of(uow, w["edith"])
    r = client.post(f"/customers/{w['edith']}/cases", headers=BROWSER,
                    data={"kind": "fault", "title": " ", "ownerTeamId": team, "customerAccount": "no signal"})
    assert r.status_code == 400 and 'id="newcase-title-error"' in r.text and "a case needs a title" in r.text
    assert ">no signal</textarea>" in r.text
    r = client.post(f"/customers/{w['edith']}/cases", headers=BROWSER, data={"title": "No signal"})
    assert r.status_code == 400 and "choose what kind of case it is" in r.text
    with uow() as s:  # everyone in the team away, its lead too: nobody can take it
        for who in (w["ann"], w["bob"], w["lee"]):
            assignment.set_presence(s, clock, SYSTEM, who, presence="off")
    r = client.post(f"/customers/{w['edith']}/cases", headers=BROWSER,
                    data={"kind": "fault", "title": "No signal", "ownerTeamId": team})
    assert r.status_code == 409 and 'id="newcase-ownerTeamId-error"' in r.text
    assert "nobody in Contact centre can take a case now" in r.text
    assert cases_of(uow, w["edith"]) == before
