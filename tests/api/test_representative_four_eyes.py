"""Authorising a representative is a four-eyes action (issue 19): asking for one opens nothing in
the portal; only a second, named person with the right role (team lead or admin) makes it so."""

from __future__ import annotations

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.models import Party, Representative
from tests.support.portal_api import CASES, sign_in
from tests.support.portal_api import world as world  # Edith (represented by Robert), Margaret, their cases, lead Marta
from tests.support.trouble_ticket_api import staff_headers
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


def robert(uow) -> str:
    with uow() as s:
        return s.scalar(select(Party.id).where(Party.given_name == "Robert"))


def representatives(uow, customer_id: str) -> int:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(Representative).where(
            Representative.customer_id == customer_id))


def portal_cases(client) -> set[str]:
    sign_in(client, "robert.clarke@mail.example")
    r = client.get(CASES)
    client.cookies.clear()
    return {c["id"] for c in r.json()}


def agent_person(uow, clock) -> dict[str, str]:
    with uow() as s:
        asha = access.create_user(s, clock, username="asha.agent", display_name="Asha Agent", role="agent",
                                  password=None).id
    return staff_headers(uow, clock, asha, "agent")


def test_a_named_person_asks_and_nothing_opens_until_a_lead_approves(client, world, uow, clock, token_for):
    body = {"partyId": robert(uow), "relationship": "neighbour", "permissions": ["view_cases"],
            "reason": "Margaret asked on the phone", "evidence": "call of 2 March"}
    before = portal_cases(client)
    assert world["margaret_case"] not in before
    # a system token (an integration) is nobody: it cannot even ask
    assert_tmf_error(client.post(f"{V1}/customers/{world['margaret']}/representatives", json=body,
                                 headers=token_for("integration")), 403)

    asha = agent_person(uow, clock)
    asked = client.post(f"{V1}/customers/{world['margaret']}/representatives", json=body, headers=asha)
    assert asked.status_code == 202, asked.text
    req = asked.json()
    assert asked.headers["location"] == f"{V1}/approvals/{req['id']}"
    assert (req["action"], req["status"], req["requiredRoles"]) == ("add_representative", "pending",
                                                                    ["admin", "team_lead"])
    assert req["params"]["name"] == "Robert Clarke" and req["params"]["permissions"] == ["view_cases"]
    assert representatives(uow, world["margaret"]) == 0
    assert portal_cases(client) == before  # nothing opened in the portal
    again = client.post(f"{V1}/customers/{world['margaret']}/representatives", json=body, headers=asha)
    assert_tmf_error(again, 409)

    # an agent may not approve; the lead (a named person) does, and only then is Robert authorised
    agent = client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=token_for("agent"))
    assert_tmf_error(agent, 403)
    lead = staff_headers(uow, clock, world["lead"], "team_lead")
    done = client.post(f"{V1}/approvals/{req['id']}/approve", json={"note": "checked with Margaret"}, headers=lead)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved" and done.json()["result"]["representativeId"]
    assert representatives(uow, world["margaret"]) == 1
    assert world["margaret_case"] in portal_cases(client)


def test_the_requester_cannot_approve_and_a_rejection_authorises_nobody(client, world, uow, clock):
    lead = staff_headers(uow, clock, world["lead"], "team_lead")
    body = {"partyId": robert(uow), "relationship": "friend", "permissions": ["view_cases"], "reason": "asked"}
    req = client.post(f"{V1}/customers/{world['margaret']}/representatives", json=body, headers=lead).json()
    assert_tmf_error(client.post(f"{V1}/approvals/{req['id']}/approve", json={}, headers=lead), 403)
    with uow() as s:
        ada = access.create_user(s, clock, username="ada.admin", display_name="Ada Admin", role="admin",
                                 password=None).id
    admin_person = staff_headers(uow, clock, ada, "admin")
    rejected = client.post(f"{V1}/approvals/{req['id']}/reject", json={"note": "Margaret did not ask"},
                           headers=admin_person)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert representatives(uow, world["margaret"]) == 0


def test_a_request_is_checked_when_asked(client, world, uow, clock):
    admin = agent_person(uow, clock)
    url = f"{V1}/customers/{world['margaret']}/representatives"
    good = {"partyId": robert(uow), "relationship": "son", "permissions": ["view_cases"], "reason": "asked"}
    for bad, status in (({"permissions": ["sell_house"]}, 400), ({"partyId": "NOPE"}, 404),
                        ({"reason": None}, 400), ({"validFrom": "2026-05-01", "validUntil": "2026-04-01"}, 400)):
        assert_tmf_error(client.post(url, json={**good, **bad}, headers=admin), status)
    assert_tmf_error(client.post(f"{V1}/customers/NOPE/representatives", json=good, headers=admin), 404)
